"""Graph inputs for the walks: an edge list or a GraphFrame's vertices and edges, checked
and cleaned in Spark into one edge table.

Treatment of bad rows, each counted and set aside in the rejected table (``source``,
``reason``, ``excerpt``) rather than dropped:

- a missing ``src`` or ``dst``: ``missing vertex``;
- a weight that is missing, NaN, infinite, zero or negative (weighted graphs only):
  ``bad weight``;
- ``src == dst``: ``self-loop`` (a walk would stand still; DeepWalk and node2vec ignore them);
- an endpoint missing from the given vertex table: ``unknown vertex``;
- a vertex of the given vertex table that no edge touches: ``isolated vertex`` (it starts
  no walk and gets no vector).

Duplicate edges (for an undirected graph, ``a-b`` and ``b-a`` too) are merged into one whose
weight is the sum: counted as ``merged``, not rejected. Vertex ids may be strings or
integers; they become strings, the tokens of the walks.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from sparkembed.errors import SparkembedError

EDGES = "src string, dst string, weight double"
# The reasons a row is set aside, in the order the summary lists them.
REJECTED_ORDER = ("missing vertex", "bad weight", "self-loop", "unknown vertex", "isolated vertex")


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


def isolated_vertices(vertices: DataFrame, edges: DataFrame, source: str) -> DataFrame:
    """Rejected rows for the vertices of ``vertices`` that no clean edge touches: they start
    no walk and get no vector (reason ``isolated vertex``)."""
    touched = edges.select(F.col("src").alias("id")).union(edges.select(F.col("dst").alias("id")))
    ids = vertices.select(F.col("id").cast("string").alias("id")).where(F.col("id").isNotNull())
    return (
        ids.distinct()
        .join(touched.distinct(), "id", "left_anti")
        .select(F.lit(source).alias("source"), F.lit("isolated vertex").alias("reason"), "id")
        .withColumnRenamed("id", "excerpt")
    )


def reason_counts(rejected: DataFrame) -> dict[str, int]:
    """Rows of a rejected table in all (``rejected``) and per reason of ``REJECTED_ORDER``
    (0 for a reason without rows)."""
    rows = rejected.groupBy("reason").count().collect()
    by_reason = {r["reason"]: int(r["count"]) for r in rows}
    return {"rejected": sum(by_reason.values()), **{r: by_reason.get(r, 0) for r in REJECTED_ORDER}}


def reasons_text(counts: dict[str, int]) -> str:
    """``2 bad weight, 1 self-loop``: the reasons with rows, in ``REJECTED_ORDER``."""
    return ", ".join(f"{counts[r]:,} {r}" for r in REJECTED_ORDER if counts.get(r))


def vertex_index(edges: DataFrame) -> DataFrame:
    """``vertex int, id string``: every endpoint of the clean edges, numbered 0.. in id order,
    so the numbering (and with it every walk id) does not depend on the partitioning."""
    ids = edges.select(F.col("src").alias("id")).union(edges.select(F.col("dst").alias("id")))
    # One ordered window: vertex-count rows through one task, as the vocabulary does.
    order = Window.orderBy("id")
    return ids.distinct().select((F.row_number().over(order) - 1).cast("int").alias("vertex"), "id")


def adjacency(edges: DataFrame, index: DataFrame, *, directed: bool, weighted: bool) -> DataFrame:
    """The walks' graph (``DIR/graph``), one row per vertex: ``vertex int, id string,
    neighbors array<int>`` (its out-neighbours, sorted) and ``weights array<double>`` (their
    edge weights; null when unweighted). Vertices without out-edges have an empty row, so
    ``vertex`` runs 0 .. n-1 without gaps."""
    by_src = index.select(F.col("id").alias("src"), F.col("vertex").alias("s"))
    by_dst = index.select(F.col("id").alias("dst"), F.col("vertex").alias("d"))
    e = edges.join(by_src, "src").join(by_dst, "dst").select("s", "d", "weight")
    if not directed:
        e = e.union(e.select(F.col("d").alias("s"), F.col("s").alias("d"), "weight"))
    rows = e.groupBy("s").agg(F.array_sort(F.collect_list(F.struct("d", "weight"))).alias("out"))
    rows = rows.select(
        F.col("s").alias("vertex"),
        F.transform("out", lambda x: x["d"]).alias("neighbors"),
        F.transform("out", lambda x: x["weight"]).alias("weights"),
    )
    weights = F.coalesce("weights", F.array().cast("array<double>"))
    return index.join(rows, "vertex", "left").select(
        "vertex",
        "id",
        F.coalesce("neighbors", F.array().cast("array<int>")).alias("neighbors"),
        (weights if weighted else F.lit(None).cast("array<double>")).alias("weights"),
    )


def graph_stats(edges: DataFrame, index: DataFrame, *, directed: bool) -> dict[str, int]:
    """What ``adjacency(edges, index)`` holds, from its inputs, so that the engine is chosen
    before it is built: ``vertices``, ``out_edges`` (an undirected edge is two), ``starts``
    (vertices with out-edges: every vertex when undirected, each being an endpoint of a
    clean edge) and ``id_bytes`` (the ids' length in all)."""
    v = index.agg(
        F.count(F.lit(1)).alias("vertices"),
        F.coalesce(F.sum(F.length("id")), F.lit(0)).alias("id_bytes"),
    ).first()
    if directed:
        e = edges.agg(F.count(F.lit(1)).alias("n"), F.countDistinct("src").alias("src")).first()
        out_edges, starts = int(e["n"]), int(e["src"])
    else:
        out_edges, starts = 2 * edges.count(), int(v["vertices"])
    return {
        "vertices": int(v["vertices"]),
        "out_edges": out_edges,
        "starts": starts,
        "id_bytes": int(v["id_bytes"]),
    }


def edge_list_format(path: str, fmt: str, is_work_dir: bool) -> str:
    """The input format ``auto`` stands for: a work folder with cooccurrence and vocab is
    the word graph; .csv is CSV; .tsv, .txt, .edges, .edgelist are tab-separated; else
    Parquet."""
    if fmt != "auto":
        return fmt
    if is_work_dir:
        return "cooccurrence"
    name = path.rstrip("/").lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".tsv", ".txt", ".edges", ".edgelist")):
        return "tsv"
    return "parquet"


