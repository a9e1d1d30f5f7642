"""What every trainer returns: one vector frame schema, its counts, extra metadata."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sparkembed.errors import SparkembedError


@dataclass
class TrainResult:
    vectors: Any  # DataFrame: token string, vector array<float>, count long, norm float
    counts: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # recorded in the table's metadata


def vector_frame(vocab, present: np.ndarray, rows: np.ndarray):
    """The vector frame of the vocabulary's words whose id is ``present``, their vectors the
    rows of ``rows`` (ids × dim, on the driver), and the number of vectors.

    The vocabulary (vocab-sized, like ``rows``) joins on the driver and the table leaves
    with float32 vectors and their norms: no Spark join, no per-element Spark functions in
    the write, and the number of vectors is known without reading the table back.
    """
    import pyarrow as pa

    dim = rows.shape[1]
    voc = vocab.select("id", "token", "count").toArrow()
    voc_ids = voc.column("id").to_numpy().astype(np.int64)
    keep = present[voc_ids]
    vectors = rows[voc_ids[keep]].astype(np.float32)
    offsets = pa.array(np.arange(0, vectors.size + 1, dim, dtype=np.int32))
    table = pa.table(
        {
            "token": voc.column("token").filter(pa.array(keep)),
            "vector": pa.ListArray.from_arrays(offsets, pa.array(vectors.ravel())),
            "count": voc.column("count").filter(pa.array(keep)).cast(pa.int64()),
            "norm": pa.array(np.linalg.norm(vectors.astype(np.float64), axis=1).astype(np.float32)),
        }
    )
    return vocab.sparkSession.createDataFrame(table), len(vectors)


def log(msg: str, quiet: bool = False) -> None:
    """A trainer's progress line on stderr."""
    if not quiet:
        print(f"[train] {msg}", file=sys.stderr, flush=True)


@dataclass
class VocabSummary:
    size: int  # words
    n_ids: int  # largest id + 1: the rows of the factors
    tokens: int  # corpus tokens (the counts' sum)


def vocab_summary(vocab) -> VocabSummary:
    """One Spark job over the vocabulary table; an empty one is an error."""
    from pyspark.sql import functions as F

    row = vocab.agg(
        F.count(F.lit(1)).alias("n"), F.max("id").alias("max_id"), F.sum("count").alias("tokens")
    ).collect()[0]
    if not row["n"]:
        raise SparkembedError("the vocabulary is empty")
    return VocabSummary(int(row["n"]), int(row["max_id"]) + 1, int(row["tokens"] or 0))
