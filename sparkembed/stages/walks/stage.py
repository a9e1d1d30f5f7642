"""``sparkembed walks EDGES|WORK_DIR --output DIR``: DIR/tokens, DIR/vocab, DIR/rejected,
DIR/graph.

A walk is a sentence of vertex ids (``doc_id`` = its start vertex, ``sentence`` = its walk
number), the vocabulary is the vertices by visit count: ``cooccur`` and ``train`` run on
DIR unchanged. DIR/graph is the adjacency the walks ran on (``train --method umap`` reads
it). The four tables are one commit.
"""

from __future__ import annotations

import dataclasses
import math
import sys

from pyspark import StorageLevel
from pyspark.sql import functions as F

from sparkembed.arrowio import arrow_location
from sparkembed.errors import SparkembedError
from sparkembed.stage import Context, Plan
from sparkembed.stages.walks.engines import (
    TOKENS,
    partitioned_walks,
    replicated_bytes,
    replicated_to_files,
)
from sparkembed.stages.walks.graph import (
    adjacency,
    clean_edges,
    cooccurrence_edges,
    edge_list_format,
    graph_stats,
    isolated_vertices,
    read_edge_list,
    reason_counts,
    reasons_text,
    vertex_index,
)
from sparkembed.tables import filesystem, read_table
from sparkembed.vocabulary import build_vocab, rank_vocab
from sparkembed.vocabulary.files import count_file_vocab, file_vocab_supported, vocab_from_counts

# Replicated engine: walk steps per task at most, so that a large graph's walks make more
# tasks than there are cores (shorter tasks, and a retry redoes less).
STEPS_PER_TASK = 4_000_000


def add_arguments(p) -> None:
    p.add_argument(
        "input",
        metavar="EDGES|WORK_DIR",
        help="edge list (Parquet, CSV or TSV: src, dst[, weight]) or a work directory whose "
        "cooccurrence table is read as a word graph",
    )
    p.add_argument("--output", required=True, metavar="DIR", help="work directory for the walks")
    p.add_argument("--vertices", metavar="PATH", help="vertex table (Parquet with a column id)")


def plan(args, cfg) -> Plan:
    w = cfg.walks
    src = args.input.rstrip("/")
    out = args.output.rstrip("/")
    fs = filesystem()
    local = "://" not in src or src.startswith("file:")
    is_work_dir = local and fs.is_dir(f"{src}/cooccurrence") and fs.is_dir(f"{src}/vocab")
    fmt = edge_list_format(src, w.format, is_work_dir)
    if fmt == "cooccurrence":
        inputs = {t: f"{src}/{t}" for t in ("cooccurrence", "vocab", "marginals")}
        together: tuple[str, ...] = ("cooccurrence", "vocab", "marginals")
    else:
        inputs = {"edges": src}
        if args.vertices:
            inputs["vertices"] = args.vertices
        together = ()
    if local and not fs.exists(src):
        raise SparkembedError(f"input not found: {src}")
    return Plan(
        inputs=inputs,
        outputs={t: f"{out}/{t}" for t in ("tokens", "vocab", "rejected", "graph")},
        params={"walks": {**dataclasses.asdict(w), "format": fmt}},
        checked_together=together,
        options={"format": fmt},
    )


def _inputs(ctx: Context, plan: Plan, w):
    """(edges, vertices or None, weighted, directed, source name) of the plan's input."""
    spark, opts = ctx.spark, plan.options
    if "edges_df" in opts:  # the Python API: DataFrames (or a GraphFrame's)
        return opts["edges_df"], opts.get("vertices_df"), w.weighted, w.directed, "edges"
    fmt = opts["format"]
    if fmt == "cooccurrence":
        i = plan.inputs
        edges = cooccurrence_edges(
            read_table(spark, i["cooccurrence"], table="cooccurrence"),
            read_table(spark, i["vocab"], table="vocab"),
            read_table(spark, i["marginals"], table="marginals"),
            w.graph_weight,
            w.top_k,
        )
        return edges, None, True, True, i["cooccurrence"]
    path = plan.inputs["edges"]
    edges = read_edge_list(spark, path, fmt, w.header)
    vertices = None
    if "vertices" in plan.inputs:
        vertices = spark.read.parquet(plan.inputs["vertices"])
    return edges, vertices, w.weighted, w.directed, path


