"""Top-k cosine neighbours of every token (or a list of tokens) -> ``DIR/neighbors``.

Schema: ``token string, neighbor string, rank int, cosine float`` (rank 1 = closest).
The unit-normalised matrix (vocabulary x dim float32, driver-sized) is broadcast; the query
tokens are spread over Spark tasks, and each task scores its queries a block of rows at a
time (one matrix product per block, ``argpartition`` for the top k), so a task never holds
more than one block's score matrix (``block_mb``). A token is never its own neighbour.
Order: cosine descending, then the neighbour's position in the vocabulary (most frequent
first, ties by token) -- the same in Spark and in the single-process ``iter_topk``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sparkembed import schemas
from sparkembed.linalg.topk import block_rows, iter_topk, unit_rows
from sparkembed.vectors.table import ORDER

NEIGHBOR_SCHEMA = schemas.NEIGHBORS


@dataclass
class NeighborInput:
    """The broadcast side: vocabulary order, unit matrix, and which rows to query."""

    tokens: list[str]
    unit: np.ndarray  # (n, dim) float32, unit rows
    query_ids: np.ndarray  # int64 rows to find neighbours for
    unknown: list[str]  # requested tokens not in the vocabulary


def collect_vectors(vectors_df, lang: str | None = None):
    """Tokens and raw vectors of a vector table (``read_vectors``' frame) in the table's
    order (``ORDER``: most frequent first, the same as ``load_vectors``).

    Driver memory: vocabulary x dim float32.
    """
    import pyarrow.compute as pc
    from pyspark.sql import functions as F

    df = vectors_df
    if lang:
        df = df.where(F.col("lang") == lang)
    keys = [(c, how) for c, how in ORDER if c in df.columns]
    table = df.select("token", "vector", *(c for c, _ in keys if c != "token")).toArrow()
    table = table.take(pc.sort_indices(table, sort_keys=keys))
    tokens = table.column("token").to_pylist()
    lists = table.column("vector").combine_chunks()
    flat = lists.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    dim = flat.size // max(len(tokens), 1)
    if dim * len(tokens) != flat.size:
        from sparkembed.errors import SparkembedError

        raise SparkembedError("vector table rows are not all of the same dimension")
    return tokens, flat.reshape(len(tokens), dim)


def prepare(tokens: list[str], vectors: np.ndarray, wanted: Sequence[str] | None) -> NeighborInput:
    """Unit rows, and the query rows: all tokens, or the ``wanted`` ones that exist."""
    index: dict[str, int] = {}
    for i, t in enumerate(tokens):
        index.setdefault(t, i)
    if wanted is None:
        query_ids = np.arange(len(tokens), dtype=np.int64)
        unknown: list[str] = []
    else:
        seen, ids, unknown = set(), [], []
        for w in wanted:
            if w in seen:
                continue
            seen.add(w)
            if w in index:
                ids.append(index[w])
            else:
                unknown.append(w)
        query_ids = np.asarray(ids, dtype=np.int64)
    return NeighborInput(tokens, unit_rows(vectors), query_ids, unknown)


def neighbor_frame(spark, prepared: NeighborInput, topn: int, block_mb: int, partitions: int = 0):
    """The neighbour table as a DataFrame (lazy): Arrow + numpy per task, matrix broadcast."""
    import pyarrow as pa

    n, nq = len(prepared.tokens), len(prepared.query_ids)
    if n < 2 or nq == 0:
        return spark.createDataFrame([], NEIGHBOR_SCHEMA)
    rows = block_rows(n, block_mb)
    k = min(topn, n - 1)
    if partitions <= 0:
        partitions = max(spark.sparkContext.defaultParallelism, math.ceil(nq / 20_000))
    partitions = max(1, min(partitions, nq))
    shared = spark.sparkContext.broadcast((prepared.tokens, prepared.unit, prepared.query_ids))

    def score_partition(batches):
        tokens, unit, query_ids = shared.value
        names = pa.array(tokens, type=pa.string())
        ranks = np.tile(np.arange(1, k + 1, dtype=np.int32), rows)
        for batch in batches:
            positions = batch.column(0).to_numpy()
            for q, ids, vals in iter_topk(query_ids[positions], unit, k, rows):
                m = len(q)
                yield pa.RecordBatch.from_arrays(
                    [
                        names.take(pa.array(np.repeat(q, k))),
                        names.take(pa.array(ids.ravel())),
                        pa.array(ranks[: m * k]),
                        pa.array(vals.ravel().astype(np.float32)),
                    ],
                    names=["token", "neighbor", "rank", "cosine"],
                )

    positions = spark.range(0, nq, 1, numPartitions=partitions)
    return positions.mapInArrow(score_partition, NEIGHBOR_SCHEMA)
