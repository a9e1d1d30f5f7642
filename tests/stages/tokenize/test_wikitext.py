"""Wikitext cleaning (JVM side) on small hand-written pages."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from sparkembed.stages.tokenize.wikitext import clean_page, unescape_xml

# Both engines: the Spark SQL regexp chain (reference) and the JVM UDF (sparkembed-udfs.jar).
ENGINES = ["sql", "java"]

CASES = [
    ("a {{cite web|url=x|title={{lang|fr|y}}}} b", "a b"),
    ("a {{outer|{{mid|{{inner|1}}}}}} b", "a b"),
    ('a\n{| class="wikitable"\n|-\n| x || {{flag|y}}\n|}\nb', "a b"),
    ("a<ref name=n>{{cite|x}} text</ref> b<ref name=m/> c", "a b c"),
    ("a <!-- hidden\ncomment --> b", "a b"),
    ("see [[Paris|the capital]] and [[London]]s", "see the capital and Londons"),
    ("[[File:X.jpg|thumb|250px|A [[cat|small cat]] sits]] text", "text"),
    ("[[Image:y.png|left]] [[Category:Cats]] [[de:Katze]] words", "words"),
    ("go to [http://example.com/x the site] or http://www.x.org now", "go to the site or now"),
    ("== History ==\n'''Bold''' and ''italic''", "History Bold and italic"),
    ('x<br/>y<span style="a">z</span> a&nbsp;b &ndash; c &#160; d', "x y z a b c d"),
    ("<math>x^2</math> kept __NOTOC__", "kept"),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_clean_wikitext(spark, engine):
    # One DataFrame for all cases: one Spark job.
    df = spark.createDataFrame([(i, w) for i, (w, _) in enumerate(CASES)], "i int, t string")
    clean = clean_page(spark, F.col("t"), engine, unescape=False)
    cleaned = df.select("i", F.trim(F.regexp_replace(clean, r"\s+", " ")).alias("c"))
    got = {r["i"]: r["c"] for r in cleaned.collect()}
    assert [got[i] for i in range(len(CASES))] == [e for _, e in CASES]


@pytest.mark.parametrize("engine", ENGINES)
def test_unescape_xml_then_clean(spark, engine):
    escaped = "a&lt;ref&gt;&quot;x&quot;&lt;/ref&gt; b &amp;amp; c &amp;nbsp;d"
    df = spark.createDataFrame([(escaped,)], "t string")
    row = df.select(
        unescape_xml(F.col("t")).alias("u"),
        F.regexp_replace(clean_page(spark, F.col("t"), engine), r"\s+", " ").alias("c"),
    ).first()
    assert row["u"] == 'a<ref>"x"</ref> b &amp; c &nbsp;d'
    assert row["c"] == "a b c d"
