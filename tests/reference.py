"""Reference implementations that only the tests hold the production code against (those
the benchmarks use too live in bench/reference.py).

None of these is a path a user can choose: each is the simplest correct version of an
arrow (a full sort, a dense optimum) kept to check the fast one.
"""

from __future__ import annotations

import math

import numpy as np


def brute_force_topk(unit: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference: the full similarity matrix, a full sort per row (cosine desc, id asc)."""
    wide = unit.astype(np.float64)
    scores = (wide @ wide.T).astype(np.float32)  # as iter_topk rounds them
    np.fill_diagonal(scores, -np.inf)
    n = scores.shape[0]
    ids = np.tile(np.arange(n), (n, 1))
    order = np.lexsort((ids, -scores), axis=1)[:, : min(k, n - 1)]
    return order, np.take_along_axis(scores, order, axis=1)


def glove_cost_dense(params: np.ndarray, logx: np.ndarray, weight: np.ndarray, dim: int,
                     ridge: float) -> tuple[float, np.ndarray]:  # fmt: skip
    """GloVe's objective with a ridge on the vectors, over the cells where ``weight`` > 0
    of dense ``n × n`` matrices, and its gradient; ``params`` = W, C, b, b̃ flattened."""
    n = logx.shape[0]
    w = params[: n * dim].reshape(n, dim)
    c = params[n * dim : 2 * n * dim].reshape(n, dim)
    b, bt = params[2 * n * dim : 2 * n * dim + n], params[2 * n * dim + n :]
    residual = np.where(weight > 0, w @ c.T + b[:, None] + bt[None, :] - logx, 0.0)
    wr = weight * residual
    cost = float((wr * residual).sum() + ridge * ((w * w).sum() + (c * c).sum()))
    grad = np.concatenate(
        [
            (2 * wr @ c + 2 * ridge * w).ravel(),
            (2 * wr.T @ w + 2 * ridge * c).ravel(),
            2 * wr.sum(axis=1),
            2 * wr.sum(axis=0),
        ]
    )
    return cost, grad


def glove_optimum_dense(counts: np.ndarray, dim: int, x_max: float, alpha: float,
                        ridge: float, starts: int = 3) -> float:  # fmt: skip
    """The lowest objective L-BFGS reaches from a few random starts, on the dense matrix:
    the optimum the distributed trainer is held against."""
    from scipy.optimize import minimize

    n = counts.shape[0]
    with np.errstate(divide="ignore"):
        logx = np.where(counts > 0, np.log(counts), 0.0)
    weight = np.where(counts > 0, np.minimum(1.0, (counts / x_max) ** alpha), 0.0)
    best = np.inf
    for seed in range(starts):
        x0 = np.random.default_rng(seed).normal(0, 0.1, 2 * n * dim + 2 * n)
        res = minimize(glove_cost_dense, x0, args=(logx, weight, dim, ridge), jac=True,
                       method="L-BFGS-B", options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-9})  # fmt: skip
        best = min(best, float(res.fun))
    return best


_MASK64 = (1 << 64) - 1


def sgns_alias_table(weights: np.ndarray) -> list[tuple[int, int]]:
    """The trainer's alias table (Vose's construction, the same order and sums): per slot,
    (threshold of a 32-bit uniform below which the slot keeps a draw, the index it passes
    the draw to otherwise)."""
    n = len(weights)
    total = 0.0
    for x in weights:
        total += float(x)
    scaled = [0.0] * n
    small, large = [], []
    for i in range(n - 1, -1, -1):
        scaled[i] = float(weights[i]) * n / total
        (small if scaled[i] < 1.0 else large).append(i)
    table = [(0, 0)] * n
    while small and large:
        s, big = small.pop(), large.pop()
        table[s] = (math.floor(scaled[s] * 2.0**32), big)
        scaled[big] = (scaled[big] + scaled[s]) - 1.0
        (small if scaled[big] < 1.0 else large).append(big)
    for i in large + small:
        table[i] = (0xFFFFFFFF, i)
    return table


def sgns_draw(table, z: int) -> int:
    """The local index the alias table gives for the 64-bit value ``z``."""
    slot = ((z >> 32) * len(table)) >> 32
    threshold, alias = table[slot]
    return slot if (z & 0xFFFFFFFF) < threshold else alias


def sgns_mix(z: int) -> int:
    """splitmix64's finaliser on a Python int (64 bits)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def sgns_initial_words(ids: np.ndarray, dim: int, seed: int) -> np.ndarray:
    """The trainer's initial word vectors: (u - 0.5) / dim, u from splitmix64 of
    (seed, id, element)."""
    from sparkembed.stages.train.sgns import mix64

    golden = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        s = np.array([seed], dtype=np.int64).view(np.uint64)[0]
        base = mix64(s + golden * (ids.astype(np.uint64) + np.uint64(1)))
        z = mix64(base[:, None] + golden * (np.arange(dim, dtype=np.uint64) + np.uint64(1)))
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return ((u - 0.5) / dim).astype(np.float32)


