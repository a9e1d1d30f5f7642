"""``sparkembed cooccur DIR``: DIR/tokens + DIR/vocab -> DIR/cooccurrence, DIR/marginals.

Both tables are one commit. The file path (``files.py``) when pyarrow can reach the paths,
else the DataFrame path (Spark reads and writes); same numbers.
"""

from __future__ import annotations

import dataclasses

import pyarrow.compute as pc
from pyspark.sql import functions as F

from sparkembed import schemas
from sparkembed.stage import Context, Plan, set_flags
from sparkembed.stages.cooccur.counts import (
    COUNTS_SCHEMA,
    check_config,
    cooccurrence_counts,
    marginals,
    weight_scale,
)
from sparkembed.stages.cooccur.files import count_to_files, file_path_supported
from sparkembed.tables import read_table

FLAGS = {"window": "window", "weighting": "weighting", "shards": "shards", "subsample": "subsample"}


def add_arguments(p) -> None:
    p.add_argument("dir", metavar="DIR", help="work directory with tokens and vocab")
    p.add_argument("--window", type=int)
    p.add_argument("--weighting", choices=["harmonic", "uniform"])
    p.add_argument("--shards", type=int)
    p.add_argument(
        "--asymmetric", action="store_true", help="count only right contexts (col after row)"
    )
    p.add_argument("--subsample", type=float, metavar="T", help="hyperwords --sub threshold")
    p.add_argument("--keep-positions", action="store_true", help="OOV tokens keep their positions")


def plan(args, cfg) -> Plan:
    set_flags(args, cfg.cooccur, FLAGS)
    if getattr(args, "asymmetric", False):
        cfg.cooccur.symmetric = False
    if getattr(args, "keep_positions", False):
        cfg.cooccur.keep_positions = True
    check_config(cfg.cooccur)
    root = args.dir.rstrip("/")
    return Plan(
        inputs={"tokens": f"{root}/tokens", "vocab": f"{root}/vocab"},
        outputs={"cooccurrence": f"{root}/cooccurrence", "marginals": f"{root}/marginals"},
        params={"cooccur": dataclasses.asdict(cfg.cooccur)},
        checked_together=("tokens", "vocab"),
    )


def run(ctx: Context, plan: Plan, cfg) -> dict:
    c, spark, timer = cfg.cooccur, ctx.spark, ctx.timer
    tokens_path, vocab_path = plan.inputs["tokens"], plan.inputs["vocab"]
    cooc_path, margins_path = plan.outputs["cooccurrence"], plan.outputs["marginals"]
    with timer.step("read"):
        tokens = read_table(spark, tokens_path, table="tokens")
        vocab = read_table(spark, vocab_path, table="vocab")
    row_sums: list = []
    extra = {
        "weight_scale": weight_scale(c),
        "shard_function": f"pmod(hash(row), {c.shards})",
        "sorted_by": ["row", "col"],
        "symmetric": c.symmetric,
    }
    with ctx.commit(plan) as commit:
        with timer.step("count"):
            if file_path_supported(tokens_path, cooc_path, c):
                # Arrow I/O inside the tasks: the row sums come back from the same pass, so
                # the marginals need no second read of the counts.
                def write(staging: str) -> None:
                    row_sums.append(count_to_files(spark, tokens_path, vocab, c, staging))

                def nonzeros(_path: str) -> int:
                    return int(pc.sum(row_sums[0]["cells"]).as_py() or 0)

                schema = spark.createDataFrame([], COUNTS_SCHEMA).schema
            else:
                counts = cooccurrence_counts(tokens, vocab, c)

                def nonzeros(path: str) -> int:
                    return spark.read.parquet(path).count()

                write, schema = (
                    counts.write.mode("overwrite").partitionBy("shard").parquet,
                    counts.schema,
                )
            meta = commit.write_with(
                "cooccurrence",
                cooc_path,
                write,
                schema=schema,
                partition_by=["shard"],
                counts={"nonzeros": nonzeros},
                extra=extra,
            )
        with timer.step("marginals"):
            if row_sums:
                table = row_sums[0].select(["row", "count"]).rename_columns(["id", "count"])
                sums = spark.createDataFrame(table, schemas.MARGINALS).coalesce(1)
                # The row sums are on the driver already: their counts need no Spark job.
                margin_counts = {"rows": table.num_rows, "total": pc.sum(table["count"]).as_py()}
            else:
                sums = marginals(spark.read.parquet(commit.staged("cooccurrence")), c)
                margin_counts = _table_stats(spark)
            margin_meta = commit.write_df(
                "marginals",
                margins_path,
                sums,
                counts=margin_counts,
                extra={"symmetric": c.symmetric},
            )
    return {
        "nonzeros": meta["counts"]["nonzeros"],
        "rows": margin_meta["counts"]["rows"],
        "total weight": f"{margin_meta['counts']['total'] or 0:,.1f}",
        "shards": c.shards,
    }


def _table_stats(spark) -> dict:
    """Commit counts ``rows`` and ``total`` of a written marginals table, one read."""
    stats: dict = {}

    def get(key: str):
        def read(path: str):
            if not stats:
                row = spark.read.parquet(path).agg(
                    F.count(F.lit(1)).alias("rows"), F.sum("count").alias("total")
                )
                stats.update(row.first().asDict())
            return stats[key]

        return read

    return {"rows": get("rows"), "total": get("total")}
