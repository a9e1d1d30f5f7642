"""``sparkembed align SOURCE TARGET --dictionary FILE|identical --output DIR``:
DIR/vectors (both languages in the target's space, partitioned by ``lang``),
DIR/alignment (the map, a d x d table) and DIR/rejected (the dictionary's malformed
lines), one commit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from sparkembed import schemas
from sparkembed.errors import SparkembedError, task_errors
from sparkembed.stage import Context, Plan
from sparkembed.stages.align import apply
from sparkembed.stages.align.align import Side, learn_map
from sparkembed.stages.align.dictionary import identical_pairs, read_dictionary
from sparkembed.stages.align.procrustes import check_steps
from sparkembed.stages.align.translate import translation_frame
from sparkembed.tables import driver_frame, table_metadata
from sparkembed.vectors.table import frequency_order, read_vectors, write_vectors

ALIGNMENT = schemas.ALIGNMENT


def add_arguments(p) -> None:
    p.add_argument("source", metavar="SOURCE", help="vector table of the language to map")
    p.add_argument("target", metavar="TARGET", help="vector table of the language mapped onto")
    p.add_argument(
        "--dictionary",
        required=True,
        metavar="FILE|identical",
        help="seed pairs (source<TAB>target per line), or 'identical': strings in both",
    )
    p.add_argument("--output", required=True, metavar="DIR")


def plan(args, cfg) -> Plan:
    a = cfg.align
    check_steps(a.normalize)
    inputs = {"source": args.source, "target": args.target}
    if args.dictionary != "identical":
        read_dictionary(args.dictionary)  # a bad dictionary fails before Spark starts
        inputs["dictionary"] = args.dictionary
    out = str(args.output).rstrip("/")
    tables = ["vectors", "alignment", "rejected"] + (["translations"] if a.translations else [])
    return Plan(
        inputs=inputs,
        outputs={t: f"{out}/{t}" for t in tables},
        params={"align": dataclasses.asdict(a), "dictionary": args.dictionary},
        options={"block_mb": cfg.evaluate.block_mb},
    )


def _side(spark, path: str, lang: str, role: str) -> Side:
    from pyspark.sql import functions as F

    df = read_vectors(spark, path, lang=lang or None)
    langs = sorted(r["lang"] for r in df.select("lang").distinct().collect())
    if lang:
        if lang not in langs:
            raise SparkembedError(f"{role} {path}: no vectors of lang {lang!r} (has {langs})")
    elif len(langs) == 1:
        lang = langs[0]
    else:
        raise SparkembedError(
            f"{role} {path} holds several languages ({', '.join(langs)}): "
            f"choose one with --{role}-lang"
        )
    rows = df.where(F.col("lang") == lang)
    dim = (table_metadata(spark, path) or {}).get("dim")
    if dim is None:  # a vector table sparkembed did not write: its first row says
        first = rows.select(F.size("vector").alias("d")).first()
        if first is None:
            raise SparkembedError(f"{role} {path}: no vectors")
        dim = first["d"]
    return Side(rows.select("token", "vector", "count", "position"), lang, int(dim))


def _shared_tokens(source: Side, target: Side) -> list[str]:
    """Tokens in both tables (a join in Spark), in the source's order (most frequent first)."""
    both = source.frame.join(target.frame.select("token"), "token").drop("vector")
    return [r["token"] for r in both.orderBy(*frequency_order(both)).collect()]


def _write_translations(spark, commit, plan, cfg, source_lang, target_lang, dim) -> None:
    from pyspark.sql import functions as F

    a = cfg.align
    aligned = spark.read.parquet(commit.staged("vectors"))
    df = translation_frame(
        spark,
        aligned.where(F.col("lang") == source_lang),
        aligned.where(F.col("lang") == target_lang),
        dim,
        topn=a.translations,
        candidates=a.translate_candidates,
        csls_k=a.csls_k,
        block_mb=plan.options["block_mb"],
    )
    commit.write_df(
        "translations",
        plan.outputs["translations"],
        df,
        extra={"source_lang": source_lang, "target_lang": target_lang},
    )
    rows = spark.read.parquet(commit.staged("translations")).count()
    commit.add_counts("translations", {"rows": rows})


