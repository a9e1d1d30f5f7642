"""Random walks over a graph held as CSR, vectorised with numpy across all the walkers of a
task: uniform (DeepWalk), weighted first-order, and node2vec's second-order walk.

node2vec (Grover & Leskovec 2016) moves from ``v`` (having come from ``t``) to a neighbour
``x`` with probability proportional to ``w(v, x) · α(t, x)``, α = 1/p if x = t, 1 if x is
a neighbour of t, 1/q otherwise. It is sampled exactly by rejection (as KnightKing and
PecanPy's SparseOTF do): propose x with probability ∝ w(v, x), accept with probability
α(t, x) / max(1/p, 1, 1/q). Memory stays O(edges): no per-edge alias tables, no cap on
neighbours. Every draw comes from :func:`draws.uniforms` keyed by (seed, walk id, step,
attempt), so a walk does not depend on which walks share its task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparkembed.stages.walks.draws import uniforms

MAX_ATTEMPTS = 10_000  # rejection rounds a step may take; expected is <= max(α) / min(α)


@dataclass(frozen=True)
class Graph:
    """Out-neighbours of vertex ``v``: ``indices[indptr[v]:indptr[v + 1]]``, sorted, with
    ``row_cumulative`` the running sum of their weights within the row (the weighted
    sampler's search keys; None: unweighted)."""

    indptr: np.ndarray
    indices: np.ndarray
    row_cumulative: np.ndarray | None

    @property
    def n_vertices(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_edges(self) -> int:
        return len(self.indices)

    def degree(self, v: np.ndarray) -> np.ndarray:
        return self.indptr[v + 1] - self.indptr[v]


def csr_graph(
    src: np.ndarray,
    dst: np.ndarray,
    n_vertices: int,
    weights: np.ndarray | None = None,
    directed: bool = False,
) -> Graph:
    """A :class:`Graph` from edge arrays of vertex indices (``0 .. n_vertices - 1``), each
    edge once; undirected edges are stored both ways. Duplicates, self-loops and bad
    weights are the caller's to settle (the walks stage counts and sets them aside)."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if not directed:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
        w = None if w is None else np.concatenate([w, w])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    indptr = np.zeros(n_vertices + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n_vertices), out=indptr[1:])
    if w is None:
        return Graph(indptr, dst, None)
    return Graph(indptr, dst, row_cumulative(indptr, w[order]))


def row_cumulative(indptr: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The running sum of ``weights`` within each CSR row. Each row's sums depend on that
    row alone (summed in order from its first weight), so a row gives the same keys whether
    it is summed with the whole graph or with a few rows a task has joined. Rows of one
    degree are summed together, as a matrix: one numpy call per distinct degree."""
    weights = np.asarray(weights, dtype=np.float64)
    out = np.empty_like(weights)
    degree = np.diff(indptr)
    for d in np.unique(degree[degree > 0]):
        cells = indptr[:-1][degree == d][:, None] + np.arange(d)
        out[cells] = np.cumsum(weights[cells], axis=1)
    return out


def _first_at_least(keys: np.ndarray, lo: np.ndarray, hi: np.ndarray, target, strict: bool):
    """Per walker, the first index in ``[lo, hi)`` whose key is > target (``strict``) or
    >= target; ``hi`` where none is: a binary search run for all walkers at once."""
    lo, hi = lo.copy(), hi.copy()
    while True:
        open_ = lo < hi
        if not open_.any():
            return lo
        mid = (lo + hi) // 2
        k = keys[np.minimum(mid, len(keys) - 1)]
        right = open_ & ((k <= target) if strict else (k < target))
        left = open_ & ~right
        lo = np.where(right, mid + 1, lo)
        hi = np.where(left, mid, hi)


def first_order_step(graph: Graph, at: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The next vertex of walkers at ``at`` (each with out-edges), chosen with probability
    proportional to the edge weight (uniformly when unweighted) from the uniforms ``u``."""
    start, end = graph.indptr[at], graph.indptr[at + 1]
    if graph.row_cumulative is None:
        pick = start + np.minimum((u * (end - start)).astype(np.int64), end - start - 1)
    else:
        total = graph.row_cumulative[end - 1]
        pick = _first_at_least(graph.row_cumulative, start, end, u * total, strict=True)
        pick = np.minimum(pick, end - 1)  # u * total rounding up to the row's total
    return graph.indices[pick]


def has_edge(graph: Graph, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each ``a -> b`` is an edge (binary search in ``a``'s sorted neighbours)."""
    start, end = graph.indptr[a], graph.indptr[a + 1]
    i = _first_at_least(graph.indices, start, end, b, strict=False)
    return (i < end) & (graph.indices[np.minimum(i, len(graph.indices) - 1)] == b)


def walks(
    graph: Graph,
    starts: np.ndarray,
    walk_ids: np.ndarray,
    length: int,
    seed: int,
    p: float = 1.0,
    q: float = 1.0,
) -> np.ndarray:
    """One walk of ``length`` vertices from each start: an int64 array (walks × length),
    -1 after a walk reaches a vertex without out-edges. Walk ``i`` draws its randomness from
    ``walk_ids[i]`` alone."""
    if p <= 0 or q <= 0:
        raise ValueError(f"node2vec p and q must be > 0, got p={p}, q={q}")
    n = len(starts)
    out = np.full((n, length), -1, dtype=np.int64)
    if n == 0 or length == 0:
        return out
    ids = np.asarray(walk_ids, dtype=np.uint64)
    out[:, 0] = starts
    second_order = not (p == 1.0 and q == 1.0)
    alpha_max = max(1.0 / p, 1.0, 1.0 / q)
    for step in range(1, length):
        at, came_from = out[:, step - 1], out[:, step - 2] if step > 1 else None
        live = np.flatnonzero((at >= 0) & (graph.degree(np.maximum(at, 0)) > 0))
        if len(live) == 0:
            break
        if not second_order or step == 1:
            u = uniforms(seed, ids[live], step)
            out[live, step] = first_order_step(graph, at[live], u)
            continue
        pending = live
        for attempt in range(MAX_ATTEMPTS):
            v, t = at[pending], came_from[pending]
            x = first_order_step(graph, v, uniforms(seed, ids[pending], step, 2 * attempt))
            alpha = np.where(x == t, 1.0 / p, np.where(has_edge(graph, t, x), 1.0, 1.0 / q))
            accept = uniforms(seed, ids[pending], step, 2 * attempt + 1) * alpha_max < alpha
            out[pending[accept], step] = x[accept]
            pending = pending[~accept]
            if len(pending) == 0:
                break
        else:  # pragma: no cover - probability < (1 - min α / max α) ** MAX_ATTEMPTS
            raise RuntimeError(f"node2vec step {step}: rejection sampling did not finish")
    return out
