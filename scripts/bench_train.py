"""Benchmark: svd and word2vec trainers beside gensim's Word2Vec on a ~10M-token corpus.

One run, figures into docs/benchmarks.md. The default corpus is real English text,
scripts/make_real_corpus.py's 9.6M tokens from Debian's dictionaries and Bibles and the
Wikipedia sample (section "train"); it is built if missing (after
scripts/setup_bench_data.sh). ``--corpus .data/synth10m`` runs on scripts/make_corpus.py's
synthetic 10M-token corpus instead (bigram statistics of the Wikipedia sample; section
"train-synthetic").

    .venv/bin/python scripts/bench_train.py [--corpus .data/realtext] [--work .data/bench_train]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
PY = sys.executable


def sh(*args: str) -> tuple[float, str]:
    """Run a sparkembed command; returns (wall seconds, its stdout)."""
    t0 = time.perf_counter()
    res = subprocess.run(
        [PY, "-m", "sparkembed", *args, "-q"], cwd=REPO, capture_output=True, text=True
    )
    if res.returncode:
        sys.exit(f"failed: sparkembed {' '.join(args)}\n{res.stderr[-3000:]}")
    print(res.stdout.strip(), flush=True)
    return time.perf_counter() - t0, res.stdout


SVD_PIPELINE = """[pipeline]
workdir = "{workdir}"
stages = ["cooccur", "train:svd"]

[cooccur]
window = {window}

