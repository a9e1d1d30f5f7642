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
    meta, margin_meta = write_tables(
        spark, f"{root}/tokens", f"{root}/vocab", root, cfg.cooccur, timer
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


def write_tables(spark, tokens_path: str, vocab_path: str, out_root: str, cfg, timer):
    """Count and publish ``out_root/cooccurrence`` and ``out_root/marginals``; their metadata.

    The file path (sparkembed/cooccur_files.py) when pyarrow can reach the paths, else
    the DataFrame path (Spark reads and writes).
    """
    with timer.step("read"):
        tokens = read_table(spark, tokens_path)
        vocab = read_table(spark, vocab_path)
        inputs = [fingerprint(spark, tokens_path), fingerprint(spark, vocab_path)]
    params = dataclasses.asdict(cfg)
    extra = {
        "weight_scale": weight_scale(cfg),
        "shard_function": f"pmod(hash(row), {cfg.shards})",
        "sorted_by": ["row", "col"],
        "symmetric": cfg.symmetric,
    }
    if file_path_supported(tokens_path, f"{out_root}/cooccurrence", cfg):
        # Arrow I/O inside the tasks (sparkembed/cooccur_files.py): the row sums come back
        # from the same pass, so the marginals need no second read of the counts.
        row_sums = {}

        def write_counts(staging: str) -> None:
            row_sums["table"] = count_to_files(spark, tokens_path, vocab, cfg, staging)

        with timer.step("count"):
            meta = publish_with(
                spark,
                f"{out_root}/cooccurrence",
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
            margin_meta = publish(
                sums,
                f"{out_root}/marginals",
                stage="cooccur",
                params=params,
                inputs=[fingerprint(spark, f"{out_root}/cooccurrence")],
                counts={
                    "rows": table.num_rows,
                    "total": float(sum(table["count"].to_pylist())) if table.num_rows else None,
                },
            )
    else:
        with timer.step("count"):
            counts = cooccurrence_counts(tokens, vocab, cfg)
            meta = publish(
                counts,
                f"{out_root}/cooccurrence",
                stage="cooccur",
                params=params,
                inputs=inputs,
                partition_by=["shard"],
                counts={"nonzeros": lambda path: spark.read.parquet(path).count()},
                extra=extra,
            )
        with timer.step("marginals"):
            table = read_table(spark, f"{out_root}/cooccurrence", stage="cooccur")
            sums = marginals(table, cfg)
            margin_meta = publish(
                sums,
                f"{out_root}/marginals",
                stage="cooccur",
                params=params,
                inputs=[fingerprint(spark, f"{out_root}/cooccurrence")],
                counts={
                    "rows": lambda path: spark.read.parquet(path).count(),
                    "total": lambda path: (
                        spark.read.parquet(path).groupBy().sum("count").first()[0]
                    ),
                },
            )
    return meta, margin_meta