def sgns_dot(a, b) -> float:
    """The kernel's float32 dot product: 8 lanes of products summed in float32, the lanes
    added pairwise, then the remaining products one by one."""
    products = a.astype(np.float32) * b.astype(np.float32)
    bound = len(a) - len(a) % 8
    lanes = np.zeros(8, np.float32)
    for k in range(0, bound, 8):
        lanes = products[k : k + 8] + lanes
    s = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + (
        (lanes[4] + lanes[5]) + (lanes[6] + lanes[7])
    )
    for k in range(bound, len(a)):
        s = np.float32(s + products[k])
    return float(s)


# word2vec.c's sigmoid table as the trainer builds it: 1,000 bins over (-6, 6), each the
# sigmoid at its centre; beyond +-6 the limit.
_SIGMOID = [1.0 / (1.0 + math.exp(-(-6.0 + (i + 0.5) * (2 * 6.0 / 1000)))) for i in range(1000)]


def sgns_sigmoid(f: float) -> float:
    """The trainer's table sigmoid of a score."""
    if f >= 6.0:
        return 1.0
    if f <= -6.0:
        return 0.0
    return _SIGMOID[int((f + 6.0) * (1000 / (2 * 6.0)))]


def sgns_block(w, c, pairs, table, negative, alpha_from, alpha_to, seed) -> float:
    """Skip-gram with negative sampling over ``pairs`` ((input, output) rows) in order, a
    pair at a time in float32, updating ``w`` and ``c`` in place; the loss summed over
    every 16th pair (from the first), as the trainer samples it."""
    import math

    m = len(pairs)
    random = seed & _MASK64
    loss = 0.0
    for p, (i, o) in enumerate(pairs):
        alpha = np.float32(alpha_from + (alpha_to - alpha_from) * p / m)
        neu1e = np.zeros(w.shape[1], np.float32)
        for d in range(negative + 1):
            if d == 0:
                target, label = o, 1
            else:
                random = (random * 25214903917 + 11) & _MASK64
                target = sgns_draw(table, sgns_mix(random))
                if target == o:
                    continue
                label = 0
            f = sgns_dot(w[i], c[target])
            e = math.exp(-f)
            if p % 16 == 0:
                loss += (0.0 if label else f) + math.log1p(e)
            g = np.float32((label - sgns_sigmoid(f)) * float(alpha))
            neu1e += g * c[target]
            c[target] += g * w[i]
        w[i] += neu1e
    return loss


