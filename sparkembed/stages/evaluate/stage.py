"""``sparkembed evaluate VECTORS``: word pairs, analogies, synonym and cluster lists.

Reads the vector table with pyarrow (no Spark); prints a table, and with --report DIR
commits DIR/evaluation.json and DIR/evaluation.md (with ``_sparkembed.json``, so
``sparkembed run`` knows which vectors and files a report was made from).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sparkembed.stage import Context, Plan
from sparkembed.stages.evaluate import metrics as ev
from sparkembed.vectors.query import Embeddings


def add_arguments(p) -> None:
    p.add_argument("vectors", metavar="VECTORS")
    p.add_argument("--pairs", action="append", default=[], metavar="FILE")
    p.add_argument("--analogies", action="append", default=[], metavar="FILE")
    p.add_argument("--report", metavar="DIR", help="also write DIR/evaluation.json and .md")
    p.add_argument("--synonyms", action="append", default=[], metavar="FILE", help="synonym pairs")
    p.add_argument(
        "--clusters", action="append", default=[], metavar="FILE", help="'group<TAB>words' lines"
    )
    p.add_argument(
        "--no-builtin", action="store_true", help="skip the shipped synonym and cluster lists"
    )
    p.add_argument("--lang", help="the language to evaluate, if the table holds several")


def plan(args, cfg) -> Plan:
    c = cfg.evaluate
    synonyms, clusters = list(args.synonyms), list(args.clusters)
    if not args.no_builtin:
        synonyms = [str(ev.builtin_data("synonyms_en.tsv")), *synonyms]
        clusters = [str(ev.builtin_data("clusters_en.tsv")), *clusters]
    files = {"pairs": args.pairs, "analogies": args.analogies}
    files.update(synonyms=synonyms, clusters=clusters)
    for kind, paths in files.items():
        for path in paths:
            if not Path(path).is_file():
                raise ev.SparkembedError(f"evaluation file not found: {path} (--{kind})")
    inputs = {"vectors": args.vectors}
    inputs.update({f"{k}{i}": p for k, paths in files.items() for i, p in enumerate(paths)})
    return Plan(
        inputs=inputs,
        outputs={"report": args.report} if args.report else {},
        params={"evaluate": dataclasses.asdict(c), "lang": args.lang},
        options={"files": files},
    )


def build_report(emb: Embeddings, files: dict, method: str, vectors: str, cfg) -> ev.Report:
    c = cfg.evaluate
    restrict = c.restrict_vocab or None  # 0: the whole vocabulary
    fold = c.case_insensitive
    report = ev.Report(str(vectors), len(emb), emb.vector_size, restrict, fold)
    methods = list(ev.METHODS) if method == "both" else [method]
    for path in files["pairs"]:
        report.word_pairs.append(ev.evaluate_word_pairs(emb, path, restrict, fold))
    for path in files["analogies"]:
        for m in methods:
            report.analogies.append(
                ev.evaluate_word_analogies(emb, path, restrict, fold, m, block_mb=c.block_mb)
            )
    for path in files["synonyms"]:
        report.synonyms.append(ev.synonym_test(emb, path, c.random_words, c.seed, restrict, fold))
    for path in files["clusters"]:
        report.clusters.append(ev.cluster_test(emb, path, c.seed, restrict, fold))
    return report


def run(ctx: Context, plan: Plan, cfg) -> dict:
    timer = ctx.timer
    with timer.step("load"):
        emb = Embeddings.load(plan.inputs["vectors"], lang=plan.params["lang"])
    with timer.step("score"):
        report = build_report(
            emb, plan.options["files"], cfg.evaluate.analogy_method, plan.inputs["vectors"], cfg
        )
    print(report.table())
    for score in [*report.word_pairs, *report.analogies, *report.synonyms, *report.clusters]:
        lines = getattr(score, "malformed", None)
        if lines:
            shown = ", ".join(str(n) for n in lines[:10]) + (", ..." if len(lines) > 10 else "")
            ctx.log("evaluate", f"{score.name}: {len(lines)} malformed lines skipped ({shown})")
    for score in report.word_pairs:
        if score.pairs == 0:
            ctx.log(
                "evaluate",
                f"{score.name}: no pair in vocabulary, all {score.oov_pairs} are OOV "
                f"(first: line {score.oov_example})",
            )
    for score in report.analogies:
        if score.questions and score.oov_questions == score.questions:
            ctx.log(
                "evaluate",
                f"{score.name} ({score.method}): no question in vocabulary, all "
                f"{score.questions} are OOV (first: line {score.oov_example})",
            )
    if "report" in plan.outputs:
        with ctx.commit(plan) as commit:
            commit.write_with("report", plan.outputs["report"], report.write)
        ctx.log("evaluate", f"wrote {plan.outputs['report']}/evaluation.json and .md")
    return {"vocabulary": len(emb), **report.summary()}
