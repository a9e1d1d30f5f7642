"""The walks stage on Spark: walks follow edges, both engines give the same walks, the walks
do not depend on the partitioning, bad inputs are set aside or refused in one line, and
cooccur + train embed the walks unchanged."""

from __future__ import annotations

import types

import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import CLI_SESSION
from scipy import stats

from sparkembed.cli import main
from sparkembed.config import load_config
from sparkembed.stages.walks import walk_graph
from sparkembed.tables import read_metadata

SESSION = CLI_SESSION
EDGE_SCHEMA = "src string, dst string, weight double"


def config(**walks):
    cfg = load_config()
    for key, value in walks.items():
        setattr(cfg.walks, key, value)
    return cfg


def walks_of(spark, out) -> dict:
    """{(start, walk number): tokens} of a walks output."""
    return {
        (r.doc_id, r.sentence): tuple(r.tokens)
        for r in spark.read.parquet(f"{out}/tokens").collect()
    }


def karate(spark, weighted=True):
    g = nx.karate_club_graph()
    rows = [(str(u), str(v), float(1 + (u * v) % 5)) for u, v in g.edges()]
    return g, spark.createDataFrame(rows, EDGE_SCHEMA if weighted else EDGE_SCHEMA)


@pytest.fixture(scope="module")
def directed_graph(spark):
    """Weighted, directed, with a dead end (x has no out-edges) and a hub."""
    rows = [
        ("a", "b", 1.0),
        ("a", "c", 3.0),
        ("b", "a", 1.0),
        ("b", "c", 1.0),
        ("b", "x", 0.5),
        ("c", "a", 2.0),
        ("c", "b", 1.0),
        ("c", "d", 1.0),
        ("d", "c", 1.0),
        ("d", "b", 4.0),
    ]
    return spark.createDataFrame(rows, EDGE_SCHEMA)


def test_every_step_follows_an_edge_and_the_output_is_a_corpus(spark, tmp_path):
    g, edges = karate(spark)
    cfg = config(walk_length=12, walks_per_node=3, p=0.5, q=2.0, weighted=True)
    counts = walk_graph(spark, edges, str(tmp_path / "w"), cfg)
    assert counts["vertices"] == 34 and counts["edges"] == 78 and counts["walks"] == 34 * 3
    assert counts["steps"] == 34 * 3 * 11 and counts["rejected"] == 0
    walks = walks_of(spark, tmp_path / "w")
    assert set(walks) == {(str(v), r) for v in g.nodes for r in range(3)}
    for (start, _r), path in walks.items():
        assert path[0] == start and len(path) == 12
        assert all(g.has_edge(int(a), int(b)) for a, b in zip(path, path[1:], strict=False))
    # The vocabulary counts visits, ids by count.
    vocab = spark.read.parquet(str(tmp_path / "w" / "vocab")).orderBy("id").collect()
    visits = {}
    for path in walks.values():
        for v in path:
            visits[v] = visits.get(v, 0) + 1
    assert {r.token: r["count"] for r in vocab} == visits
    assert [r["count"] for r in vocab] == sorted(visits.values(), reverse=True)
    tokens = spark.read.parquet(str(tmp_path / "w" / "tokens"))
    assert {r.lang for r in tokens.select("lang").distinct().collect()} == {"graph"}


@pytest.mark.parametrize("p,q", [(1.0, 1.0), (0.25, 4.0), (4.0, 0.25)])
def test_both_engines_give_the_same_walks(spark, tmp_path, directed_graph, p, q):
    got = {}
    for engine in ("replicated", "partitioned"):
        cfg = config(engine=engine, p=p, q=q, walk_length=5, walks_per_node=4)
        cfg.walks.weighted = cfg.walks.directed = True
        counts = walk_graph(spark, directed_graph, str(tmp_path / engine), cfg)
        assert counts["engine"] == engine
        got[engine] = walks_of(spark, tmp_path / engine)
    assert got["replicated"] == got["partitioned"]
    # The dead end x stops walks; x starts none.
    assert all(s != "x" for s, _ in got["replicated"])
    ended = [w for w in got["replicated"].values() if w[-1] == "x"]
    assert ended and all(len(w) <= 5 for w in ended)


@pytest.mark.parametrize("engine", ["replicated", "partitioned"])
def test_same_seed_same_walks_with_1_and_4_partitions(spark, tmp_path, engine):
    _g, edges = karate(spark)
    got = []
    for parts in (1, 4):
        cfg = config(engine=engine, partitions=parts, q=0.5, walk_length=4, walks_per_node=2)
        walk_graph(spark, edges.repartition(parts), str(tmp_path / str(parts)), cfg)
        got.append(walks_of(spark, tmp_path / str(parts)))
    assert got[0] == got[1]
    other = config(engine=engine, seed=7, q=0.5, walk_length=4, walks_per_node=2)
    walk_graph(spark, edges, str(tmp_path / "seed7"), other)
    assert walks_of(spark, tmp_path / "seed7") != got[0]


