"""``sparkembed aggregate DIR [DIR...] VECTORS --output OUT``: OUT/doc_vectors (one vector
per document, or per sentence, of every DIR/tokens) and OUT/doc_rejected (units with no
token that has a vector), one commit.

Steps: the word lookup (vectors and weights, vocabulary-sized) on the driver, broadcast;
the weighted means per unit in the tasks, kept in a scratch table; the Gram matrix of the
means per language (one pass) and its top eigenvectors on the driver, or the components of
an earlier doc_vectors table (``--components-from``); the means minus their projection on
the components, written.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sparkembed import schemas
from sparkembed.errors import SparkembedError, task_errors
from sparkembed.linalg.gram import gram_matrices, top_components
from sparkembed.linalg.topk import unit_rows
from sparkembed.stage import Context, Plan
from sparkembed.stages.aggregate.means import (
    WordTable,
    removed_frame,
    unit_frame,
    weighted_means,
    word_weights,
)
from sparkembed.tables import check_built_together, read_table, table_metadata
from sparkembed.vectors.table import DEFAULT_LANG, read_vectors, write_doc_vectors

TOKEN_COLUMNS = [name for name, _ in schemas.columns(schemas.TOKENS)]


def add_arguments(p) -> None:
    p.add_argument("dirs", nargs="+", metavar="DIR", help="work directories with tokens and vocab")
    p.add_argument("vectors", metavar="VECTORS", help="word vector table (train or align)")
    p.add_argument("--output", required=True, metavar="OUT", help="writes OUT/doc_vectors")
    p.add_argument(
        "--components-from",
        metavar="TABLE",
        help="remove the components stored in this doc_vectors table instead of new ones",
    )


def _roles(i: int) -> tuple[str, str]:
    return ("tokens", "vocab") if i == 0 else (f"tokens{i + 1}", f"vocab{i + 1}")


def plan(args, cfg) -> Plan:
    inputs: dict[str, str] = {}
    for i, d in enumerate(args.dirs):
        root = str(d).rstrip("/")
        tokens, vocab = _roles(i)
        inputs[tokens], inputs[vocab] = f"{root}/tokens", f"{root}/vocab"
    inputs["vectors"] = args.vectors
    if args.components_from:
        inputs["components"] = args.components_from
    out = str(args.output).rstrip("/")
    return Plan(
        inputs=inputs,
        outputs={"doc_vectors": f"{out}/doc_vectors", "doc_rejected": f"{out}/doc_rejected"},
        params={
            "aggregate": dataclasses.asdict(cfg.aggregate),
            "components_from": args.components_from or "",
        },
        checked_together=("tokens", "vocab"),
    )


def _documents(spark, tokens, path: str) -> int:
    from pyspark.sql import functions as F

    meta = table_metadata(spark, path) or {}
    known = (meta.get("counts") or {}).get("documents")
    if known is not None:
        return int(known)
    return int(tokens.select(F.countDistinct("lang", "doc_id")).first()[0])


def _word_table(
    vectors, vectors_path: str, have, vlangs, sources, a, dim_hint
) -> tuple[WordTable, int]:
    """Vectors of the languages needed (``have``: the table's), and every source's weights
    of their tokens."""
    import pyarrow.compute as pc
    from pyspark.sql import functions as F

    missing = sorted(set(vlangs) - set(have))
    if missing:
        raise SparkembedError(
            f"{vectors_path} has no vectors of lang {', '.join(missing)} (it has "
            f"{', '.join(have) or 'none'}): choose one with --vectors-lang"
        )
    table, dim = WordTable(), dim_hint
    for lang in vlangs:
        with task_errors():
            got = vectors.where(F.col("lang") == lang).select("token", "vector").toArrow()
        lists = got.column("vector").combine_chunks()
        flat = lists.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
        dim = dim or (len(lists[0]) if len(lists) else 0)
        if not dim or flat.size != got.num_rows * dim:
            raise SparkembedError(
                f"{vectors_path}: vectors of lang {lang} are not all of dim {dim}"
            )
        x = flat.reshape(got.num_rows, dim)
        if a.word_norm == "unit":
            x = unit_rows(x)
        tokens = pc.fill_null(got.column("token"), "").combine_chunks()
        table.tokens[lang], table.vectors[lang] = tokens, x
        for i, (vocab, documents) in enumerate(sources):
            table.weights[(i, lang)] = word_weights(vocab, tokens, documents, a.weighting, a.sif_a)
    return table, dim


def _stored_components(spark, path: str, langs, dim: int) -> tuple[dict, dict]:
    meta = table_metadata(spark, path)
    if meta is None or meta.get("table") != "doc_vectors":
        raise SparkembedError(f"--components-from {path}: not a doc_vectors table")
    stored = meta.get("components") or {}
    missing = sorted(set(langs) - set(stored))
    if missing:
        raise SparkembedError(
            f"--components-from {path}: no components for lang {', '.join(missing)} "
            f"(it has {', '.join(sorted(stored)) or 'none'})"
        )
    comps = {lang: np.asarray(stored[lang], np.float64) for lang in langs}
    for lang, u in comps.items():
        if u.size and (u.ndim != 2 or u.shape[1] != dim):
            raise SparkembedError(
                f"--components-from {path}: components of lang {lang} have shape "
                f"{list(u.shape)}, the word vectors dim {dim}"
            )
        comps[lang] = u.reshape(-1, dim)
    values = {lang: (meta.get("singular_values") or {}).get(lang, []) for lang in langs}
    return comps, values


def run(ctx: Context, plan: Plan, cfg) -> dict:
    from pyspark.sql import functions as F

    a, spark, timer = cfg.aggregate, ctx.spark, ctx.timer
    n_dirs = sum(1 for role in plan.inputs if role.startswith("tokens"))
    with timer.step("read"):
        frames, sources, names, langs = [], [], [], set()
        for i in range(n_dirs):
            t_role, v_role = _roles(i)
            t_path, v_path = plan.inputs[t_role], plan.inputs[v_role]
            if i > 0:  # the first pair is checked by the stage runner
                check_built_together(spark, {t_role: t_path, v_role: v_path})
            tokens = read_table(spark, t_path, table="tokens")
            vocab = read_table(spark, v_path, table="vocab").select("token", "count", "doc_count")
            with task_errors():
                vocab_arrow = vocab.toArrow()
                langs_here = [r["lang"] for r in tokens.select("lang").distinct().collect()]
            langs.update(x if x is not None else "und" for x in langs_here)
            documents = _documents(spark, tokens, t_path) if a.weighting == "idf" else 0
            sources.append((vocab_arrow, documents))
            names.append(t_path)
            # a row without a lang is looked up, and written, as "und" (undetermined)
            columns = [
                F.coalesce("lang", F.lit("und")).alias("lang") if c == "lang" else c
                for c in TOKEN_COLUMNS
            ]
            frames.append(tokens.select(F.lit(i).alias("input"), *columns))
        vectors_path = plan.inputs["vectors"]
        vectors = read_vectors(spark, vectors_path, lang=a.vectors_lang or None)
        have = sorted(r["lang"] for r in vectors.select("lang").distinct().collect())
        vectors_lang = a.vectors_lang
        if not vectors_lang and have == [DEFAULT_LANG] and sorted(langs) != have:
            # A table without languages (one from another tool) serves every language.
            vectors_lang = DEFAULT_LANG
            ctx.log("aggregate", f"{vectors_path} has no languages: every token looked up in it")
        vlangs = [vectors_lang] if vectors_lang else sorted(langs)
        meta = table_metadata(spark, vectors_path) or {}
        table, dim = _word_table(
            vectors, vectors_path, have, vlangs, sources, a, int(meta.get("dim") or 0)
        )
    ctx.log(
        "aggregate",
        f"{a.weighting} means of {a.unit}s over {sum(len(t) for t in table.tokens.values()):,} "
        f"word vectors ({', '.join(vlangs)}, dim {dim})",
    )
    tokens_all = frames[0]
    for f in frames[1:]:
        tokens_all = tokens_all.unionByName(f)
    outputs = plan.outputs
    with task_errors(), ctx.commit(plan) as commit:
        with timer.step("means"):
            means = weighted_means(unit_frame(tokens_all, a.unit), table, dim, vectors_lang, names)
            scratch = commit.scratch(outputs["doc_vectors"], "means")
            # Sorted, so the Gram pass below sums in an order set by the data alone.
            means.sortWithinPartitions("lang", "doc_id", "sentence").write.parquet(scratch)
            means = spark.read.parquet(scratch)
            totals = means.agg(
                F.count(F.col("vector")).alias("units"),
                F.sum(F.col("vector").isNull().cast("long")).alias("rejected"),
                F.sum("n_tokens").alias("tokens"),
                F.sum("n_oov").alias("oov"),
            ).first()
        langs_out = sorted(langs)
        with timer.step("components"):
            if "components" in plan.inputs:
                comps, values = _stored_components(spark, plan.inputs["components"], langs_out, dim)
            elif a.components > 0:
                grams = gram_matrices(means.where(F.col("vector").isNotNull()), dim, "lang")
                comps, values = {}, {}
                for lang, (_rows, g) in sorted(grams.items()):
                    u, s = top_components(g, min(a.components, dim))
                    comps[lang], values[lang] = u, s.tolist()
            else:
                comps, values = {}, {}
        with timer.step("write"):
            extra = {
                "weighting": a.weighting,
                "sif_a": a.sif_a,
                "unit": a.unit,
                "word_norm": a.word_norm,
                "components": {k: v.tolist() for k, v in comps.items()},
                "singular_values": values,
                "components_from": plan.inputs.get("components", ""),
            }
            out = write_doc_vectors(
                removed_frame(means, comps, dim),
                outputs["doc_vectors"],
                dim=dim,
                commit=commit,
                counts={
                    "documents": int(totals["units"] or 0),
                    "tokens": int(totals["tokens"] or 0),
                    "oov": int(totals["oov"] or 0),
                },
                extra=extra,
            )
            reason = F.when(F.col("n_tokens") == 0, F.lit("no tokens")).otherwise(
                F.lit("no token has a vector")
            )
            rejected = means.where(F.col("vector").isNull()).select(
                "source", reason.alias("reason"), "excerpt"
            )
            commit.write_df(
                "doc_rejected",
                outputs["doc_rejected"],
                rejected.coalesce(1),
                counts={"rejected": int(totals["rejected"] or 0)},
            )
    n_rejected = int(totals["rejected"] or 0)
    if n_rejected:
        ctx.log(
            "aggregate",
            f"{n_rejected:,} {a.unit}s with no known token set aside in {outputs['doc_rejected']}",
        )
    tokens_n, oov = int(totals["tokens"] or 0), int(totals["oov"] or 0)
    return {
        f"{a.unit}s": out["counts"]["documents"],
        "rejected": n_rejected,
        "tokens": tokens_n,
        "oov": f"{oov / tokens_n:.1%}" if tokens_n else "0",
        "components": sum(len(u) for u in comps.values()),
    }
