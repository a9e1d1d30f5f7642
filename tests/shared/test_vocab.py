"""Vocabulary: counts, document counts, min_count, max_vocab, deterministic ids."""

from __future__ import annotations

import dataclasses

from chispa import assert_df_equality

from sparkembed.config import TokenizeConfig
from sparkembed.vocabulary import VOCAB_SCHEMA, build_vocab


def tokens(spark):
    return spark.createDataFrame(
        [
            ("d1", 0, ["b", "a", "c", "a"]),
            ("d1", 1, ["c", "d"]),
            ("d2", 0, ["b", "c", "e"]),
            ("d3", 0, ["a", "b"]),
        ],
        "doc_id string, sentence int, tokens array<string>",
    ).repartition(3)


def test_counts_ties_broken_by_token(spark):
    cfg = dataclasses.replace(TokenizeConfig(), min_count=1)
    expected = spark.createDataFrame(
        [
            (0, "a", 3, 2),
            (1, "b", 3, 3),
            (2, "c", 3, 2),
            (3, "d", 1, 1),
            (4, "e", 1, 1),
        ],
        VOCAB_SCHEMA,
    )
    assert_df_equality(
        build_vocab(tokens(spark), cfg.min_count, cfg.max_vocab),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_min_count_and_max_vocab(spark):
    cfg = dataclasses.replace(TokenizeConfig(), min_count=2, max_vocab=2)
    expected = spark.createDataFrame([(0, "a", 3, 2), (1, "b", 3, 3)], VOCAB_SCHEMA)
    assert_df_equality(
        build_vocab(tokens(spark), cfg.min_count, cfg.max_vocab),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )
