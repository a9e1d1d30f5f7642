"""``sparkembed tokenize INPUT... --output DIR``: DIR/tokens, DIR/vocab, DIR/rejected."""

from __future__ import annotations

import dataclasses
import sys

from pyspark import StorageLevel
from pyspark.sql import functions as F

from sparkembed.corpus.readers import (
    check_inputs_exist,
    read_errors_as_sparkembed,
    read_records,
    split_records,
)
from sparkembed.progress import StageTimer
from sparkembed.session import get_spark
from sparkembed.tables import fingerprint, publish, read_table
from sparkembed.tokenize import tokenize_documents
from sparkembed.vocab import build_vocab
from sparkembed.vocab_files import count_file_vocab, file_vocab_supported, vocab_from_counts


def _apply_flags(args, cfg) -> None:
    t = cfg.tokenize
    for flag, key in (
        ("format", "format"),
        ("lang", "lang"),
        ("min_count", "min_count"),
        ("max_vocab", "max_vocab"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            setattr(t, key, value)


def run(args, cfg) -> int:
    _apply_flags(args, cfg)
    t = cfg.tokenize
    check_inputs_exist(args.inputs)  # before Spark starts
    out = args.output.rstrip("/")
    timer = StageTimer("tokenize", quiet=args.quiet)
    spark = get_spark(cfg.spark)
    params = dataclasses.asdict(t)
    inputs = [fingerprint(spark, p) for p in _expanded(spark, args.inputs)]
    with read_errors_as_sparkembed():
        with timer.step("read"):
            # One scan feeds tokens, rejected and the counts: keep it.
            records = read_records(spark, args.inputs, t).persist(StorageLevel.MEMORY_AND_DISK)
            status = {
                r["status"]: r["n"]
                for r in records.groupBy("status").agg(F.count("*").alias("n")).collect()
            }
        documents, rejected = split_records(records)
        # The file path counts the vocabulary in the same pass as the statistics.
        file_counts: dict = {}
        with timer.step("tokens"):
            tok_meta = publish(
                tokenize_documents(documents, t),
                f"{out}/tokens",
                stage="tokenize",
                params=params,
                inputs=inputs,
                counts=_token_counts(spark, file_counts if file_vocab_supported(out) else None),
            )
        with timer.step("rejected"):
            rej_meta = publish(
                rejected.coalesce(1),
                f"{out}/rejected",
                stage="tokenize-rejected",
                params=params,
                inputs=inputs,
                # Known from the status counts above: no second read of the records.
                counts={"rejected": int(status.get("rejected", 0))},
            )
        records.unpersist()
    with timer.step("vocab"):
        if file_counts.get("vocab") is not None:
            vocab = vocab_from_counts(spark, file_counts["vocab"], t)
        else:
            vocab = build_vocab(read_table(spark, f"{out}/tokens", stage="tokenize"), t)
        vocab_meta = publish(
            vocab,
            f"{out}/vocab",
            stage="tokenize-vocab",
            params=params,
            inputs=inputs,
            counts={"vocab": lambda p: spark.read.parquet(p).count()},
        )
    counts = tok_meta["counts"]
    skipped = status.get("skipped", 0)
    summary = {
        "documents": int(counts["documents"]),
        "sentences": int(counts["sentences"]),
        "tokens": int(counts["tokens"]),
        "vocab": int(vocab_meta["counts"]["vocab"]),
        "rejected": int(rej_meta["counts"]["rejected"]),
        "skipped": int(skipped),
    }
    if summary["rejected"] and not args.quiet:
        print(
            f"[tokenize] {summary['rejected']:,} records set aside in {out}/rejected",
            file=sys.stderr,
        )
    print(timer.summary(summary))
    return 0


def _token_counts(spark, file_counts: dict | None = None) -> dict:
    """publish() counts of the written token table, all three from one pass over it.

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


def _expanded(spark, inputs: list[str]) -> list[str]:
    """Inputs for fingerprints: globs expanded to what they match."""
    jvm = spark.sparkContext._jvm
    hconf = spark.sparkContext._jsc.hadoopConfiguration()
    out = []
    for item in inputs:
        hpath = jvm.org.apache.hadoop.fs.Path(item)
        statuses = hpath.getFileSystem(hconf).globStatus(hpath) or []
        out.extend(str(s.getPath().toString()) for s in statuses)
    return out or list(inputs)
