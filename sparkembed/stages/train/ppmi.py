"""Positive PMI with context distribution smoothing over the sharded counts.

pmi(w, c) = log(count(w, c) * sum_c' count(c')^alpha / (count(w) * count(c)^alpha)) - log(neg)

count(w) are row sums (``DIR/marginals``), count(c) column sums of the counts, raised to
``alpha`` (hyperwords' ``cds``); only positive values are kept. Two paths compute it with
the same ``pmi`` and the same cell rule (``cells.valid_cells``): Spark SQL over any
cooccurrence table (``ppmi_entries``), or numpy over the shard files of a symmetric one
(``ppmi_matrix_from_files``). Either way the matrix stays in block files the tasks
read; only vocabulary-sized sums reach the tasks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparkembed.errors import SparkembedError
from sparkembed.linalg.factors import FactorSpace
from sparkembed.linalg.sharded import (
    KIND_A,
    KIND_AT,
    BlockFiles,
    ShardedMatrix,
    stats_batch,
    write_block_files,
)
from sparkembed.stages.train.cells import shard_cells, shard_files, valid_entry


@dataclass
class PpmiInfo:
    entries_in: int  # co-occurrence entries read
    entries_rejected: int  # null / non-positive / non-finite counts, ids outside the vocab
    smoothed_total: float  # sum over contexts of count(c)^alpha
    nonzeros: int | None = None  # positive PMI entries, where the pass building them counted


def log_shift(smoothed_total: float, neg: float) -> float:
    """The constant term of every PMI value: log(sum_c' count(c')^alpha) - log(neg)."""
    return math.log(smoothed_total) - math.log(neg)


def pmi(shifted_log_count, log_row_count, log_col_smoothed):
    """pmi(w, c) from log count(w, c) + ``log_shift``, log count(w) and log count(c)^alpha.

    The one formula of both paths: numpy arrays or Spark Columns, the same operations in
    the same order, so both give the same values.
    """
    return shifted_log_count - log_row_count - log_col_smoothed


def ppmi_entries(cooc, marginals, n_ids: int, alpha: float = 0.75, neg: float = 1.0):
    """``(row int, col int, value double)`` of the positive (shifted) PMI matrix, and stats.

    ``cooc``: ``row, col, count``; ``marginals``: ``id, count`` (row sums of ``cooc``).
    """
    from pyspark.sql import functions as F

    valid = valid_entry(n_ids)
    stats = cooc.agg(
        F.count(F.lit(1)).alias("n"), F.count(F.when(valid, 1)).alias("n_good")
    ).collect()[0]
    good = cooc.select("row", "col", "count").where(valid)
    col_sums = good.groupBy("col").agg(F.sum("count").alias("col_count"))
    smoothed = col_sums.select("col", (F.col("col_count") ** F.lit(alpha)).alias("col_smoothed"))
    total = smoothed.agg(F.sum("col_smoothed")).collect()[0][0]
    if not total:
        raise SparkembedError("the co-occurrence table has no positive counts")
    row_sums = marginals.select(F.col("id").alias("row"), F.col("count").alias("row_count"))
    shift = log_shift(total, neg)
    value = pmi(F.log("count") + F.lit(shift), F.log("row_count"), F.log("col_smoothed"))
    entries = (
        good.join(F.broadcast(row_sums), "row")
        .join(F.broadcast(smoothed), "col")
        .select("row", "col", value.alias("value"))
    )
    info = PpmiInfo(int(stats["n"]), int(stats["n"]) - int(stats["n_good"]), float(total))
    return entries.where(F.col("value") > 0), info


# --- File path: PPMI blocks straight from the cooccurrence shard files -------------------
#
# Why: the DataFrame path above joins the counts with the sums, then ShardedMatrix.cache
# shuffles every entry twice (by row, and transposed by column) and converts each one to
# Arrow, which can cost more than all the SVD's products together (docs/train.md).
# The shards are already partitioned by row and sorted; for symmetric counts
# Aᵀ[i, j] = pmi(j, i) uses the same count C[i, j] = C[j, i], so each task can build the
# rows of both A and Aᵀ for the rows of its shards: no shuffle at all.


def _ppmi_blocks(fs, n_ids: int, sums_bc):
    from sparkembed.linalg.sharded import pack_rows

    def blocks(batches):
        log_rows, log_cols, shift = sums_bc.value
        entries = rejected = nonzeros = 0
        for b in batches:
            for path in b.column(0).to_pylist():
                (r, c, v), (read, set_aside) = shard_cells(fs, path, n_ids)
                entries += read
                rejected += set_aside
                v = np.log(v) + shift
                a = pmi(v, log_rows[r], log_cols[c])  # A[r, c] = pmi(r, c)
                t = pmi(v, log_rows[c], log_cols[r])  # Aᵀ[r, c] = pmi(c, r): C[c, r] = C[r, c]
                nonzeros += int((a > 0).sum())
                yield from pack_rows(r[a > 0], c[a > 0], a[a > 0], {"kind": KIND_A})
                yield from pack_rows(r[t > 0], c[t > 0], t[t > 0], {"kind": KIND_AT})
        yield stats_batch([entries, rejected, nonzeros])

    return blocks


def ppmi_matrix_from_files(
    spark, cooc_path: str, marginals, n_ids: int, alpha: float, neg: float, space: FactorSpace
):
    """The PPMI matrix (``ShardedMatrix``: blocks of A and of Aᵀ written to two folders of
    ``space``) from the shard files of a SYMMETRIC cooccurrence table, and the PpmiInfo.

    Row sums come from ``marginals`` (``id, count``), as in ``ppmi_entries``, and for
    symmetric counts the column sums are the same sums: one pass over the files, the one
    that builds the blocks. Same values as ``ppmi_entries`` for the tables cooccur writes.
    Returns None when pyarrow cannot read ``cooc_path``.
    """
    located = shard_files(spark, cooc_path)
    if located is None:
        return None
    fs, units = located
    margins = marginals.select("id", "count").toArrow()  # vocabulary-sized
    ids = margins.column("id").to_numpy(zero_copy_only=False).astype(np.int64)
    counts = margins.column("count").to_numpy(zero_copy_only=False).astype(np.float64)
    keep = (ids >= 0) & (ids < n_ids) & np.isfinite(counts) & (counts > 0)
    row_sums = np.zeros(n_ids)
    np.add.at(row_sums, ids[keep], counts[keep])
    smoothed = row_sums**alpha
    total = float(smoothed.sum())
    if not total:
        raise SparkembedError("the co-occurrence table has no positive counts")
    with np.errstate(divide="ignore"):
        # log(0) = -inf only for ids without entries, which no cell refers to
        sums = (np.log(row_sums), np.log(smoothed), log_shift(total, neg))
    sums_bc = spark.sparkContext.broadcast(sums)
    parts = units.rdd.getNumPartitions()
    by_row = BlockFiles(space.new("ppmi-rows"), parts)
    by_col = BlockFiles(space.new("ppmi-columns"), parts)
    try:
        entries, rejected, nonzeros = write_block_files(
            units,
            _ppmi_blocks(fs, n_ids, sums_bc),
            {KIND_A: by_row.folder, KIND_AT: by_col.folder},
        )
    finally:
        sums_bc.unpersist()
    matrix = ShardedMatrix(by_row, by_col, n_ids, n_ids, int(nonzeros), spark=spark)
    return matrix, PpmiInfo(int(entries), int(rejected), total, int(nonzeros))
