import json

import numpy as np
import pytest

from sparkembed.tables import read_metadata
from sparkembed.vectors.table import load_vectors, write_vectors


def test_spark_write_pyarrow_read_round_trip(spark, tmp_path):
    rows = [("the", [1.0, 2.0, 2.0], 10), ("cat", [0.5, -0.5, 0.0], 3), ("a", [3.0, 0.0, 4.0], 10)]
    df = spark.createDataFrame(rows, "token string, vector array<double>, count long")
    out = str(tmp_path / "vectors")
    write_vectors(df, out, dim=3, method="test", params={"x": 1}, lang="en")
    vs = load_vectors(out)
    assert vs.tokens == ["a", "the", "cat"]  # count desc, then token
    np.testing.assert_array_equal(
        vs.vectors, np.array([[3, 0, 4], [1, 2, 2], [0.5, -0.5, 0]], dtype=np.float32)
    )
    assert vs.counts.tolist() == [10, 10, 3]
    meta = read_metadata(spark, out)
    assert meta["dim"] == 3 and meta["method"] == "test" and meta["counts"]["vectors"] == 3
    norms = {r["token"]: r["norm"] for r in spark.read.parquet(out).collect()}
    assert norms == {"a": 5.0, "the": 3.0, "cat": np.float32(np.sqrt(0.5))}
    schema = {f.name: f.dataType.simpleString() for f in spark.read.parquet(out).schema}
    assert schema == {
        "token": "string",
        "vector": "array<float>",
        "count": "bigint",
        "norm": "float",
        "lang": "string",
    }