def test_weighted_first_steps_follow_the_weights(spark, tmp_path):
    # A star: the centre's first step picks leaf i with probability w_i / sum(w).
    weights = [1.0, 2.0, 3.0, 4.0]
    rows = [("hub", f"leaf{i}", w) for i, w in enumerate(weights)]
    edges = spark.createDataFrame(rows, EDGE_SCHEMA)
    cfg = config(weighted=True, walk_length=2, walks_per_node=4000)
    walk_graph(spark, edges, str(tmp_path / "w"), cfg)
    firsts = [w[1] for (s, _), w in walks_of(spark, tmp_path / "w").items() if s == "hub"]
    seen = [firsts.count(f"leaf{i}") for i in range(4)]
    expected = np.array(weights) / sum(weights) * len(firsts)
    assert stats.chisquare(seen, expected).pvalue > 1e-3
    # A leaf has one neighbour: every one of its walks goes to the hub.
    assert all(w[1] == "hub" for (s, _), w in walks_of(spark, tmp_path / "w").items() if s != "hub")


def test_graphframe_object_and_vertex_table(spark, tmp_path):
    from graphframes import GraphFrame

    _g, edges = karate(spark, weighted=False)
    vertices = spark.createDataFrame([(str(v),) for v in range(35)], "id string")  # 34 alone
    # A real GraphFrame needs its JAR to be built; the walks read only .vertices and .edges,
    # so one without its JVM side stands in.
    gf = GraphFrame.__new__(GraphFrame)
    gf._impl = types.SimpleNamespace(_vertices=vertices, _edges=edges.select("src", "dst"))
    cfg = config(walk_length=3, walks_per_node=1)
    counts = walk_graph(spark, gf, str(tmp_path / "gf"), cfg)
    assert counts["vertices"] == 34 and counts["rejected"] == 1
    rejected = spark.read.parquet(str(tmp_path / "gf" / "rejected")).collect()
    assert [(r.reason, r.excerpt) for r in rejected] == [("isolated vertex", "34")]
    pair = walk_graph(spark, (vertices, edges.select("src", "dst")), str(tmp_path / "pair"), cfg)
    assert pair == counts
    assert walks_of(spark, tmp_path / "gf") == walks_of(spark, tmp_path / "pair")


def test_bad_weights_self_loops_and_unknown_vertices_are_set_aside(spark, tmp_path, capsys):
    path = tmp_path / "edges.tsv"
    path.write_text(
        "src\tdst\tweight\n# a comment line\na\tb\t1\nb\tc\tnan\nc\td\t-2\nd\td\t1\nc\ta\t2\n"
        "a\tc\t1\ne\n"
    )
    out = tmp_path / "w"
    code = main(["walks", str(path), "--output", str(out), "--weighted", *SESSION])
    assert code == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("walks: edges read 7, merged 1, vertices 3, edges 2, walks 30,")
    assert "rejected 4, engine replicated" in line
    rejected = sorted(
        (r.source, r.reason, r.excerpt) for r in spark.read.parquet(str(out / "rejected")).collect()
    )
    assert rejected == [
        (str(path), "bad weight", "b\tc\tNaN"),
        (str(path), "bad weight", "c\td\t-2.0"),
        (str(path), "missing vertex", "e\tnull\tnull"),
        (str(path), "self-loop", "d\td\t1.0"),
    ]
    meta = read_metadata(spark, str(out / "rejected"))
    assert meta["counts"]["bad weight"] == 2 and meta["counts"]["self-loop"] == 1


def test_empty_edge_list_is_refused_in_one_line(spark, tmp_path, capsys):
    path = tmp_path / "empty.parquet"
    pq.write_table(
        pa.table({"src": pa.array([], pa.int64()), "dst": pa.array([], pa.int64())}), path
    )
    code = main(["walks", str(path), "--output", str(tmp_path / "w"), *SESSION])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert (
        err
        == f"sparkembed walks: error: {path}: no edges to walk (the edge list is empty, or every edge was set aside: see the rejected rows' reasons)"
    )
    assert not (tmp_path / "w" / "tokens").exists()


def test_missing_column_lists_the_columns_found(spark, tmp_path, capsys):
    path = tmp_path / "edges.csv"
    path.write_text("from,to\na,b\n")
    code = main(["walks", str(path), "--output", str(tmp_path / "w"), *SESSION])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith("edges need columns src, dst; missing src, dst, found (from, to)")


@pytest.mark.parametrize("flag,value", [("--p", "0"), ("--q", "-1")])
def test_p_and_q_must_be_positive(tmp_path, capsys, flag, value):
    code = main(["walks", str(tmp_path), "--output", str(tmp_path / "w"), flag, value])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == f"sparkembed walks: error: walks.{flag[2:]} must be > 0, got {float(value)}"


