"""The translation table: the top-k CSLS translations of every source word, in Spark.

CSLS (Conneau et al. 2018) scores a source word ``s`` against a target word ``t`` as
``2 cos(s, t) - r_s - r_t``, where ``r_s`` is the mean cosine of ``s``'s ``k`` nearest
candidate targets and ``r_t`` the mean cosine of ``t``'s ``k`` nearest source words: words
near everything ("hubs") are discounted. As MUSE caps both vocabularies, the candidates are
the ``candidates`` most frequent target words and ``r_t`` is taken over the ``candidates``
most frequent source words, so the driver holds a bounded matrix (``candidates`` x dim),
whatever the vocabulary sizes; every source word is translated, a block of rows at a time
in the tasks (one product and ``topk_rows`` per block, as the neighbour search does).

Schema (``TRANSLATIONS``): ``source string, target string, rank int, csls float,
cosine float``; rank 1 is the best CSLS score, ties to the more frequent target.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sparkembed import schemas
from sparkembed.linalg.topk import block_rows, topk_rows, unit_rows
from sparkembed.stages.align.apply import vector_matrix

TRANSLATIONS = schemas.TRANSLATIONS


def _frequent(df, n: int):
    from pyspark.sql import functions as F

    return df.orderBy(F.col("count").desc(), F.col("token")).limit(n)


def _unit_matrix(batch, dim: int) -> np.ndarray:
    """A record batch's (or table's) vectors as unit float32 rows."""
    if not isinstance(batch, pa.RecordBatch):
        batch = batch.combine_chunks().to_batches()[0]
    return unit_rows(vector_matrix(batch, dim))


def _scores(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # float64 products rounded once to float32: the same last bits for any block shape, so
    # ties (and the table) do not depend on the partitioning (see linalg.topk.iter_topk).
    return (x.astype(np.float64) @ y.astype(np.float64).T).astype(np.float32)


def _mean_top(scores: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Mean of the ``k`` largest scores along ``axis``, summed in a fixed (sorted) order."""
    n = scores.shape[axis]
    top = np.sort(np.partition(scores, n - k, axis=axis).take(range(n - k, n), axis=axis), axis)
    return top.astype(np.float64).mean(axis=axis)


def _density_of_targets(spark, source_df, target_unit, dim, k, block):
    """``r_t`` for every candidate target: the mean cosine of its ``k`` nearest among the
    most frequent source words (each task keeps a k x candidates partial top-k)."""
    n_tgt = target_unit.shape[0]
    shared = spark.sparkContext.broadcast(target_unit)

    def partial_top(batches):
        tgt = shared.value
        best = np.full((0, n_tgt), -np.inf, dtype=np.float32)
        for b in batches:
            src = _unit_matrix(b, dim)
            for s in range(0, src.shape[0], block):
                scores = _scores(src[s : s + block], tgt)
                both = np.concatenate([best, scores])
                keep = min(k, both.shape[0])
                best = np.partition(both, both.shape[0] - keep, axis=0)[both.shape[0] - keep :]
        yield pa.RecordBatch.from_arrays(
            [pa.array([best.shape[0]], pa.int32()), pa.array([best.tobytes()], pa.binary())],
            names=["rows", "top"],
        )

    got = source_df.select("vector").mapInArrow(partial_top, "rows int, top binary").toArrow()
    shared.unpersist()
    parts = [
        np.frombuffer(t, np.float32).reshape(r, n_tgt)
        for r, t in zip(got.column("rows").to_pylist(), got.column("top").to_pylist(), strict=True)
        if r
    ]
    merged = np.concatenate(parts)
    return _mean_top(merged, min(k, merged.shape[0]), axis=0)


def translation_frame(
    spark,
    source_df,
    target_df,
    dim: int,
    *,
    topn: int,
    candidates: int,
    csls_k: int,
    block_mb: int,
):
    """The translation table of every row of ``source_df`` among the ``candidates`` most
    frequent rows of ``target_df`` (both: token, vector, count in the shared space)."""
    target = _frequent(target_df, candidates).select("token", "vector").toArrow()
    if target.num_rows == 0 or topn < 1:
        return spark.createDataFrame([], TRANSLATIONS)
    names = target.column("token").combine_chunks()
    target_unit = _unit_matrix(target, dim)
    n_tgt = target_unit.shape[0]
    k, top = min(csls_k, n_tgt), min(topn, n_tgt)
    block = block_rows(n_tgt, block_mb)
    # The most frequent source rows come out of ``limit`` as one partition: spread them.
    frequent = _frequent(source_df, candidates).repartition(spark.sparkContext.defaultParallelism)
    r_tgt = _density_of_targets(spark, frequent, target_unit, dim, csls_k, block)
    r_tgt = r_tgt.astype(np.float32)
    shared = spark.sparkContext.broadcast((target_unit, r_tgt, names))

    def translate(batches):
        tgt, r_t, tgt_names = shared.value
        ranks = np.arange(1, top + 1, dtype=np.int32)
        for b in batches:
            src = _unit_matrix(b, dim)
            tokens = b.column(b.schema.get_field_index("token"))
            for s in range(0, src.shape[0], block):
                cos = _scores(src[s : s + block], tgt)
                r_s = _mean_top(cos, k, axis=1).astype(np.float32)
                csls = 2 * cos - r_s[:, None] - r_t[None, :]
                ids, vals = topk_rows(csls, top)
                m = ids.shape[0]
                yield pa.RecordBatch.from_arrays(
                    [
                        tokens.slice(s, m).take(pa.array(np.repeat(np.arange(m), top))),
                        tgt_names.take(pa.array(ids.ravel())),
                        pa.array(np.tile(ranks, m)),
                        pa.array(vals.ravel()),
                        pa.array(np.take_along_axis(cos, ids, axis=1).ravel()),
                    ],
                    names=["source", "target", "rank", "csls", "cosine"],
                )

    return source_df.select("token", "vector").mapInArrow(translate, TRANSLATIONS)