def run(ctx: Context, plan: Plan, cfg) -> dict:
    a, spark, timer = cfg.align, ctx.spark, ctx.timer
    with timer.step("read"):
        source = _side(spark, plan.inputs["source"], a.source_lang, "source")
        target = _side(spark, plan.inputs["target"], a.target_lang, "target")
        if source.lang == target.lang:
            raise SparkembedError(
                f"source and target are both lang {source.lang!r}: the aligned table keeps "
                "them apart by lang (tokenize each corpus with its own --lang; a table "
                "without a lang column is of --source-lang / --target-lang)"
            )
        if "dictionary" in plan.inputs:
            dictionary = read_dictionary(plan.inputs["dictionary"])
        else:
            dictionary = identical_pairs(_shared_tokens(source, target))
    with timer.step("learn"):
        al = learn_map(
            source,
            target,
            dictionary,
            a.normalize,
            refine_rounds=a.refine_rounds,
            refine_top=a.refine_top,
            csls_k=a.csls_k,
            log=lambda m: ctx.log("align", m),
        )
    d = source.dim
    with task_errors(), ctx.commit(plan) as commit:
        with timer.step("map and write"):
            mapped = apply.mapped_frame(
                source.frame, d, al.steps, source.means, al.w, source.lang, "source"
            )
            kept = apply.mapped_frame(
                target.frame, d, al.steps, target.means, None, target.lang, "target"
            )
            extra = {
                "map": al.w.tolist(),
                "normalize": list(al.steps),
                "means": {
                    source.lang: [m.tolist() for m in source.means],
                    target.lang: [m.tolist() for m in target.means],
                },
                "source_lang": source.lang,
                "target_lang": target.lang,
                **al.info,
            }
            meta = write_vectors(
                mapped.unionByName(kept),
                plan.outputs["vectors"],
                dim=d,
                method="aligned",
                commit=commit,
                extra=extra,
            )
            # The d x d map and the malformed lines go to Spark as Parquet in scratch
            # folders (driver_frame), never inside the tasks that write them.
            w = np.asarray(al.w, dtype=np.float64)
            rows = pa.table(
                {
                    "row": pa.array(np.arange(len(w), dtype=np.int32)),
                    "values": pa.array(list(w)),
                }
            )
            folder = commit.scratch(plan.outputs["alignment"], "map")
            matrix = driver_frame(spark, rows, folder, ALIGNMENT)
            commit.write_df("alignment", plan.outputs["alignment"], matrix.coalesce(1), extra=extra)
            source_name = plan.inputs.get("dictionary", "identical")
            lines = dictionary.malformed
            malformed = pa.table(
                {
                    "source": pa.array([source_name] * len(lines), pa.string()),
                    "reason": pa.array(["malformed dictionary line"] * len(lines), pa.string()),
                    "excerpt": pa.array([f"{n}: {x}" for n, x in lines], pa.string()),
                }
            )
            folder = commit.scratch(plan.outputs["rejected"], "malformed")
            rejected = driver_frame(spark, malformed, folder, schemas.REJECTED)
            commit.write_df("rejected", plan.outputs["rejected"], rejected.coalesce(1))
        if "translations" in plan.outputs:
            ctx.log("align", f"translating every {source.lang} word (CSLS, top {a.translations})")
            with timer.step("translate"):
                _write_translations(spark, commit, plan, cfg, source.lang, target.lang, d)
    if dictionary.malformed:
        ctx.log(
            "align",
            f"{len(dictionary.malformed):,} malformed dictionary lines set aside in "
            f"{plan.outputs['rejected']}",
        )
    info = al.info
    return {
        "source": f"{source.lang}",
        "target": f"{target.lang}",
        "dim": d,
        "pairs": info["dictionary_pairs"],
        "pairs in vocabularies": info["dictionary_pairs_in_vocabularies"],
        "malformed": info["dictionary_malformed"],
        "refine rounds": info["refine_rounds"],
        "vectors": meta["counts"]["vectors"],
    }