@pytest.mark.parametrize("method", ["svd", "glove"])
def test_walks_embed_with_cooccur_and_train(spark, tmp_path, capsys, method):
    g, edges = karate(spark, weighted=False)
    work = tmp_path / "w"
    walk_graph(spark, edges.select("src", "dst"), str(work), config(walks_per_node=20))
    assert main(["cooccur", str(work), "--window", "5", "-q", *SESSION]) == 0
    vectors = tmp_path / "vectors"
    code = main(
        ["train", str(work), "--method", method, "--dim", "8", "--output", str(vectors), "-q"]
        + SESSION
    )
    assert code == 0
    table = spark.read.parquet(str(vectors))
    assert table.count() == 34
    assert {r.lang for r in table.select("lang").distinct().collect()} == {"graph"}
    # The two factions of the club sit apart: nearest neighbours mostly share a club.
    vec = {r.token: np.array(r.vector) for r in table.collect()}
    club = nx.get_node_attributes(g, "club")
    unit = {k: v / np.linalg.norm(v) for k, v in vec.items()}
    same = 0
    for k, v in unit.items():
        best = max((o for o in unit if o != k), key=lambda o: float(unit[o] @ v))
        same += club[int(best)] == club[int(k)]
    assert same >= 28


def test_cooccurrence_table_as_a_word_graph(spark, tmp_path):
    from helpers import publish_workdir

    vocab = spark.createDataFrame(
        [(0, "the", 10, 3), (1, "cat", 5, 2), (2, "sat", 4, 2), (3, "mat", 2, 1)],
        "id int, token string, count long, doc_count long",
    )
    cells = [(0, 1, 4.0), (1, 0, 4.0), (0, 2, 3.0), (2, 0, 3.0), (1, 2, 2.0), (2, 1, 2.0)]
    cells += [(0, 0, 9.0), (2, 3, 1.0), (3, 2, 1.0)]
    cooc = spark.createDataFrame(
        [(r, c, w, 0) for r, c, w in cells], "row int, col int, count double, shard int"
    )
    margins = cooc.groupBy("row").sum("count").toDF("id", "count")
    work = tmp_path / "text"
    publish_workdir(spark, work, vocab=vocab, cooc=cooc, marginals=margins)
    out = tmp_path / "walks"
    assert (
        main(["walks", str(work), "--output", str(out), "--set", "walks.top_k=1", "-q", *SESSION])
        == 0
    )
    meta = read_metadata(spark, str(out / "tokens"))
    assert meta["params"]["walks"]["format"] == "cooccurrence"
    # top-1: the->cat, cat->the, sat->the, mat->sat; the diagonal (the, the) left out.
    walks = walks_of(spark, out)
    assert walks[("mat", 0)][:3] == ("mat", "sat", "the")
    assert set(walks[("the", 0)]) == {"the", "cat"}
    rejected = spark.read.parquet(str(out / "rejected"))
    assert rejected.count() == 0


def test_umap_of_the_transition_matrix_and_its_size_limit(spark, tmp_path, capsys):
    g, edges = karate(spark, weighted=False)
    work = tmp_path / "w"
    walk_graph(
        spark, edges.select("src", "dst"), str(work), config(walk_length=2, walks_per_node=1)
    )
    graph = spark.read.parquet(str(work / "graph")).orderBy("vertex").collect()
    assert [r.vertex for r in graph] == list(range(34))
    assert all(r.weights is None for r in graph)
    ids = {r.vertex: r.id for r in graph}
    assert {(r.id, ids[n]) for r in graph for n in r.neighbors} == {
        (str(a), str(b)) for u, v in g.edges() for a, b in ((u, v), (v, u))
    }
    vectors = tmp_path / "umap"
    argv = ["train", str(work), "--method", "umap", "--dim", "2", "--output", str(vectors), "-q"]
    assert main(argv + SESSION) == 0
    table = spark.read.parquet(str(vectors))
    assert table.count() == 34 and len(table.first().vector) == 2
    # Too large for the driver: refused in one line.
    capsys.readouterr()
    argv = ["train", str(work), "--method", "umap", "--dim", "2", "--output", str(tmp_path / "u2")]
    assert main(argv + ["--set", "umap.max_vertices=10", *SESSION]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        "sparkembed train: error: umap runs on the driver and is for small graphs: 34 vertices "
        "and 156 out-edges exceed umap.max_vertices 10 or umap.max_edges 5,000,000; use "
        "--method svd, glove or word2vec on the walks"
    )


def test_a_graph_pipeline_runs_then_skips(spark, tmp_path, capsys):
    edges = tmp_path / "edges.tsv"
    edges.write_text("".join(f"{u}\t{v}\n" for u, v in nx.karate_club_graph().edges()))
    toml = tmp_path / "graph.toml"
    toml.write_text(
        f'[pipeline]\nworkdir = "{tmp_path / "w"}"\ninputs = ["{edges}"]\n'
        'stages = ["walks", "cooccur", "train:svd"]\n\n'
        "[walks]\nheader = false\nwalk_length = 10\nwalks_per_node = 4\n\n[train]\ndim = 4\n"
    )
    assert main(["run", str(toml), "-q", *SESSION]) == 0
    out = capsys.readouterr()
    assert "walks: edges read 78, merged 0, vertices 34, edges 78, walks 136," in out.out
    assert spark.read.parquet(str(tmp_path / "w" / "vectors-svd")).count() == 34
    assert main(["run", str(toml), "-q", *SESSION]) == 0
    second = capsys.readouterr()
    assert "[run]" not in second.err  # -q: the summary line only
    assert "run: 0 stages run, 3 skipped" in second.out
