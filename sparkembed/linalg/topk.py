"""Blocked top-k cosine search over a unit-normalised matrix (neighbours, analogies).

Order: score descending, then row id ascending (most frequent first), so results are the
same whatever the block size or the number of tasks.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

# Bytes per score, in float32 units: the float64 product, its float32 copy, slack.
_COPIES_PER_BLOCK = 4


def block_rows(vocab_size: int, block_mb: int) -> int:
    """Query rows per block so that one block's score matrices stay under ``block_mb``."""
    per_row = 4 * max(vocab_size, 1) * _COPIES_PER_BLOCK
    return max(1, int(block_mb * 2**20 // per_row))


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length in float32; zero rows stay zero (cosine 0 with all)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1)
    return vectors / np.where(norms > 0, norms, 1).astype(np.float32)[:, None]


def topk_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
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
    wide = unit.astype(np.float64)
    for start in range(0, len(query_ids), rows_per_block):
        q = query_ids[start : start + rows_per_block]
        # float32 products round differently with the block's shape on some BLAS kernels,
        # so ties and last bits would depend on the partitioning: products in float64,
        # rounded once to float32, are the same for any block.
        scores = (wide[q] @ wide.T).astype(np.float32)
        scores[np.arange(len(q)), q] = -np.inf
        ids, vals = topk_rows(scores, k)
        yield q, ids, vals
