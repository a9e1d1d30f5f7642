"""Reference implementations that tests and benchmarks hold the production code against.

None of these is a path a user can choose: each is the simplest correct version of an
arrow (all pairs, a full sort, Spark SQL only) kept to check the fast one.
"""

from __future__ import annotations

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkembed.config import CooccurConfig
from sparkembed.errors import SparkembedError
from sparkembed.stages.cooccur.counts import _shard_and_sort, check_config, weight_scale


def cooccurrence_counts_jvm(
    tokens_df: DataFrame, vocab_df: DataFrame, cfg: CooccurConfig
) -> DataFrame:
    """The same counts with Spark SQL only (no Python workers): the benchmark's rival.

    posexplode + broadcast join maps tokens to ids, collect_list rebuilds the id arrays
    without OOV tokens, and higher-order functions make the pairs. Supports window,
    weighting and symmetric; not keep_positions or subsampling. Same output as
    ``cooccurrence_counts``.
    """
    check_config(cfg)
    if cfg.keep_positions or cfg.subsample:
        raise SparkembedError("the JVM counter supports neither keep_positions nor subsample")
    scale = weight_scale(cfg)
    vocab = vocab_df.select("token", F.col("id").cast("int").alias("id"))
    sentences = (
        tokens_df.select(F.monotonically_increasing_id().alias("sid"), "tokens")
        .select("sid", F.posexplode("tokens"))  # one select would number every token
        .join(F.broadcast(vocab), F.col("col") == vocab.token)
        .groupBy("sid")
        .agg(F.array_sort(F.collect_list(F.struct("pos", "id"))).alias("s"))
        .select(F.transform("s", lambda x: x["id"]).alias("ids"))
    )
    w = cfg.window
    pairs = (
        sentences.select("ids", F.posexplode("ids").alias("i", "a"))
        .select("ids", "i", "a", F.explode(F.sequence(F.lit(1), F.lit(w))).alias("d"))
        .where(F.col("i") + F.col("d") < F.size("ids"))
        .select("a", F.element_at("ids", F.col("i") + F.col("d") + 1).alias("b"), "d")
    )
    if cfg.weighting == "uniform":
        weight = F.lit(1).cast("long")
    elif scale:
        weight = (F.lit(scale) / F.col("d")).cast("long")
    else:
        weight = F.lit(1.0) / F.col("d")
    pairs = pairs.select("a", "b", weight.alias("w"))
    if cfg.symmetric:
        pairs = pairs.select(
            F.explode(
                F.array(
                    F.struct("a", "b", "w"),
                    F.struct(F.col("b").alias("a"), F.col("a").alias("b"), "w"),
                )
            ).alias("p")
        ).select("p.*")
    summed = pairs.groupBy(F.col("a").alias("row"), F.col("b").alias("col")).agg(
        F.sum("w").alias("count")
    )
    return _shard_and_sort(summed, cfg, scale)


def brute_force_topk(unit: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference: the full similarity matrix, a full sort per row (cosine desc, id asc)."""
    wide = unit.astype(np.float64)
    scores = (wide @ wide.T).astype(np.float32)  # as iter_topk rounds them
    np.fill_diagonal(scores, -np.inf)
    n = scores.shape[0]
    ids = np.tile(np.arange(n), (n, 1))
    order = np.lexsort((ids, -scores), axis=1)[:, : min(k, n - 1)]
    return order, np.take_along_axis(scores, order, axis=1)


def sif_reference(
    documents: list[list[str]],
    vectors: dict[str, np.ndarray],
    vocab: dict[str, tuple[int, int]],
    weighting: str = "sif",
    a: float = 1e-3,
    k: int = 1,
    n_documents: int | None = None,
) -> tuple[list[np.ndarray | None], np.ndarray]:
    """PrincetonML's SIF in plain numpy, one document at a time: every known token's
    weight × vector summed and divided by the number of known tokens, then the first ``k``
    right singular vectors of the matrix of those means (uncentred, full SVD) projected
    out. ``vocab``: token -> (count, doc_count). Returns each document's vector (None when
    it has no token with a vector) and the components (k × d)."""
    total = sum(c for c, _ in vocab.values())
    n_docs = len(documents) if n_documents is None else n_documents

    def weight(t: str) -> float:
        count, doc_count = vocab.get(t, (0, 0))
        if weighting == "sif":
            return a / (a + count / total)
        if weighting == "idf":
            return float(np.log((1 + n_docs) / (1 + doc_count)) + 1)
        return 1.0

    means: list[np.ndarray | None] = []
    for doc in documents:
        known = [t for t in doc if t in vectors]
        if not known:
            means.append(None)
            continue
        means.append(sum(weight(t) * vectors[t].astype(np.float64) for t in known) / len(known))
    x = np.array([m for m in means if m is not None])
    components = np.linalg.svd(x, full_matrices=False)[2][:k] if k else np.zeros((0, x.shape[1]))
    out = [None if m is None else m - components.T @ (components @ m) for m in means]
    return out, components


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
