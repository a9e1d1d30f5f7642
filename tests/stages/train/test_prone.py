"""train --method prone: ProNE on the sharded matrix against a dense numpy/scipy ProNE."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from helpers import CLI_SESSION
from reference import prone, prone_propagation

from sparkembed.cli import main
from sparkembed.config import ProneConfig, load_config
from sparkembed.linalg.factors import FactorSpace, to_numpy
from sparkembed.linalg.sharded import ShardedMatrix
from sparkembed.stages.train.prone import chebyshev_coefficients, propagate
from sparkembed.stages.walks import walk_graph

EDGES = "src string, dst string, weight double"


def _graph(n=40, seed=3, directed=False):
    """A weighted graph of two dense groups, as (edge rows, dense adjacency by vertex
    number: the walks stage numbers vertices in the order of their ids)."""
    g = nx.stochastic_block_model([n // 2, n - n // 2], [[0.3, 0.04], [0.04, 0.3]], seed=seed)
    rng = np.random.default_rng(seed)
    names = sorted(f"v{i:03d}" for i in range(n))
    rows = []
    adj = np.zeros((n, n))
    for u, v in g.edges():
        w = float(rng.integers(1, 5))
        pairs = [(u, v)] if directed else [(u, v), (v, u)]
        if directed and rng.random() < 0.5:
            pairs = [(v, u)]
        for a, b in pairs:
            adj[a, b] = w
        rows.append((names[pairs[0][0]], names[pairs[0][1]], w))
    assert ((adj + adj.T) > 0).any(axis=1).all()  # no isolated vertex: all are numbered
    return rows, adj


def _walks_dir(spark, tmp_path, rows, directed=False):
    cfg = load_config()
    cfg.walks.walks_per_node = 0
    cfg.walks.weighted = True
    cfg.walks.directed = directed
    work = tmp_path / "w"
    walk_graph(spark, spark.createDataFrame(rows, EDGES), str(work), cfg)
    return work


def _aligned_signs(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    signs = np.sign(np.sum(got * want, axis=0))
    return got * np.where(signs == 0, 1.0, signs)


def test_chebyshev_coefficients_are_bessel_terms_of_alternating_sign():
    from scipy.special import iv

    c = chebyshev_coefficients(4, 0.5)
    assert c.tolist() == pytest.approx(
        [iv(0, 0.5), -2 * iv(1, 0.5), 2 * iv(2, 0.5), -2 * iv(3, 0.5)]
    )


@pytest.mark.parametrize("step", [2, 3, 10])
def test_propagation_equals_dense_filter(spark, tmp_path, step):
    # The passes of the sharded Â over a factor give Â (a - conv) of the dense filter.
    _rows, adj = _graph()
    n = len(adj)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(n, 5))
    with_loops = adj + np.eye(n)
    r, c = np.nonzero(with_loops)
    entries = spark.createDataFrame(
        [(int(i), int(j), float(with_loops[i, j])) for i, j in zip(r, c, strict=True)],
        "row int, col int, value double",
    )
    space = FactorSpace(spark, str(tmp_path / "space"))
    matrix = ShardedMatrix.cache(entries, n, n, 3, space, transposed=False)
    # The passes read each factor's block p beside the matrix's partition p.
    a_blocks = _as_matrix_blocks(spark, matrix, a, tmp_path / "a3")
    cfg = ProneConfig(step=step)
    mm, gram = propagate(matrix, a_blocks, cfg, space)
    want = prone_propagation(adj, a.astype(np.float32).astype(np.float64), step, cfg.mu, cfg.theta)
    got = to_numpy(mm)
    np.testing.assert_allclose(got, want, atol=2e-5 * np.abs(want).max())
    np.testing.assert_allclose(gram, got.T @ got, rtol=1e-4)


def _as_matrix_blocks(spark, matrix, a, folder):
    """``a`` as a Factor whose block p holds the rows of the matrix's partition p."""
    from sparkembed.linalg.factors import Factor, write_block
    from sparkembed.linalg.sharded import iter_blocks

    for p in range(matrix.partitions):
        ids = np.concatenate(
            [i for i, _m in iter_blocks(matrix.by_row, p, matrix.n_cols)] or [np.zeros(0, int)]
        ).astype(np.int32)
        if len(ids):
            write_block(str(folder), p, ids, a[ids].astype(np.float32))
    return Factor(len(a), a.shape[1], folder=str(folder))


@pytest.mark.parametrize("engine", ["sharded", "one-task"])
@pytest.mark.parametrize(("directed", "step"), [(False, 10), (True, 10), (False, 1)])
def test_trainer_equals_dense_prone(spark, tmp_path, directed, step, engine):
    rows, adj = _graph(directed=directed)
    n, dim = len(adj), 4
    work = _walks_dir(spark, tmp_path, rows, directed=directed)
    out = tmp_path / "vectors"
    argv = ["train", str(work), "--method", "prone", "--dim", str(dim), "--output", str(out)]
    # oversample up to the vertex count: the randomized SVD is then exact
    settings = ["--set", f"prone.oversample={n}", "--set", f"prone.step={step}", "-q"]
    settings += ["--set", f"prone.engine={engine}"]
    assert main(argv + settings + CLI_SESSION) == 0
    table = spark.read.parquet(str(out)).collect()
    by_name = {r.token: np.array(r.vector, np.float64) for r in table}
    names = sorted(f"v{i:03d}" for i in range(n))
    want = prone(adj, dim, step=step)
    # A vertex without out-edges in a directed graph has a zero row, and no vector.
    has_row = np.linalg.norm(want, axis=1) > 0
    assert sorted(by_name) == [v for v, h in zip(names, has_row, strict=True) if h]
    got = np.array([by_name[v] for v, h in zip(names, has_row, strict=True) if h])
    want = want[has_row]
    np.testing.assert_allclose(_aligned_signs(got, want), want, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_walks_without_walks_write_the_graph_and_its_vertices(spark, tmp_path):
    rows, adj = _graph()
    work = _walks_dir(spark, tmp_path, rows)
    assert spark.read.parquet(str(work / "tokens")).count() == 0
    vocab = {r.token: r["count"] for r in spark.read.parquet(str(work / "vocab")).collect()}
    names = sorted(vocab)
    assert [vocab[v] for v in names] == [int(x) for x in (adj > 0).sum(axis=1)]
    assert spark.read.parquet(str(work / "graph")).count() == len(adj)