def run(ctx: Context, plan: Plan, cfg) -> dict:
    w, spark, timer = cfg.walks, ctx.spark, ctx.timer
    out = plan.outputs
    with timer.step("graph"):
        edges, vertices, weighted, directed, source = _inputs(ctx, plan, w)
        clean, rejected = clean_edges(
            edges, vertices, weighted=weighted, directed=directed, source=source
        )
        if vertices is not None:
            rejected = rejected.unionByName(isolated_vertices(vertices, clean, source))
        # Each is read several times below: computed once.
        clean = clean.persist(StorageLevel.MEMORY_AND_DISK)
        index = vertex_index(clean).persist(StorageLevel.MEMORY_AND_DISK)
        g = graph_stats(clean, index, directed=directed)
        n, out_edges = g["vertices"], g["out_edges"]
        if n == 0:
            hint = reasons_text(reason_counts(rejected))
            raise SparkembedError(
                f"{source}: no edges to walk (the edge list is empty, or every edge "
                "was set aside: see the rejected rows' reasons)" + (f" ({hint})" if hint else "")
            )
        edges_read = edges.count()
    plan.engine = choose_engine(w, out["graph"], g, weighted)
    ctx.log("walks", f"{n:,} vertices, {out_edges:,} out-edges; engine {plan.engine}")
    walk = ENGINES[plan.engine]
    log = None if ctx.quiet else (lambda m: ctx.log("walks", m))
    with ctx.commit(plan) as commit:
        with timer.step("walk"):  # the adjacency is the walks' input, in their layout
            commit.write_df(
                "graph",
                out["graph"],
                adjacency(clean, index, directed=directed, weighted=weighted),
                counts={"vertices": n, "out_edges": out_edges},
                extra={"directed": directed, "weighted": weighted},
            )
            index.unpersist()
            graph_path = commit.staged("graph")
            tokens_meta, vocab = walk(commit, graph_path, g, w, out["tokens"], log)
        with timer.step("vocab"):
            commit.write_df("vocab", out["vocab"], vocab)
            n_vocab = spark.read.parquet(commit.staged("vocab")).count()
            commit.add_counts("vocab", {"vocab": n_vocab})
        with timer.step("rejected"):
            commit.write_df("rejected", out["rejected"], rejected.coalesce(1))
            reasons = reason_counts(spark.read.parquet(commit.staged("rejected")))
            commit.add_counts("rejected", reasons)
        clean.unpersist()
    counts = tokens_meta["counts"]
    n_edges = out_edges if directed else out_edges // 2
    set_aside = reasons["rejected"] - reasons["isolated vertex"]
    if reasons["rejected"] and not ctx.quiet:
        detail = reasons_text(reasons)
        print(f"[walks] set aside in {out['rejected']}: {detail}", file=sys.stderr)
    return {
        "edges read": edges_read,
        "merged": edges_read - set_aside - n_edges,
        "vertices": n,
        "edges": n_edges,
        "walks": counts["walks"],
        "steps": counts["steps"],
        "vocab": n_vocab,
        "rejected": reasons["rejected"],
        "engine": plan.engine,
    }


def choose_engine(w, graph_path: str, g: dict, weighted: bool) -> str:
    """``none`` when no walks are asked for (``walks_per_node`` 0); else ``w.engine``, or
    for ``auto``: replicated while the graph (``graph_stats``) fits ``replicated_max_mb``
    in a Python worker and pyarrow reaches ``graph_path``, else partitioned."""
    if w.walks_per_node == 0:
        return "none"
    reachable = arrow_location(graph_path) is not None
    if w.engine == "replicated":
        if not reachable:
            raise SparkembedError(
                f"the replicated engine reads the graph with pyarrow, which cannot reach "
                f"{graph_path}; use --engine partitioned"
            )
        return "replicated"
    if w.engine == "partitioned":
        return "partitioned"
    size = replicated_bytes(g["vertices"], g["out_edges"], weighted, g["id_bytes"])
    return "replicated" if size <= w.replicated_max_mb << 20 and reachable else "partitioned"


