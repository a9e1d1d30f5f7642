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
