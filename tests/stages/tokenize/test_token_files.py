"""The one-pass token writer (token_files.py, used by `sparkembed tokenize` on the java
engine) against the stage functions it replaces: same tokens, vocab and rejected tables."""

from __future__ import annotations

import dataclasses
import gzip
import json
import random
import re

from helpers import CLI_SESSION
from pyspark.testing import assertDataFrameEqual

from sparkembed.cli import main
from sparkembed.config import TokenizeConfig
from sparkembed.stages.tokenize.readers import plan_reading, read_records, split_records
from sparkembed.stages.tokenize.token_files import rejected_table, write_tokens_table
from sparkembed.stages.tokenize.tokens import tokenize_documents
from sparkembed.tables import read_metadata, read_table
from sparkembed.vocabulary import build_vocab


def _corpus(tmp_path):
    text = tmp_path / "corpus.txt"
    lines = [
        "The cat sat. The dog sat! Über Äpfel?",
        "",
        "   ",
        "broken \xff line",
        "1234 5678",
        "ΣΟΦΙΑ ΟΔΟΣ. Ἰησοῦς Χριστός",
        "word " * 2500 + "end",  # chunked at max_sentence_length
    ] + [f"line {i} of many words here" for i in range(300)]
    text.write_bytes(
        "\n".join(lines).encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff") + b"\r\n"
    )
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text(
        "\n".join(
            [
                json.dumps({"text": "json text one. two words", "id": "j1"}),
                "{broken",
                json.dumps({"id": "j2"}),
            ]
        )
        + "\n"
    )
    return [str(text), str(jsonl)]


def _expected(spark, inputs, cfg):
    documents, rejected = split_records(read_records(spark, inputs, cfg))
    tokens = tokenize_documents(documents, cfg)
    return tokens, build_vocab(tokens, cfg.min_count, cfg.max_vocab), rejected


def test_one_pass_equals_stage_functions(spark, tmp_path, enwiki_sample):
    inputs = _corpus(tmp_path) + [str(enwiki_sample)]
    out = tmp_path / "work"
    code = main(["tokenize", *inputs, "--output", str(out), "--min-count", "1", "-q", *CLI_SESSION])
    assert code == 0
    # Written by the tasks' pyarrow writer (Spark's files are part-NNNNN-<uuid>-c000...).
    names = [p.name for p in (out / "tokens").glob("part-*")]
    assert names and all(re.fullmatch(r"part-\d{5}\.parquet", n) for n in names), names
    tokens = read_table(spark, str(out / "tokens"), stage="tokenize")
    exp_tokens, exp_vocab, exp_rejected = _expected(
        spark, inputs, dataclasses.replace(TokenizeConfig(), min_count=1)
    )
    assert tokens.count() > 20000  # the wiki sample's sentences are in
    assert tokens.where("doc_id like 'corpus.txt:%' and size(tokens) = 1000").count() == 2
    assertDataFrameEqual(tokens, exp_tokens)
    assertDataFrameEqual(read_table(spark, str(out / "vocab")), exp_vocab)
    assertDataFrameEqual(read_table(spark, str(out / "rejected")), exp_rejected)
    reasons = sorted(r.reason for r in read_table(spark, str(out / "rejected")).collect())
    assert reasons == ["invalid UTF-8", "no 'text' field", "unparseable JSON"]
    assert {read_metadata(spark, str(out / t))["engine"] for t in ("tokens", "vocab")} == {"files"}
    counts = read_metadata(spark, str(out / "tokens"))["counts"]
    assert counts == {
        "sentences": exp_tokens.count(),
        "tokens": exp_tokens.selectExpr("sum(size(tokens))").first()[0],
        "documents": exp_tokens.select("doc_id").distinct().count(),
    }


