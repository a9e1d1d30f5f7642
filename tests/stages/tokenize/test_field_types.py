"""A text field or column that is not a string: refused (a Parquet column, before any job)
or rejected with its reason (a JSON line's value), never tokenised as text and never lost."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import CLI_SESSION
from pyspark.testing import assertDataFrameEqual

from sparkembed.cli import main
from sparkembed.tables import read_metadata, read_table

ENGINES = [("java", "files"), ("sql", "dataframe")]


def _tokenize(inputs, out, *args) -> int:
    return main(["tokenize", *map(str, inputs), "--output", str(out), "-q", *args, *CLI_SESSION])


def _no_job(spark, group: str, run):
    """``run()``'s result, checking that it started no Spark job."""
    sc = spark.sparkContext
    sc.setJobGroup(group, group)
    try:
        result = run()
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    assert list(sc.statusTracker().getJobIdsForGroup(group)) == []
    return result


@pytest.mark.parametrize(
    ("column", "spark_type"),
    [
        (pa.array(range(100), pa.int64()), "bigint"),
        (pa.array([["a list", "of words"]] * 100, pa.list_(pa.string())), "array<string>"),
    ],
    ids=["int64", "list"],
)
def test_parquet_text_column_not_a_string_is_refused_before_any_job(
    spark, tmp_path, capsys, column, spark_type
):
    corpus = tmp_path / "corpus.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(100)], "text": column}), corpus)
    out = tmp_path / "work"
    code = _no_job(spark, f"parquet-{spark_type}", lambda: _tokenize([corpus], out))
    assert code == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error: " in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].endswith(f"corpus.parquet: column 'text' is {spark_type}, expected string")
    assert not (out / "tokens").exists()


def test_parquet_each_file_is_checked(spark, tmp_path, capsys):
    # Spark takes the schema of many files from one of them: each file is checked.
    folder = tmp_path / "corpus"
    folder.mkdir()
    pq.write_table(pa.table({"text": ["some words here"]}), folder / "a.parquet")
    pq.write_table(pa.table({"text": pa.array([1.5], pa.float64())}), folder / "b.parquet")
    pq.write_table(pa.table({"body": ["no text column"]}), folder / "c.parquet")
    (folder / "d.parquet").write_bytes(b"not parquet at all")
    assert _tokenize([folder / "a.parquet", folder / "b.parquet"], tmp_path / "w1") == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith("b.parquet: column 'text' is double, expected string"), err
    assert _tokenize([folder / "a.parquet", folder / "c.parquet"], tmp_path / "w2") == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith("c.parquet: no column 'text' (columns: body)"), err
    assert _tokenize([folder / "d.parquet"], tmp_path / "w3") == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith("d.parquet: not a Parquet file (no footer)"), err


def test_parquet_string_and_binary_text_are_read(spark, tmp_path):
    # Binary is how some writers store text (Spark's binaryAsString): decoded as UTF-8,
    # and a record that is not UTF-8 is rejected.
    corpus = tmp_path / "bytes.parquet"
    values = pa.array([b"alpha beta", b"beta \xff gamma", None], pa.binary())
    pq.write_table(pa.table({"id": ["b1", "b2", "b3"], "text": values}), corpus)
    strings = tmp_path / "strings.parquet"
    large = pa.array(["beta delta"], pa.large_string())
    pq.write_table(pa.table({"id": ["s1"], "text": large}), strings)
    out = tmp_path / "work"
    args = ["--min-count", "1", "--set", 'tokenize.id_field="id"']
    assert _tokenize([corpus, strings], out, *args) == 0
    tokens = read_table(spark, str(out / "tokens")).select("doc_id", "tokens")
    expected = spark.createDataFrame(
        [("b1", ["alpha", "beta"]), ("s1", ["beta", "delta"])],
        "doc_id string, tokens array<string>",
    )
    assertDataFrameEqual(tokens, expected)
    rejected = read_table(spark, str(out / "rejected")).select("reason")
    assertDataFrameEqual(rejected, [("invalid UTF-8",), ("no 'text' field",)], checkRowOrder=False)


JSON_LINES = [
    {"id": "s1", "text": "Alpha beta. Gamma"},
    {"id": "s2", "text": '["looks", "like", "json"]'},  # a string: tokenised
    {"id": "n1", "text": 123},
    {"id": "n2", "text": 2.5},
    {"id": "b1", "text": True},
    {"id": "o1", "text": {"words": "hidden inside"}},
    {"id": "a1", "text": ["joined", "never"]},
    {"id": "z1", "text": None},
    {"id": "m1"},
    {"id": "e1", "text": "  "},
]


@pytest.mark.parametrize(("engine", "written_by"), ENGINES)
def test_jsonl_text_that_is_not_a_string_is_rejected(spark, tmp_path, capsys, engine, written_by):
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in JSON_LINES) + "{broken\n")
    out = tmp_path / "work"
    args = ["--min-count", "1", "--set", 'tokenize.id_field="id"']
    assert _tokenize([corpus], out, *args, "--set", f'tokenize.engine="{engine}"') == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith(
        "tokenize: documents 2, sentences 3, tokens 6, vocab 6, rejected 8, skipped 1 |"
    ), summary
    assert read_metadata(spark, str(out / "tokens"))["engine"] == written_by
    tokens = read_table(spark, str(out / "tokens")).select("doc_id", "sentence", "tokens")
    expected_tokens = spark.createDataFrame(
        [
            (("s1", 0, ["alpha", "beta"])),
            ("s1", 1, ["gamma"]),
            ("s2", 0, ["looks", "like", "json"]),
        ],
        "doc_id string, sentence int, tokens array<string>",
    )
    assertDataFrameEqual(tokens, expected_tokens)
    rejected = read_table(spark, str(out / "rejected"))
    source = f"file:{corpus}"
    not_string = "'text' is not a string"
    expected = spark.createDataFrame(
        [
            (source, not_string, "123"),
            (source, not_string, "2.5"),
            (source, not_string, "true"),
            (source, not_string, '{"words":"hidden inside"}'),
            (source, not_string, '["joined","never"]'),
            (source, "no 'text' field", ""),
            (source, "no 'text' field", ""),
            (source, "unparseable JSON", "{broken"),
        ],
        "source string, reason string, excerpt string",
    )
    assertDataFrameEqual(rejected, expected)
    assert read_metadata(spark, str(out / "rejected"))["counts"] == {"rejected": 8}
