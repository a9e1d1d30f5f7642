"""Readers: formats, splitting one dump across tasks, and bad input."""

from __future__ import annotations

import bz2
import dataclasses
import json

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from sparkembed.config import TokenizeConfig
from sparkembed.errors import SparkembedError
from sparkembed.stages.tokenize.readers import (
    read_corpus,
    read_errors_as_sparkembed,
    read_records,
    scan_text,
)
from sparkembed.stages.tokenize.tokens import tokenize_documents

HEADER = (
    '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">\n  <siteinfo>\n  </siteinfo>\n'
)


def page(pid: int, title: str, text: str, ns: int = 0, extra: str = "") -> str:
    return (
        f"  <page>\n    <title>{title}</title>\n    <ns>{ns}</ns>\n    <id>{pid}</id>\n{extra}"
        f"    <revision>\n      <id>{pid + 1000}</id>\n"
        f'      <text xml:space="preserve">{text}</text>\n    </revision>\n  </page>\n'
    )


def dump(pages: list[str]) -> str:
    return HEADER + "".join(pages) + "</mediawiki>\n"


def rejected_rows(rejected):
    return sorted((r.source.rsplit("/", 1)[-1], r.reason) for r in rejected.collect())


def test_wiki_pages_namespaces_redirects_and_bad_pages(spark, tmp_path):
    bad_page = (
        "  <page>\n    <title>Cut</title>\n    <ns>0</ns>\n    <id>7</id>\n"
        '    <revision>\n      <text xml:space="preserve">never closed\n    </revision>\n  </page>\n'
    )
    xml = dump(
        [
            page(1, "Good &amp; Co", "'''Good''' [[link|text]] here &lt;ref&gt;x&lt;/ref&gt;."),
            page(2, "Talk:Other", "other namespace", ns=1),
            page(3, "Redir", "#REDIRECT [[Good]]", extra='    <redirect title="Good" />\n'),
            bad_page,
        ]
    )
    path = tmp_path / "pages-articles.xml.bz2"
    path.write_bytes(bz2.compress(xml.encode()))
    records = read_records(spark, [str(path)], TokenizeConfig())
    got = records.select("doc_id", "title", "text", "status", "reason")
    expected = spark.createDataFrame(
        [
            ("1", "Good & Co", "Good text here .", "document", None),
            ("2", "Talk:Other", None, "skipped", "namespace 1"),
            ("3", "Redir", None, "skipped", "redirect"),
            ("7", "Cut", None, "rejected", "page without </text>"),
        ],
        "doc_id string, title string, text string, status string, reason string",
    )
    assert_df_equality(
        got.withColumn("text", F.regexp_replace("text", r"\s+", " ")),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_one_bz2_dump_split_across_tasks(spark, enwiki_sample):
    small = dataclasses.replace(TokenizeConfig(), split_mb=1)
    whole = dataclasses.replace(TokenizeConfig(), split_mb=64)
    before = spark.conf.get("spark.sql.files.maxPartitionBytes")
    split_raw = scan_text(
        spark, [str(enwiki_sample)], line_sep="</page>", split_mb=1, max_record_mb=64
    )
    assert split_raw.rdd.getNumPartitions() > 1  # 1.7 MB in 1 MB splits
    assert (
        scan_text(
            spark, [str(enwiki_sample)], line_sep="</page>", split_mb=64, max_record_mb=64
        ).rdd.getNumPartitions()
        == 1
    )
    # The split size does not leak into the session.
    assert spark.conf.get("spark.sql.files.maxPartitionBytes") == before
    docs_split, _ = read_corpus(spark, [str(enwiki_sample)], small)
    docs_whole, _ = read_corpus(spark, [str(enwiki_sample)], whole)
    assert docs_split.rdd.getNumPartitions() > 1
    tok_split = tokenize_documents(docs_split, small)
    tok_whole = tokenize_documents(docs_whole, whole)
    assert tok_whole.count() > 20000
    assert_df_equality(tok_split, tok_whole, ignore_row_order=True)


def test_text_jsonl_parquet(spark, tmp_path):
    (tmp_path / "a.txt").write_text("first doc here\n\nsecond doc\r\n")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"id": "j1", "body": "json text"})
        + "\n{not json\n"
        + json.dumps({"id": "j2"})
        + "\n"
    )
    spark.createDataFrame([("p1", "parquet text")], "pid string, content string").write.parquet(
        str(tmp_path / "c.parquet")
    )
    cfg = dataclasses.replace(TokenizeConfig(), text_field="body", id_field="id")
    docs_t, rej_t = read_corpus(spark, [str(tmp_path / "a.txt")], cfg)
    assert sorted(r.text for r in docs_t.collect()) == ["first doc here", "second doc"]
    docs_j, rej_j = read_corpus(spark, [str(tmp_path / "b.jsonl")], cfg)
    assert [(r.doc_id, r.text) for r in docs_j.collect()] == [("j1", "json text")]
    assert sorted(r.reason for r in rej_j.collect()) == ["no 'body' field", "unparseable JSON"]
    pcfg = dataclasses.replace(TokenizeConfig(), text_column="content", id_field="pid")
    docs_p, _ = read_corpus(spark, [str(tmp_path / "c.parquet")], pcfg)
    assert [(r.doc_id, r.text, r.format) for r in docs_p.collect()] == [
        ("p1", "parquet text", "parquet")
    ]
    fcfg = dataclasses.replace(TokenizeConfig(), text_unit="file")
    docs_f, _ = read_corpus(spark, [str(tmp_path / "a.txt")], fcfg)
    assert [r.text for r in docs_f.collect()] == ["first doc here\n\nsecond doc\r\n"]
    with pytest.raises(SparkembedError, match="no column 'nope'"):
        read_corpus(
            spark, [str(tmp_path / "c.parquet")], dataclasses.replace(pcfg, text_column="nope")
        )


