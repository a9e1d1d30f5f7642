"""`sparkembed neighbors VECTORS --output DIR`: top-k neighbours of every token in Spark."""

from __future__ import annotations

import sys
from pathlib import Path

from sparkembed import neighbors as nb
from sparkembed.errors import SparkembedError
from sparkembed.progress import StageTimer
from sparkembed.session import get_spark
from sparkembed.tables import fingerprint, publish, read_table


def read_token_list(path: str) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise SparkembedError(f"token list not found: {p}")
    return [t.strip() for t in p.read_text(encoding="utf-8").splitlines() if t.strip()]


def run(args, cfg) -> int:
    c = cfg.evaluate
    timer = StageTimer("neighbors", quiet=args.quiet)
    topn = args.topn if args.topn is not None else c.topn
    block_mb = args.block_mb if args.block_mb is not None else c.block_mb
    if topn < 1 or block_mb < 1:
        raise SparkembedError("--topn and --block-mb must be at least 1")
    wanted = read_token_list(args.tokens) if args.tokens else None
    spark = get_spark(cfg.spark)
    output = f"{str(args.output).rstrip('/')}/neighbors"
    with timer.step("collect vectors"):
        tokens, vectors = nb.collect_vectors(read_table(spark, args.vectors), lang=args.lang)
        prepared = nb.prepare(tokens, vectors, wanted)
    if prepared.unknown and not args.quiet:
        shown = ", ".join(prepared.unknown[:10])
        print(
            f"[neighbors] {len(prepared.unknown)} tokens not in the vocabulary: {shown}",
            file=sys.stderr,
        )
    with timer.step("score and write"):
        df = nb.neighbor_frame(spark, prepared, topn, block_mb, c.neighbor_partitions)
        meta = publish(
            df,
            output,
            stage="neighbors",
            params={"topn": topn, "block_mb": block_mb, "lang": args.lang, "tokens": args.tokens},
            counts={
                "rows": lambda p: spark.read.parquet(p).count(),
                "queries": len(prepared.query_ids),
                "unknown_tokens": len(prepared.unknown),
            },
            inputs=[fingerprint(spark, args.vectors)],
        )
    counts = {
        "vocabulary": len(tokens),
        "queries": len(prepared.query_ids),
        "unknown": len(prepared.unknown),
        "rows": meta["counts"]["rows"],
    }
    print(timer.summary(counts))
    return 0
