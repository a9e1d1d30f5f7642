"""``sparkembed neighbors VECTORS --output DIR``: top-k neighbours of every token in Spark."""

from __future__ import annotations

from sparkembed.stage import Context, Plan
from sparkembed.stages.neighbors import frame as nb
from sparkembed.textfiles import read_lines
from sparkembed.vectors.table import read_vectors


def add_arguments(p) -> None:
    p.add_argument("vectors", metavar="VECTORS")
    p.add_argument("--output", required=True, metavar="DIR", help="writes DIR/neighbors")
    p.add_argument("--tokens", metavar="FILE", help="only these tokens (one a line)")
    p.add_argument("--lang", help="the language to use, if the table holds several")


def read_token_list(path: str) -> list[str]:
    _, lines = read_lines(path, "token list")
    return [t.strip() for _, t in lines if t.strip()]


def plan(args, cfg) -> Plan:
    c = cfg.evaluate
    topn, block_mb = c.topn, c.block_mb
    inputs = {"vectors": args.vectors}
    if args.tokens:
        read_token_list(args.tokens)  # a bad list fails before Spark starts
        inputs["tokens"] = args.tokens
    return Plan(
        inputs=inputs,
        outputs={"neighbors": f"{str(args.output).rstrip('/')}/neighbors"},
        params={"topn": topn, "block_mb": block_mb, "lang": args.lang},
        options={"partitions": c.neighbor_partitions},
    )


def run(ctx: Context, plan: Plan, cfg) -> dict:
    spark, timer, p = ctx.spark, ctx.timer, plan.params
    wanted = read_token_list(plan.inputs["tokens"]) if "tokens" in plan.inputs else None
    with timer.step("collect vectors"):
        vectors_df = read_vectors(spark, plan.inputs["vectors"], lang=p["lang"])
        tokens, vectors = nb.collect_vectors(vectors_df, lang=p["lang"])
        prepared = nb.prepare(tokens, vectors, wanted)
    if prepared.unknown:
        shown = ", ".join(prepared.unknown[:10])
        ctx.log("neighbors", f"{len(prepared.unknown)} tokens not in the vocabulary: {shown}")
    with timer.step("score and write"), ctx.commit(plan) as commit:
        df = nb.neighbor_frame(
            spark, prepared, p["topn"], p["block_mb"], plan.options["partitions"]
        )
        commit.write_df(
            "neighbors",
            plan.outputs["neighbors"],
            df,
            counts={"queries": len(prepared.query_ids), "unknown_tokens": len(prepared.unknown)},
        )
        rows = spark.read.parquet(commit.staged("neighbors")).count()
        commit.add_counts("neighbors", {"rows": rows})
    return {
        "vocabulary": len(tokens),
        "queries": len(prepared.query_ids),
        "unknown": len(prepared.unknown),
        "rows": rows,
    }
