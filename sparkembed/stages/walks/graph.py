"""Graph inputs for the walks: an edge list or a GraphFrame's vertices and edges, checked
and cleaned in Spark into one edge table.

Treatment of bad rows, each counted and set aside in the rejected table (``source``,
``reason``, ``excerpt``) rather than dropped:

- a missing ``src`` or ``dst``: ``missing vertex``;
- a weight that is missing, NaN, infinite, zero or negative (weighted graphs only):
  ``bad weight``;
- ``src == dst``: ``self-loop`` (a walk would stand still; DeepWalk and node2vec ignore them);
- an endpoint missing from the given vertex table: ``unknown vertex``.

Duplicate edges (for an undirected graph, ``a-b`` and ``b-a`` too) are merged into one whose
weight is the sum: counted as ``merged``, not rejected. Vertex ids may be strings or
integers; they become strings, the tokens of the walks.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkembed.errors import SparkembedError

EDGES = "src string, dst string, weight double"


def check_graph_columns(edges: DataFrame, vertices: DataFrame | None, weighted: bool, where: str):
    """GraphFrames' contract: ``edges.src``, ``edges.dst`` (``edges.weight`` when weighted),
    ``vertices.id``; the error lists the columns found."""
    need = ["src", "dst", "weight"] if weighted else ["src", "dst"]
    missing = [c for c in need if c not in edges.columns]
    if missing:
        raise SparkembedError(
            f"{where}: edges need columns {', '.join(need)}; missing {', '.join(missing)}, "
            f"found ({', '.join(edges.columns) or 'none'})"
        )
    if vertices is not None and "id" not in vertices.columns:
        raise SparkembedError(
            f"{where}: vertices need a column id, found ({', '.join(vertices.columns) or 'none'})"
        )


def clean_edges(
    edges: DataFrame,
    vertices: DataFrame | None = None,
    *,
    weighted: bool = False,
    directed: bool = False,
    source: str = "edges",
) -> tuple[DataFrame, DataFrame]:
    """``(edges, rejected)``: the edge table (``src string, dst string, weight double``,
    one row per edge, undirected edges once with ``src < dst``) and the rejected rows."""
    check_graph_columns(edges, vertices, weighted, source)
    weight = F.col("weight").cast("double") if weighted else F.lit(1.0)
    e = edges.select(
        F.col("src").cast("string").alias("src"),
        F.col("dst").cast("string").alias("dst"),
        weight.alias("weight"),
    )
    w = F.col("weight")
    reason = (
        F.when(F.col("src").isNull() | F.col("dst").isNull(), "missing vertex")
        .when(w.isNull() | F.isnan(w) | (w <= 0) | (w == float("inf")), "bad weight")
        .when(F.col("src") == F.col("dst"), "self-loop")
    )
    if vertices is not None:
        known = vertices.select(F.col("id").cast("string").alias("id")).distinct()
        e = e.join(
            known.withColumnRenamed("id", "src").withColumn("src_ok", F.lit(True)), "src", "left"
        ).join(
            known.withColumnRenamed("id", "dst").withColumn("dst_ok", F.lit(True)), "dst", "left"
        )
        reason = reason.when(F.col("src_ok").isNull() | F.col("dst_ok").isNull(), "unknown vertex")
    e = e.withColumn("reason", reason)
    bad = e.where(F.col("reason").isNotNull())
    rejected = bad.select(
        F.lit(source).alias("source"),
        F.col("reason"),
        F.concat_ws(
            "\t",
            *[F.coalesce(F.col(c).cast("string"), F.lit("null")) for c in ("src", "dst", "weight")],
        ).alias("excerpt"),
    )
    good = e.where(F.col("reason").isNull())
    if not directed:
        good = good.select(
            F.least("src", "dst").alias("src"), F.greatest("src", "dst").alias("dst"), "weight"
        )
    merged = good.groupBy("src", "dst").agg(F.sum("weight").alias("weight"))
    return merged.select("src", "dst", "weight"), rejected
