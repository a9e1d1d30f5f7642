"""The one-pass JVM page parser (PageFieldsUdf) against read_wiki's Spark SQL fields.

``tokenize.engine = java`` parses each dump record once in Java instead of with a dozen
whole-page SQL expressions; these tests hold it to exactly the SQL fields, on random page
soup (valid and invalid UTF-8) and on the records of real and hand-made dumps.
"""

from __future__ import annotations

import bz2
import dataclasses
import random

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from test_readers import HEADER, page

from sparkembed.config import TokenizeConfig
from sparkembed.jvm import udfs
from sparkembed.stages.tokenize.readers import page_fields_java, page_fields_sql, read_records
from sparkembed.stages.tokenize.wikitext import clean_page

# Pieces of a page record, and of the corner cases of the SQL patterns: whitespace and line
# terminators around numbers and at the trailer's '$', "<text" not followed by space or '>',
# several <title>/<id>/</text>, entities, astral characters, and bytes that are not UTF-8.
# fmt: off
PAGE_PIECES = [
    "<page>", "</page>", "<title>", "</title>", "<title>A &amp;amp; B</title>", "<ns>", "</ns>",
    "<ns>0</ns>", "<ns> -1 </ns>", "<ns>-</ns>", "<id>", "</id>", "<id>12</id>", "<id>\n7\t</id>",
    "-", "0", "1", "42", " ", " ", "\n", "\t", "\r\n", "\r", "\u2028", "\u0085", "\x0b", "\f",
    "<text", "<text>", "<text ", '<text xml:space="preserve">', '<text bytes="0" />', ">", "/>",
    "/", "</text>", "</text >", "<textarea>", "<redirect", '<redirect title="x" />',
    "</mediawiki>", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&amp;lt;", "<", "é", "𝔘",
    "a", "Paris", "[[x|y]]", "{{t|{{u}}}}", "'''b'''", "x" * 150, "𝔘" * 120,
]
BAD_BYTES = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xe2\x82"]
# fmt: on


def random_record(rng: random.Random) -> bytes:
    def soup(n: int) -> bytes:
        out = b""
        for _ in range(rng.randint(0, n)):
            if rng.random() < 0.01:
                out += rng.choice(BAD_BYTES)
            else:
                out += rng.choice(PAGE_PIECES).encode()
        return out

    if rng.random() < 0.4:
        return soup(30)
    # A page's skeleton with soup between its parts (and each part sometimes missing).
    parts = [
        b"  <page>\n",
        b"<title>T" + soup(2) + b"</title>",
        b"<ns>" + rng.choice([b"0", b"0", b"1", b" 0 ", b"-2"]) + b"</ns>",
        b"<id>" + str(rng.randint(1, 999)).encode() + b"</id>",
        rng.choice([b"<text>", b'<text xml:space="preserve">', b"<text a=1/>"]),
        soup(20),
        b"</text>",
    ]
    return b"".join((p if rng.random() < 0.9 else b"") + soup(2) for p in parts)


@pytest.fixture(scope="module")
def java(spark):
    if not udfs.java_udfs_loaded(spark):
        pytest.fail("sparkembed-udfs.jar not loaded: run scripts/setup.sh")


FIELDS = [f.split()[0] for f in udfs.PAGE_FIELDS_RETURN.split(",")]


def test_fields_equal_sql_on_random_pages(spark, java):
    rng = random.Random(11)
    rows = [(str(i), bytearray(random_record(rng))) for i in range(3000)]
    raw = spark.createDataFrame(rows, "source string, value binary").select(
        "source", F.col("value").cast("string").alias("value")
    )
    cfg = TokenizeConfig()
    sql = page_fields_sql(raw, cfg).drop("clean")
    java_fields = page_fields_java(spark, raw, cfg).cache()
    assert_df_equality(java_fields.drop("clean"), sql, ignore_row_order=True)
    c = F.col
    document = (
        c("valid")
        & ~c("too_long")
        & c("has_page")
        & (c("title") != "")
        & (c("ns") == "0")
        & (c("page_id") != "")
        & ~c("redirect")
        & ~c("text_empty")
        & c("text_open")
        & c("text_close")
    )
    # The cleaned body: exactly the SQL cleaner's, for the documents only.
    expected_clean = java_fields.select(
        "source", F.when(document, clean_page(spark, c("body"), "sql")).alias("clean")
    )
    assert_df_equality(java_fields.select("source", "clean"), expected_clean, ignore_row_order=True)
    counts = {
        name: java_fields.where(cond).count()
        for name, cond in [
            ("invalid", ~c("valid")),
            ("documents", document),
            ("trailer", c("trailer")),
            ("text_empty", c("text_empty")),
            ("long head", F.length("head") == 200),
            ("negative ns", c("ns").startswith("-")),
        ]
    }
    assert all(n >= 20 for n in counts.values()), counts
    java_fields.unpersist()


BAD_DUMP = (
    HEADER
    + page(1, "Good &amp; Co", "'''Good''' [[link|text]] here &lt;ref&gt;x&lt;/ref&gt;.")
    + page(2, "Talk:Other", "other namespace", ns=1)
    + page(3, "Redir", "#REDIRECT [[Good]]", extra='    <redirect title="Good" />\n')
    + "  <page>\n    <title>Cut</title>\n    <ns>0</ns>\n    <id>7</id>\n"
    '    <revision>\n      <text xml:space="preserve">never closed\n    </revision>\n  </page>\n'
    + page(4, "Bad", "broken \xff here")
    + "  <page>\n    <ns>0</ns>\n    <id>8</id>\n  <text>no title</text>\n  </page>\n"
    + "  <page>\n    <title>NoText</title>\n    <ns>0</ns>\n    <id>9</id>\n  </page>\n"
    + page(10, "Empty", "").replace('<text xml:space="preserve"></text>', "<text bytes='0' />")
    + "  <title>no page element</title>\n  </page>\n"
    + page(11, "Two &lt;texts&gt;", "a</text> b <text>c")
    + "</mediawiki>\n"
).encode("latin-1")


def records(spark, paths, engine):
    cfg = dataclasses.replace(TokenizeConfig(), engine=engine)
    return read_records(spark, [str(p) for p in paths], cfg)


def test_records_equal_sql_on_bad_pages(spark, java, tmp_path):
    (tmp_path / "bad.xml").write_bytes(BAD_DUMP)
    (tmp_path / "bad-pages-articles.xml.bz2").write_bytes(bz2.compress(BAD_DUMP))
    paths = [tmp_path / "bad.xml", tmp_path / "bad-pages-articles.xml.bz2"]
    got = records(spark, paths, "java")
    assert_df_equality(got, records(spark, paths, "sql"), ignore_row_order=True)
    reasons = {r.reason for r in got.collect()}
    assert {"invalid UTF-8", "redirect", "namespace 1", "page without </text>"} <= reasons
    assert {"no <page> element", "page without <text>", "empty page"} <= reasons


def test_records_equal_sql_on_wikipedia_sample(spark, java, enwiki_sample):
    got = records(spark, [enwiki_sample], "java")
    assert_df_equality(got, records(spark, [enwiki_sample], "sql"), ignore_row_order=True)
    assert got.where("status = 'document'").count() > 50
