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
    REJECTED_ORDER,
    adjacency,
    clean_edges,
    cooccurrence_edges,
    edge_list_format,
    isolated_vertices,
    read_edge_list,
    vertex_index,
)
from sparkembed.tables import filesystem, read_table
from sparkembed.vocabulary import build_vocab, rank_vocab
from sparkembed.vocabulary.files import count_file_vocab, file_vocab_supported, vocab_from_counts

STEPS_PER_TASK = 4_000_000  # replicated engine: walk steps a task takes on


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
    from sparkembed.session import task_slots
    w, spark, timer = cfg.walks, ctx.spark, ctx.timer
    out = plan.outputs
    with ctx.commit(plan) as commit:
        with timer.step("graph"):
            edges, vertices, weighted, directed, source = _inputs(ctx, plan, w)
            clean, rejected = clean_edges(
                edges, vertices, weighted=weighted, directed=directed, source=source
            )
            if vertices is not None:
                rejected = rejected.unionByName(isolated_vertices(vertices, clean, source))
            graph_stats: dict = {}

            def stat(key: str):
                def read(path: str):
                    if not graph_stats:
                        graph_stats.update(_graph_stats(spark.read.parquet(path)))
                    return graph_stats[key]

                return read

            # Each is read several times below: computed once.
            clean = clean.persist(StorageLevel.MEMORY_AND_DISK)
            index = vertex_index(clean).persist(StorageLevel.MEMORY_AND_DISK)
            graph = adjacency(clean, index, directed=directed, weighted=weighted)
            commit.write_df(
                "graph",
                out["graph"],
                graph,
                counts={k: stat(k) for k in ("vertices", "out_edges")},
                extra={"directed": directed, "weighted": weighted},
            )
            graph_path = commit.staged("graph")
            index.unpersist()
            adj = spark.read.parquet(graph_path)
            edges_read = edges.count()
            g = graph_stats
            n, out_edges = int(g["vertices"]), int(g["out_edges"])
            if n == 0:
                raise SparkembedError(
                    f"{source}: no edges to walk (the edge list is empty, or every edge "
                    "was set aside: see the rejected rows' reasons)" + _reasons_hint(rejected)
                )
        engine = choose_engine(w, graph_path, n, out_edges, weighted, int(g["id_bytes"]))
        ctx.log("walks", f"{n:,} vertices, {out_edges:,} out-edges; engine {engine}")
        steps_total = int(g["starts"]) * w.walks_per_node * w.walk_length
        with timer.step("walk"):
            if engine == "replicated":
                parts = w.partitions or max(
                    2 * task_slots(spark), math.ceil(steps_total / STEPS_PER_TASK)
                )
                tokens_meta, vocab = _replicated(
                    commit, adj, graph_path, g, w, min(parts, n), out["tokens"]
                )
            else:
                parts = w.partitions or int(spark.conf.get("spark.sql.shuffle.partitions"))
                log = None if ctx.quiet else (lambda m: ctx.log("walks", m))
                scratch = commit.scratch(out["tokens"], "walks")
                tokens = partitioned_walks(spark, adj, w, scratch, parts, log)
                file_counts: dict = {}
                tokens_meta = commit.write_df(
                    "tokens",
                    out["tokens"],
                    tokens,
                    counts=_walk_counts(spark, file_counts),
                    extra={"engine": engine},
                )
                if file_counts.get("vocab") is not None:
                    vocab = vocab_from_counts(spark, file_counts["vocab"])
                else:
                    vocab = build_vocab(spark.read.parquet(commit.staged("tokens")))
        with timer.step("vocab"):
            vocab_meta = commit.write_df(
                "vocab",
                out["vocab"],
                vocab,
                counts={"vocab": lambda p: spark.read.parquet(p).count()},
            )
        with timer.step("rejected"):
            rej_meta = commit.write_df(
                "rejected", out["rejected"], rejected.coalesce(1), counts=_reason_counts(spark)
            )
        clean.unpersist()
    counts = tokens_meta["counts"]
    reasons = rej_meta["counts"]
    n_edges = out_edges if directed else out_edges // 2
    set_aside = reasons["rejected"] - reasons["isolated vertex"]
    summary = {
        "edges read": edges_read,
        "merged": edges_read - set_aside - n_edges,
        "vertices": n,
        "edges": n_edges,
        "walks": counts["walks"],
        "steps": counts["steps"],
        "vocab": vocab_meta["counts"]["vocab"],
        "rejected": reasons["rejected"],
        "engine": engine,
    }
    if reasons["rejected"] and not ctx.quiet:
        detail = ", ".join(f"{reasons[r]:,} {r}" for r in REJECTED_ORDER if reasons.get(r))
        print(f"[walks] set aside in {out['rejected']}: {detail}", file=sys.stderr)
    return summary


