"""Benchmark: co-occurrence counting, ours (Spark local[2]) beside a single-process reference.

Window 5, symmetric, harmonic (1/d) weighting -- the setting of GloVe's C ``cooccur``,
which counts ~2.3M tokens/s on one core of this machine. On a synthetic corpus from
bench/make_corpus.py (made first if missing), in one run:
  1. ours: ``sparkembed cooccur`` (counts, sharded Parquet, marginals), local[2], run
     in this process after the session has started (JVM start-up not counted);
  2. a single-process numpy/scipy counter (the reference) on the same corpus;
  3. the JVM-only variant (``bench.reference.cooccurrence_counts_jvm``, counts and
     marginals written with plain Spark) on a smaller corpus (--jvm-tokens).
Peak memory is sampled from /proc while each runs: in local mode the driver and executor
are one JVM (its RSS), plus the Python workers' RSS (summed over the live workers).
Figures go to docs/benchmarks.md (section "cooccur").

    .venv/bin/python -m bench.cooccur --tokens 100M
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import scipy.sparse as sp

from bench.doc import machine, write_section
from bench.reference import cooccurrence_counts_jvm
from sparkembed.cli import main as sparkembed
from sparkembed.config import CooccurConfig, SparkConfig
from sparkembed.session import get_spark
from sparkembed.stages.cooccur.counts import marginals

REPO = Path(__file__).resolve().parent.parent
SPARK = SparkConfig(master="local[2]", driver_memory="4g")
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def _stat(pid: int) -> tuple[int, float, str]:
    """(RSS bytes, CPU seconds incl. reaped children, command) of one process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    cpu = sum(int(x) for x in fields[11:15]) / TICK
    return int(fields[21]) * PAGE, cpu, cmd


class Sampler:
    """Peak RSS of the JVM and of its Python workers, and their CPU seconds, via /proc."""

    def __init__(self, root: int, interval: float = 0.2):
        self.root, self.interval = root, interval
        self.peak_jvm = self.peak_python = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())

    def _run(self):
        while not self._stop.is_set():
            kids = _children()
            todo, jvm, python = list(kids.get(self.root, [])), 0, 0
            while todo:
                pid = todo.pop()
                todo.extend(kids.get(pid, []))
                try:
                    rss, cpu, cmd = _stat(pid)
                except OSError:
                    continue
                self.cpu[pid] = cpu
                if "java" in cmd.split(" ", 1)[0]:
                    jvm += rss
                elif "python" in cmd:
                    python += rss
            self.peak_jvm = max(self.peak_jvm, jvm)
            self.peak_python = max(self.peak_python, python)
            self._stop.wait(self.interval)


def ensure_corpus(path: Path, tokens: str, seed: int) -> None:
    if (path / "tokens" / "_SUCCESS").exists() and (path / "vocab" / "_SUCCESS").exists():
        return
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.make_corpus",
            "--tokens",
            tokens,
            "--output",
            str(path),
            "--seed",
            str(seed),
        ],
        cwd=REPO,
        check=True,
    )


def corpus_tokens(path: Path) -> int:
    table = ds.dataset(path / "tokens", format="parquet").to_table(columns=["tokens"])
    return int(pc.sum(pc.list_value_length(table.column("tokens"))).as_py())


def reference_counter(path: Path, window: int, chunk_tokens: int = 10_000_000):
    """Single-process numpy/scipy counter: ids by pyarrow index_in, pairs by numpy shifts,
    summed into a scipy CSR matrix chunk by chunk (coo->csr sums duplicates). Symmetric,
    harmonic. Returns (nonzeros, total weight, row sums)."""
    vocab = pq.read_table(path / "vocab").sort_by("id")
    tokens = vocab.column("token").combine_chunks()
    v = vocab.num_rows
    total = sp.csr_matrix((v, v), dtype=np.float64)
    pending, n = [], 0
    dataset = ds.dataset(path / "tokens", format="parquet")

    def flush(lists):
        lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy()
        ids = pc.fill_null(pc.index_in(lists.flatten(), value_set=tokens), -1).to_numpy()
        sentence = np.repeat(np.arange(len(lengths)), lengths)[ids >= 0]
        ids = ids[ids >= 0]
        rows, cols, weights = [], [], []
        for d in range(1, window + 1):
            ok = sentence[d:] == sentence[:-d]
            rows.append(ids[:-d][ok])
            cols.append(ids[d:][ok])
            weights.append(np.full(int(ok.sum()), 1.0 / d))
        r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
        m = sp.coo_matrix((w, (r, c)), shape=(v, v)).tocsr()
        return m + m.T

    for batch in dataset.to_batches(columns=["tokens"], batch_size=65536):
        pending.append(batch.column(0))
        n += len(batch.column(0).flatten())
        if n >= chunk_tokens:
            total = total + flush(pa_concat(pending))
            pending, n = [], 0
    if pending:
        total = total + flush(pa_concat(pending))
    total.sum_duplicates()
    return total.nnz, float(total.sum()), np.asarray(total.sum(axis=1)).ravel()


