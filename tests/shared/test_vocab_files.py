"""The vocab's file path: same vocab as build_vocab, same statistics as the Spark pass."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from chispa import assert_df_equality

from sparkembed.config import TokenizeConfig
from sparkembed.stages.tokenize.tokens import token_table_stats, written_token_counts
from sparkembed.vocabulary import build_vocab
from sparkembed.vocabulary.files import count_file_vocab, vocab_from_counts

SCHEMA = pa.schema(
    [("doc_id", pa.string()), ("sentence", pa.int32()), ("tokens", pa.list_(pa.string()))]
)

# Tokens whose UTF-8 (binary) order differs from UTF-16 and from case-folded order:
# U+FF5E sorts before U+1F600 in UTF-8 bytes, after it in UTF-16 code units.
WIDE, EMOJI = "\uff5e", "\U0001f600"
FILES = [
    [  # file 0: two documents, a null token, an empty and a null sentence
        ("d1", 0, ["b", "a", WIDE, "a"]),
        ("d1", 1, ["Z", None, EMOJI]),
        ("d1", 2, []),
        ("d2", 0, ["é", "e", "b"]),
        ("d2", 1, None),
        ("d2", 2, ["a", "z", "ß"]),
    ],
    [  # file 1: one document over three row groups
        ("d3", 0, [EMOJI, WIDE]),
        ("d3", 1, ["e", "é"]),
        ("d3", 2, ["b", None]),
        ("d3", 3, ["日本", "a"]),
        ("d3", 4, ["z", "Z"]),
    ],
    [  # file 2: a document written before another's sentences
        ("d4", 0, ["ß", "b"]),
        ("d5", 0, ["日本"]),
        ("d4", 1, ["ß", "e"]),
    ],
]


def write_table(root, files, row_group_size=2):
    root.mkdir()
    for i, rows in enumerate(files):
        cols = list(zip(*rows, strict=True))
        table = pa.Table.from_arrays(
            [pa.array(c, t) for c, t in zip(cols, SCHEMA.types, strict=True)], schema=SCHEMA
        )
        pq.write_table(table, root / f"part-{i:05d}.parquet", row_group_size=row_group_size)
    (root / "_SUCCESS").touch()
    return str(root)


@pytest.fixture
def table(tmp_path):
    return write_table(tmp_path / "tokens", FILES)


@pytest.mark.parametrize(
    "min_count,max_vocab", [(1, 0), (2, 0), (1, 4), (3, 2)], ids=["all", "min2", "max4", "both"]
)
def test_equals_build_vocab(spark, table, min_count, max_vocab):
    cfg = dataclasses.replace(TokenizeConfig(), min_count=min_count, max_vocab=max_vocab)
    counts, _ = count_file_vocab(spark, table)
    expected = build_vocab(spark.read.parquet(table), cfg.min_count, cfg.max_vocab)
    actual = vocab_from_counts(spark, counts, cfg.min_count, cfg.max_vocab)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_binary_order_and_real_values(spark, table):
    counts, _ = count_file_vocab(spark, table)
    cfg = dataclasses.replace(TokenizeConfig(), min_count=1, max_vocab=0)
    rows = vocab_from_counts(spark, counts, cfg.min_count, cfg.max_vocab).orderBy("id").collect()
    by_token = {r["token"]: (r["id"], r["count"], r["doc_count"]) for r in rows}
    assert by_token["a"] == (0, 4, 3)  # ties on count 4 with b: a first
    assert by_token["b"] == (1, 4, 4)
    assert by_token[WIDE][0] < by_token[EMOJI][0]  # both 2 and 2 documents: UTF-8 order
    assert by_token[None][1:] == (2, 2)


def test_statistics_equal_spark_pass(spark, table):
    _, stats = count_file_vocab(spark, table)
    expected = token_table_stats(spark.read.parquet(table))
    assert stats == expected == {"sentences": 14, "tokens": 28, "documents": 5}


def test_spark_written_table(spark, tmp_path):
    path = str(tmp_path / "spark")
    rows = [r for f in FILES for r in f]
    df = spark.createDataFrame(rows, "doc_id string, sentence int, tokens array<string>")
    df.repartition(2, "doc_id").write.parquet(path)
    cfg = dataclasses.replace(TokenizeConfig(), min_count=1)
    counts, stats = count_file_vocab(spark, path)
    assert_df_equality(
        vocab_from_counts(spark, counts, cfg.min_count, cfg.max_vocab),
        build_vocab(spark.read.parquet(path), cfg.min_count, cfg.max_vocab),
        ignore_row_order=True,
        ignore_nullable=True,
    )
    assert stats == token_table_stats(spark.read.parquet(path))


def test_document_in_two_files_is_refused(spark, tmp_path):
    path = write_table(tmp_path / "split", [FILES[0], [("d1", 3, ["a"])]])
    assert count_file_vocab(spark, path) is None


def test_command_counts_use_the_file_path_or_fall_back(spark, table, tmp_path):
    counts, stats = written_token_counts(spark, table)
    assert stats == {"sentences": 14, "tokens": 28, "documents": 5}
    assert counts.num_rows == 11  # 10 distinct tokens and the null one
    split = write_table(tmp_path / "split", [FILES[0], [("d1", 3, ["a"])]])
    counts, stats = written_token_counts(spark, split)
    assert stats == {"sentences": 7, "tokens": 14, "documents": 2}
    assert counts is None


def test_summed_counts_merges_tables_as_they_arrive_to_the_same_sums():
    """Tasks' count tables arrive one by one; the running sum (merged in steps once the
    pending rows outnumber it) equals a plain sum over all rows, whatever the order."""
    import numpy as np

    from sparkembed.vocabulary.files import summed_counts

    rng = np.random.default_rng(7)
    tables, want_count, want_docs = [], {}, {}
    for _ in range(40):  # 40 tasks of 60k rows over 200k tokens: 2.4M rows, several merges
        ids = rng.choice(200_000, size=60_000, replace=False)
        count = rng.integers(1, 50, size=ids.size)
        docs = np.minimum(count, rng.integers(1, 5, size=ids.size))
        tokens = [f"t{i}" for i in ids]
        tables.append(pa.table({"token": tokens, "count": count, "doc_count": docs}))
        for t, c, d in zip(tokens, count.tolist(), docs.tolist(), strict=True):
            want_count[t] = want_count.get(t, 0) + c
            want_docs[t] = want_docs.get(t, 0) + d
    got = summed_counts(iter(tables)).sort_by("token")
    assert got.schema.names == ["token", "count", "doc_count"]
    want = sorted(want_count)
    assert got.column("token").to_pylist() == want
    assert got.column("count").to_pylist() == [want_count[t] for t in want]
    assert got.column("doc_count").to_pylist() == [want_docs[t] for t in want]
    assert summed_counts(iter([])).num_rows == 0
