"""Tokenising: sentences, chunks, lowercasing, filters; the token table contract."""

from __future__ import annotations

import dataclasses

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from sparkembed.config import TokenizeConfig
from sparkembed.stages.tokenize.tokens import (
    TOKENS_SCHEMA,
    chunked_sentence_tokens,
    lowercase,
    tokenize_documents,
)

# Both engines: Spark SQL expressions (reference) and the JVM UDF (sparkembed-udfs.jar).
ENGINES = ["sql", "java"]


def docs(spark, rows):
    return spark.createDataFrame(rows, "doc_id string, title string, text string, format string")


@pytest.mark.parametrize("engine", ENGINES)
def test_sentences_chunks_and_filters(spark, engine):
    cfg = dataclasses.replace(
        TokenizeConfig(),
        lang="xx",
        max_sentence_length=3,
        stop_words=["The"],
        min_count=1,
        engine=engine,
    )
    documents = docs(
        spark,
        [
            ("d1", "T1", "The cat sat. A dog ran!\nWhy? one two three four five six seven", "text"),
            ("d2", "T2", "x 42 ab-cd\n\n  averyveryverylongtoken éTÉ", "text"),
            ("d3", "", "... 1 2 3", "text"),
        ],
    )
    got = tokenize_documents(documents, cfg)
    expected = spark.createDataFrame(
        [
            ("d1", "T1", "xx", 0, ["cat", "sat"]),
            ("d1", "T1", "xx", 1, ["dog", "ran"]),
            ("d1", "T1", "xx", 2, ["why"]),
            ("d1", "T1", "xx", 3, ["one", "two", "three"]),
            ("d1", "T1", "xx", 4, ["four", "five", "six"]),
            ("d1", "T1", "xx", 5, ["seven"]),
            ("d2", "T2", "xx", 0, ["ab", "cd"]),
            ("d2", "T2", "xx", 1, ["été"]),
        ],
        TOKENS_SCHEMA,
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


@pytest.mark.parametrize("engine", ENGINES)
def test_min_article_tokens_applies_to_wiki_only(spark, engine):
    cfg = dataclasses.replace(TokenizeConfig(), min_article_tokens=3, engine=engine)
    documents = docs(spark, [("w1", "W", "aa bb", "wiki"), ("t1", "", "aa bb", "text")])
    got = tokenize_documents(documents, cfg).select("doc_id")
    assert [r.doc_id for r in got.collect()] == ["t1"]


@pytest.mark.parametrize("engine", ENGINES)
def test_lowercase_is_locale_free_and_folding(spark, engine):
    df = spark.createDataFrame([("İSTANBUL Iğdır ÀÉÎ Straße ΣΟΦΙΑ",)], "t string")
    cfg = dataclasses.replace(
        TokenizeConfig(), fold_accents=True, split_sentences=False, engine=engine
    )
    row = df.select(
        lowercase(F.col("t")).alias("lower"),
        F.flatten(chunked_sentence_tokens(spark, F.col("t"), cfg)).alias("tokens"),
    ).first()
    # Dotted/dotless I map to plain i whatever the JVM's default locale is.
    assert row["lower"] == "istanbul iğdır àéî straße σοφια"
    assert row["tokens"] == ["istanbul", "igdir", "aei", "straße", "σοφια"]


@pytest.mark.parametrize("engine", ENGINES)
def test_lowercase_under_turkish_default_locale(spark, engine):
    # Local mode: tasks run in this JVM, so its default locale is theirs too.
    jvm = spark.sparkContext._jvm
    previous = jvm.java.util.Locale.getDefault()
    jvm.java.util.Locale.setDefault(jvm.java.util.Locale("tr", "TR"))
    try:
        df = spark.createDataFrame([("TITLE Ä",)], "t string")
        cfg = dataclasses.replace(TokenizeConfig(), min_token_length=1, engine=engine)
        row = df.select(
            F.lower("t").alias("spark"),
            lowercase(F.col("t")).alias("ours"),
            F.flatten(chunked_sentence_tokens(spark, F.col("t"), cfg)).alias("tokens"),
        ).first()
    finally:
        jvm.java.util.Locale.setDefault(previous)
    assert row["spark"] == "tıtle ä"  # Spark's lower follows the default locale
    assert row["ours"] == "title ä"
    assert row["tokens"] == ["title", "ä"]


@pytest.mark.parametrize("engine", ENGINES)
def test_no_tokens_no_rows(spark, engine):
    documents = docs(spark, [("e", "", "1 2 3 !!!", "text")])
    cfg = dataclasses.replace(TokenizeConfig(), engine=engine)
    assert tokenize_documents(documents, cfg).count() == 0
