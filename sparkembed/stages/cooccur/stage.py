"""``sparkembed cooccur DIR``: DIR/tokens + DIR/vocab -> DIR/cooccurrence, DIR/marginals.

Both tables are one commit. ``plan`` chooses the engine once: ``files`` (Arrow I/O inside
the tasks, ``files.py``) when pyarrow can reach the paths and nothing is subsampled, else
``dataframe`` (Spark reads and writes, ``counts.py``); same numbers either way.
"""

from __future__ import annotations

import dataclasses

import pyarrow.compute as pc
from pyspark.sql import functions as F

from sparkembed import schemas
from sparkembed.stage import Context, Plan
from sparkembed.stages.cooccur.counts import cooccurrence_counts, marginals
from sparkembed.stages.cooccur.files import count_to_files, file_path_supported
from sparkembed.stages.cooccur.kernel import shard_count, weight_scale
from sparkembed.tables import Commit, driver_frame, read_metadata, read_table


def add_arguments(p) -> None:
    p.add_argument("dir", metavar="DIR", help="work directory with tokens and vocab")


def plan(args, cfg) -> Plan:
    root = args.dir.rstrip("/")
    inputs = {"tokens": f"{root}/tokens", "vocab": f"{root}/vocab"}
    outputs = {"cooccurrence": f"{root}/cooccurrence", "marginals": f"{root}/marginals"}
    files = file_path_supported(inputs["tokens"], outputs["cooccurrence"], cfg.cooccur)
    return Plan(
        inputs=inputs,
        outputs=outputs,
        params={"cooccur": dataclasses.asdict(cfg.cooccur)},
        checked_together=("tokens", "vocab"),
        engine="files" if files else "dataframe",
    )


def run(ctx: Context, plan: Plan, cfg) -> dict:
    with ctx.timer.step("read"):
        tokens = read_table(ctx.spark, plan.inputs["tokens"], table="tokens")
        vocab = read_table(ctx.spark, plan.inputs["vocab"], table="vocab")
    # The shards of this run, from the token table's own count when cfg leaves them to it.
    token_count = read_metadata(ctx.spark, plan.inputs["tokens"]).get("counts", {}).get("tokens")
    c = dataclasses.replace(cfg.cooccur, shards=shard_count(cfg.cooccur, token_count))
    count = ENGINES[plan.engine]
    with ctx.commit(plan) as commit:
        counts = count(ctx, plan, c, tokens, vocab, commit)
    return {
        "nonzeros": counts["nonzeros"],
        "rows": counts["rows"],
        "total weight": f"{counts['total'] or 0:,.1f}",
        "shards": c.shards,
    }


def _count_with_files(ctx: Context, plan: Plan, c, tokens, vocab, commit: Commit) -> dict:
    """Both tables by the file path; the row sums come back from the counting pass, so the
    marginals need no second read of the counts. Returns nonzeros, rows and total."""
    row_sums = None

    def write(staging: str) -> dict:
        nonlocal row_sums
        row_sums = count_to_files(ctx.spark, plan.inputs["tokens"], vocab, c, staging)
        return {"nonzeros": int(pc.sum(row_sums["cells"]).as_py() or 0)}

    with ctx.timer.step("count"):
        meta = commit.write_with(
            "cooccurrence",
            plan.outputs["cooccurrence"],
            write,
            schema=ctx.spark.createDataFrame([], schemas.COOCCURRENCE).schema,
            partition_by=["shard"],
            extra=_cooccurrence_extra(c),
        )
    with ctx.timer.step("marginals"):
        table = row_sums.select(["row", "count"]).rename_columns(["id", "count"])
        # As Parquet in a scratch folder: the rows (one per word) never travel in the tasks.
        folder = commit.scratch(plan.outputs["marginals"], "row-sums")
        sums = driver_frame(ctx.spark, table, folder, schemas.MARGINALS).coalesce(1)
        # The row sums are on the driver already: their counts need no Spark job.
        margins = {"rows": table.num_rows, "total": pc.sum(table["count"]).as_py()}
        commit.write_df(
            "marginals", plan.outputs["marginals"], sums, counts=margins, extra=_marginals_extra(c)
        )
    return {"nonzeros": meta["counts"]["nonzeros"], **margins}


def _count_with_dataframe(ctx: Context, plan: Plan, c, tokens, vocab, commit: Commit) -> dict:
    """Both tables by the DataFrame path; the marginals are a second pass, over the staged
    counts. Returns nonzeros, rows and total."""
    spark = ctx.spark
    with ctx.timer.step("count"):
        counts = cooccurrence_counts(tokens, vocab, c)
        commit.write_with(
            "cooccurrence",
            plan.outputs["cooccurrence"],
            counts.write.mode("overwrite").partitionBy("shard").parquet,
            schema=counts.schema,
            partition_by=["shard"],
            extra=_cooccurrence_extra(c),
        )
        staged = spark.read.parquet(commit.staged("cooccurrence"))
        nonzeros = {"nonzeros": staged.count()}
        commit.add_counts("cooccurrence", nonzeros)
    with ctx.timer.step("marginals"):
        commit.write_df(
            "marginals", plan.outputs["marginals"], marginals(staged, c), extra=_marginals_extra(c)
        )
        margins = (
            spark.read.parquet(commit.staged("marginals"))
            .agg(F.count(F.lit(1)).alias("rows"), F.sum("count").alias("total"))
            .first()
            .asDict()
        )
        commit.add_counts("marginals", margins)
    return {**nonzeros, **margins}


# The engines plan() chooses from, by name: one signature, the same two tables.
ENGINES = {"files": _count_with_files, "dataframe": _count_with_dataframe}


def _cooccurrence_extra(c) -> dict:
    """The cooccurrence table's metadata besides its counts: how to read the shards."""
    return {
        "weight_scale": weight_scale(c),
        "shard_function": f"pmod(hash(row), {c.shards})",
        "sorted_by": ["row", "col"],
        "symmetric": c.symmetric,
    }


def _marginals_extra(c) -> dict:
    return {"symmetric": c.symmetric}