def test_one_pass_keeps_null_ids_and_empty_tables(spark, tmp_path):
    # Records without the id field: null doc_ids (vocab then counted again in Spark).
    jsonl = tmp_path / "noid.jsonl"
    jsonl.write_text('{"text": "alpha beta"}\n{"text": "beta gamma", "id": null}\n')
    cfg = dataclasses.replace(TokenizeConfig(), id_field="id", min_count=1)
    out = tmp_path / "w1"
    args = ["--set", 'tokenize.id_field="id"', "--min-count", "1", "-q", *CLI_SESSION]
    assert main(["tokenize", str(jsonl), "--output", str(out), *args]) == 0
    exp_tokens, exp_vocab, _ = _expected(spark, [str(jsonl)], cfg)
    assertDataFrameEqual(read_table(spark, str(out / "tokens")), exp_tokens)
    assertDataFrameEqual(read_table(spark, str(out / "vocab")), exp_vocab)
    # Nothing to tokenise: the tables exist, empty, with their schemas.
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n1234\n")
    out2 = tmp_path / "w2"
    assert main(["tokenize", str(blank), "--output", str(out2), "-q", *CLI_SESSION]) == 0
    assert read_table(spark, str(out2 / "tokens")).count() == 0
    assert read_table(spark, str(out2 / "vocab")).count() == 0


def test_ascii_scanner_equals_tokenizer(spark, tmp_path):
    # ASCII documents take TokenBatches' byte scanner, others SentenceTokenizer.apply; the
    # stage functions (tokenize_documents) always the latter: same sentences either way.
    rng = random.Random(7)
    pieces = ["The", "cat", "SAT", "a", "ab", "x" * 16, "Word", "Ünï", "end.", "ok!", "why?"]
    pieces += [" ", "  ", "\t", "\n", " \r\n ", "\x0b", "\f", ". ", "! ", "?", "12", "-", "'"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 60))) for _ in range(400)]
    path = tmp_path / "random.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    configs = [
        TokenizeConfig(),
        TokenizeConfig(stop_words=["the", "Word"], max_sentence_length=3),
        TokenizeConfig(lowercase=False, split_sentences=False, min_token_length=1),
        TokenizeConfig(fold_accents=True, max_token_length=4),
    ]
    for i, cfg in enumerate(configs):
        records = read_records(spark, [str(path)], cfg)
        parts = write_tokens_table(spark, records, cfg, str(tmp_path / f"t{i}"), False)
        parts.unpersist()
        got = spark.read.parquet(str(tmp_path / f"t{i}"))
        expected = tokenize_documents(split_records(records)[0], cfg)
        assert expected.count() > 300
        assertDataFrameEqual(got, expected)


def test_one_pass_vocab_count_follows_min_count_and_max_vocab(spark, tmp_path):
    text = tmp_path / "few.txt"
    text.write_text("alpha beta beta gamma gamma gamma\ndelta\n")
    for extra, n in ((["--min-count", "2"], 2), (["--min-count", "1", "--max-vocab", "3"], 3)):
        out = tmp_path / f"w{n}"
        assert main(["tokenize", str(text), "--output", str(out), *extra, "-q", *CLI_SESSION]) == 0
        assert read_metadata(spark, str(out / "vocab"))["counts"] == {"vocab": n}
        assert read_table(spark, str(out / "vocab")).count() == n


def test_gz_text_reads_as_its_plain_text(spark, tmp_path):
    # A .gz file cannot be cut: one task reads it whole; the rows are the plain file's.
    lines = "".join(f"Line {i} says hello. Then more words {i % 7}!\n" for i in range(3000))
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "a.txt").write_text(lines)
    with gzip.open(tmp_path / "a.txt.gz", "wt") as f:
        f.write(lines)
    cfg = TokenizeConfig()
    gz_records = read_records(spark, [str(tmp_path / "a.txt.gz")], cfg)
    write_tokens_table(spark, gz_records, cfg, str(tmp_path / "gz"), False).unpersist()
    plain = tokenize_documents(
        split_records(read_records(spark, [str(tmp_path / "plain" / "a.txt")], cfg))[0], cfg
    )
    got = spark.read.parquet(str(tmp_path / "gz"))
    assert got.count() == 6000
    assertDataFrameEqual(got.drop("doc_id"), plain.drop("doc_id"))


