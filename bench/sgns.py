"""Benchmark: train --method sgns beside gensim's Word2Vec and MLlib's, on the real-text
corpus (the tokens bench/train.py builds in .data/bench_train).

    .venv/bin/python -m bench.sgns gensim       # sgns on local[2] and gensim, one run
    .venv/bin/python -m bench.sgns partitions   # K = 1, 2, 4, 8 beside MLlib's partitions
    .venv/bin/python -m bench.sgns cluster      # K = 1, 2, 4, 8 on 2 executors of a
                                                # standalone cluster (scripts/cluster.sh)
    .venv/bin/python -m bench.sgns large --partitions 5 --sweeps 1
                                                # a model beyond MLlib's 2^31 floats

Every sparkembed run is one ``sparkembed train`` (process start included), exported and
scored with gensim's evaluators (WS353, SimLex-999, the analogies, as bench/train.py does).
gensim trains in this process on the same sentences (skip-gram, window 5, negative 5, 5
epochs, sample 1e-3, dim 100, 2 workers); its time is the training only. ``cluster``
starts ``scripts/cluster.sh`` (2 workers of 1 core) and samples the executor JVMs' memory,
with ``--dim`` (default 300) so that the model's share is visible beside the JVM's own
memory. ``large`` writes a text corpus in which each of ``--words`` made-up words
occurs at least once (``--tokens`` in all, 20 a line), tokenizes it and trains one epoch
at ``--dim`` with min count 1 and ``--partitions`` buckets, sampling the processes' memory
and the scratch folder's size. Each command writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.doc import load_average, machine, versions, write_section
from bench.runner import REPO, run_cli, run_measured
from bench.scale import executor_pids, git_commit, process_kind
from bench.train import scores
from bench.word2vec import gensim_data
from sparkembed.config import SgnsConfig

GB = 2**30
CLUSTER_MASTER = "spark://127.0.0.1:7077"


def scored(vectors: Path) -> dict[str, float]:
    """WS353, SimLex-999 and analogies of a vector table, exported to word2vec format."""
    from gensim.models import KeyedVectors

    exported = vectors.with_suffix(".bin")
    run_cli(["export", str(vectors), "--output", str(exported), "--binary", "--overwrite"])
    kv = KeyedVectors.load_word2vec_format(str(exported), binary=True)
    return {k: float(v) for k, v in scores(kv, gensim_data()).items()} | {"words": len(kv)}


def train(work: Path, method: str, out: Path, settings: dict, dim: int = 100, sample=False):
    extra = [x for k, v in settings.items() for x in ("--set", f"{k}={v}")]
    args = ["train", str(work), "--method", method, "--dim", str(dim), "--output", str(out)]
    return run_cli([*args, "--overwrite"], extra, sample=sample)


def score_cells(s: dict) -> str:
    return f"{s['ws353']:.3f} | {s['simlex']:.3f} | {s['analogy']:.3f}"


def check_work(work: Path) -> None:
    if not (work / "tokens").is_dir() or not (work / "vocab").is_dir():
        sys.exit(f"{work}/tokens or vocab missing: run `python -m bench.train` first")


def vs_gensim(args) -> int:
    import pyarrow.dataset as ds
    from gensim.models import Word2Vec

    work = Path(args.work).resolve()
    check_work(work)
    load = load_average()
    run = train(work, "sgns", work / "sgns", {})
    ours = scored(work / "sgns")
    sentences = ds.dataset(str(work / "tokens")).to_table(columns=["tokens"])
    sentences = sentences.column("tokens").to_pylist()
    t0 = time.perf_counter()
    model = Word2Vec(
        sentences, vector_size=100, window=5, min_count=5, sg=1, negative=5, epochs=5,
        sample=1e-3, workers=2, seed=42,
    )  # fmt: skip
    gensim_s = time.perf_counter() - t0
    ref = {k: float(v) for k, v in scores(model.wv, gensim_data()).items()}
    n_tokens = sum(map(len, sentences))
    s = SgnsConfig
    lines = [
        "## sgns beside gensim Word2Vec",
        "",
        f"Real-text corpus ({n_tokens:,} tokens, min count 5), dim 100, window 5, negative 5, "
        f"5 epochs, sample 1e-3, local[2] / 2 workers, in one run. sparkembed: one `sparkembed "
        f"train --method sgns` (process and Spark start included; defaults: alpha "
        f"{s.alpha:g}, partitions {s.partitions or 'one per task slot'}); gensim: training "
        "only.",
        "",
        "| trainer | s | WS353 | SimLex-999 | analogies | words |",
        "|---|---:|---:|---:|---:|---:|",
        f"| sparkembed sgns | {run.wall:.0f} | {score_cells(ours)} | {ours['words']:,} |",
        f"| gensim Word2Vec (sg) | {gensim_s:.0f} | {score_cells(ref)} | {len(model.wv):,} |",
        "",
        f"Target: each score at least gensim's − 0.01, time at most gensim's. Machine: "
        f"{machine()}; load average {load} before, {load_average()} after; "
        f"{versions(['gensim', 'pyspark', 'numpy'])}. "
        "Reproduce: `.venv/bin/python -m bench.sgns gensim`.",
    ]
    return finish(args, "sgns-gensim", lines)


def sweep(args) -> int:
    """sgns at K = 1, 2, 4, 8 beside MLlib word2vec at the same partitions, local[2]."""
    work = Path(args.work).resolve()
    check_work(work)
    parts = [int(x) for x in args.partitions.split(",")]
    load = load_average()
    rows = []
    sweeps = [int(x) for x in args.sweeps.split(",")]
    for k in parts:
        for s in sweeps:
            if s > 1 and k == 1 and {0, 1} & set(sweeps):
                continue  # one bucket: sweeps only re-slice the same order
            out = work / "sgns-sweep" / (f"k{k}" if s == 0 else f"k{k}-s{s}")
            run = train(work, "sgns", out, {"sgns.partitions": k, "sgns.sweeps": s})
            rows.append(("sgns" if s == 0 else f"sgns, S = {s}", k, run.wall, scored(out)))
    if not args.skip_word2vec:
        for k in parts:
            out = work / "sgns-sweep" / f"mllib-p{k}"
            run = train(work, "word2vec", out, {"word2vec.num_partitions": k})
            rows.append(("MLlib word2vec", k, run.wall, scored(out)))
    lines = [
        "## sgns and MLlib word2vec by partitions",
        "",
        "Real-text corpus, dim 100, window 5, local[2], each trainer's defaults but the "
        "partitions; one `sparkembed train` a row (process start included). The change is "
        "against the same trainer's first row (sgns's for sgns with `sgns.sweeps` S set: "
        "each block trained in S slices, in S sweeps of the K rounds; sgns's default S is "
        "2K up to 8, at least K).",
        "",
        "| trainer | partitions | s | WS353 | SimLex-999 | analogies | change (WS353 / SimLex / "
        "analogies) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    first = {}
    for name, k, wall, s in rows:
        base = first.setdefault(name.split(",")[0], s)
        change = " / ".join(f"{s[m] - base[m]:+.3f}" for m in ("ws353", "simlex", "analogy"))
        lines.append(f"| {name} | {k} | {wall:.0f} | {score_cells(s)} | {change} |")
    lines += [
        "",
        f"Machine: {machine()}; load average {load} before, {load_average()} after; "
        f"sparkembed at {git_commit()}. Reproduce: `.venv/bin/python -m bench.sgns partitions`.",
    ]
    return finish(args, "sgns-partitions", lines)


def cluster(args) -> int:
    """sgns on a 2-executor standalone cluster: the executors' peak memory by K."""
    work = Path(args.work).resolve()
    check_work(work)
    parts = [int(x) for x in args.partitions.split(",")]
    cluster_dir = work / "cluster"
    script = str(REPO / "scripts/cluster.sh")
    start = [script, "start", "--workers", "2", "--cores", "1", "--memory", args.worker_memory]
    subprocess.run([*start, "--dir", str(cluster_dir)], check=True)
    load = load_average()
    rows = []
    try:
        for k in parts:
            out = work / "sgns-cluster" / f"k{k}"
            conf = f'{{ "spark.executor.memory" = "{args.executor_memory}" }}'
            cmd = [
                sys.executable, "-m", "sparkembed", "train", str(work), "--method", "sgns",
                "--dim", str(args.dim), "--output", str(out), "--overwrite", "-q",
                "--set", f"spark.master={CLUSTER_MASTER}", "--set", f"spark.conf={conf}",
                "--set", f"sgns.partitions={k}",
            ]  # fmt: skip
            before = executor_pids()
            env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
            run = run_measured(
                cmd,
                work / "sgns-cluster" / f"k{k}.log",
                classify=process_kind,
                extra_roots=lambda before=before: executor_pids() - before,
                env=env,
            )
            if run.returncode:
                sys.exit(f"sgns K={k} on the cluster failed: {work}/sgns-cluster/k{k}.log")
            rows.append((k, run, scored(out)))
    finally:
        subprocess.run([script, "stop", "--dir", str(cluster_dir)], check=False)
    words = rows[0][2]["words"] if rows else 0
    lines = [
        "## sgns on a standalone cluster: memory per executor by K",
        "",
        f"`scripts/cluster.sh` with 2 workers of 1 core (executors of "
        f"{args.executor_memory}), the real-text corpus at dim {args.dim} ({words:,} words: "
        f"W and C together {2 * words * args.dim * 4 / GB:.2f} GB). A task holds one bucket "
        f"of W and one of C, 2 × {words:,} × {args.dim} × 4 B / K.",
        "",
        "| K | s | model held by a task | peak executor JVM (largest) | peak driver JVM | "
        "peak Python worker | WS353 | SimLex-999 | analogies |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k, run, s in rows:
        held = 2 * words * args.dim * 4 / k / GB
        p = run.peak_by_kind
        lines.append(
            f"| {k} | {run.wall:.0f} | {held:.2f} GB | {p.get('executor JVM', 0) / GB:.2f} GB | "
            f"{p.get('driver JVM', 0) / GB:.2f} GB | {p.get('Python worker', 0) / GB:.2f} GB | "
            f"{score_cells(s)} |"
        )
    lines += [
        "",
        f"Machine: {machine()}; load average {load} before, {load_average()} after; "
        f"sparkembed at {git_commit()}. Reproduce: `.venv/bin/python -m bench.sgns cluster`.",
    ]
    return finish(args, "sgns-cluster", lines)


def word_codes(ids, letters: int = 6):
    """Made-up words: id in base 26, ``letters`` lowercase letters, one row per id."""
    import numpy as np

    codes = np.empty((len(ids), letters), np.uint8)
    x = np.asarray(ids, np.int64)
    for i in range(letters - 1, -1, -1):
        codes[:, i] = ord("a") + x % 26
        x = x // 26
    return codes


def write_large_corpus(folder: Path, words: int, tokens: int, seed: int) -> None:
    """``tokens`` tokens, 20 a line, over ``words`` words, each at least once."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = np.concatenate([np.arange(words), rng.integers(0, words, max(0, tokens - words))])
    rng.shuffle(ids)
    per_file = 2_000_000
    for f, start in enumerate(range(0, len(ids), per_file)):
        part = ids[start : start + per_file]
        text = np.empty((len(part), 7), np.uint8)
        text[:, :6] = word_codes(part)
        text[:, 6] = ord(" ")
        text[19::20, 6] = ord("\n")
        text[-1, 6] = ord("\n")
        (folder / f"part-{f:03d}.txt").write_bytes(text.tobytes())


def vocab_rows(vocab: Path) -> int:
    import pyarrow.dataset as ds

    return ds.dataset(str(vocab)).count_rows()


def folder_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def large(args) -> int:
    """One epoch of a model of --words x --dim floats, beyond MLlib's bound if so asked."""
    import threading

    work = Path(args.work).resolve() / "sgns-large"
    text, run_dir = work / "text", work / "run"
    if "," in args.partitions or "," in args.sweeps:
        sys.exit("large: give one K (--partitions) and one S (--sweeps)")
    floats = args.words * args.dim
    if not (run_dir / "vocab").is_dir() or vocab_rows(run_dir / "vocab") != args.words:
        shutil.rmtree(text, ignore_errors=True)
        write_large_corpus(text, args.words, args.tokens, seed=7)
        run_cli(
            ["tokenize", str(text), "--output", str(run_dir), "--overwrite", "--min-count", "1"]
        )
    out = work / "vectors"
    cmd = [
        sys.executable, "-m", "sparkembed", "train", str(run_dir), "--method", "sgns",
        "--dim", str(args.dim), "--output", str(out), "--overwrite", "-q",
        "--set", "sgns.min_count=1", "--set", "sgns.epochs=1", "--set", "sgns.sample=0",
        "--set", f"sgns.partitions={args.partitions}", "--set", f"sgns.sweeps={args.sweeps}",
        "--set", f"spark.driver_memory={args.driver_memory}",
    ]  # fmt: skip
    peak_disk = [0]
    stop = threading.Event()

    def watch():  # the trainer's scratch folder sits beside its output, in ``work``
        while not stop.wait(2.0):
            peak_disk[0] = max(peak_disk[0], folder_bytes(work))

    load = load_average()
    base = folder_bytes(work)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        run = run_measured(cmd, work / "train.log", classify=process_kind)
    finally:
        stop.set()
        watcher.join()
    if run.returncode:
        sys.exit(f"sgns large failed: {work}/train.log")
    trained = json.loads((out / "_sparkembed.json").read_text())["counts"]["words"]
    if trained != args.words:
        sys.exit(f"sgns large trained {trained:,} words, not {args.words:,}: {work}/train.log")
    p = run.peak_by_kind
    model_gb = 2 * floats * 4 / GB
    lines = [
        "## sgns: a model beyond MLlib word2vec's bound",
        "",
        f"{args.words:,} words × dim {args.dim} = {floats:,} floats a matrix "
        f"({floats / 2**31:.2f} × 2^31, the bound MLlib's Word2Vec refuses), W and C together "
        f"{model_gb:.1f} GB; {args.tokens:,} tokens (each word at least once), one epoch, "
        f"K = {args.partitions}, S = {args.sweeps} (a task holds "
        f"{model_gb / int(args.partitions):.2f} GB of the model), local[2] with a "
        f"{args.driver_memory} driver.",
        "",
        "| s | peak driver Python | peak driver JVM | peak Python worker | largest scratch "
        "+ output on disk |",
        "|---:|---:|---:|---:|---:|",
        f"| {run.wall:.0f} | {p.get('driver Python', 0) / GB:.2f} GB | "
        f"{p.get('driver JVM', 0) / GB:.2f} GB | {p.get('Python worker', 0) / GB:.2f} GB | "
        f"{(peak_disk[0] - base) / GB:.1f} GB |",
        "",
        f"Machine: {machine()}; load average {load} before, {load_average()} after; "
        f"sparkembed at {git_commit()}. Reproduce: `.venv/bin/python -m bench.sgns large "
        f"--words {args.words} --dim {args.dim} --partitions {args.partitions} "
        f"--sweeps {args.sweeps}`.",
    ]
    return finish(args, "sgns-large", lines)


def finish(args, section: str, lines: list[str]) -> int:
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_doc:
        write_section(section, text)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("gensim", "partitions", "cluster", "large"))
    ap.add_argument("--work", default=str(REPO / ".data/bench_train"))
    ap.add_argument(
        "--partitions", default="1,2,4,8", help="K values (partitions, cluster); large: one K"
    )
    ap.add_argument("--skip-word2vec", action="store_true", help="partitions: sgns only")
    ap.add_argument(
        "--sweeps",
        default="0",
        help="partitions: sgns.sweeps values (S) per K; large: one S; 0: the default",
    )
    ap.add_argument("--dim", type=int, default=300, help="cluster: vector size")
    ap.add_argument("--worker-memory", default="6g", help="cluster: each worker's memory")
    ap.add_argument("--executor-memory", default="4g", help="cluster: each executor's heap")
    ap.add_argument("--words", type=int, default=7_200_000, help="large: vocabulary size")
    ap.add_argument("--tokens", type=int, default=20_000_000, help="large: corpus tokens")
    ap.add_argument("--driver-memory", default="12g", help="large: the local driver's heap")
    ap.add_argument("--no-doc", action="store_true", help="print, do not write the docs")
    args = ap.parse_args(argv)
    commands = {"gensim": vs_gensim, "partitions": sweep, "cluster": cluster, "large": large}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