# --- bad input -------------------------------------------------------------------------


def test_missing_path_fails_before_any_job(spark, tmp_path):
    sc = spark.sparkContext
    sc.setJobGroup("missing-path", "missing path")
    try:
        with pytest.raises(SparkembedError, match="input not found: .*nope"):
            read_corpus(spark, [str(tmp_path / "nope" / "*.bz2")], TokenizeConfig())
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    assert list(sc.statusTracker().getJobIdsForGroup("missing-path")) == []


def test_cli_missing_path(tmp_path, capsys):
    from sparkembed.cli import main

    code = main(["tokenize", str(tmp_path / "missing.xml.bz2"), "--output", str(tmp_path / "o")])
    assert code == 1
    err = capsys.readouterr().err
    assert "input not found" in err and "missing.xml.bz2" in err and "Traceback" not in err


def test_empty_files_are_rejected(spark, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "empty.xml.bz2").write_bytes(b"")
    docs, rejected = read_corpus(
        spark, [str(tmp_path / "empty.txt"), str(tmp_path / "empty.xml.bz2")], TokenizeConfig()
    )
    assert docs.count() == 0
    assert rejected_rows(rejected) == [("empty.txt", "empty file"), ("empty.xml.bz2", "empty file")]


def test_truncated_bz2_is_a_clear_error(spark, tmp_path, enwiki_sample):
    data = enwiki_sample.read_bytes()
    cut = tmp_path / "cut.xml.bz2"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SparkembedError, match=r"truncated or corrupt bzip2 file .*cut\.xml\.bz2"):
        read_corpus(spark, [str(cut)], TokenizeConfig())


def test_corrupt_bz2_block_is_a_clear_error(spark, tmp_path):
    xml = dump([page(i, f"P{i}", "word " * 60) for i in range(1, 200)]).encode()
    data = bytearray(bz2.compress(xml))
    data[len(data) // 2] ^= 0xFF  # end-of-stream marker intact, a block's data broken
    bad = tmp_path / "corrupt.xml.bz2"
    bad.write_bytes(bytes(data))
    docs, _ = read_corpus(spark, [str(bad)], TokenizeConfig())
    with pytest.raises(SparkembedError, match=r"cannot read .*corrupt\.xml\.bz2"):
        with read_errors_as_sparkembed():
            docs.count()


def test_invalid_utf8_is_rejected(spark, tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"good line\nbad \xff\xfe line\nalso good\n")
    xml = dump([page(1, "Ok", "fine text"), page(2, "Bad", "broken \xff here")]).encode("latin-1")
    (tmp_path / "bad.xml").write_bytes(xml)
    docs, rejected = read_corpus(
        spark, [str(tmp_path / "bad.txt"), str(tmp_path / "bad.xml")], TokenizeConfig()
    )
    assert sorted(r.doc_id.split(":")[0] for r in docs.collect()) == ["1", "bad.txt", "bad.txt"]
    assert rejected_rows(rejected) == [("bad.txt", "invalid UTF-8"), ("bad.xml", "invalid UTF-8")]


def test_100mb_single_line_is_rejected_not_loaded(spark, tmp_path):
    big = tmp_path / "big.txt"
    chunk = b"word " * (1024 * 1024 // 5)
    with open(big, "wb") as f:
        f.write(b"small first line\n")
        for _ in range(100):
            f.write(chunk)
        f.write(b"\nsmall last line\n")
    # The line spans several splits: the reader hands back its first 64 MB (never more),
    # and that record is rejected.
    cfg = dataclasses.replace(TokenizeConfig(), max_record_mb=64)
    docs, rejected = read_corpus(spark, [str(big)], cfg)
    assert sorted(r.text for r in docs.collect()) == ["small first line", "small last line"]
    rows = rejected.select("reason", F.length("excerpt").alias("n")).collect()
    assert [(r.reason, r.n) for r in rows] == [
        ("record longer than max_record_mb=64 (cut by the reader)", 200)
    ]
    big.unlink()


def test_long_line_skipped_by_the_reader_is_reported(spark, tmp_path):
    # Inside one split Hadoop's reader skips the whole line; the file's byte count shows it.
    path = tmp_path / "long.txt"
    line = b"word " * (2 * 1024 * 1024 // 5)
    path.write_bytes(b"first\n" + line + b"\nlast\n")
    cfg = dataclasses.replace(TokenizeConfig(), max_record_mb=1)
    docs, rejected = read_corpus(spark, [str(path)], cfg)
    assert sorted(r.text for r in docs.collect()) == ["first", "last"]
    assert [(r.reason, r.excerpt) for r in rejected.collect()] == [
        (
            "line longer than max_record_mb=1 (skipped unread)",
            f"{len(line) + 1:,} bytes in skipped lines",
        )
    ]
