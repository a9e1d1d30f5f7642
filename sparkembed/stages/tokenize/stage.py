"""``sparkembed tokenize INPUT... --output DIR``: DIR/tokens, DIR/vocab, DIR/rejected.

The three tables are one commit: a run killed at any point leaves the previous three (or
none), never new tokens beside an old vocabulary.
"""

from __future__ import annotations

import dataclasses
import glob
import sys

import pyarrow.compute as pc
from pyspark import StorageLevel
from pyspark.sql import functions as F

from sparkembed import schemas
from sparkembed.stage import Context, Plan
from sparkembed.stages.tokenize import token_files
from sparkembed.stages.tokenize.readers import (
    check_inputs_exist,
    list_inputs,
    read_errors_as_sparkembed,
    read_records,
    split_records,
)
from sparkembed.stages.tokenize.tokens import tokenize_documents
from sparkembed.vocabulary import build_vocab
from sparkembed.vocabulary.files import (
    count_file_vocab,
    file_vocab_supported,
    vocab_from_counts,
)

def add_arguments(p) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files, directories or globs")
    p.add_argument("--output", required=True, metavar="DIR", help="work directory")


def plan(args, cfg) -> Plan:
    check_inputs_exist(args.inputs)
    out = args.output.rstrip("/")
    # Local globs expanded: the fingerprints (and so `run`) see the files themselves.
    files = [m for item in args.inputs for m in (sorted(glob.glob(item)) or [item])]
    return Plan(
        inputs={f"input{i}": p for i, p in enumerate(files)},
        outputs={t: f"{out}/{t}" for t in ("tokens", "vocab", "rejected")},
        params={"tokenize": dataclasses.asdict(cfg.tokenize)},
    )


def run(ctx: Context, plan: Plan, cfg) -> dict:
    t, spark, timer = cfg.tokenize, ctx.spark, ctx.timer
    inputs = list(plan.inputs.values())
    out = plan.outputs
    if token_files.supported(spark, out["tokens"], t):
        return _run_one_pass(ctx, plan, cfg)
    with read_errors_as_sparkembed(), ctx.commit(plan) as commit:
        with timer.step("read"):
            # One scan feeds tokens, rejected and the counts: keep it.
            records = read_records(spark, inputs, t).persist(StorageLevel.MEMORY_AND_DISK)
            status = {
                r["status"]: r["n"]
                for r in records.groupBy("status").agg(F.count("*").alias("n")).collect()
            }
        documents, rejected = split_records(records)
        # The file path counts the vocabulary in the same pass as the statistics.
        file_counts: dict = {}
        with timer.step("tokens"):
            use_files = file_vocab_supported(out["tokens"])
            tok_meta = commit.write_df(
                "tokens",
                out["tokens"],
                tokenize_documents(documents, t),
                counts=_token_counts(spark, file_counts if use_files else None),
            )
        with timer.step("rejected"):
            # Known from the status counts above: no second read of the records.
            n_rejected = int(status.get("rejected", 0))
            commit.write_df(
                "rejected", out["rejected"], rejected.coalesce(1), counts={"rejected": n_rejected}
            )
        records.unpersist()
        with timer.step("vocab"):
            if file_counts.get("vocab") is not None:
                vocab = vocab_from_counts(spark, file_counts["vocab"], t.min_count, t.max_vocab)
            else:
                vocab = build_vocab(
                    spark.read.parquet(commit.staged("tokens")), t.min_count, t.max_vocab
                )
            vocab_meta = commit.write_df(
                "vocab",
                out["vocab"],
                vocab,
                counts={"vocab": lambda p: spark.read.parquet(p).count()},
            )
    counts = tok_meta["counts"]
    summary = {
        "documents": int(counts["documents"]),
        "sentences": int(counts["sentences"]),
        "tokens": int(counts["tokens"]),
        "vocab": int(vocab_meta["counts"]["vocab"]),
        "rejected": n_rejected,
        "skipped": int(status.get("skipped", 0)),
    }
    if n_rejected and not ctx.quiet:
        print(f"[tokenize] {n_rejected:,} records set aside in {out['rejected']}", file=sys.stderr)
    return summary


