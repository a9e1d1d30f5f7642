"""Positive PMI with context distribution smoothing, as Spark SQL over the sharded counts.

pmi(w, c) = log(count(w, c) * sum_c' count(c')^alpha / (count(w) * count(c)^alpha)) - log(neg)

count(w) are row sums (``DIR/marginals``), count(c) column sums of the counts, raised to
``alpha`` (hyperwords' ``cds``); only positive values are kept. The result stays a sharded
sparse matrix in Spark; only vocabulary-sized sums are joined (broadcast) to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sparkembed.errors import SparkembedError


@dataclass
class PpmiInfo:
    entries_in: int  # co-occurrence entries read
    entries_rejected: int  # null / non-positive / non-finite counts, ids outside the vocab
    smoothed_total: float  # sum over contexts of count(c)^alpha


def valid_entry(n_ids: int):
    """A Column: the entry has a finite positive count and ids in [0, n_ids)."""
    from pyspark.sql import functions as F

    return (
        F.col("row").isNotNull()
        & F.col("col").isNotNull()
        & F.col("count").isNotNull()
        & ~F.isnan("count")
        & (F.col("count") > 0)
        & (F.col("count") < float("inf"))
        & F.col("row").between(0, n_ids - 1)
        & F.col("col").between(0, n_ids - 1)
    )


def ppmi_entries(cooc, marginals, n_ids: int, alpha: float = 0.75, neg: float = 1.0):
    """``(row int, col int, value double)`` of the positive (shifted) PMI matrix, and stats.

    ``cooc``: ``row, col, count``; ``marginals``: ``id, count`` (row sums of ``cooc``).
    """
    from pyspark.sql import functions as F

    if alpha <= 0:
        raise SparkembedError(f"svd.alpha must be > 0, got {alpha}")
    if neg <= 0:
        raise SparkembedError(f"svd.neg must be > 0 (1 = no shift), got {neg}")
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
    shift = math.log(total) - math.log(neg)
    pmi = (
        good.join(F.broadcast(row_sums), "row")
        .join(F.broadcast(smoothed), "col")
        .select(
            "row",
            "col",
            (F.log("count") + F.lit(shift) - F.log("row_count") - F.log("col_smoothed")).alias(
                "value"
            ),
        )
    )
    info = PpmiInfo(int(stats["n"]), int(stats["n"]) - int(stats["n_good"]), float(total))
    return pmi.where(F.col("value") > 0), info
