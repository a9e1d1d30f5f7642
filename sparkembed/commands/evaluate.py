"""`sparkembed evaluate VECTORS`: word pairs, analogies, synonym and cluster lists.

Reads the vector table with pyarrow (no Spark); prints a table, and with --report DIR
writes DIR/evaluation.json and DIR/evaluation.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sparkembed import evaluate as ev
from sparkembed.progress import StageTimer
from sparkembed.query import Embeddings


def build_report(emb: Embeddings, args, cfg) -> ev.Report:
    c = cfg.evaluate
    restrict = args.restrict_vocab if args.restrict_vocab is not None else c.restrict_vocab
    restrict = restrict or None  # 0: the whole vocabulary
    fold = c.case_insensitive if args.case_sensitive is None else not args.case_sensitive
    report = ev.Report(str(args.vectors), len(emb), emb.vector_size, restrict, fold)
    methods = list(ev.METHODS) if args.method == "both" else [args.method]
    for path in args.pairs:
        try:
            report.word_pairs.append(ev.evaluate_word_pairs(emb, path, restrict, fold))
        except ev.NoKnownPairsError as exc:  # report it and go on with the other files
            print(f"[evaluate] {exc}", file=sys.stderr)
            nan = float("nan")
            report.word_pairs.append(
                ev.WordPairScore(Path(path).name, nan, nan, nan, nan, nan, 0, 0, 0)
            )
    for path in args.analogies:
        for method in methods:
            report.analogies.append(
                ev.evaluate_word_analogies(emb, path, restrict, fold, method, block_mb=c.block_mb)
            )
    synonyms, clusters = list(args.synonyms), list(args.clusters)
    if not args.no_builtin:
        synonyms = [str(ev.builtin_data("synonyms_en.tsv")), *synonyms]
        clusters = [str(ev.builtin_data("clusters_en.tsv")), *clusters]
    for path in synonyms:
        report.synonyms.append(ev.synonym_test(emb, path, c.random_words, c.seed, restrict, fold))
    for path in clusters:
        report.clusters.append(ev.cluster_test(emb, path, c.seed, restrict, fold))
    return report


def run(args, cfg) -> int:
    timer = StageTimer("evaluate", quiet=args.quiet)
    with timer.step("load"):
        emb = Embeddings.load(args.vectors, lang=args.lang)
    with timer.step("score"):
        report = build_report(emb, args, cfg)
    print(report.table())
    if args.report:
        json_path, md_path = report.write(args.report)
        if not args.quiet:
            print(f"[evaluate] wrote {json_path} and {md_path}", file=sys.stderr)
    counts = {
        "vocabulary": len(emb),
        "pair files": len(report.word_pairs),
        "analogy runs": len(report.analogies),
        "lists": len(report.synonyms) + len(report.clusters),
    }
    print(timer.summary(counts))
    return 0
