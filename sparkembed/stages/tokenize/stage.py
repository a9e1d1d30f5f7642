"""``sparkembed tokenize INPUT... --output DIR``: DIR/tokens, DIR/vocab, DIR/rejected.

The three tables are one commit: a run killed at any point leaves the previous three (or
none), never new tokens beside an old vocabulary.

Two engines write the tokens, with the same tables (``Plan.engine``): ``files``, the java
tokenizer in the tasks that write the token files with pyarrow, so that one job reads the
input for all three tables (token_files.py); and ``dataframe``, records and tokens as Spark
DataFrames, for the Spark SQL engine or an output pyarrow cannot reach.
"""

from __future__ import annotations

import dataclasses
import glob
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkembed import schemas
from sparkembed.arrowio import arrow_location
from sparkembed.jvm import udfs
from sparkembed.stage import Context, Plan
from sparkembed.stages.tokenize import token_files
from sparkembed.stages.tokenize.inputs import check_inputs_exist
from sparkembed.stages.tokenize.readers import (
    plan_reading,
    read_errors_as_sparkembed,
    read_records,
    split_records,
)
from sparkembed.stages.tokenize.tokens import (
    check_token_lengths,
    token_table_stats,
    tokenize_documents,
    written_token_counts,
)
from sparkembed.vocabulary import build_vocab
from sparkembed.vocabulary.files import vocab_from_counts

FILES, DATAFRAME = "files", "dataframe"


@dataclass
class _Tokens:
    """What an engine leaves to the steps both share: rejected, vocab, the summary."""

    counts: dict[str, int]  # the token table's: sentences, tokens, documents
    token_counts: pa.Table | None  # every token's count, doc_count; None: count the table
    rejected: DataFrame  # source, reason, excerpt
    n_rejected: int
    skipped: int
    cached: DataFrame  # persisted for the rejected table, released once it is written


def add_arguments(p) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files, directories or globs")
    p.add_argument("--output", required=True, metavar="DIR", help="work directory")


def plan(args, cfg) -> Plan:
    check_inputs_exist(args.inputs)
    out = args.output.rstrip("/")
    # Local globs expanded: the fingerprints (and so `run`) see the files themselves.
    files = [m for item in args.inputs for m in (sorted(glob.glob(item)) or [item])]
    outputs = {t: f"{out}/{t}" for t in ("tokens", "vocab", "rejected")}
    check_token_lengths(cfg.tokenize)
    # The files engine needs the java tokenizer and an output that pyarrow, in the tasks,
    # can write to; run() falls back to the dataframe engine if "auto" finds no JAR.
    reachable = arrow_location(outputs["tokens"]) is not None
    return Plan(
        inputs={f"input{i}": p for i, p in enumerate(files)},
        outputs=outputs,
        params={"tokenize": dataclasses.asdict(cfg.tokenize)},
        engine=FILES if cfg.tokenize.engine != "sql" and reachable else DATAFRAME,
    )


def run(ctx: Context, plan: Plan, cfg) -> dict:
    # Whether the UDF JAR is on the class path (tokenize.engine "auto") is known only to the
    # running session: the UDF engine is resolved here, once, and passed down in the config.
    t = dataclasses.replace(
        cfg.tokenize, engine=udfs.resolve_engine(ctx.spark, cfg.tokenize.engine)
    )
    if t.engine == "sql":
        plan = dataclasses.replace(plan, engine=DATAFRAME)
    write_tokens = _write_token_files if plan.engine == FILES else _write_token_dataframe
    out = plan.outputs
    with read_errors_as_sparkembed(), ctx.commit(plan) as commit:
        tokens = write_tokens(ctx, commit, plan, t)
        with ctx.timer.step("rejected"):
            rejected = tokens.rejected.coalesce(1)
            commit.write_df(
                "rejected", out["rejected"], rejected, counts={"rejected": tokens.n_rejected}
            )
        tokens.cached.unpersist()
        with ctx.timer.step("vocab"):
            n_vocab = _write_vocab(ctx.spark, commit, t, out["vocab"], tokens.token_counts)
    if tokens.n_rejected:
        ctx.log("tokenize", f"{tokens.n_rejected:,} records set aside in {out['rejected']}")
    return {
        **{k: tokens.counts[k] for k in ("documents", "sentences", "tokens")},
        "vocab": n_vocab,
        "rejected": tokens.n_rejected,
        "skipped": tokens.skipped,
    }