def _one_pass(spark, inputs, cfg, out):
    """write_tokens_table with the text lines read in the JVM (as `sparkembed tokenize`)."""
    reading = plan_reading(spark, inputs, cfg, lines_apart=True)
    assert reading.lines is not None  # the text files' lines are left to the writing tasks
    parts = write_tokens_table(spark, reading.records, cfg, out, False, reading.lines)
    rejected, n_long = rejected_table(parts, cfg)
    rejected = rejected.toPandas()
    assert n_long == (rejected.reason.str.contains("skipped unread")).sum()
    skipped = parts.selectExpr("coalesce(sum(skipped), 0) as n").first().n
    parts.unpersist()
    return spark.read.parquet(out), spark.createDataFrame(rejected), skipped


def test_text_lines_read_in_the_jvm_equal_the_sql_records(spark, tmp_path):
    # Lines read by TokenBatches.packTextLines straight from the scan's splits, against the
    # records of read_records: same doc_ids (file name and position in the split), tokens,
    # rejected lines (invalid, cut, skipped unread) and skipped count, over splits of 1 MB,
    # a file that spans several splits and small files packed into one split.
    rng = random.Random(3)
    words = ["The", "cat", "SAT", "a", "dog", "end.", "Ünï", "x" * 16, "12"] + ["word"] * 20
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 200))) for _ in range(5000)]
    lines[5] = "  "
    lines[7] = "bad \udcff byte"
    lines[9] = "tail cr\r"
    lines[11] = "bad \udcfe and cr\r"
    body = "\n".join(lines).encode("utf-8", "surrogateescape")
    big = tmp_path / "big.txt"
    long_line = b"word " * (1024 * 1024 // 5 + 10)  # over max_record_mb=1: skipped or cut
    big.write_bytes(b"\xef\xbb\xbffirst line\n" + body + b"\n" + long_line + b"\n" + body + b"\n")
    small = []
    for i in range(3):
        p = tmp_path / f"small{i}.txt"
        p.write_bytes(f"small file {i} says hi\r\n\nand bye. Again!\n".encode())
        small.append(str(p))
    inputs = [str(big), *small]
    cfg = dataclasses.replace(TokenizeConfig(), split_mb=1, max_record_mb=1, min_count=1)
    tokens, rejected, skipped = _one_pass(spark, inputs, cfg, str(tmp_path / "t"))
    records = read_records(spark, inputs, cfg)
    documents, exp_rejected = split_records(records)
    expected = tokenize_documents(documents, cfg)
    assert tokens.select("doc_id").distinct().count() > 9000
    # Compared in Spark (tens of thousands of rows).
    assert tokens.count() == expected.count()
    assert tokens.exceptAll(expected).isEmpty() and expected.exceptAll(tokens).isEmpty()
    assertDataFrameEqual(rejected, exp_rejected)
    reasons = sorted({r.reason for r in rejected.collect()})
    assert "invalid UTF-8" in reasons and len(reasons) == 2, reasons  # + cut or skipped
    assert skipped == records.where("status = 'skipped'").count() > 0


def test_one_pass_reports_a_line_the_reader_skipped(spark, tmp_path):
    # Inside one split Hadoop's reader skips the whole line: the bytes counted by the JVM
    # line reader fall short of the file size (no second read), as read_corpus reports it.
    path = tmp_path / "long.txt"
    line = b"word " * (2 * 1024 * 1024 // 5)
    path.write_bytes(b"first\n" + line + b"\nlast\n")
    out = tmp_path / "w"
    args = ["--set", "tokenize.max_record_mb=1", "--min-count", "1", "-q", *CLI_SESSION]
    assert main(["tokenize", str(path), "--output", str(out), *args]) == 0
    rejected = read_table(spark, str(out / "rejected")).collect()
    assert [(r.reason, r.excerpt) for r in rejected] == [
        (
            "line longer than max_record_mb=1 (skipped unread)",
            f"{len(line) + 1:,} bytes in skipped lines",
        )
    ]
    assert read_metadata(spark, str(out / "rejected"))["counts"] == {"rejected": 1}
    tokens = read_table(spark, str(out / "tokens")).collect()
    assert sorted(t for r in tokens for t in r.tokens) == ["first", "last"]
