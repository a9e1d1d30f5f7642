"""The walker on tiny graphs: steps follow edges, transition frequencies match the weights
and node2vec's exact second-order probabilities (chi-square), walks depend on their id and
the seed only."""

from __future__ import annotations

from collections import Counter

import networkx as nx
import numpy as np
import pytest
from scipy import stats

from sparkembed.stages.walks.draws import uniforms
from sparkembed.stages.walks.walker import csr_graph, walks

# A test at p < 1e-4 fails about once in 10,000 honest runs; seeds are fixed, so never.
ALPHA = 1e-4


def karate():
    g = nx.karate_club_graph()
    edges = np.array(list(g.edges()))
    return csr_graph(edges[:, 0], edges[:, 1], g.number_of_nodes()), g


def test_uniforms_are_a_function_of_seed_walk_and_step():
    ids = np.arange(100_000)
    u = uniforms(7, ids, 3)
    assert np.array_equal(u, uniforms(7, ids, 3))
    assert np.array_equal(u[5000:6000], uniforms(7, ids[5000:6000], 3))
    assert not np.array_equal(u, uniforms(7, ids, 4))
    assert not np.array_equal(u, uniforms(8, ids, 3))
    assert not np.array_equal(u, uniforms(7, ids, 3, attempt=1))
    assert u.min() >= 0 and u.max() < 1
    counts = np.bincount((u * 20).astype(int), minlength=20)
    assert stats.chisquare(counts).pvalue > ALPHA
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02


def test_every_step_follows_an_edge():
    graph, g = karate()
    starts = np.repeat(np.arange(34), 10)
    for p, q in [(1, 1), (0.25, 4), (4, 0.25)]:
        w = walks(graph, starts, np.arange(len(starts)), 20, seed=1, p=p, q=q)
        assert (w >= 0).all()
        assert all(g.has_edge(a, b) for row in w for a, b in zip(row, row[1:], strict=False))


def test_a_walk_stops_at_a_vertex_without_out_edges():
    graph = csr_graph([0, 1], [1, 2], 3, directed=True)
    assert walks(graph, np.array([0, 2]), np.array([0, 1]), 5, seed=3).tolist() == [
        [0, 1, 2, -1, -1],
        [2, -1, -1, -1, -1],
    ]


def test_weighted_transitions_follow_the_weights():
    graph = csr_graph([0, 0, 0], [1, 2, 3], 4, weights=[1.0, 2.0, 7.0], directed=True)
    n = 50_000
    w = walks(graph, np.zeros(n, dtype=np.int64), np.arange(n), 2, seed=11)
    counts = np.bincount(w[:, 1], minlength=4)[1:]
    assert stats.chisquare(counts, n * np.array([0.1, 0.2, 0.7])).pvalue > ALPHA


def test_uniform_transitions_are_uniform():
    graph, g = karate()
    n = 34_000
    w = walks(graph, np.zeros(n, dtype=np.int64), np.arange(n), 2, seed=5)
    nbrs = sorted(g.neighbors(0))
    counts = [int((w[:, 1] == x).sum()) for x in nbrs]
    assert sum(counts) == n
    assert stats.chisquare(counts).pvalue > ALPHA


def node2vec_probabilities(g: nx.Graph, t: int, v: int, p: float, q: float) -> dict:
    """The paper's second-order transition probabilities out of v, having come from t."""
    alpha = {
        x: (1 / p if x == t else 1.0 if g.has_edge(t, x) else 1 / q) * g[v][x].get("weight", 1)
        for x in g.neighbors(v)
    }
    total = sum(alpha.values())
    return {x: a / total for x, a in alpha.items()}


@pytest.mark.parametrize("p, q", [(0.25, 4.0), (4.0, 0.25), (1.0, 1.0), (0.5, 2.0)])
@pytest.mark.parametrize("weighted", [False, True])
def test_node2vec_matches_the_exact_second_order_probabilities(p, q, weighted):
    g = nx.Graph()
    # 0-1-2 triangle, 1 also to 3, 4; 3-4 linked; 2-5 pendant: return, in-triangle and
    # outward moves all possible from 1 and 2.
    edges = [(0, 1), (1, 2), (0, 2), (1, 3), (1, 4), (3, 4), (2, 5)]
    rng = np.random.default_rng(0)
    for a, b in edges:
        g.add_edge(a, b, weight=float(rng.uniform(0.5, 3.0)) if weighted else 1.0)
    src, dst = zip(*edges, strict=True)
    weights = [g[a][b]["weight"] for a, b in edges] if weighted else None
    graph = csr_graph(np.array(src), np.array(dst), 6, weights=weights)
    n = 60_000
    w = walks(graph, np.zeros(n, dtype=np.int64), np.arange(n), 3, seed=17, p=p, q=q)
    by_pair = {}
    for t, v, x in w:
        by_pair.setdefault((t, v), Counter())[x] += 1
    assert {pair for pair in by_pair} == {(0, 1), (0, 2)}
    for (t, v), seen in by_pair.items():
        exact = node2vec_probabilities(g, t, v, p, q)
        assert set(seen) <= set(exact)
        total = sum(seen.values())
        observed = [seen[x] for x in sorted(exact)]
        expected = [exact[x] * total for x in sorted(exact)]
        assert stats.chisquare(observed, expected).pvalue > ALPHA, (t, v, seen, exact)


def test_walks_do_not_depend_on_how_they_are_split_into_tasks():
    graph, _ = karate()
    starts = np.repeat(np.arange(34), 4)
    ids = np.arange(len(starts))
    whole = walks(graph, starts, ids, 15, seed=9, p=0.5, q=2.0)
    order = np.random.default_rng(1).permutation(len(starts))
    parts = [order[i::4] for i in range(4)]  # four "partitions", shuffled
    for part in parts:
        assert np.array_equal(walks(graph, starts[part], ids[part], 15, 9, 0.5, 2.0), whole[part])
    assert not np.array_equal(walks(graph, starts, ids, 15, seed=10, p=0.5, q=2.0), whole)


def test_p_and_q_must_be_positive():
    graph, _ = karate()
    with pytest.raises(ValueError, match="p and q must be > 0"):
        walks(graph, np.array([0]), np.array([0]), 3, seed=1, p=0.0)
