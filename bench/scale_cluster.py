"""The scale run on a standalone cluster beside the same run in local mode: are the tables
the same? Writes ``<!-- bench:scale-cluster -->`` in docs/scale.md.

    scripts/cluster.sh start --workers 2 --cores 1 --memory 8g
    .venv/bin/python -m bench.scale --corpus .data/wiki100m --work .data/scale/100m-cluster \\
        --master spark://127.0.0.1:7077 --spark-conf spark.executor.memory=6g \\
        --stages tokenize,cooccur,train:svd,evaluate:svd
    scripts/cluster.sh stop
    .venv/bin/python -m bench.scale_cluster --local .data/scale/100m \\
        --cluster .data/scale/100m-cluster

Count tables (tokens, vocab, cooccurrence, marginals) must be identical: each side's rows
are summed as 64-bit hashes of all their columns (an order-free fingerprint of the multiset
of rows) and counted; where the fingerprints differ, the rows present on one side only are
counted by a full comparison. Vector tables are joined on the token and compared element by
element (the issue's bound: 1e-4). The memory split between driver and executors is the
cluster run's own section (``bench:scale-100M-cluster``), written by ``bench.scale``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pyspark.sql import functions as F

from bench.doc import load_average, machine
from bench.scale import DOC, git_commit, write_doc
from sparkembed.config import SparkConfig
from sparkembed.session import get_spark

COUNT_TABLES = {
    "tokens": ["doc_id", "title", "lang", "sentence", "tokens"],
    "vocab": ["id", "token", "count", "doc_count"],
    "cooccurrence": ["row", "col", "count"],
    "marginals": ["id", "count"],
}
VECTOR_TABLES = ["vectors-svd"]
VECTOR_BOUND = 1e-4


def fingerprint(frame, columns: list[str]) -> tuple[int, int]:
    """(rows, sum of the rows' 64-bit hashes): equal for equal multisets of rows."""
    row = frame.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.xxhash64(*columns).cast("decimal(38,0)")).alias("h"),
    ).first()
    return int(row["n"]), int(row["h"] or 0)


def one_sided_rows(a, b, columns: list[str]) -> tuple[int, int]:
    """Rows of ``a`` not in ``b`` and of ``b`` not in ``a`` (as multisets)."""
    a, b = a.select(*columns), b.select(*columns)
    return a.exceptAll(b).count(), b.exceptAll(a).count()


def compare_counts(spark, local: Path, cluster: Path) -> list[dict]:
    out = []
    for table, columns in COUNT_TABLES.items():
        a = spark.read.parquet(str(local / "tables" / table))
        b = spark.read.parquet(str(cluster / "tables" / table))
        fa, fb = fingerprint(a, columns), fingerprint(b, columns)
        row = {"table": table, "rows_local": fa[0], "rows_cluster": fb[0], "same": fa == fb}
        if fa != fb:
            row["only_local"], row["only_cluster"] = one_sided_rows(a, b, columns)
            row["same"] = row["only_local"] == row["only_cluster"] == 0
        out.append(row)
        print(f"[scale-cluster] {table}: {row}", flush=True)
    return out


def compare_vectors(spark, local: Path, cluster: Path) -> list[dict]:
    out = []
    for table in VECTOR_TABLES:
        a = spark.read.parquet(str(local / "tables" / table)).select(
            "token", F.col("vector").alias("a")
        )
        b = spark.read.parquet(str(cluster / "tables" / table)).select(
            "token", F.col("vector").alias("b")
        )
        joined = a.join(b, "token", "full_outer")
        diff = F.array_max(F.zip_with("a", "b", lambda x, y: F.abs(x - y)))
        row = (
            joined.agg(
                F.count(F.lit(1)).alias("tokens"),
                F.sum(F.when(F.col("a").isNull() | F.col("b").isNull(), 1).otherwise(0)).alias(
                    "unmatched"
                ),
                F.max(diff).alias("max_abs_diff"),
                F.sum(F.when(diff > VECTOR_BOUND, 1).otherwise(0)).alias("over_bound"),
            )
            .first()
            .asDict()
        )
        row = {"table": table, **row, "same": row["unmatched"] == 0 and row["over_bound"] == 0}
        out.append(row)
        print(f"[scale-cluster] {table}: {row}", flush=True)
    return out


def results(work: Path) -> dict[str, dict]:
    """The last measured record of each step in ``work``'s results.jsonl."""
    records = {}
    for line in (work / "results.jsonl").read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            records[record["step"]] = record
    return records


def render(counts: list[dict], vectors: list[dict], local: Path, cluster: Path) -> str:
    ok = all(r["same"] for r in counts + vectors)
    lines = [
        "### The same run on a standalone cluster",
        "",
        f"`{cluster.name}` (`scripts/cluster.sh`, spark-submit-free client mode: the driver "
        f"here, executors started by the cluster's workers) beside `{local.name}` (local mode) "
        f"on the same corpus: **{'the same tables' if ok else 'the tables differ'}**.",
        "",
        "| table | rows, local | rows, cluster | same |",
        "|---|---:|---:|---|",
    ]
    for r in counts:
        extra = (
            ""
            if r["same"]
            else f" ({r['only_local']:,} rows only local, {r['only_cluster']:,} only cluster)"
        )
        lines.append(
            f"| {r['table']} | {r['rows_local']:,} | {r['rows_cluster']:,} | "
            f"{'identical' if r['same'] else 'no'}{extra} |"
        )
    for r in vectors:
        lines.append(
            f"| {r['table']} | {r['tokens']:,} tokens | {r['tokens'] - r['unmatched']:,} matched | "
            f"max abs difference {r['max_abs_diff']:.2e}; {r['over_bound']:,} tokens over {VECTOR_BOUND:g} |"
        )
    walls = []
    a, b = results(local), results(cluster)
    for step in b:
        if step in a:
            walls.append(
                f"{step} {a[step]['wall_s']:.0f} s local, {b[step]['wall_s']:.0f} s cluster"
            )
    lines += [
        "",
        "Counts are compared as multisets of rows (row count and the sum of each row's 64-bit "
        "hash; the full difference when those disagree); vectors element by element after a "
        "join on the token. Wall time: " + "; ".join(walls) + ".",
        "",
        f"Machine: {machine()}; load average {load_average()} after the comparison; sparkembed "
        f"at {git_commit()}. Reproduce: the commands at the top of `bench/scale_cluster.py`.",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.scale_cluster", description=__doc__.split("\n")[0]
    )
    p.add_argument("--local", type=Path, required=True, help="the local-mode work folder")
    p.add_argument("--cluster", type=Path, required=True, help="the cluster run's work folder")
    p.add_argument("--no-doc", action="store_true", help="print the section instead")
    args = p.parse_args(argv)
    spark = get_spark(SparkConfig(master="local[2]", driver_memory="4g"))
    counts = compare_counts(spark, args.local.resolve(), args.cluster.resolve())
    vectors = compare_vectors(spark, args.local.resolve(), args.cluster.resolve())
    md = render(counts, vectors, args.local.resolve(), args.cluster.resolve())
    if args.no_doc:
        print(md)
    else:
        write_doc("scale-cluster", md)
        print(f"[scale-cluster] wrote bench:scale-cluster into {DOC}")
    return 0 if all(r["same"] for r in counts + vectors) else 1


if __name__ == "__main__":
    sys.exit(main())