[train]
dim = 100
"""


def stage_seconds(stdout: str, stage: str) -> float:
    """The ``total N s`` of a stage's summary line in ``sparkembed run``'s output."""
    for line in stdout.splitlines():
        if line.startswith(f"{stage}:") and "| total " in line:
            return float(line.rsplit("| total ", 1)[1].split("s")[0])
    return float("nan")


def scores(kv, data: Path) -> dict[str, float]:
    ws = kv.evaluate_word_pairs(str(data / "wordsim353.tsv"))
    sl = kv.evaluate_word_pairs(str(data / "simlex999.txt"))
    an = kv.evaluate_word_analogies(str(data / "questions-words.txt"))[0]
    return {"ws353": ws[1][0], "simlex": sl[1][0], "analogy": an, "oov": ws[2]}


def paired_ws353_difference(kv_a, kv_b, data: Path, rounds: int = 2000, seed: int = 0):
    """Spearman(a) - Spearman(b) on the WS353 pairs both cover, and its 95% bootstrap
    interval (pairs resampled together): how much of a gap WS353's few pairs can tell."""
    import numpy as np
    from scipy.stats import spearmanr

    human, sim_a, sim_b = [], [], []
    for line in (data / "wordsim353.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("#") or len(parts) != 3:
            continue
        w1, w2 = parts[0].lower(), parts[1].lower()
        if all(w in kv.key_to_index for kv in (kv_a, kv_b) for w in (w1, w2)):
            human.append(float(parts[2]))
            sim_a.append(kv_a.similarity(w1, w2))
            sim_b.append(kv_b.similarity(w1, w2))
    human, sim_a, sim_b = map(np.asarray, (human, sim_a, sim_b))

    def diff(i):
        return spearmanr(human[i], sim_a[i])[0] - spearmanr(human[i], sim_b[i])[0]

    rng = np.random.default_rng(seed)
    boot = [diff(rng.integers(0, len(human), len(human))) for _ in range(rounds)]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return diff(np.arange(len(human))), lo, hi, len(human)


def main() -> int:
    import gensim.test.utils as gtu
    import pyarrow.dataset as ds
    from gensim.models import KeyedVectors, Word2Vec

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(REPO / ".data/realtext"))
    ap.add_argument("--work", default=str(REPO / ".data/bench_train"))
    ap.add_argument("--windows", default="5,3", help="windows for svd and gensim, first = main")
    ap.add_argument("--skip-word2vec", action="store_true", help="leave out MLlib word2vec")
    ap.add_argument("--no-doc", action="store_true", help="print, do not write the docs")
    args = ap.parse_args()
    data = Path(gtu.__file__).parent / "test_data"
    corpus, work = Path(args.corpus).resolve(), Path(args.work).resolve()
    windows = [int(w) for w in args.windows.split(",")]
    synthetic = corpus.name.startswith("synth")
    if not (corpus / "tokens").is_dir():
        if synthetic:
            make = [PY, "scripts/make_corpus.py", "--tokens", "10M", "--output", str(corpus)]
        else:
            subprocess.run(["bash", "scripts/setup_bench_data.sh"], cwd=REPO, check=True)
            make = [PY, "scripts/make_real_corpus.py", "--output", str(corpus)]
        subprocess.run(make, cwd=REPO, check=True)
    work.mkdir(parents=True, exist_ok=True)
    for name in ("tokens", "vocab"):
        if not (work / name).is_dir():
            shutil.copytree(corpus / name, work / name)
    sentences = ds.dataset(str(work / "tokens")).to_table(columns=["tokens"])
    sentences = sentences.column("tokens").to_pylist()
    n_tokens = sum(map(len, sentences))
    load_before = os.getloadavg()[0]
    rows = []  # (name, window, seconds, scores, vocab, detail)
    svd_kv = {}  # window -> svd vectors, for the paired comparison with gensim

    for w in windows:
        # One `sparkembed run` (cooccur, then train) in a work dir of its own that sees
        # the corpus through symlinks: what a user runs end to end, one JVM.
        wdir = work / f"svd-w{w}-run"
        wdir.mkdir(exist_ok=True)
        for name in ("tokens", "vocab"):
            link = wdir / name
            if link.is_symlink():  # may point into another --work: link afresh
                link.unlink()
            if not link.exists():
                link.symlink_to(work / name)
        pipeline = wdir / "pipeline.toml"
        pipeline.write_text(SVD_PIPELINE.format(workdir=wdir, window=w), encoding="utf-8")
        t_run, stdout = sh("run", str(pipeline), "--force")
        out = wdir / "vectors-svd"
        sh("export", str(out), "--output", str(work / f"svd-w{w}.bin"), "--binary")
        kv = KeyedVectors.load_word2vec_format(str(work / f"svd-w{w}.bin"), binary=True)
        svd_kv[w] = kv
        detail = (
            f"cooccur {stage_seconds(stdout, 'cooccur'):.0f} s + train "
            f"{stage_seconds(stdout, 'train'):.0f} s (one `sparkembed run`)"
        )
        rows.append((f"sparkembed svd, window {w}", w, t_run, scores(kv, data), len(kv), detail))

    if not args.skip_word2vec:
        t_w2v, _ = sh(
            "train",
            str(work),
            "--method",
            "word2vec",
            "--dim",
            "100",
            "--output",
            str(work / "w2v"),
        )
        sh("export", str(work / "w2v"), "--output", str(work / "w2v.bin"), "--binary")
        kv = KeyedVectors.load_word2vec_format(str(work / "w2v.bin"), binary=True)
        rows.append(
            ("sparkembed word2vec (MLlib, 5 iter, 1 partition), window 5", 5, t_w2v,
             scores(kv, data), len(kv), "")
        )  # fmt: skip

    gensim_secs, gaps = {}, {}
    for w in windows:
        t0 = time.perf_counter()
        model = Word2Vec(
            sentences, vector_size=100, window=w, min_count=5, sg=1, negative=5, epochs=5,
            workers=2, seed=42,
        )  # fmt: skip
        gensim_secs[w] = time.perf_counter() - t0
        rows.append(
            (f"gensim Word2Vec (sg, negative 5, 5 epochs, 2 workers), window {w}", w,
             gensim_secs[w], scores(model.wv, data), len(model.wv), "")
        )  # fmt: skip
        print(f"gensim window {w}: {gensim_secs[w]:.0f} s", flush=True)
        gaps[w] = paired_ws353_difference(svd_kv[w], model.wv, data)

    from benchdoc import machine, write_section

    from sparkembed.config import SvdConfig

    lines = [
        "## train: PPMI+SVD and MLlib word2vec vs gensim Word2Vec"
        + (" (synthetic corpus)" if synthetic else ""),
        "",
        (
            f"Corpus: `scripts/make_corpus.py` synthetic corpus, {n_tokens:,} tokens, "
            f"{len(sentences):,} sentences (bigram statistics of the English Wikipedia "
            "sample: little topical signal, so every WS353 figure is low). "
            if synthetic
            else f"Corpus: `scripts/make_real_corpus.py`, real English text, {n_tokens:,} "
            f"tokens, {len(sentences):,} sentences: Debian's GCIDE (Webster 1913), WordNet "
            "3.0 glosses (synonym lists removed), FOLDOC, Jargon File and Devil's Dictionary, "
            "the King James and World English Bibles, and gensim's Wikipedia sample. "
        )
        + "dim 100, min count 5; default config otherwise (svd: alpha 0.75, eig 0.5, "
        f"W+C, randomized SVD with oversample {SvdConfig.oversample} and "
        f"{SvdConfig.power_iters} power iterations; word2vec: 5 iterations, "
        "step 0.05, 1 partition). Scores: gensim's `evaluate_word_pairs` (Spearman) and "
        "`evaluate_word_analogies` on the exported vectors. Machine: "
        f"{machine()}, local[*]; 1-minute load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (one run).",
        "",
        "| trainer | wall s | x gensim (same window) | WS353 | SimLex-999 | analogy | vocab "
        "| time split |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, w, sec, sc, n, detail in rows:
        lines.append(
            f"| {name} | {sec:.0f} | {sec / gensim_secs[w]:.2f} | {sc['ws353']:.3f} | "
            f"{sc['simlex']:.3f} | {sc['analogy']:.3f} | {n:,} | {detail} |"
        )
    lines += [
        "",
        "svd time = one `sparkembed run` of the stages cooccur and train:svd (process and JVM "
        "start included; the split is the stages' own totals). Target: svd <= 0.5x gensim's "
        "time with WS353 at least as high.",
    ]
    for w, (d, lo, hi, n) in gaps.items():
        lines.append(
            f"WS353, svd minus gensim at window {w}: {d:+.3f} on the {n} pairs both cover, 95% "
            f"bootstrap interval [{lo:+.3f}, {hi:+.3f}] (pairs resampled, 2,000 rounds)."
        )
    if args.skip_word2vec:
        lines.append("MLlib word2vec was not run this time (`--skip-word2vec`); see docs/train.md.")
    md = "\n".join(lines)
    print(md)
    if not args.no_doc:
        write_section("train-synthetic" if synthetic else "train", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
