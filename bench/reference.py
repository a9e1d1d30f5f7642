"""Reference implementations that the benchmarks and the tests hold the production code
against.

None of these is a path a user can choose: each is the simplest correct version of an
arrow (all pairs, Spark SQL only, one document at a time) kept to check the fast one and
to time it beside it.
"""

from __future__ import annotations

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkembed.config import CooccurConfig
from sparkembed.errors import SparkembedError
from sparkembed.stages.cooccur.kernel import shard_count, weight_scale


def cooccurrence_counts_jvm(
    tokens_df: DataFrame, vocab_df: DataFrame, cfg: CooccurConfig
) -> DataFrame:
    """The same counts with Spark SQL only (no Python workers): the benchmark's rival.

    posexplode + broadcast join maps tokens to ids, collect_list rebuilds the id arrays
    without OOV tokens, and higher-order functions make the pairs. Supports window,
    weighting and symmetric; not keep_positions or subsampling. Same output as
    ``cooccurrence_counts``: ``row, col, count, shard``, ``shard`` partitions sorted by key.
    """
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
    # repartition(shards, "row") puts a row in partition pmod(murmur3(row), shards), which
    # is exactly its shard: one shuffle, one task and one file per shard, and the second
    # aggregation by (row, col) needs no exchange of its own.
    total = F.sum("count")
    count = (total.cast("double") / F.lit(float(scale))) if scale else total
    return (
        summed.repartition(shard_count(cfg, None), "row")
        .groupBy("row", "col")
        .agg(count.alias("count"))
        .withColumn("shard", F.pmod(F.hash("row"), F.lit(shard_count(cfg, None))))
        .sortWithinPartitions("shard", "row", "col")
        .select(
            F.col("row").cast("int"),
            F.col("col").cast("int"),
            F.col("count").cast("double"),
            F.col("shard").cast("int"),
        )
    )


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