def _run_one_pass(ctx: Context, plan: Plan, cfg) -> dict:
    """The java engine with a pyarrow-reachable output: the input is read once, by the job
    that writes the token files (token_files.py) and returns the vocabulary counts, the
    rejected records and the skipped count."""
    t, spark, timer = cfg.tokenize, ctx.spark, ctx.timer
    out = plan.outputs
    found: dict = {}
    with read_errors_as_sparkembed(), ctx.commit(plan) as commit:
        with timer.step("read"):  # listing and planning; the reading is in "tokens"
            inputs = list(plan.inputs.values())
            line_scans: list = []  # plain-text lines: read by the writing tasks in the JVM
            records = read_records(spark, inputs, t, line_scans)
            # Ids made from file name and position are unique; page ids and id fields are
            # checked across tasks (a row per document).
            formats = {f.format for f in list_inputs(spark, inputs, t.format)}
            check_ids = "wiki" in formats or bool(t.id_field and formats & {"jsonl", "parquet"})

        def write(staging: str) -> None:
            found["parts"] = token_files.write_tokens_table(
                spark, records, t, staging, check_ids, line_scans
            )
            found["summary"] = token_files.summarise(found["parts"], check_ids)

        with timer.step("tokens"):
            fallback = _token_counts(spark)

            def stat(key: str):
                def get(path: str) -> int:
                    summary = found["summary"]
                    return summary[1][key] if summary else fallback[key](path)

                return get

            tok_meta = commit.write_with(
                "tokens",
                out["tokens"],
                write,
                schema=spark.createDataFrame([], schemas.TOKENS).schema,
                counts={k: stat(k) for k in ("sentences", "tokens", "documents")},
            )
        parts = found["parts"]
        with timer.step("rejected"):
            row = parts.agg(
                F.count("reason").alias("rejected"),
                F.coalesce(F.sum("skipped"), F.lit(0)).alias("skipped"),
            ).first()
            rejected, n_long = token_files.rejected_table(parts, t)
            n_rejected = int(row["rejected"]) + n_long
            commit.write_df(
                "rejected", out["rejected"], rejected.coalesce(1), counts={"rejected": n_rejected}
            )
        parts.unpersist()
        with timer.step("vocab"):
            n_vocab = lambda p: spark.read.parquet(p).count()  # noqa: E731
            if found["summary"] is not None:
                counts = found["summary"][0]
                vocab = vocab_from_counts(spark, counts, t.min_count, t.max_vocab)
                # Known on the driver (rank_vocab's filters): no read of the written table.
                kept = pc.sum(pc.greater_equal(counts.column("count"), t.min_count)).as_py()
                n_vocab = min(kept or 0, t.max_vocab) if t.max_vocab > 0 else (kept or 0)
            else:  # a doc_id in two tasks' files: counted again in Spark
                vocab = build_vocab(
                    spark.read.parquet(commit.staged("tokens")), t.min_count, t.max_vocab
                )
            vocab_meta = commit.write_df("vocab", out["vocab"], vocab, counts={"vocab": n_vocab})
    counts = tok_meta["counts"]
    if n_rejected and not ctx.quiet:
        print(f"[tokenize] {n_rejected:,} records set aside in {out['rejected']}", file=sys.stderr)
    return {
        "documents": int(counts["documents"]),
        "sentences": int(counts["sentences"]),
        "tokens": int(counts["tokens"]),
        "vocab": int(vocab_meta["counts"]["vocab"]),
        "rejected": n_rejected,
        "skipped": int(row["skipped"]),
    }


def _token_counts(spark, file_counts: dict | None = None) -> dict:
    """Commit counts of the written token table, all three from one pass over it.

    With ``file_counts`` (a dict), that pass is the vocab's file path and leaves the token
    counts in ``file_counts["vocab"]``; it falls back to Spark when it cannot be used.
    """
    cache: dict[str, dict[str, int]] = {}
    keys = ("sentences", "tokens", "documents")

    def stats(path: str) -> dict[str, int]:
        if path not in cache and file_counts is not None:
            result = count_file_vocab(spark, path)
            if result is not None:
                file_counts["vocab"], cache[path] = result
        if path not in cache:
            row = (
                spark.read.parquet(path)
                .agg(
                    F.count(F.lit(1)).alias("sentences"),
                    F.coalesce(F.sum(F.size("tokens")), F.lit(0)).alias("tokens"),
                    F.count_distinct("doc_id").alias("documents"),
                )
                .first()
            )
            cache[path] = {k: int(row[k]) for k in keys}
        return cache[path]

    return {k: (lambda path, k=k: stats(path)[k]) for k in keys}
