"""Edge lists and GraphFrame-shaped inputs cleaned for the walks: bad rows set aside with a
reason, duplicates merged, the column check listing what it found."""

import pytest
from chispa import assert_df_equality

from sparkembed.errors import SparkembedError
from sparkembed.stages.walks.graph import EDGES, clean_edges


def test_bad_rows_set_aside_with_their_reason(spark):
    edges = spark.createDataFrame(
        [
            ("a", "b", 1.0),
            ("b", "a", 2.0),  # the same undirected edge: merged, weights summed
            ("b", "c", float("nan")),
            ("c", "d", -1.0),
            ("d", "d", 1.0),
            (None, "d", 1.0),
            ("c", "e", 0.5),
            ("a", "zz", 1.0),
        ],
        "src string, dst string, weight double",
    )
    vertices = spark.createDataFrame([(v,) for v in "abcde"], "id string")
    good, rejected = clean_edges(edges, vertices, weighted=True, source="edges.tsv")
    want = spark.createDataFrame([("a", "b", 3.0), ("c", "e", 0.5)], EDGES)
    assert_df_equality(good, want, ignore_row_order=True, ignore_nullable=True)
    got = sorted((r.source, r.reason, r.excerpt) for r in rejected.collect())
    assert got == [
        ("edges.tsv", "bad weight", "b\tc\tNaN"),
        ("edges.tsv", "bad weight", "c\td\t-1.0"),
        ("edges.tsv", "missing vertex", "null\td\t1.0"),
        ("edges.tsv", "self-loop", "d\td\t1.0"),
        ("edges.tsv", "unknown vertex", "a\tzz\t1.0"),
    ]


def test_directed_keeps_both_directions_and_integer_ids_become_strings(spark):
    edges = spark.createDataFrame([(1, 2), (2, 1), (1, 2)], "src long, dst long")
    good, rejected = clean_edges(edges, directed=True)
    want = spark.createDataFrame([("1", "2", 2.0), ("2", "1", 1.0)], EDGES)
    assert_df_equality(good, want, ignore_row_order=True, ignore_nullable=True)
    assert rejected.count() == 0


def test_missing_columns_are_listed_with_the_columns_found(spark):
    edges = spark.createDataFrame([("a", "b")], "from string, to string")
    with pytest.raises(SparkembedError, match=r"missing src, dst, found \(from, to\)"):
        clean_edges(edges, source="e.csv")
    edges = spark.createDataFrame([("a", "b")], "src string, dst string")
    with pytest.raises(SparkembedError, match=r"missing weight, found \(src, dst\)"):
        clean_edges(edges, weighted=True)
    vertices = spark.createDataFrame([("a",)], "name string")
    with pytest.raises(SparkembedError, match=r"vertices need a column id, found \(name\)"):
        clean_edges(edges, vertices)
