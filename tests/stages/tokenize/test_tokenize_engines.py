"""The JVM engine (sparkembed-udfs.jar) against the Spark SQL reference: same results.

``tokenize.engine = java`` replaces the regexp chain of wikitext.py and the SQL tokenising
expressions of tokens.py with hand-written scanners; these tests hold them to
exactly the reference's output, on random markup soup and on real Wikipedia pages.
"""

from __future__ import annotations

import bz2
import dataclasses
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from chispa import assert_df_equality
from helpers import CLI_SESSION
from pyspark.sql import functions as F

from sparkembed.cli import main
from sparkembed.config import TokenizeConfig
from sparkembed.errors import SparkembedError
from sparkembed.jvm import udfs
from sparkembed.jvm.udfs import java_udfs_loaded, resolve_engine
from sparkembed.stages.tokenize.readers import read_records, split_records
from sparkembed.stages.tokenize.tokens import chunked_sentence_tokens, tokenize_documents
from sparkembed.stages.tokenize.wikitext import clean_page, clean_wikitext, unescape_xml
from sparkembed.tables import read_metadata, read_table

# Pieces of markup (and of the corner cases of the regexes: line terminators, \b, case).
# fmt: off
WIKI_PIECES = [
    "{{", "}}", "{|", "|}", "{", "}", "[[", "]]", "[", "]", "|", "||", "<ref>", "</ref>",
    "<ref name=n/>", "<REF >", "</ref >", "<refx>", "<references/>", "<!--", "-->", "<", ">",
    "/", "<math>", "</MATH >", "<ce>", "</ce>", "<chem/>", "<br/>", "<span a=b>", "</span>",
    "\n", "\n", "\r\n", "\r", " ", " ", "\t", "\u2028", "\u0085", "=", "==", "===", "''",
    "'''", "'", "__TOC__", "__", "_", "NOTOC", "http://", "HTTPS://x.org/a", "ftp://", "//",
    "[http://a.b c d]", "[//x]", "www.", "xwww.y", "é", "\u0301", "www.a", ":", "!", "File:",
    "image :", "de:", "en-gb:", "Category:", "xyz-abcdefghi:", "a", "b", "Paris", " text ",
    "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&amp;lt;", "&nbsp;", "&#160;", "&#x41;",
    "&#12345678;", "&", ";", "#", "*", "x", "1",
]
TEXT_PIECES = [
    "the", "Cat", "SAT", ".", "!", "?", " ", " ", " ", "\n", "\r\n", "\t", "\u2028", "é", "É",
    "İstanbul", "IĞDIR", "ΣΟΦΟΣ", "Straße", "Ǆ", "42", "ab-cd", "x", "ñ", "\u0301", "𝔘𝔫𝔦",
    "日本語", "'", "don't", "...", "a.b", "longlonglonglongword", "j", "J", "𐐀𐐁", "ǅ", "Ω",
    "K", "ẞ", "ΆΣ", "ΑΣ.Β", "Ⅻ", "Ⓐ", "İ̇",
]
TEXT_WITHOUT_SIGMA = [p for p in TEXT_PIECES if "Σ" not in p]
# fmt: on


def soup(rng: random.Random, pieces: list[str], n: int) -> list[str]:
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(n)]


@pytest.fixture(scope="module")
def java(spark):
    if not java_udfs_loaded(spark):
        pytest.fail("sparkembed-udfs.jar not loaded: run scripts/setup.sh")


def test_cleaning_equals_reference_on_markup_soup(spark, java):
    rng = random.Random(7)
    rows = [(i, t) for i, t in enumerate(soup(rng, WIKI_PIECES, 3000))]
    df = spark.createDataFrame(rows, "i int, t string")
    got = df.select(
        "i",
        clean_wikitext(unescape_xml(F.col("t"))).alias("page"),
        clean_wikitext(F.col("t")).alias("wikitext"),
    )
    java_got = df.select(
        "i",
        clean_page(spark, F.col("t"), "java").alias("page"),
        clean_page(spark, F.col("t"), "java", unescape=False).alias("wikitext"),
    )
    assert_df_equality(java_got, got, ignore_row_order=True, ignore_nullable=True)