def read_edge_list(spark, path: str, fmt: str, header: bool) -> DataFrame:
    """An edge list as Spark reads it: Parquet, or CSV/TSV (``#`` lines are comments; with
    ``header`` false the columns are src, dst[, weight] by position, ids kept as text)."""
    if fmt == "parquet":
        return spark.read.parquet(path)
    sep = "," if fmt == "csv" else "\t"
    df = spark.read.csv(path, sep=sep, header=header, comment="#", inferSchema=False)
    if not header:
        names = ["src", "dst", "weight"][: len(df.columns)]
        df = df.toDF(*names, *df.columns[len(names) :])
    return df


def cooccurrence_edges(
    cooccurrence: DataFrame, vocab: DataFrame, marginals: DataFrame, weight: str, top_k: int
) -> DataFrame:
    """The co-occurrence table read as a directed weighted graph between words: each word's
    ``top_k`` strongest cells (0: all) by ``count`` or by PPMI, ``log(count * total /
    (row sum * col sum))`` kept where positive; the diagonal (a word beside itself) is left
    out. Columns ``src, dst, weight`` (tokens)."""
    cells = cooccurrence.where(F.col("row") != F.col("col"))
    if weight == "ppmi":
        total = marginals.agg(F.sum("count").alias("total"))
        m = marginals.select("id", F.col("count").alias("m"))
        cells = (
            cells.crossJoin(F.broadcast(total))
            .join(F.broadcast(m).withColumnRenamed("id", "row").withColumnRenamed("m", "mr"), "row")
            .join(F.broadcast(m).withColumnRenamed("id", "col").withColumnRenamed("m", "mc"), "col")
            .select(
                "row",
                "col",
                F.log(F.col("count") * F.col("total") / (F.col("mr") * F.col("mc"))).alias("count"),
            )
            .where(F.col("count") > 0)
        )
    if top_k > 0:
        rank = Window.partitionBy("row").orderBy(F.col("count").desc(), F.col("col"))
        cells = cells.withColumn("rank", F.row_number().over(rank)).where(F.col("rank") <= top_k)
    words = vocab.select("id", "token")
    return (
        cells.join(F.broadcast(words).withColumnRenamed("id", "row"), "row")
        .withColumnRenamed("token", "src")
        .join(F.broadcast(words).withColumnRenamed("id", "col"), "col")
        .select("src", F.col("token").alias("dst"), F.col("count").alias("weight"))
    )
