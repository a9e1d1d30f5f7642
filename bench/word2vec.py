"""Benchmark: MLlib word2vec's partitions x iterations x step size x subsampling, quality
against seconds, on the real-text corpus; and a 100M-token corpus on local[2].

    .venv/bin/python -m bench.word2vec sweep [--only NAME,...]
    .venv/bin/python -m bench.word2vec scale [--tokens 100M]

``sweep`` trains each configuration of SWEEP with ``sparkembed train --method word2vec``
(dim 100, window 5, min count 5) on the tokens bench/train.py uses, scores WS353,
SimLex-999 and the analogies with gensim's evaluators, keeps every result in
``WORK/word2vec-sweep.jsonl`` (a configuration already there is not run again unless
``--fresh``) and writes the table into docs/train.md (section word2vec-sweep). Runs on
``local-cluster`` start two executors of one core each: the partitions' weights are then
averaged across JVMs, as on a cluster, instead of shared by the tasks of one executor.

``scale`` copies the corpus' token files until the corpus holds ``--tokens`` tokens (each
copy's doc_ids suffixed, the vocabulary's counts multiplied), trains with the defaults
of conf/local.toml, and records seconds and peak memory per process in
docs/benchmarks.md (section word2vec-scale).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from bench.doc import load_average, machine, versions, write_section
from bench.runner import (
    MEMORY_HEADERS,
    MEMORY_NOTE,
    memory_cells,
    run_cli,
)
from bench.train import scores as gensim_scores

REPO = Path(__file__).resolve().parent.parent

LOCAL_CLUSTER = "local-cluster[2,1,3072]"

# name: (subsample t, partitions, iterations, step size, master, MLlib's BLAS)
SWEEP = {
    "t1e-5 p1 i1": (1e-5, 1, 1, 0.05, "", "java"),
    "t1e-5 p1 i2": (1e-5, 1, 2, 0.05, "", "java"),
    "t1e-5 p2 i1": (1e-5, 2, 1, 0.05, "", "java"),
    "t1e-5 p2 i2": (1e-5, 2, 2, 0.05, "", "java"),
    "t1e-5 p2 i3": (1e-5, 2, 3, 0.05, "", "java"),
    "t1e-5 p4 i2": (1e-5, 4, 2, 0.05, "", "java"),
    "t1e-5 p2 i2 step 0.025": (1e-5, 2, 2, 0.025, "", "java"),
    "t1e-5 p2 i2 step 0.1": (1e-5, 2, 2, 0.1, "", "java"),
    "t1e-5 p2 i1 step 0.1": (1e-5, 2, 1, 0.1, "", "java"),
    "t1e-5 p2 i3 step 0.1": (1e-5, 2, 3, 0.1, "", "java"),
    "t1e-5 p1 i3 step 0.1": (1e-5, 1, 3, 0.1, "", "java"),
    "t1e-5 p2 i2 step 0.2": (1e-5, 2, 2, 0.2, "", "java"),
    "t1e-4 p2 i2": (1e-4, 2, 2, 0.05, "", "java"),
    "t1e-4 p2 i2 step 0.1": (1e-4, 2, 2, 0.1, "", "java"),
    "t1e-3 p2 i2": (1e-3, 2, 2, 0.05, "", "java"),
    "t0 p2 i1": (0.0, 2, 1, 0.05, "", "java"),
    "t0 p2 i2": (0.0, 2, 2, 0.05, "", "java"),
    "t1e-5 p2 i3 step 0.1 native BLAS": (1e-5, 2, 3, 0.1, "", "native"),
    "t1e-5 p2 i2 2 executors": (1e-5, 2, 2, 0.05, LOCAL_CLUSTER, "java"),
    "t1e-5 p2 i3 2 executors": (1e-5, 2, 3, 0.05, LOCAL_CLUSTER, "java"),
    "t1e-5 p2 i2 step 0.1 2 executors": (1e-5, 2, 2, 0.1, LOCAL_CLUSTER, "java"),
    "t1e-5 p2 i3 step 0.1 2 executors": (1e-5, 2, 3, 0.1, LOCAL_CLUSTER, "java"),
}


def gensim_data() -> Path:
    import gensim.test.utils as gtu

    return Path(gtu.__file__).parent / "test_data"


def scores(vectors: Path) -> dict[str, float]:
    from gensim.models import KeyedVectors

    exported = vectors.with_suffix(".bin")
    run_cli(["export", str(vectors), "--output", str(exported), "--binary"])
    kv = KeyedVectors.load_word2vec_format(str(exported), binary=True)
    got = gensim_scores(kv, gensim_data())
    return {k: float(v) for k, v in got.items()}


def train(work: Path, out: Path, settings: dict[str, object], sample: bool = False):
    extra = [x for k, v in settings.items() for x in ("--set", f"{k}={v}")]
    args = ["train", str(work), "--method", "word2vec", "--dim", "100", "--output", str(out)]
    return run_cli(args, extra, sample=sample)


def counts_of(vectors: Path) -> dict:
    return json.loads((vectors / "_sparkembed.json").read_text()).get("counts", {})


def sweep(args) -> int:

    work = Path(args.work).resolve()
    if not (work / "tokens").is_dir():
        sys.exit(f"{work}/tokens missing: run bench/train.py first (it builds them)")
    results_file = work / "word2vec-sweep.jsonl"
    if args.fresh and results_file.exists():
        results_file.unlink()
    done = {}
    if results_file.exists():
        for line in results_file.read_text().splitlines():
            row = json.loads(line)
            done[row["name"]] = row
    wanted = [n for n in SWEEP if not args.only or n in args.only.split(",")]
    for name in wanted:
        if name in done:
            continue
        t, parts, iters, step, master, blas = SWEEP[name]
        settings = {
            "word2vec.subsample": t,
            "word2vec.num_partitions": parts,
            "word2vec.max_iter": iters,
            "word2vec.step_size": step,
            "spark.mllib_blas": blas,
        }
        if master:
            settings["spark.master"] = master
        out = work / "sweep" / name.replace(" ", "_")
        load = load_average()
        run = train(work, out, settings)
        c = counts_of(out)
        row = {
            "name": name,
            "subsample": t,
            "partitions": parts,
            "iterations": iters,
            "step": step,
            "master": master or "local[2]",
            "blas": blas,
            "seconds": round(run.wall, 1),
            "train_seconds": run.summary.get("steps", {}).get("word2vec"),
            "kept_tokens": c.get("kept_tokens"),
            "in_vocab_tokens": c.get("in_vocab_tokens"),
            "load_before": float(load),
            **{k: round(v, 4) for k, v in scores(out).items()},
        }
        done[name] = row
        with results_file.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
    rows = [done[n] for n in SWEEP if n in done]
    lines = [
        "## word2vec: partitions, iterations, step size and subsampling",
        "",
        f"{machine()}; `python -m bench.word2vec sweep`, one run per row, on the 9.6M-token "
        "real-text corpus (bench/make_real_corpus.py; 9.33M tokens of the 64,194 words "
        "seen at least 5 times), dim 100, window 5. Seconds are the whole command (JVM "
        "start, the subsampling pass, MLlib, the write). Scores: gensim's evaluators "
        f"(Spearman for the pairs). {versions(['pyspark', 'gensim'])}.",
        "",
        "| subsample t | partitions | iterations | step | Spark | MLlib BLAS | tokens trained on "
        "| s | WS353 | SimLex-999 | analogies | load before |",
        "|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        executors = "2 executors x 1 core" if r["master"] != "local[2]" else "local[2]"
        lines.append(
            f"| {r['subsample']:g} | {r['partitions']} | {r['iterations']} | {r['step']:g} | "
            f"{executors} | {r.get('blas', 'native')} | {r['kept_tokens'] or 0:,} | "
            f"{r['seconds']:.0f} | "
            f"{r['ws353']:.3f} | {r['simlex']:.3f} | {r['analogy']:.3f} | "
            f"{r['load_before']:.1f} |"
        )
    if not args.no_doc:
        write_section("word2vec-sweep", "\n".join(lines), doc=REPO / "docs" / "train.md")
    print("\n".join(lines))
    return 0


def build_scaled_corpus(source: Path, target: Path, tokens_wanted: int) -> int:
    """Copies of ``source``'s token files (doc_ids suffixed) and its vocabulary with counts
    multiplied, until the corpus holds ``tokens_wanted`` tokens; returns the copies made."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    vocab = ds.dataset(str(source / "vocab")).to_table()
    per_copy = int(pc.sum(vocab.column("count")).as_py())
    copies = -(-tokens_wanted // per_copy)
    if (target / "tokens").is_dir() and (target / "copies").read_text().strip() == str(copies):
        return copies
    shutil.rmtree(target, ignore_errors=True)
    (target / "tokens").mkdir(parents=True)
    files = sorted((source / "tokens").glob("*.parquet"))
    for k in range(copies):
        for i, f in enumerate(files):
            t = pq.read_table(f)
            ids = pc.binary_join_element_wise(t.column("doc_id"), pa.scalar(f"#{k}"), "")
            t = t.set_column(t.schema.get_field_index("doc_id"), "doc_id", ids)
            pq.write_table(t, target / "tokens" / f"part-{k:03d}-{i:05d}.parquet")
    scaled = vocab.set_column(
        vocab.schema.get_field_index("count"),
        "count",
        pc.multiply(vocab.column("count"), pa.scalar(copies, pa.int64())),
    )
    (target / "vocab").mkdir()
    pq.write_table(scaled, target / "vocab" / "part-00000.parquet")
    # No sparkembed metadata: the copies are not the tables a stage wrote.
    for name in ("tokens", "vocab"):
        (target / name / "_SUCCESS").touch()
    (target / "copies").write_text(str(copies))
    return copies


def scale(args) -> int:

    tokens = (
        int(float(args.tokens.rstrip("M")) * 1e6) if args.tokens.endswith("M") else int(args.tokens)
    )
    source, target = Path(args.work).resolve(), Path(args.scale_work).resolve()
    copies = build_scaled_corpus(source, target, tokens)
    before = load_average()
    out = target / "vectors"
    run = train(target, out, {}, sample=True)
    after = load_average()
    c = counts_of(out)
    sc = scores(out)
    lines = [
        "## word2vec-scale",
        "",
        f"{machine()}; `python -m bench.word2vec scale`: the real-text corpus' token files "
        f"copied {copies} times (doc_ids suffixed; {c.get('corpus_tokens', 0):,} tokens; the "
        "copies repeat the text, so this measures time and memory, not what 100M tokens "
        "of new text would learn), `sparkembed train --method word2vec` with the defaults "
        f"of conf/local.toml on local[2], driver memory as configured. {versions(['pyspark'])}. "
        f"1-minute load average {before} before, {after} after.",
        "",
        "| tokens | kept after subsampling | partitions | s | WS353 | "
        + MEMORY_HEADERS.lstrip("| "),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {c.get('corpus_tokens', 0):,} | {c.get('kept_tokens', 0):,} | "
        f"{c.get('partitions')} | {run.wall:.0f} | {sc['ws353']:.3f} " + memory_cells(run),
        "",
        MEMORY_NOTE,
    ]
    if not args.no_doc:
        write_section("word2vec-scale", "\n".join(lines))
    print("\n".join(lines))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("sweep", "scale"))
    ap.add_argument("--work", default=str(REPO / ".data/bench_train"))
    ap.add_argument("--scale-work", default=str(REPO / ".data/bench_word2vec_scale"))
    ap.add_argument("--only", default="", help="sweep: comma-separated names of SWEEP")
    ap.add_argument("--fresh", action="store_true", help="sweep: forget earlier results")
    ap.add_argument("--tokens", default="100M", help="scale: corpus size (e.g. 100M)")
    ap.add_argument("--no-doc", action="store_true", help="print, do not write the docs")
    args = ap.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    return sweep(args) if args.what == "sweep" else scale(args)


if __name__ == "__main__":
    sys.exit(main())
