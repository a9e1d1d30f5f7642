"""`sparkembed tokenize` end to end on a small text corpus: the three tables and the summary."""

from __future__ import annotations

from chispa import assert_df_equality
from helpers import CLI_SESSION

from sparkembed.cli import main
from sparkembed.tables import read_metadata, read_table
from sparkembed.vocabulary import VOCAB_SCHEMA

SESSION = CLI_SESSION


def test_cli_tokenize_text(spark, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(b"The cat sat. The dog sat!\n\nthe cat ran\nbroken \xff line\n1234 5678\n")
    out = tmp_path / "work"
    code = main(
        [
            "tokenize",
            str(corpus),
            "--output",
            str(out),
            "--lang",
            "fr",
            "--min-count",
            "2",
            "--set",
            "tokenize.reject_empty=true",
            "-q",
            *SESSION,
        ]
    )
    assert code == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(
        "tokenize: documents 2, sentences 3, tokens 9, vocab 3, rejected 2, skipped 1 |"
    ), line
    tokens = read_table(spark, str(out / "tokens"), stage="tokenize")
    assert sorted((r.lang, r.sentence, tuple(r.tokens)) for r in tokens.collect()) == [
        ("fr", 0, ("the", "cat", "ran")),
        ("fr", 0, ("the", "cat", "sat")),
        ("fr", 1, ("the", "dog", "sat")),
    ]
    vocab = read_table(spark, str(out / "vocab"))
    expected = spark.createDataFrame(
        [(0, "the", 3, 2), (1, "cat", 2, 2), (2, "sat", 2, 1)], VOCAB_SCHEMA
    )
    assert_df_equality(vocab, expected, ignore_row_order=True, ignore_nullable=True)
    rejected = read_table(spark, str(out / "rejected"))
    assert sorted(r.reason for r in rejected.collect()) == [
        "empty after cleaning",
        "invalid UTF-8",
    ]
    meta = read_metadata(spark, str(out / "tokens"))
    assert meta["counts"] == {"sentences": 3, "tokens": 9, "documents": 2}
    assert meta["params"]["tokenize"]["lang"] == "fr" and meta["inputs"][0]["files"] == 1
