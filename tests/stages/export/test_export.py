"""Vector tables: Spark writes; pyarrow, DuckDB, polars and gensim (via export) read."""

import numpy as np
import pytest
from gensim.models import KeyedVectors

from sparkembed.cli import main
from sparkembed.errors import SparkembedError
from sparkembed.stages.export.word2vec_format import write_word2vec
from sparkembed.vectors.table import VectorSet, load_vectors, write_vectors

DIM = 8


@pytest.fixture(scope="module")
def table(spark, tmp_path_factory):
    rng = np.random.default_rng(11)
    tokens = [f"tok{i}" for i in range(40)] + ["naïve", "straße"]
    vecs = rng.standard_normal((len(tokens), DIM)).astype(np.float32)
    vecs[1] = vecs[0] * 2 + 0.01  # tok1's top neighbour is tok0 (and back)
    counts = [1000 - 7 * i for i in range(len(tokens))]
    rows = [(t, v.tolist(), c) for t, v, c in zip(tokens, vecs, counts, strict=True)]
    df = spark.createDataFrame(rows, "token string, vector array<float>, count long")
    out = str(tmp_path_factory.mktemp("export") / "vectors")
    write_vectors(df, out, dim=DIM, method="test", params={}, lang="en")
    return out, rows


def test_spark_writes_pyarrow_reads_the_same_vectors(spark, table):
    path, rows = table
    vs = load_vectors(path)
    expected = sorted(rows, key=lambda r: (-r[2], r[0]))
    assert vs.tokens == [r[0] for r in expected]
    np.testing.assert_array_equal(vs.vectors, np.array([r[1] for r in expected], np.float32))
    spark_rows = {r["token"]: r["vector"] for r in spark.read.parquet(path).collect()}
    for token, vec in zip(vs.tokens, vs.vectors, strict=True):
        np.testing.assert_array_equal(np.array(spark_rows[token], np.float32), vec)


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_loads_the_export(table, tmp_path, binary, capsys):
    path, _rows = table
    out = tmp_path / ("v.bin" if binary else "v.txt")
    argv = ["export", path, "--output", str(out), "-q"] + (["--binary"] if binary else [])
    assert main(argv) == 0
    assert "export: vectors 42, dim 8" in capsys.readouterr().out
    kv = KeyedVectors.load_word2vec_format(str(out), binary=binary)
    vs = load_vectors(path)
    assert kv.index_to_key == vs.tokens  # most frequent first
    np.testing.assert_array_equal(kv.vectors, vs.vectors)  # exact float32 round trip
    assert kv.most_similar("tok1", topn=1)[0][0] == "tok0"


def test_export_rejects_tokens_with_whitespace(tmp_path):
    vs = VectorSet(["ok", "new york", "tab\there"], np.ones((3, 2), np.float32), np.ones(3))
    with pytest.raises(SparkembedError, match="2 token\\(s\\) contain whitespace.*'new york'"):
        write_word2vec(vs, tmp_path / "v.txt")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_export_cli_error_is_one_line(spark, tmp_path, capsys):
    df = spark.createDataFrame(
        [("a b", [1.0, 2.0], 3)], "token string, vector array<float>, count long"
    )
    path = str(tmp_path / "vectors")
    write_vectors(df, path, dim=2, method="test", params={}, lang="en")
    assert main(["export", path, "--output", str(tmp_path / "v.txt"), "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "sparkembed export: error: 1 token(s) contain whitespace or are empty, which the "
        "word2vec format cannot hold: 'a b'; re-tokenize without them"
    ]


def test_duckdb_cosine_top_neighbour_matches_numpy(table):
    import duckdb

    path, _rows = table
    vs = load_vectors(path)
    unit = vs.vectors / np.linalg.norm(vs.vectors, axis=1, keepdims=True)
    con = duckdb.connect()
    glob = f"{path}/**/*.parquet"
    n, dtype = con.execute(
        f"select count(*), any_value(typeof(vector)) from read_parquet('{glob}', hive_partitioning=true)"
    ).fetchone()
    assert (n, dtype) == (42, "FLOAT[]")
    for query in ["tok1", "tok5", "straße"]:
        qi = vs.tokens.index(query)
        sims = unit @ unit[qi]
        sims[qi] = -np.inf
        top = con.execute(
            f"""select b.token, list_cosine_similarity(a.vector, b.vector) as cos
                from read_parquet('{glob}') a, read_parquet('{glob}') b
                where a.token = ? and b.token <> a.token order by cos desc limit 1""",
            [query],
        ).fetchone()
        assert top[0] == vs.tokens[int(np.argmax(sims))]
        assert top[1] == pytest.approx(float(np.max(sims)), rel=1e-5)


def test_polars_reads_the_table(table):
    import polars as pl

    path, _rows = table
    df = pl.read_parquet(f"{path}/**/*.parquet", hive_partitioning=True)
    assert set(df.columns) == {"token", "vector", "count", "norm", "lang"}
    df = df.sort(["count", "token"], descending=[True, False])
    matrix = df["vector"].cast(pl.Array(pl.Float32, DIM)).to_numpy()
    vs = load_vectors(path)
    np.testing.assert_array_equal(matrix, vs.vectors)
    np.testing.assert_allclose(df["norm"].to_numpy(), np.linalg.norm(vs.vectors, axis=1), rtol=1e-6)
    assert df["lang"].unique().to_list() == ["en"]


def test_export_of_a_table_of_another_tool(tmp_path, capsys):
    """A polars/pyarrow-written folder: token and list<double> only, no _SUCCESS, no
    metadata. The export keeps the row order and the float32 values."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(4)
    tokens = ["the", "of", "and", "zebra"]
    vecs = rng.standard_normal((4, DIM))
    folder = tmp_path / "foreign"
    folder.mkdir()
    pq.write_table(pa.table({"token": tokens, "vector": vecs.tolist()}), folder / "data.parquet")
    out = tmp_path / "v.txt"
    assert main(["export", str(folder), "--output", str(out), "-q"]) == 0
    assert "export: vectors 4, dim 8" in capsys.readouterr().out
    kv = KeyedVectors.load_word2vec_format(str(out))
    assert kv.index_to_key == tokens
    np.testing.assert_array_equal(kv.vectors, vecs.astype(np.float32))
    pq.write_table(pa.table({"token": tokens, "emb": vecs.tolist()}), tmp_path / "e.parquet")
    assert main(["export", str(tmp_path / "e.parquet"), "--output", str(out), "-q"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"sparkembed export: error: {tmp_path / 'e.parquet'}: not a vector table: "
        "no column 'vector' (columns: token, emb)"
    )
