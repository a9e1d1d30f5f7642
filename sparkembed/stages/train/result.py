"""What every trainer returns: one vector frame schema, its counts, extra metadata."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from sparkembed.errors import SparkembedError


@dataclass
class TrainResult:
    vectors: Any  # DataFrame: token string, vector array<float>, count long, norm float
    counts: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # recorded in the table's metadata


def vector_frame(vocab, rows):
    """The vector frame (token, vector, count, norm) of ``rows`` (``id, vector, norm``,
    computed by the executors: ``linalg.factors.vector_rows``) joined with the vocabulary
    in Spark, in vocabulary order (id: most frequent first). Nothing vocabulary-sized
    passes through the driver or inside a task: a sort-merge join, since rows made from
    a handful of tasks' numbers (one per bucket, say) look small enough to the planner
    to broadcast, which would collect the whole model on the driver."""
    voc = vocab.select("id", "token", "count")
    joined = rows.hint("merge").join(voc, "id")
    return joined.orderBy("id").select("token", "vector", "count", "norm")


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
