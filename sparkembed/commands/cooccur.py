"""sparkembed cooccur DIR: DIR/tokens + DIR/vocab -> DIR/cooccurrence, DIR/marginals."""

from __future__ import annotations

import dataclasses

import pyarrow.compute as pc

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
    row_sums: list = []
    extra = {
        "weight_scale": weight_scale(cfg),
        "shard_function": f"pmod(hash(row), {cfg.shards})",
        "sorted_by": ["row", "col"],
        "symmetric": cfg.symmetric,
    }
    cooc_path = f"{out_root}/cooccurrence"
    with timer.step("count"):
        if file_path_supported(tokens_path, cooc_path, cfg):
            # Arrow I/O inside the tasks (sparkembed/cooccur_files.py): the row sums come
            # back from the same pass, so the marginals need no second read of the counts.
            def write_counts(staging: str) -> None:
                row_sums.append(count_to_files(spark, tokens_path, vocab, cfg, staging))

            def nonzeros(path: str) -> int:
                return int(pc.sum(row_sums[0]["cells"]).as_py() or 0)

            write, schema = write_counts, spark.createDataFrame([], COUNTS_SCHEMA).schema
        else:
            counts = cooccurrence_counts(tokens, vocab, cfg)

            def nonzeros(path: str) -> int:
                return spark.read.parquet(path).count()

            w = counts.write.mode("overwrite").partitionBy("shard")
            write, schema = w.parquet, counts.schema
        meta = publish_with(
            spark,
            cooc_path,
            write,
            schema=schema,
            stage="cooccur",
            params=params,
            inputs=inputs,
            partition_by=["shard"],
            counts={"nonzeros": nonzeros},
            extra=extra,
        )
    with timer.step("marginals"):
        if row_sums:
            table = row_sums[0].select(["row", "count"]).rename_columns(["id", "count"])
            sums = spark.createDataFrame(table, MARGINALS_SCHEMA).coalesce(1)
            # The row sums are on the driver already: their counts need no Spark job.
            margin_counts = {"rows": table.num_rows, "total": pc.sum(table["count"]).as_py()}
        else:
            sums = marginals(read_table(spark, cooc_path, stage="cooccur"), cfg)
            margin_counts = _table_stats(spark)
        margin_meta = publish(
            sums,
            f"{out_root}/marginals",
            stage="cooccur",
            params=params,
            inputs=[fingerprint(spark, cooc_path)],
            counts=margin_counts,
        )
    return meta, margin_meta


def _table_stats(spark) -> dict:
    """publish() counts ``rows`` and ``total`` of a written marginals table, one read."""
    from pyspark.sql import functions as F

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