def pa_concat(arrays):
    import pyarrow as pa

    return pa.concat_arrays(arrays)


def work_dir(path: Path, out: Path) -> Path:
    """An empty work directory ``out`` that sees the corpus' tables through symlinks."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for table in ("tokens", "vocab"):
        (out / table).symlink_to((path / table).resolve(), target_is_directory=True)
    return out


def run_ours(out: Path, cfg: CooccurConfig) -> None:
    """``sparkembed cooccur`` on the work directory ``out``, in this process: the session
    already running is the one it uses."""
    settings = [
        f'spark.master="{SPARK.master}"',
        f'spark.driver_memory="{SPARK.driver_memory}"',
        f"cooccur.window={cfg.window}",
        f'cooccur.weighting="{cfg.weighting}"',
        f"cooccur.symmetric={str(cfg.symmetric).lower()}",
        f"cooccur.shards={cfg.shards}",
    ]
    argv = [
        "cooccur",
        str(out),
        "--overwrite",
        "-q",
        *(a for kv in settings for a in ("--set", kv)),
    ]
    if sparkembed(argv) != 0:
        sys.exit(f"failed: sparkembed {' '.join(argv)}")


def run_jvm(spark, path: Path, out: Path, cfg: CooccurConfig) -> None:
    """The JVM-only counter, its counts and marginals written as ours writes them."""
    tokens = spark.read.parquet(str(path / "tokens"))
    vocab = spark.read.parquet(str(path / "vocab"))
    counts = cooccurrence_counts_jvm(tokens, vocab, cfg)
    counts.write.mode("overwrite").partitionBy("shard").parquet(str(out / "cooccurrence"))
    table = spark.read.parquet(str(out / "cooccurrence"))
    marginals(table, cfg).write.mode("overwrite").parquet(str(out / "marginals"))


def timed(spark_pid: int, fn):
    with Sampler(spark_pid) as s:
        t0 = time.perf_counter()
        fn()
        secs = time.perf_counter() - t0
    return secs, s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tokens", default="100M")
    ap.add_argument("--jvm-tokens", default="10M", help="corpus size for the JVM-only variant")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--shards", type=int, default=16)
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--skip-jvm", action="store_true")
    ap.add_argument("--no-doc", action="store_true", help="print, do not write docs/benchmarks.md")
    args = ap.parse_args(argv)
    data = REPO / ".data"
    corpus = data / f"synth{args.tokens.lower()}"
    jvm_corpus = data / f"synth{args.jvm_tokens.lower()}"
    ensure_corpus(corpus, args.tokens, args.seed)
    if not args.skip_jvm:
        ensure_corpus(jvm_corpus, args.jvm_tokens, args.seed)
    n_tokens = corpus_tokens(corpus)
    vocab_size = pq.read_metadata(next((corpus / "vocab").glob("*.parquet"))).num_rows
    cfg = CooccurConfig(window=5, weighting="harmonic", symmetric=True, shards=args.shards)
    load_before = os.getloadavg()

    spark = get_spark(SPARK)  # started before the clock, as a pipeline's later stage finds it
    out = work_dir(corpus, data / "bench_cooccur_out")
    me = os.getpid()
    secs, s = timed(me, lambda: run_ours(out, cfg))
    spark = get_spark(SPARK)
    ours = {"secs": secs, "jvm": s.peak_jvm, "py": s.peak_python, "cpu": s.cpu_seconds}
    nnz = spark.read.parquet(str(out / "cooccurrence")).count()
    margins = spark.read.parquet(str(out / "marginals")).orderBy("id").toArrow()
    print(f"ours: {n_tokens / secs / 1e6:.2f}M tokens/s, {secs:.1f}s, nnz {nnz:,}", flush=True)

    jvm = None
    if not args.skip_jvm:
        jvm_tokens = corpus_tokens(jvm_corpus)
        jout = data / "bench_cooccur_jvm_out"
        shutil.rmtree(jout, ignore_errors=True)
        secs_j, sj = timed(me, lambda: run_jvm(spark, jvm_corpus, jout, cfg))
        jvm = {"secs": secs_j, "tokens": jvm_tokens, "jvm": sj.peak_jvm}
        jout2 = work_dir(jvm_corpus, data / "bench_cooccur_arrow_small_out")
        secs_a, _ = timed(me, lambda: run_ours(jout2, cfg))
        spark = get_spark(SPARK)
        jvm["arrow_secs"] = secs_a
        print(
            f"jvm variant: {jvm_tokens / secs_j / 1e6:.2f}M tokens/s; arrow on the same "
            f"{jvm_tokens / secs_a / 1e6:.2f}M tokens/s",
            flush=True,
        )
        shutil.rmtree(jout, ignore_errors=True)
        shutil.rmtree(jout2, ignore_errors=True)
    spark.stop()

    ref = None
    if not args.skip_reference:
        t0 = time.perf_counter()
        rss0 = 0
        ref_nnz, ref_total, ref_rows = reference_counter(corpus, cfg.window)
        ref_secs = time.perf_counter() - t0
        import resource

        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        ours_rows = np.zeros(vocab_size)
        ours_rows[margins.column("id").to_numpy()] = margins.column("count").to_numpy()
        agree = ref_nnz == nnz and np.allclose(ours_rows, ref_rows, rtol=1e-9, atol=1e-9)
        ref = {"secs": ref_secs, "rss": rss0, "nnz": ref_nnz, "agree": agree}
        print(
            f"reference: {n_tokens / ref_secs / 1e6:.2f}M tokens/s, {ref_secs:.1f}s, "
            f"nnz {ref_nnz:,}, agree {agree}",
            flush=True,
        )
    load_after = os.getloadavg()

    gb = 1 << 30
    lines = [
        "## cooccur: co-occurrence counts (`bench/cooccur.py`)",
        "",
        f"Machine: {machine()}; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after (1-minute, 2 cores: well above 2 means other jobs "
        "shared the cores and the figures are lower bounds).",
        f"Corpus: synthetic (bench/make_corpus.py, bigram statistics of the English "
        f"Wikipedia sample, seed {args.seed}): {n_tokens:,} tokens, vocabulary {vocab_size:,}. "
        f"Window 5, symmetric, harmonic 1/d, {args.shards} shards. Target: 2.3M tokens/s "
        "(GloVe's C `cooccur`, one core).",
        "",
        "| counter | tokens | seconds | tokens/s | peak memory |",
        "|---|---|---|---|---|",
        f"| ours (`sparkembed cooccur`): Arrow+numpy in Spark tasks, local[2], "
        "incl. sharded write + marginals "
        f"| {n_tokens:,} | {ours['secs']:.1f} | {n_tokens / ours['secs'] / 1e6:.2f}M "
        f"| JVM (driver = executor) {ours['jvm'] / gb:.2f} GB, Python workers "
        f"{ours['py'] / gb:.2f} GB |",
    ]
    if ref:
        lines.append(
            f"| reference: one process, numpy + scipy CSR sums | {n_tokens:,} "
            f"| {ref['secs']:.1f} | {n_tokens / ref['secs'] / 1e6:.2f}M "
            f"| {ref['rss'] / gb:.2f} GB |"
        )
    if jvm:
        lines.append(
            f"| JVM-only variant (posexplode, collect_list, higher-order functions) "
            f"| {jvm['tokens']:,} | {jvm['secs']:.1f} | {jvm['tokens'] / jvm['secs'] / 1e6:.2f}M "
            f"| JVM {jvm['jvm'] / gb:.2f} GB |"
        )
        lines.append(
            f"| ours on the same smaller corpus | {jvm['tokens']:,} | {jvm['arrow_secs']:.1f} "
            f"| {jvm['tokens'] / jvm['arrow_secs'] / 1e6:.2f}M | |"
        )
    lines += [
        "",
        f"Non-zeros: {nnz:,}"
        + (
            f"; the reference finds {ref['nnz']:,} and the same row sums: {ref['agree']}."
            if ref
            else "."
        ),
        f"CPU seconds of the Spark JVM and Python workers during ours: {ours['cpu']:.0f} "
        f"({n_tokens / max(ours['cpu'], 1e-9) / 1e6:.2f}M tokens per CPU-second; with both "
        f"cores to itself ours would run at about twice that).",
        "JVM peak is its resident set: besides the heap (capped by driver_memory, 4 GB) it "
        "counts memory-mapped shuffle blocks and off-heap Arrow/Netty buffers.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_doc:
        write_section("cooccur", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
