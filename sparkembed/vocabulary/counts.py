"""Vocabulary from token counts in Spark: counts, document counts, ids by rank."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from sparkembed import schemas

VOCAB_SCHEMA = schemas.VOCAB


def build_vocab(tokens: DataFrame, min_count: int = 1, max_vocab: int = 0) -> DataFrame:
    """tokens (``doc_id string, tokens array<string>``, ...) → vocab.

    Out: ``id int, token string, count long, doc_count long`` — tokens seen at least
    ``min_count`` times, at most ``max_vocab`` of them (0: all); ``id`` 0 is the most
    frequent, ties broken by token (binary order), so ids are deterministic.
    """
    # Count per (document, token) first: a document's sentences sit in one partition, so
    # the map-side aggregation already collapses them and doc_count is a plain count.
    per_doc = (
        tokens.select("doc_id", F.explode("tokens").alias("token"))
        .groupBy("doc_id", "token")
        .agg(F.count(F.lit(1)).alias("n"))
    )
    counts = per_doc.groupBy("token").agg(
        F.sum("n").cast("long").alias("count"), F.count(F.lit(1)).cast("long").alias("doc_count")
    )
    return rank_vocab(counts, min_count, max_vocab)


def rank_vocab(counts: DataFrame, min_count: int = 1, max_vocab: int = 0) -> DataFrame:
    """(``token, count, doc_count``) of every token → vocab: min_count, ids, max_vocab."""
    if min_count > 1:
        counts = counts.where(F.col("count") >= min_count)
    # One ordered window: the vocabulary (not the corpus) passes through one task.
    rank = Window.orderBy(F.col("count").desc(), F.col("token").asc())
    vocab = counts.select((F.row_number().over(rank) - 1).cast("int").alias("id"), "*")
    if max_vocab > 0:
        vocab = vocab.where(F.col("id") < max_vocab)
    return vocab.select("id", "token", "count", "doc_count")
