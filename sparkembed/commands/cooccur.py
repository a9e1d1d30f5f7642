"""sparkembed cooccur DIR: DIR/tokens + DIR/vocab -> DIR/cooccurrence, DIR/marginals."""

from __future__ import annotations

import dataclasses

from sparkembed.cooccur import (
    COUNTS_SCHEMA,
    check_config,
    cooccurrence_counts,
    marginals,
    weight_scale,
)
from sparkembed.cooccur_files import count_to_files, file_path_supported
from sparkembed.progress import StageTimer
from sparkembed.session import get_spark
from sparkembed.tables import fingerprint, publish, publish_with, read_table

MARGINALS_SCHEMA = "id int, count double"

FLAGS = {"window": "window", "weighting": "weighting", "shards": "shards"}


def run(args, cfg) -> int:
    for flag, key in FLAGS.items():
        value = getattr(args, flag, None)
        if value is not None:
            setattr(cfg.cooccur, key, value)
    if getattr(args, "asymmetric", False):
        cfg.cooccur.symmetric = False
    if getattr(args, "subsample", None) is not None:
        cfg.cooccur.subsample = args.subsample
    if getattr(args, "keep_positions", False):
        cfg.cooccur.keep_positions = True
    check_config(cfg.cooccur)
    root = args.dir.rstrip("/")
    timer = StageTimer("cooccur", quiet=args.quiet)
    spark = get_spark(cfg.spark)
    with timer.step("read"):
        tokens = read_table(spark, f"{root}/tokens")
        vocab = read_table(spark, f"{root}/vocab")
        inputs = [fingerprint(spark, f"{root}/tokens"), fingerprint(spark, f"{root}/vocab")]
    params = dataclasses.asdict(cfg.cooccur)
    extra = {
        "weight_scale": weight_scale(cfg.cooccur),
        "shard_function": f"pmod(hash(row), {cfg.cooccur.shards})",
        "sorted_by": ["row", "col"],
        "symmetric": cfg.cooccur.symmetric,
    }
    margin_inputs = None
    if file_path_supported(f"{root}/tokens", f"{root}/cooccurrence", cfg.cooccur):
        # Arrow I/O inside the tasks (sparkembed/cooccur_files.py): the row sums come back
        # from the same pass, so the marginals need no second read of the counts.
        row_sums = {}

        def write_counts(staging: str) -> None:
            row_sums["table"] = count_to_files(spark, f"{root}/tokens", vocab, cfg.cooccur, staging)

        with timer.step("count"):
            meta = publish_with(
                spark,
                f"{root}/cooccurrence",
                write_counts,
                schema=spark.createDataFrame([], COUNTS_SCHEMA).schema,
                stage="cooccur",
                params=params,
                inputs=inputs,
                partition_by=["shard"],
                counts={"nonzeros": lambda path: int(sum(row_sums["table"]["cells"].to_pylist()))},
                extra=extra,
            )
        with timer.step("marginals"):
            table = row_sums["table"].select(["row", "count"]).rename_columns(["id", "count"])
            sums = spark.createDataFrame(table.to_pandas(), MARGINALS_SCHEMA).coalesce(1)
            margin_inputs = [fingerprint(spark, f"{root}/cooccurrence")]
            margin_meta = publish(
                sums,
                f"{root}/marginals",
                stage="cooccur",
                params=params,
                inputs=margin_inputs,
                counts={
                    "rows": table.num_rows,
                    "total": float(sum(table["count"].to_pylist())) if table.num_rows else None,
                },
            )
    else:
        with timer.step("count"):
            counts = cooccurrence_counts(tokens, vocab, cfg.cooccur)
            meta = publish(
                counts,
                f"{root}/cooccurrence",
                stage="cooccur",
                params=params,
                inputs=inputs,
                partition_by=["shard"],
                counts={"nonzeros": lambda path: spark.read.parquet(path).count()},
                extra=extra,
            )
        with timer.step("marginals"):
            table = read_table(spark, f"{root}/cooccurrence", stage="cooccur")
            sums = marginals(table, cfg.cooccur)
            margin_meta = publish(
                sums,
                f"{root}/marginals",
                stage="cooccur",
                params=params,
                inputs=[fingerprint(spark, f"{root}/cooccurrence")],
                counts={
                    "rows": lambda path: spark.read.parquet(path).count(),
                    "total": lambda path: (
                        spark.read.parquet(path).groupBy().sum("count").first()[0]
                    ),
                },
            )
    print(
        timer.summary(
            {
                "nonzeros": meta["counts"]["nonzeros"],
                "rows": margin_meta["counts"]["rows"],
                "total weight": f"{margin_meta['counts']['total'] or 0:,.1f}",
                "shards": cfg.cooccur.shards,
            }
        )
    )
    return 0