def _write_token_files(ctx: Context, commit, plan: Plan, t) -> _Tokens:
    """The files engine: the job that writes the token files reads the input and returns
    the vocabulary counts, the rejected records and the skipped count (token_files.py)."""
    spark = ctx.spark
    with ctx.timer.step("read"):  # listing and planning; the reading is in "tokens"
        reading = plan_reading(spark, list(plan.inputs.values()), t, lines_apart=True)
        # Ids made from file name and position are unique; page ids and id fields are
        # checked across tasks (a row per document).
        id_formats = {"wiki"} | ({"jsonl", "parquet"} if t.id_field else set())
        check_ids = bool(reading.formats & id_formats)
    with ctx.timer.step("tokens"):
        parts = summary = None

        def write(staging: str) -> dict | None:
            nonlocal parts, summary
            parts = token_files.write_tokens_table(
                spark, reading.records, t, staging, check_ids, reading.lines
            )
            summary = token_files.summarise(parts, check_ids)
            return summary and summary[1]

        schema = spark.createDataFrame([], schemas.TOKENS).schema
        meta = commit.write_with("tokens", plan.outputs["tokens"], write, schema=schema)
        if summary is None:  # a doc_id in two tasks' files: counted again in Spark
            stats = token_table_stats(spark.read.parquet(commit.staged("tokens")))
            meta = commit.add_counts("tokens", stats)
        totals = parts.agg(
            F.count("reason").alias("rejected"),
            F.coalesce(F.sum("skipped"), F.lit(0)).alias("skipped"),
        ).first()
        rejected, n_long = token_files.rejected_table(parts, t)
    return _Tokens(
        counts=meta["counts"],
        token_counts=summary and summary[0],
        rejected=rejected,
        n_rejected=int(totals["rejected"]) + n_long,
        skipped=int(totals["skipped"]),
        cached=parts,
    )


def _write_token_dataframe(ctx: Context, commit, plan: Plan, t) -> _Tokens:
    """The dataframe engine: records and tokens as Spark DataFrames; the token table's
    counts (and the vocabulary's, when pyarrow reaches it) from one pass over it."""
    spark = ctx.spark
    with ctx.timer.step("read"):
        # One scan feeds tokens, rejected and the counts: keep it.
        records = read_records(spark, list(plan.inputs.values()), t)
        records = records.persist(StorageLevel.MEMORY_AND_DISK)
        by_status = records.groupBy("status").agg(F.count("*").alias("n")).collect()
        status = {r["status"]: int(r["n"]) for r in by_status}
    documents, rejected = split_records(records)
    with ctx.timer.step("tokens"):
        commit.write_df("tokens", plan.outputs["tokens"], tokenize_documents(documents, t))
        token_counts, stats = written_token_counts(spark, commit.staged("tokens"))
        commit.add_counts("tokens", stats)
    return _Tokens(
        counts=stats,
        token_counts=token_counts,
        rejected=rejected,
        n_rejected=status.get("rejected", 0),
        skipped=status.get("skipped", 0),
        cached=records,
    )


def _write_vocab(spark, commit, t, path: str, token_counts: pa.Table | None) -> int:
    """The vocab table, from the engine's token counts or else from the staged token table;
    returns its size."""
    if token_counts is None:
        tokens = spark.read.parquet(commit.staged("tokens"))
        commit.write_df("vocab", path, build_vocab(tokens, t.min_count, t.max_vocab))
        n_vocab = spark.read.parquet(commit.staged("vocab")).count()
        commit.add_counts("vocab", {"vocab": n_vocab})
        return n_vocab
    folder = commit.scratch(path, "counts")  # the counts as Parquet, not inside the tasks
    vocab = vocab_from_counts(spark, token_counts, t.min_count, t.max_vocab, folder)
    # Known on the driver (rank_vocab's filters): no read of the written table.
    kept = pc.sum(pc.greater_equal(token_counts.column("count"), t.min_count)).as_py() or 0
    n_vocab = min(kept, t.max_vocab) if t.max_vocab > 0 else kept
    commit.write_df("vocab", path, vocab, counts={"vocab": n_vocab})
    return n_vocab