def choose_engine(w, graph_path: str, n: int, out_edges: int, weighted: bool, id_bytes: int):
    """``w.engine``, or for ``auto``: replicated while the graph fits ``replicated_max_mb`` in
    a Python worker and pyarrow reaches its file, else partitioned."""
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
    fits = replicated_bytes(n, out_edges, weighted, id_bytes) <= w.replicated_max_mb << 20
    return "replicated" if fits and reachable else "partitioned"


def _graph_stats(graph) -> dict:
    row = graph.agg(
        F.count(F.lit(1)).alias("vertices"),
        F.coalesce(F.sum(F.size("neighbors")), F.lit(0)).alias("out_edges"),
        F.count_if(F.size("neighbors") > 0).alias("starts"),
        F.coalesce(F.sum(F.length("id")), F.lit(0)).alias("id_bytes"),
    ).first()
    return {k: int(row[k]) for k in ("vertices", "out_edges", "starts", "id_bytes")}


def _replicated(commit, adj, graph_path: str, g: dict, w, parts: int, path: str):
    """The replicated engine's walks, written by its tasks into the tokens table's staging,
    and the vocabulary from the visit counts they return (same pass)."""
    from pyspark import StorageLevel

    spark = adj.sparkSession
    starts = g["starts"]
    visits: list = []

    def write(staging: str) -> None:
        partial = replicated_to_files(spark, graph_path, g["vertices"], w, parts, staging)
        counts = partial.groupBy("vertex").agg(
            F.sum("count").alias("count"), F.sum("doc_count").alias("doc_count")
        )
        visits.append(counts.persist(StorageLevel.MEMORY_AND_DISK))
        row = visits[0].agg(F.sum("count").alias("visits")).first()
        visits.append(int(row["visits"] or 0))

    meta = commit.write_with(
        "tokens",
        path,
        write,
        schema=spark.createDataFrame([], TOKENS).schema,
        counts={
            "walks": starts * w.walks_per_node,
            "steps": lambda _p: visits[1] - starts * w.walks_per_node,
        },
        extra={"engine": "replicated"},
    )
    words = adj.select("vertex", F.col("id").alias("token"))
    vocab = rank_vocab(visits[0].join(words, "vertex").select("token", "count", "doc_count"))
    return meta, vocab


def _walk_counts(spark, file_counts: dict) -> dict:
    """Commit counts ``walks`` and ``steps`` of the written walks, from the pass over its
    files that also counts the vocabulary (left in ``file_counts["vocab"]``); a Spark
    aggregate where that pass cannot run."""
    stats: dict = {}

    def get(key: str):
        def read(path: str):
            if not stats:
                result = count_file_vocab(spark, path) if file_vocab_supported(path) else None
                if result is not None:
                    file_counts["vocab"], table = result
                    walks, visits = table["sentences"], table["tokens"]
                else:
                    row = (
                        spark.read.parquet(path)
                        .agg(
                            F.count(F.lit(1)).alias("walks"),
                            F.coalesce(F.sum(F.size("tokens")), F.lit(0)).alias("visits"),
                        )
                        .first()
                    )
                    walks, visits = row["walks"], row["visits"]
                stats.update(walks=int(walks), steps=int(visits - walks))
            return stats[key]

        return read

    return {"walks": get("walks"), "steps": get("steps")}


def _reason_counts(spark) -> dict:
    stats: dict = {}

    def get(key: str):
        def read(path: str):
            if not stats:
                rows = spark.read.parquet(path).groupBy("reason").count().collect()
                stats.update({r["reason"]: int(r["count"]) for r in rows})
                stats["rejected"] = sum(int(r["count"]) for r in rows)
            return stats.get(key, 0)

        return read

    return {k: get(k) for k in ("rejected", *REJECTED_ORDER)}


def _reasons_hint(rejected) -> str:
    rows = rejected.groupBy("reason").count().collect()
    if not rows:
        return ""
    return " (" + ", ".join(f"{r['count']:,} {r['reason']}" for r in rows) + ")"
