"""Benchmark: word vectors by ProNE on the co-occurrence graph, beside svd of the same counts.

On the real-text corpus (the tokens bench/train.py builds in .data/bench_train):
bench/train.py's svd run, one ``sparkembed run`` of cooccur (window 5) and train:svd (dim
100); then, for each graph weight, one ``sparkembed run`` of walks on that work directory
with no walks (each word keeps its ``--top-k`` strongest cells: the graph table) and
train:prone (dim 100). The vectors are exported and scored with gensim's evaluators, as bench/train.py does. Writes
the section prone-words of docs/benchmarks.md.

    .venv/bin/python -m bench.prone_words [--weights ppmi,count] [--top-k 100]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.doc import load_average, machine, write_section
from bench.runner import REPO, run_cli
from bench.scale import git_commit
from bench.train import run_pipeline as svd_run
from bench.train import scores as svd_scores
from bench.walks import stage_lines
from bench.word2vec import gensim_data, scores

DIM = 100  # bench/train.py's svd run

GRAPH_PIPELINE = """[pipeline]
workdir = "{workdir}"
inputs = ["{text}"]
stages = ["walks", "train:prone"]

[walks]
graph_weight = "{weight}"
top_k = {top_k}
walks_per_node = 0  # the graph and its vertices only
lang = "en"

[train]
dim = {dim}
"""


def graph_run(toml: Path, text: str) -> tuple[float, dict]:
    toml.write_text(text, encoding="utf-8")
    run = run_cli(["run", str(toml), "--force"])
    return run.wall, stage_lines(run.stdout)


def cells(s: dict) -> str:
    return f"{s['ws353']:.3f} | {s['simlex']:.3f} | {s['analogy']:.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(REPO / ".data/bench_train"))
    ap.add_argument("--work", default=str(REPO / ".data/bench_prone_words"))
    ap.add_argument("--weights", default="ppmi,count", help="walks.graph_weight values")
    ap.add_argument("--top-k", type=int, default=100, help="walks.top_k: cells kept a word")
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--no-doc", action="store_true", help="print, do not write the docs")
    args = ap.parse_args(argv)
    corpus, work = Path(args.corpus).resolve(), Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not (corpus / "tokens").is_dir():
        sys.exit(f"no corpus at {corpus}: run python -m bench.train first")
    load = load_average()
    # The svd run of bench/train.py (cooccur + train:svd, dim 100) in its own work dir.
    text, wall, kv, split, _ = svd_run(corpus, "svd", args.window)
    rows = [
        (
            f"svd (PPMI + randomized SVD), window {args.window}",
            wall,
            split.replace(" (one `sparkembed run`)", ""),
            svd_scores(kv, gensim_data()),
        )
    ]
    for weight in args.weights.split(","):
        graph = work / f"graph-{weight}"
        graph.mkdir(parents=True, exist_ok=True)
        wall, stages = graph_run(
            work / f"graph-{weight}.toml",
            GRAPH_PIPELINE.format(
                workdir=graph, text=text, weight=weight, top_k=args.top_k, dim=DIM
            ),
        )
        edges = stages["walks"]["counts"].get("edges", 0)
        rows.append(
            (
                f"prone on the word graph ({weight}, top {args.top_k}: {edges:,} edges)",
                wall,
                f"graph {stages['walks']['total']:.0f} + prone "
                f"{stages['train:prone']['total']:.0f} (after the same cooccur)",
                scores(graph / "vectors-prone"),
            )
        )
    lines = [
        "## prone: word vectors from the co-occurrence graph, beside svd",
        "",
        f"The real-text corpus (bench/make_real_corpus.py, min count 5), cooccur window "
        f"{args.window}, dim {DIM}. ProNE reads the co-occurrence table as a graph: each "
        f"word keeps its {args.top_k} strongest cells (`walks.top_k`) by `walks.graph_weight` "
        "(ppmi: positive PMI; count: the window-weighted count), no walks "
        "(`walks.walks_per_node = 0`). Seconds: each `sparkembed run` (process start "
        "included); the prone runs read the svd run's co-occurrence table.",
        "",
        "| vectors | s | split | WS353 | SimLex-999 | analogies |",
        "|---|---:|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {wall:.0f} | {split} | {cells(s)} |" for name, wall, split, s in rows]
    lines += [
        "",
        f"Machine: {machine()}; load average {load} before, {load_average()} after; "
        f"sparkembed at {git_commit()}. Reproduce: `.venv/bin/python -m bench.prone_words`.",
    ]
    text_md = "\n".join(lines) + "\n"
    print(text_md)
    if not args.no_doc:
        write_section("prone-words", text_md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
