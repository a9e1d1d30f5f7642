"""Benchmark: svd, glove, word2vec and sgns trainers beside gensim's Word2Vec and a GloVe
AdaGrad reference (Stanford's algorithm, numba) on a ~10M-token corpus.

One run, figures into docs/benchmarks.md. The default corpus is real English text,
bench/make_real_corpus.py's 9.6M tokens from Debian's dictionaries and Bibles and the
Wikipedia sample (section "train"); it is built if missing (after
bench/setup_data.sh). ``--corpus .data/synth10m`` runs on bench/make_corpus.py's
synthetic 10M-token corpus instead (bigram statistics of the Wikipedia sample; section
"train-synthetic").

    .venv/bin/python -m bench.train [--corpus .data/realtext] [--work .data/bench_train]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.doc import machine, write_section
from sparkembed.config import GloveConfig, SgnsConfig, SvdConfig, Word2VecConfig

REPO = Path(__file__).resolve().parent.parent
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


PIPELINE = """[pipeline]
workdir = "{workdir}"
stages = ["cooccur", "train:{method}"]

[cooccur]
window = {window}

[train]
dim = 100
"""


def run_pipeline(work: Path, method: str, window: int):
    """One `sparkembed run` (cooccur, then train:METHOD) in a work dir of its own that sees
    the corpus through symlinks, as a user runs it end to end in one JVM; the vectors
    exported and loaded. Returns (work dir, wall seconds, KeyedVectors, time split, cooccur
    seconds)."""
    from gensim.models import KeyedVectors

    wdir = work / f"{method}-w{window}-run"
    wdir.mkdir(exist_ok=True)
    for name in ("tokens", "vocab"):
        link = wdir / name
        if link.is_symlink():  # may point into another --work: link afresh
            link.unlink()
        if not link.exists():
            link.symlink_to(work / name)
    pipeline = wdir / "pipeline.toml"
    text = PIPELINE.format(workdir=wdir, method=method, window=window)
    pipeline.write_text(text, encoding="utf-8")
    t_run, stdout = sh("run", str(pipeline), "--force")
    exported = work / f"{method}-w{window}.bin"
    sh("export", str(wdir / f"vectors-{method}"), "--output", str(exported), "--binary")
    kv = KeyedVectors.load_word2vec_format(str(exported), binary=True)
    detail = (
        f"cooccur {stage_seconds(stdout, 'cooccur'):.0f} s + train "
        f"{stage_seconds(stdout, 'train'):.0f} s (one `sparkembed run`)"
    )
    return wdir, t_run, kv, detail, stage_seconds(stdout, "cooccur")


def glove_adagrad(cooc_dir: Path, vocab_dir: Path, dim=100, epochs=15, x_max=10.0, alpha=0.75,
                  eta=0.05, threads=2, seed=0):  # fmt: skip
    """The reference for ``--method glove``: Stanford GloVe's algorithm (``glove.c``), written
    again here in numba since no build of the C program is installable on these machines:
    every epoch visits the non-zero counts in a fresh random order, split into ``threads``
    lock-free chunks (Hogwild, as glove.c), and updates w_i, c_j, b_i, b̃_j by AdaGrad
    (gradient sums start at 1, step ``eta``, weights min(1, (x/x_max)^alpha), vectors and
    biases start uniform in ±0.5/dim); the output is W + C (glove.c's ``-model 2``).
    Returns (KeyedVectors, seconds to load the counts, seconds to train)."""
    import numba
    import numpy as np
    import pyarrow.dataset as ds
    from gensim.models import KeyedVectors

    @numba.njit(parallel=True, fastmath=False)
    def epoch(order, rows, cols, logx, weight, w, c, bw, bc, gw, gc, gbw, gbc, eta, threads):
        n = len(order)
        cost = np.zeros(threads)
        for t in numba.prange(threads):
            for k in range(t * n // threads, (t + 1) * n // threads):
                e = order[k]
                i, j = rows[e], cols[e]
                diff = bw[i] + bc[j] - logx[e]
                for d in range(w.shape[1]):
                    diff += w[i, d] * c[j, d]
                fdiff = weight[e] * diff
                cost[t] += 0.5 * fdiff * diff
                fdiff *= eta
                for d in range(w.shape[1]):
                    g1 = fdiff * c[j, d]
                    g2 = fdiff * w[i, d]
                    w[i, d] -= g1 / np.sqrt(gw[i, d])
                    c[j, d] -= g2 / np.sqrt(gc[j, d])
                    gw[i, d] += g1 * g1
                    gc[j, d] += g2 * g2
                bw[i] -= fdiff / np.sqrt(gbw[i])
                bc[j] -= fdiff / np.sqrt(gbc[j])
                gbw[i] += fdiff * fdiff
                gbc[j] += fdiff * fdiff
        return cost.sum()

    t0 = time.perf_counter()
    t = ds.dataset(str(cooc_dir)).to_table(columns=["row", "col", "count"])
    rows = t.column("row").to_numpy().astype(np.int32)
    cols = t.column("col").to_numpy().astype(np.int32)
    counts = t.column("count").to_numpy().astype(np.float64)
    voc = ds.dataset(str(vocab_dir)).to_table(columns=["id", "token", "count"])
    n = int(max(voc.column("id").to_numpy().max(), rows.max(), cols.max())) + 1
    logx = np.log(counts).astype(np.float32)
    weight = np.minimum(1.0, (counts / x_max) ** alpha).astype(np.float32)
    load_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    w = ((rng.random((n, dim)) - 0.5) / dim).astype(np.float32)
    c = ((rng.random((n, dim)) - 0.5) / dim).astype(np.float32)
    bw = ((rng.random(n) - 0.5) / dim).astype(np.float32)
    bc = ((rng.random(n) - 0.5) / dim).astype(np.float32)
    gw, gc = np.ones_like(w), np.ones_like(c)
    gbw, gbc = np.ones_like(bw), np.ones_like(bc)
    numba.set_num_threads(threads)
    # compile on a tiny copy first: glove.c has no compile step
    tiny = np.arange(2, dtype=np.int64)
    epoch(tiny, rows, cols, logx, weight, w.copy(), c.copy(), bw.copy(), bc.copy(), gw.copy(),
          gc.copy(), gbw.copy(), gbc.copy(), np.float32(eta), threads)  # fmt: skip
    t0 = time.perf_counter()
    for it in range(epochs):
        order = rng.permutation(len(rows)).astype(np.int64)
        cost = epoch(order, rows, cols, logx, weight, w, c, bw, bc, gw, gc, gbw, gbc,
                     np.float32(eta), threads)  # fmt: skip
        print(f"glove adagrad epoch {it + 1}/{epochs}: cost {cost / len(rows):.5f}", flush=True)
    train_s = time.perf_counter() - t0
    ids = voc.column("id").to_numpy()
    seen = np.zeros(n, dtype=bool)
    seen[rows] = True
    order = np.argsort(-voc.column("count").to_numpy(), kind="stable")
    order = order[seen[ids[order]]]
    kv = KeyedVectors(dim)
    kv.add_vectors([voc.column("token")[int(k)].as_py() for k in order], (w + c)[ids[order]])
    return kv, load_s, train_s


def w2v_setting() -> str:
    """The MLlib word2vec defaults the benchmark runs, in words."""
    w = Word2VecConfig
    parts = w.num_partitions or "auto (from the corpus size)"
    sample = "auto (from the corpus size)" if w.subsample < 0 else f"{w.subsample:g}"
    return f"{w.max_iter} iterations, step {w.step_size:g}, partitions {parts}, subsample {sample}"


def sgns_setting() -> str:
    """The sgns defaults the benchmark runs, in words."""
    s = SgnsConfig
    parts = s.partitions or "one per task slot"
    return (
        f"{s.epochs} epochs, negative {s.negative}, sample {s.sample:g}, alpha {s.alpha:g}, "
        f"partitions {parts}"
    )


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
    ap.add_argument("--skip-sgns", action="store_true", help="leave out sgns")
    ap.add_argument("--skip-glove", action="store_true", help="leave out glove and its reference")
    ap.add_argument("--skip-glove-reference", action="store_true", help="glove, not AdaGrad")
    ap.add_argument("--glove-epochs", type=int, default=15, help="AdaGrad reference's epochs")
    ap.add_argument("--no-doc", action="store_true", help="print, do not write the docs")
    args = ap.parse_args()
    data = Path(gtu.__file__).parent / "test_data"
    corpus, work = Path(args.corpus).resolve(), Path(args.work).resolve()
    windows = [int(w) for w in args.windows.split(",")]
    synthetic = corpus.name.startswith("synth")
    if not (corpus / "tokens").is_dir():
        if synthetic:
            make = [PY, "-m", "bench.make_corpus", "--tokens", "10M", "--output", str(corpus)]
        else:
            subprocess.run(["bash", "bench/setup_data.sh"], cwd=REPO, check=True)
            make = [PY, "-m", "bench.make_real_corpus", "--output", str(corpus)]
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
        _wdir, t_run, kv, detail, _cooc_s = run_pipeline(work, "svd", w)
        svd_kv[w] = kv
        rows.append((f"sparkembed svd, window {w}", w, t_run, scores(kv, data), len(kv), detail))

    glove_ref = None
    if not args.skip_glove:
        w = windows[0]
        wdir, t_run, kv, detail, cooc_s = run_pipeline(work, "glove", w)
        rows.append((f"sparkembed glove (ALS, {GloveConfig.iterations} iterations), window {w}",
                     w, t_run, scores(kv, data), len(kv), detail))  # fmt: skip
        if not args.skip_glove_reference:
            kv, load_s, train_s = glove_adagrad(
                wdir / "cooccurrence", wdir / "vocab", epochs=args.glove_epochs
            )
            glove_ref = (cooc_s, load_s, train_s)
            rows.append(
                (f"GloVe AdaGrad (glove.c's algorithm in numba, {args.glove_epochs} epochs, 2 "
                 f"threads), window {w}", w, train_s, scores(kv, data), len(kv),
                 f"training only, on sparkembed's counts (loading them: {load_s:.0f} s)")
            )  # fmt: skip

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
            (f"sparkembed word2vec (MLlib, {w2v_setting()}), window 5", 5, t_w2v,
             scores(kv, data), len(kv), "")
        )  # fmt: skip

    if not args.skip_sgns:
        out = str(work / "sgns")
        t_sgns, _ = sh("train", str(work), "--method", "sgns", "--dim", "100", "--output", out)
        sh("export", out, "--output", str(work / "sgns.bin"), "--binary")
        kv = KeyedVectors.load_word2vec_format(str(work / "sgns.bin"), binary=True)
        rows.append(
            (f"sparkembed sgns ({sgns_setting()}), window {SgnsConfig.window}",
             SgnsConfig.window, t_sgns, scores(kv, data), len(kv), "one `sparkembed train`")
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

    lines = [
        "## train: PPMI+SVD, GloVe, MLlib word2vec and sgns vs gensim Word2Vec and GloVe AdaGrad"
        + (" (synthetic corpus)" if synthetic else ""),
        "",
        (
            f"Corpus: `bench/make_corpus.py` synthetic corpus, {n_tokens:,} tokens, "
            f"{len(sentences):,} sentences (bigram statistics of the English Wikipedia "
            "sample: little topical signal, so every WS353 figure is low). "
            if synthetic
            else f"Corpus: `bench/make_real_corpus.py`, real English text, {n_tokens:,} "
            f"tokens, {len(sentences):,} sentences: Debian's GCIDE (Webster 1913), WordNet "
            "3.0 glosses (synonym lists removed), FOLDOC, Jargon File and Devil's Dictionary, "
            "the King James and World English Bibles, and gensim's Wikipedia sample. "
        )
        + "dim 100, min count 5; default config otherwise (svd: alpha 0.75, eig 0.5, "
        f"W+C, randomized SVD with oversample {SvdConfig.oversample} and "
        f"{SvdConfig.power_iters} power iterations; glove: x_max {GloveConfig.x_max:g}, "
        f"alpha {GloveConfig.alpha}, ridge {GloveConfig.ridge:g}, W+C; word2vec: "
        f"{w2v_setting()}; sgns: {sgns_setting()}). Scores: gensim's `evaluate_word_pairs` (Spearman) and "
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
    if glove_ref is not None:
        cooc_s, load_s, train_s = glove_ref
        lines.append(
            "GloVe AdaGrad row: the reference trainer only (Stanford's glove.c, which the "
            "issue quotes at ~230 s for vocab_count + cooccur + shuffle + glove, WS353 ~0.39, "
            "SimLex ~0.23, analogies ~0.06 on a corpus of this kind, is not installable here); "
            f"with this run's cooccur ({cooc_s:.0f} s) and loading ({load_s:.0f} s) it would "
            f"take {cooc_s + load_s + train_s:.0f} s end to end."
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
