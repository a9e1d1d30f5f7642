"""Reference implementations that only the tests hold the production code against (those
the benchmarks use too live in bench/reference.py).

None of these is a path a user can choose: each is the simplest correct version of an
arrow (a full sort, a dense optimum) kept to check the fast one.
"""

from __future__ import annotations

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
