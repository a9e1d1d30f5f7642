"""The Spark neighbour table equals a brute-force numpy top-k (full matrix, full sort)."""

from __future__ import annotations

import numpy as np
import pytest
from chispa import assert_df_equality
from reference import brute_force_topk

from sparkembed.cli import main
from sparkembed.linalg.topk import block_rows, iter_topk, unit_rows
from sparkembed.stages.neighbors import frame as nb
from sparkembed.tables import read_metadata, read_table
from sparkembed.vectors.table import load_vectors, write_vectors

N, DIM, K = 3000, 32, 10


def random_vectors(n=N, dim=DIM, seed=5):
    """Random vectors with exact ties: copies of one direction, and a zero vector."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors[[40, 700, 2900]] = vectors[7]
    vectors[1500] = vectors[7] * 4  # same direction, other length (exact in binary)
    vectors[123] = 0
    tokens = [f"t{i:04d}" for i in range(n)]
    counts = np.arange(n, 0, -1) * 2  # load order = row order
    return tokens, vectors, counts


@pytest.fixture(scope="module")
def vector_table(spark, tmp_path_factory):
    tokens, vectors, counts = random_vectors()
    df = spark.createDataFrame(
        list(zip(tokens, vectors.tolist(), counts.tolist(), strict=True)),
        "token string, vector array<float>, count long",
    )
    path = str(tmp_path_factory.mktemp("nb") / "vectors")
    write_vectors(df, path, dim=DIM, method="random", params={}, lang="en")
    return path


def expected_frame(spark, tokens, ids, cos, queries):
    rows = [
        (tokens[q], tokens[int(ids[q, r])], r + 1, float(cos[q, r]))
        for q in queries
        for r in range(ids.shape[1])
    ]
    return spark.createDataFrame(rows, nb.NEIGHBOR_SCHEMA)


@pytest.mark.parametrize("rows", [1, 2, 29, 1000, N])
def test_blocked_topk_equals_brute_force(rows):
    _, vectors, _ = random_vectors()
    unit = unit_rows(vectors)
    ids, cos = brute_force_topk(unit, K)
    blocks = list(iter_topk(np.arange(N), unit, K, rows))
    np.testing.assert_array_equal(np.vstack([b[1] for b in blocks]), ids)
    np.testing.assert_array_equal(np.vstack([b[2] for b in blocks]), cos)
    assert ids[7, :4].tolist() == [40, 700, 1500, 2900]  # exact ties: vocabulary order
    assert ids[123].tolist() == list(range(K))  # zero vector: cosine 0 with all, ties
    assert not np.any(ids == np.arange(N)[:, None])  # never its own neighbour


@pytest.mark.parametrize(("n", "k"), [(2, 10), (11, 10), (300, 10), (1000, 50), (5000, 3)])
def test_topk_with_many_ties_and_small_vocabularies(n, k):
    rng = np.random.default_rng(n)
    # Few distinct directions: most scores are exactly tied with many others.
    vectors = rng.integers(-1, 2, size=(n, 3)).astype(np.float32)
    unit = unit_rows(vectors)
    ids, cos = brute_force_topk(unit, k)
    got = list(iter_topk(np.arange(n), unit, k, 37))
    np.testing.assert_array_equal(np.vstack([g[1] for g in got]), ids)
    np.testing.assert_array_equal(np.vstack([g[2] for g in got]), cos)
    assert ids.shape == (n, min(k, n - 1))


def test_block_rows_bounds_memory():
    assert block_rows(100_000, 64) == 41  # 41 rows x 100k x (8 + 4 B and slack) < 64 MB
    assert block_rows(10**9, 1) == 1
    assert block_rows(3000, 1) == 21


def test_spark_neighbor_table_equals_brute_force(spark, vector_table, tmp_path, capsys):
    vs = load_vectors(vector_table)
    unit = unit_rows(vs.vectors)
    ids, cos = brute_force_topk(unit, K)
    out = tmp_path / "out"
    code = main(
        [
            "neighbors",
            vector_table,
            "--output",
            str(out),
            "--topn",
            str(K),
            "--block-mb",
            "1",
            "--set",
            "evaluate.neighbor_partitions=3",
            "-q",
        ]
    )
    assert code == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("neighbors: vocabulary 3,000, queries 3,000, unknown 0, rows 30,000")
    actual = read_table(spark, str(out / "neighbors"), stage="neighbors")
    expected = expected_frame(spark, vs.tokens, ids, cos, range(N))
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
    meta = read_metadata(spark, str(out / "neighbors"))
    assert meta["counts"]["rows"] == N * K and meta["params"]["topn"] == K


def test_spark_neighbors_of_a_token_list(spark, vector_table, tmp_path, capsys):
    vs = load_vectors(vector_table)
    ids, cos = brute_force_topk(unit_rows(vs.vectors), 3)
    wanted = tmp_path / "tokens.txt"
    wanted.write_text("t0007\nt2999\nnope\nt0007\n\nt0123\n")
    out = tmp_path / "out"
    code = main(
        ["neighbors", vector_table, "--output", str(out), "--topn", "3", "--tokens", str(wanted)]
    )
    captured = capsys.readouterr()
    assert code == 0 and "1 tokens not in the vocabulary: nope" in captured.err
    actual = read_table(spark, str(out / "neighbors"))
    expected = expected_frame(spark, vs.tokens, ids, cos, [7, 2999, 123])
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
    assert read_metadata(spark, str(out / "neighbors"))["counts"]["unknown_tokens"] == 1


def test_neighbors_of_a_table_of_another_tool(spark, tmp_path, capsys):
    """Three Parquet files of token + list<double>, no count: ties are broken by the row
    order (files by name), as load_vectors orders them, and the table equals brute force."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(6)
    tokens = [f"w{i:03d}" for i in range(300)][::-1]  # row order is not token order
    vectors = rng.normal(size=(300, 8)).astype(np.float32)
    vectors[[40, 200]] = vectors[7]  # exact ties
    folder = tmp_path / "foreign"
    folder.mkdir()
    for i, start in enumerate(range(0, 300, 100)):
        rows = slice(start, start + 100)
        columns = {"token": tokens[rows], "vector": vectors[rows].astype(np.float64).tolist()}
        pq.write_table(pa.table(columns), folder / f"part-{i}.parquet")
    vs = load_vectors(str(folder))
    assert vs.tokens == tokens
    ids, cos = brute_force_topk(unit_rows(vs.vectors), 3)
    out = tmp_path / "out"
    assert main(["neighbors", str(folder), "--output", str(out), "--topn", "3", "-q"]) == 0
    assert "neighbors: vocabulary 300, queries 300" in capsys.readouterr().out
    actual = read_table(spark, str(out / "neighbors"))
    expected = expected_frame(spark, tokens, ids, cos, range(300))
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