# The two engines, one signature: (commit, staged graph path, graph_stats, walks config,
# tokens path, progress log) -> (the tokens table's metadata, the vocabulary DataFrame).


def _replicated(commit, graph_path: str, g: dict, w, path: str, _log):
    """Tasks write the walks into the tokens table's staging themselves and return the
    visit counts from the same pass: the steps and the vocabulary, without reading the
    walks again."""
    from sparkembed.session import task_slots

    spark = commit.spark
    walks = g["starts"] * w.walks_per_node
    parts = w.partitions or max(
        2 * task_slots(spark), math.ceil(walks * w.walk_length / STEPS_PER_TASK)
    )
    visits = []  # the write's visit counts, for the vocabulary once the write is done

    def write(staging: str) -> dict:
        partial = replicated_to_files(
            spark, graph_path, g["vertices"], w, min(parts, g["vertices"]), staging
        )
        counts = partial.groupBy("vertex").agg(
            F.sum("count").alias("count"), F.sum("doc_count").alias("doc_count")
        )
        visits.append(counts.persist(StorageLevel.MEMORY_AND_DISK))
        total = visits[0].agg(F.sum("count").alias("visits")).first()["visits"] or 0
        return {"walks": walks, "steps": int(total) - walks}

    schema = spark.createDataFrame([], TOKENS).schema
    meta = commit.write_with("tokens", path, write, schema=schema)
    words = spark.read.parquet(graph_path).select("vertex", F.col("id").alias("token"))
    return meta, rank_vocab(visits[0].join(words, "vertex").select("token", "count", "doc_count"))


def _partitioned(commit, graph_path: str, _g: dict, w, path: str, log):
    """Spark writes the walks; one pass over their files counts the steps and the
    vocabulary."""
    spark = commit.spark
    parts = w.partitions or int(spark.conf.get("spark.sql.shuffle.partitions"))
    adj = spark.read.parquet(graph_path)
    tokens = partitioned_walks(spark, adj, w, commit.scratch(path, "walks"), parts, log)
    commit.write_df("tokens", path, tokens)
    staged = commit.staged("tokens")
    counts, vocab_counts = count_walks(spark, staged)
    meta = commit.add_counts("tokens", counts)
    if vocab_counts is None:
        return meta, build_vocab(spark.read.parquet(staged))
    return meta, vocab_from_counts(spark, vocab_counts, folder=commit.scratch(path, "counts"))


def _no_walks(commit, graph_path: str, _g: dict, _w, path: str, _log):
    """No walks (``walks_per_node`` 0, for ``train --method prone``): an empty tokens
    table, and every vertex in the vocabulary, counted by its out-edges."""
    spark = commit.spark
    # From an RDD without partitions: no task runs, so no Python worker starts (a
    # DataFrame of an empty list costs seconds of worker start on a small graph).
    empty = spark.createDataFrame(spark.sparkContext.emptyRDD(), TOKENS)
    meta = commit.write_df("tokens", path, empty, counts={"walks": 0, "steps": 0})
    vertices = spark.read.parquet(graph_path).select(
        F.col("id").alias("token"),
        F.size("neighbors").cast("long").alias("count"),
        F.lit(0).cast("long").alias("doc_count"),
    )
    return meta, rank_vocab(vertices)


ENGINES = {"replicated": _replicated, "partitioned": _partitioned, "none": _no_walks}


def count_walks(spark, path: str):
    """``({"walks", "steps"}, vocabulary counts)`` of the walks table at ``path``, from the
    pass over its files that counts the vocabulary; where that pass cannot run (pyarrow
    cannot reach the files, or a start vertex's walks span two files), the counts from a
    Spark aggregate and None."""
    result = count_file_vocab(spark, path) if file_vocab_supported(path) else None
    if result is not None:
        vocab_counts, table = result
        walks, visits = table["sentences"], table["tokens"]
    else:
        vocab_counts = None
        row = (
            spark.read.parquet(path)
            .agg(
                F.count(F.lit(1)).alias("walks"),
                F.coalesce(F.sum(F.size("tokens")), F.lit(0)).alias("visits"),
            )
            .first()
        )
        walks, visits = row["walks"], row["visits"]
    return {"walks": int(walks), "steps": int(visits - walks)}, vocab_counts
