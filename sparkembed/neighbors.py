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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

NEIGHBOR_SCHEMA = "token string, neighbor string, rank int, cosine float"
# Bytes per score, in float32 units: the scores, a bool mask, and slack for BLAS.
_COPIES_PER_BLOCK = 2


def block_rows(vocab_size: int, block_mb: int) -> int:
    """Query rows per block so that one block's score matrices stay under ``block_mb``."""
    per_row = 4 * max(vocab_size, 1) * _COPIES_PER_BLOCK
    return max(1, int(block_mb * 2**20 // per_row))


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length in float32; zero rows stay zero (cosine 0 with all)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1)
    return vectors / np.where(norms > 0, norms, 1).astype(np.float32)[:, None]


def _topk_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` column ids per row by (score desc, id asc), with their scores.

    A full ``argpartition`` of every row costs ~35 ns a score; instead cut each row into
    m >= k + 1 segments: the k-th largest segment maximum is a lower bound of the row's
    k-th largest score, and only segments whose maximum reaches it (about k of them) can
    hold a top-k score, ties included. Those few segments are gathered and sorted exactly.
    At most one score per row (the query itself) is -inf, so the bound is finite.
    """
    b, n = scores.shape
    m = min(n, max(4 * (k + 1), 256))
    size = n // m
    seg_max = scores[:, : m * size].reshape(b, m, size).max(axis=2)
    tail = n - m * size
    if tail:
        seg_max = np.concatenate([seg_max, scores[:, m * size :].max(axis=1, keepdims=True)], 1)
    bound = np.partition(seg_max, seg_max.shape[1] - k, axis=1)[:, seg_max.shape[1] - k]
    seg_rows, segs = np.nonzero(seg_max >= bound[:, None])
    parts = []
    for width, pick in ((size, segs < m), (tail, segs == m)):
        if width and pick.any():
            r = seg_rows[pick]
            c = (segs[pick] * size)[:, None] + np.arange(width)
            v = scores[r[:, None], c]
            keep = v >= bound[r][:, None]
            parts.append((np.broadcast_to(r[:, None], c.shape)[keep], c[keep], v[keep]))
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    vals = np.concatenate([p[2] for p in parts])
    order = np.lexsort((cols, -vals, rows))  # by row, then score desc, then id
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, np.arange(b))
    take = (starts[:, None] + np.arange(k)).ravel()
    return cols[take].reshape(b, k), vals[take].reshape(b, k)


def iter_topk(
    query_ids: np.ndarray, unit: np.ndarray, k: int, rows_per_block: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For blocks of ``query_ids``: (query ids, neighbour ids (b, k), cosines (b, k)).

    ``unit`` is the unit-normalised matrix; queries are rows of it and never their own
    neighbour. ``k`` is capped at vocabulary size - 1.
    """
    n = unit.shape[0]
    k = min(k, n - 1)
    query_ids = np.asarray(query_ids, dtype=np.int64)
    for start in range(0, len(query_ids), rows_per_block):
        q = query_ids[start : start + rows_per_block]
        # A one-row block would go through BLAS's matrix-vector kernel, which rounds
        # differently; a second (dropped) row keeps every score on the same gemm kernel.
        scores = (unit[np.append(q, q[0])] @ unit.T)[: len(q)] if len(q) == 1 else unit[q] @ unit.T
        scores[np.arange(len(q)), q] = -np.inf
        ids, vals = _topk_rows(scores, k)
        yield q, ids, vals


@dataclass
class NeighborInput:
    """The broadcast side: vocabulary order, unit matrix, and which rows to query."""

    tokens: list[str]
    unit: np.ndarray  # (n, dim) float32, unit rows
    query_ids: np.ndarray  # int64 rows to find neighbours for
    unknown: list[str]  # requested tokens not in the vocabulary


def collect_vectors(vectors_df, lang: str | None = None):
    """Tokens and raw vectors of a vector table, most frequent first (ties by token).

    Driver memory: vocabulary x dim float32 (the same order as ``load_vectors``).
    """
    import pyarrow.compute as pc
    from pyspark.sql import functions as F

    df = vectors_df
    if lang:
        df = df.where(F.col("lang") == lang)
    table = df.select("token", "vector", "count").toArrow()
    order = pc.sort_indices(table, sort_keys=[("count", "descending"), ("token", "ascending")])
    table = table.take(order)
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


def brute_force_topk(unit: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference: the full similarity matrix, a full sort per row (cosine desc, id asc)."""
    scores = unit @ unit.T
    np.fill_diagonal(scores, -np.inf)
    n = scores.shape[0]
    ids = np.tile(np.arange(n), (n, 1))
    order = np.lexsort((ids, -scores), axis=1)[:, : min(k, n - 1)]
    return order, np.take_along_axis(scores, order, axis=1)