def sgns_one_bucket(sentences, row_hashes, counts, *, dim, window, negative, epochs,
                    alpha, min_alpha, sample, ns_exponent, seed) -> np.ndarray:  # fmt: skip
    """Skip-gram vectors (W) with one bucket, a sentence and a pair at a time: the pairs of
    each epoch as word2vec draws them (subsampled tokens removed, a reach per centre word),
    ordered by the hash of their place, then trained in that order. ``sentences``: lists
    of ids (-1 for words left out); ``row_hashes``: each sentence's hash of (doc_id,
    sentence, seed)."""
    from sparkembed.stages.train.sgns import (
        _INIT,
        _NEGATIVE,
        _ORDER,
        _SUBSAMPLE,
        _WINDOW,
        index_bits,
        mix64,
        salt,
    )
    from sparkembed.vocabulary.subsample import keep_probability, uniform_from_hash

    def uniform(h, position):
        return float(uniform_from_hash(np.array([h], np.int64), np.array([position]))[0])

    golden = np.uint64(0x9E3779B97F4A7C15)
    n = len(counts)
    # A block's order: the top 63 - 2 * bits of the key, then (input, output).
    key_shift = 64 - (63 - 2 * index_bits(n))
    counts = np.asarray(counts, np.float64)
    keep_prob = keep_probability(counts, sample, "word2vec") if sample > 0 else None
    w = sgns_initial_words(np.arange(n), dim, salt(seed, _INIT))
    c = np.zeros((n, dim), np.float32)
    table = sgns_alias_table(counts**ns_exponent)
    for epoch in range(epochs):
        pairs = []
        for ids, h in zip(sentences, row_hashes, strict=True):
            sub_h = h ^ salt(seed, _SUBSAMPLE, epoch)
            placed = [
                (pos, x)
                for pos, x in enumerate(ids)
                if x >= 0 and (keep_prob is None or uniform(sub_h, pos) < keep_prob[x])
            ]
            order_h = np.array([h ^ salt(seed, _ORDER, epoch)], np.int64).view(np.uint64)[0]
            for a, (pos, centre) in enumerate(placed):
                reach = 1 + int(uniform(h ^ salt(seed, _WINDOW, epoch), pos) * window)
                with np.errstate(over="ignore"):
                    place = mix64(np.array([order_h + np.uint64(pos) * golden]))[0]
                for b in range(max(0, a - reach), min(len(placed), a + reach + 1)):
                    if b == a:
                        continue
                    with np.errstate(over="ignore"):
                        key = mix64(np.array([place + np.uint64(b - a + window + 1)]))[0]
                    pairs.append((int(key >> np.uint64(key_shift)), placed[b][1], centre))
        pairs.sort()
        alphas = [alpha - (alpha - min_alpha) * x for x in (epoch / epochs, (epoch + 1) / epochs)]
        block = [(i, o) for _, i, o in pairs]
        sgns_block(w, c, block, table, negative, *alphas, salt(seed, _NEGATIVE, epoch))
    return w


def prone_propagation(adj: np.ndarray, a: np.ndarray, step: int, mu: float, theta: float):
    """ProNE's spectral propagation (THUDM/ProNE's ``chebyshev_gaussian``, dense): Â (a -
    conv) for Â = I + adj, before its final SVD."""
    from scipy.special import iv

    n = len(adj)
    big_a = np.eye(n) + adj
    da = big_a / big_a.sum(axis=1, keepdims=True)
    m = (np.eye(n) - da) - mu * np.eye(n)
    lx0 = a
    lx1 = 0.5 * (m @ (m @ a)) - a
    conv = iv(0, theta) * lx0 - 2 * iv(1, theta) * lx1
    for i in range(2, step):
        lx2 = (m @ (m @ lx1) - 2 * lx1) - lx0
        conv += (2 if i % 2 == 0 else -2) * iv(i, theta) * lx2
        lx0, lx1 = lx1, lx2
    return big_a @ (a - conv)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def prone(adj: np.ndarray, dim: int, step=10, mu=0.2, theta=0.5, exponent=0.75) -> np.ndarray:
    """ProNE (Zhang et al. 2019) as nodevectors' ``ProNE.fit_transform`` computes it, dense,
    with exact SVDs: the factorisation's U S^1/2 rows at unit length, propagated, then the
    product's U S^1/2 rows at unit length. ``adj``: out-edge weights, row = source."""
    degree = adj.sum(axis=1)
    c1 = adj / np.where(degree == 0, 1.0, degree)[:, None]
    neg = c1.sum(axis=0) ** exponent
    neg = neg / neg.sum()
    f = np.zeros_like(adj)
    nz = adj > 0
    f[nz] = np.log(c1[nz]) - np.log((adj * neg[None, :])[nz])
    u, s, _ = np.linalg.svd(f)
    a = u[:, :dim] * np.sqrt(s[:dim])
    # A vertex without out-edges has a zero row of F, so of U; ProNE's code scales that
    # row's rounding noise (~1e-17) to unit length, here it stays zero.
    a[~nz.any(axis=1)] = 0.0
    a = _unit_rows(a)
    if step == 1:
        return a
    mm = prone_propagation(adj, a, step, mu, theta)
    u, s, _ = np.linalg.svd(mm, full_matrices=False)
    return _unit_rows(u[:, :dim] * np.sqrt(s[:dim]))
