"""Cells of a cooccurrence table, read where the trainers that factorise it need them.

Both the PPMI (svd) and the GloVe trainers turn the counts into packed CSR blocks cached
in Spark. For the tables cooccur writes (symmetric counts, shard files partitioned by row
and sorted by (row, col)) each task reads whole shard files with pyarrow and packs their
rows: no join and no shuffle. This module holds what both read paths share: which cells
are valid, reading and ordering one shard file, and dealing the files to tasks.
"""

from __future__ import annotations

import math

import numpy as np

from sparkembed.errors import SparkembedError


def valid_cells(row, col, count, n_ids: int):
    """The rule for a usable cell: a finite positive count, ids in [0, n_ids).

    One expression for both read paths: on numpy arrays it is a mask, on Spark Columns a
    condition. Both reject NaN (numpy: NaN > 0 is false; Spark orders NaN above +inf, so
    NaN < inf is false), and in Spark a null fails every comparison.
    """
    return (
        (count > 0) & (count < math.inf) & (row >= 0) & (row < n_ids) & (col >= 0) & (col < n_ids)
    )


def valid_entry(n_ids: int):
    """``valid_cells`` as a Spark condition on the ``row, col, count`` columns."""
    from pyspark.sql import functions as F

    return valid_cells(F.col("row"), F.col("col"), F.col("count"), n_ids)


def read_cells(fs, path: str):
    """``(row int64, col int64, count float64)`` of one shard file; a reader failure is
    one error naming the file."""
    import pyarrow.parquet as pq

    try:
        with fs.open_input_file(path) as f:
            t = pq.read_table(f, columns=["row", "col", "count"])
    except Exception as e:  # noqa: BLE001 - any reader failure names the file
        raise SparkembedError(f"cooccurrence: cannot read {path}: {e}") from e
    return (
        t.column("row").to_numpy().astype(np.int64),
        t.column("col").to_numpy().astype(np.int64),
        t.column("count").to_numpy().astype(np.float64),
    )


def sorted_cells(rows: np.ndarray, cols: np.ndarray) -> bool:
    """Whether the cells are in (row, col) order (one linear pass, far cheaper than a sort)."""
    if len(rows) < 2:
        return True
    dr = np.diff(rows)
    return bool(np.all(dr >= 0) and np.all(np.diff(cols)[dr == 0] >= 0))


def shard_cells(fs, path: str, n_ids: int):
    """One shard file's valid cells in (row, col) order, and (cells read, set aside)."""
    r, c, v = read_cells(fs, path)
    with np.errstate(invalid="ignore"):
        ok = valid_cells(r, c, v, n_ids)
    read, rejected = len(r), int((~ok).sum())
    r, c, v = r[ok], c[ok], v[ok]
    if not sorted_cells(r, c):  # cooccur writes its shards sorted
        order = np.lexsort((c, r))
        r, c, v = r[order], c[order], v[order]
    return (r, c, v), (read, rejected)


def shard_files(spark, cooc_path: str):
    """``(fs, DataFrame of path string)``: the table's shard files dealt evenly to one
    partition per task slot, or None when pyarrow cannot reach ``cooc_path``."""
    from sparkembed.arrowio import arrow_location, parquet_files
    from sparkembed.session import task_slots

    location = arrow_location(cooc_path)
    if location is None:
        return None
    fs, root = location
    files = parquet_files(fs, root)
    if not files:
        raise SparkembedError(f"cooccurrence: no Parquet files under {cooc_path}")
    sc = spark.sparkContext
    # parallelize deals the files evenly into the slices (a hash repartition may not).
    # One partition per task slot: every pass ships the factor to each partition's task.
    slices = min(len(files), task_slots(spark))
    return fs, spark.createDataFrame(sc.parallelize([(f,) for f in files], slices), "path string")