CONFIGS = {
    "default": {},
    "fold-stop-chunks": dict(fold_accents=True, stop_words=["The", "sat"], max_sentence_length=2),
    "no-lower-no-split": dict(lowercase=False, split_sentences=False, fold_accents=True),
    "pattern": dict(token_pattern=r"[\p{L}\p{N}']+|\.", min_token_length=1, max_token_length=4),
    "empty-matches": dict(token_pattern=r"\p{L}*", min_token_length=1),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_tokenizing_equals_reference_on_text_soup(spark, java, name):
    cfg = dataclasses.replace(TokenizeConfig(), **CONFIGS[name])
    # Texts with U+03A3 take ICU's whole-string path (final sigma), the others a per-character
    # lowercase: both are covered.
    rng = random.Random(11)
    texts = soup(rng, TEXT_PIECES, 1000) + soup(rng, TEXT_WITHOUT_SIGMA, 1000)
    df = spark.createDataFrame(list(enumerate(texts)), "i int, t string")

    def run(engine):
        c = dataclasses.replace(cfg, engine=engine)
        return df.select("i", chunked_sentence_tokens(spark, F.col("t"), c).alias("s"))

    assert_df_equality(run("java"), run("sql"), ignore_row_order=True, ignore_nullable=True)


def bulgarian_sample(gensim_data, tmp_path):
    """gensim's bgwiki sample is UTF-16 (our reader rejects it): re-encoded as UTF-8."""
    src = next(gensim_data.glob("bgwiki-*.bz2"))
    xml = bz2.decompress(src.read_bytes()).decode("utf-16")
    out = tmp_path / "bgwiki-utf8.xml.bz2"
    out.write_bytes(bz2.compress(xml.encode("utf-8")))
    return out, xml


@pytest.mark.slow
@pytest.mark.parametrize("sample", ["enwiki", "bgwiki"])
def test_real_pages_equal_reference(spark, java, sample, enwiki_sample, gensim_data, tmp_path):
    if sample == "enwiki":
        path, lang, min_docs = enwiki_sample, "en", 100
    else:
        (path, _), lang, min_docs = bulgarian_sample(gensim_data, tmp_path), "bg", 1
    tables = {}
    for engine in ("sql", "java"):
        cfg = dataclasses.replace(TokenizeConfig(), lang=lang, engine=engine)
        documents, _ = split_records(read_records(spark, [str(path)], cfg))
        documents = documents.persist()
        tables[engine] = (documents, tokenize_documents(documents, cfg))
    (sql_docs, sql_tokens), (java_docs, java_tokens) = tables["sql"], tables["java"]
    assert sql_docs.count() >= min_docs
    assert_df_equality(java_docs, sql_docs, ignore_row_order=True, ignore_nullable=True)
    assert sql_tokens.count() > 100
    assert_df_equality(java_tokens, sql_tokens, ignore_row_order=True)
    for documents, _ in tables.values():
        documents.unpersist()


def test_bulgarian_page_bodies_equal_reference(spark, java, gensim_data, tmp_path):
    # The sample's three pages (one article, two project pages), whatever their namespace.
    _, xml = bulgarian_sample(gensim_data, tmp_path)
    bodies = re.findall(r"(?s)<text[^>]*>(.*?)</text>", xml)
    assert len(bodies) == 3
    df = spark.createDataFrame(list(enumerate(bodies)), "i int, body string")
    sql = df.select("i", clean_wikitext(unescape_xml(F.col("body"))).alias("text"))
    java = df.select("i", clean_page(spark, F.col("body"), "java").alias("text"))
    assert_df_equality(java, sql, ignore_row_order=True, ignore_nullable=True)
    assert "България" in " ".join(r.text for r in sql.collect())


def test_engine_choice(spark, java, monkeypatch, capsys):
    # (An unknown engine is refused by config.validate: tests/shared/test_config.py.)
    assert resolve_engine(spark, "auto") == "java"
    assert resolve_engine(spark, "sql") == "sql"
    # Without the JAR: auto falls back to sql with a warning, java is an error.
    monkeypatch.setattr(udfs, "java_udfs_loaded", lambda spark: False)
    assert resolve_engine(spark, "auto") == "sql"
    assert capsys.readouterr().err.count("sparkembed-udfs.jar not loaded") == 1
    with pytest.raises(SparkembedError, match="--jars .jars/sparkembed-udfs.jar"):
        resolve_engine(spark, "java")


def test_a_run_chooses_its_engine_once(spark, java, monkeypatch, capsys, tmp_path):
    # Without the JAR a run warns once, takes the dataframe engine on Spark SQL (recorded
    # in the tables' metadata) and writes the tables the files engine writes.
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("The cat sat. The dog sat!\n\nthe cat ran\nbroken line 42\n")
    tables, engines = {}, {}
    for loaded in (True, False):
        monkeypatch.setattr(udfs, "java_udfs_loaded", lambda spark, loaded=loaded: loaded)
        out = tmp_path / f"loaded-{loaded}"
        args = ["--set", "tokenize.min_count=1", "-q", *CLI_SESSION]
        assert main(["tokenize", str(corpus), "--output", str(out), *args]) == 0
        tables[loaded] = {t: read_table(spark, str(out / t)) for t in ("tokens", "vocab")}
        engines[loaded] = {
            read_metadata(spark, str(out / t))["engine"] for t in ("tokens", "vocab")
        }
    assert capsys.readouterr().err.count("sparkembed-udfs.jar not loaded") == 1
    assert engines == {True: {"files"}, False: {"dataframe"}}
    for name in ("tokens", "vocab"):
        assert_df_equality(tables[False][name], tables[True][name], ignore_row_order=True)


PAGE = """<mediawiki><page><title>Cat</title><ns>0</ns><id>7</id><revision><text xml:space="preserve">
'''Cats''' are [[mammal|small mammals]].{{Infobox|x={{y}}}} They &lt;ref&gt;r&lt;/ref&gt; purr.
== Diet ==
Cats eat [[fish]] and [http://example.org mice].
</text></revision></page></mediawiki>
"""


def test_tokenize_job_under_spark_submit_with_jars(tmp_path):
    """spark-submit users pass --jars .jars/sparkembed-udfs.jar; engine=java then works."""
    root = Path(__file__).resolve().parents[3]
    jar = root / ".jars" / "sparkembed-udfs.jar"
    assert jar.is_file(), "run scripts/setup.sh"
    zip_path = tmp_path / "sparkembed.zip"
    subprocess.run(
        ["bash", str(root / "scripts" / "package.sh"), "--code", str(zip_path)], check=True
    )
    dump = tmp_path / "cat-pages-articles.xml"
    dump.write_text(PAGE)
    spark_submit = Path(sys.executable).parent / "spark-submit"
    out = subprocess.run(
        [
            str(spark_submit),
            "--master",
            "local[1]",
            "--jars",
            str(jar),
            "--py-files",
            str(zip_path),
            str(root / "jobs" / "sparkembed_job.py"),
            "tokenize",
            str(dump),
            "--output",
            str(tmp_path / "out"),
            "--set",
            'tokenize.engine="java"',
            "--set",
            "tokenize.min_article_tokens=0",
            "--set",
            "tokenize.min_count=1",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "documents 1, sentences 4, tokens 12" in out.stdout


def test_each_scanner_equals_its_regex_in_java(tmp_path):
    """java/test/sparkembed/PassCheck.java: scanner vs java.util.regex, pass by pass."""
    root = Path(__file__).resolve().parents[3]
    jar = root / ".jars" / "sparkembed-udfs.jar"
    assert jar.is_file(), "run scripts/setup.sh"
    src = root / "java" / "test" / "sparkembed" / "PassCheck.java"
    subprocess.run(["javac", "-cp", str(jar), "-d", str(tmp_path), str(src)], check=True)
    classpath = f"{jar}{os.pathsep}{tmp_path}"
    out = subprocess.run(
        ["java", "-cp", classpath, "sparkembed.PassCheck", "50000", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    assert "differences 0" in out.stdout