# -- vector tables written by other tools -------------------------------------------------
def _foreign(folder, files: dict, vector_type=None):
    """Parquet files as another tool writes them: no _SUCCESS, no _sparkembed.json."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    for name, columns in files.items():
        columns = dict(columns)
        if vector_type is not None and "vector" in columns:
            columns["vector"] = pa.array(columns["vector"], pa.list_(vector_type))
        pq.write_table(pa.table(columns), folder / name)
    return str(folder)


def test_a_foreign_table_reads_alike_in_pyarrow_and_spark(spark, tmp_path):
    """token + list<double> only, two files: row order (files by name) is the order,
    counts are 0, lang is und (or the one asked for), norms are computed."""
    from sparkembed.vectors.table import frequency_order, read_vectors

    path = _foreign(
        tmp_path / "glove",
        {
            "part-1.parquet": {"token": ["the", "of"], "vector": [[3.0, 4.0], [0.0, 2.0]]},
            "part-0.parquet": {"token": ["zebra", "apple"], "vector": [[1.0, 0.0], [6.0, 8.0]]},
        },
    )
    vs = load_vectors(path)
    assert vs.tokens == ["zebra", "apple", "the", "of"]  # part-0 first, rows as stored
    np.testing.assert_array_equal(vs.vectors, np.float32([[1, 0], [6, 8], [3, 4], [0, 2]]))
    assert vs.counts.tolist() == [0, 0, 0, 0] and vs.langs == ["und"] * 4
    assert vs.metadata == {} and vs.dim == 2
    assert load_vectors(path, lang="en").langs == ["en"] * 4
    df = read_vectors(spark, path)
    schema = {f.name: f.dataType.simpleString() for f in df.schema}
    assert schema == {
        "token": "string",
        "vector": "array<float>",
        "count": "bigint",
        "norm": "float",
        "lang": "string",
        "position": "bigint",
    }
    rows = df.orderBy(*frequency_order(df)).collect()
    assert [r["token"] for r in rows] == vs.tokens
    assert [r["norm"] for r in rows] == [1.0, 10.0, 5.0, 2.0]
    assert {r["lang"] for r in rows} == {"und"}
    assert {r["lang"] for r in read_vectors(spark, path, lang="en").collect()} == {"en"}


def test_a_foreign_file_with_counts_and_langs_is_ordered_by_count(spark, tmp_path):
    import pyarrow as pa

    from sparkembed.vectors.table import frequency_order, read_vectors

    columns = {
        "token": ["b", "a", "c", "d"],
        "vector": [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]],
        "count": pa.array([5, 9, 5, None], pa.int32()),
        "lang": ["en", "en", "en", None],
        "source": ["x", "y", "z", "w"],  # other columns are ignored
    }
    path = _foreign(tmp_path / "t", {"v.parquet": columns}, pa.float32())
    file = f"{path}/v.parquet"  # one Parquet file, not a folder
    vs = load_vectors(file)
    assert vs.tokens == ["a", "b", "c", "d"] and vs.counts.tolist() == [9, 5, 5, 0]
    assert vs.langs == ["en", "en", "en", "und"]
    # a row without a lang is of the language asked for, as a table without the column
    assert load_vectors(file, lang="en").langs == ["en"] * 4
    df = read_vectors(spark, file)
    rows = df.orderBy(*frequency_order(df)).collect()
    assert [(r["token"], r["count"], r["lang"]) for r in rows] == [
        ("a", 9, "en"),
        ("b", 5, "en"),
        ("c", 5, "en"),
        ("d", 0, "und"),
    ]


def test_a_table_that_is_not_a_vector_table_is_one_line(spark, tmp_path):
    from sparkembed.errors import SparkembedError
    from sparkembed.vectors.table import read_vectors

    emb = _foreign(tmp_path / "emb", {"p.parquet": {"token": ["a"], "emb": [[1.0]]}})
    words = _foreign(tmp_path / "words", {"p.parquet": {"token": ["a"], "vector": [["x"]]}})
    ints = _foreign(tmp_path / "ints", {"p.parquet": {"word": ["a"], "vector": [[1]]}})
    expected = {
        emb: f"{emb}: not a vector table: no column 'vector' (columns: token, emb)",
        words: f"{words}: not a vector table: column 'vector' is list<string>, "
        "not a list of float or double (columns: token, vector)",
        ints: f"{ints}: not a vector table: no column 'token'; column 'vector' is "
        "list<integer>, not a list of float or double (columns: word, vector)",
    }
    for path, message in expected.items():
        with pytest.raises(SparkembedError) as err:
            load_vectors(path)
        assert str(err.value) == message
        with pytest.raises(SparkembedError) as err:
            read_vectors(spark, path)
        assert str(err.value) == message


def test_sparkembed_tables_stay_checked(spark, tmp_path):
    """With _sparkembed.json a table is sparkembed's: incomplete without _SUCCESS, and it
    must be a vector table, whichever reader."""
    from sparkembed.errors import SparkembedError
    from sparkembed.vectors.table import read_vectors

    rows = [("the", [1.0, 2.0], 10), ("cat", [0.5, -0.5], 3)]
    df = spark.createDataFrame(rows, "token string, vector array<double>, count long")
    out = tmp_path / "vectors"
    write_vectors(df, str(out), dim=2, method="test", params={}, lang="en")
    (out / "_SUCCESS").unlink()
    for read in (lambda p: load_vectors(p), lambda p: read_vectors(spark, p)):
        with pytest.raises(SparkembedError, match=r"table is incomplete \(no _SUCCESS\)"):
            read(str(out))
    (out / "_SUCCESS").write_text("")
    assert load_vectors(str(out)).tokens == ["the", "cat"]
    meta = json.loads((out / "_sparkembed.json").read_text())
    (out / "_sparkembed.json").write_text(json.dumps({**meta, "table": "vocab"}))
    (out / "._sparkembed.json.crc").unlink(missing_ok=True)  # Hadoop would check the old sum
    for read in (lambda p: load_vectors(p), lambda p: read_vectors(spark, p)):
        with pytest.raises(SparkembedError, match="is a 'vocab' table, expected 'vectors'"):
            read(str(out))
