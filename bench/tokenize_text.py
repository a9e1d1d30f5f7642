"""Benchmark: `sparkembed tokenize --format text` on plain text vs gensim and a C floor.

Text lines from the real-text corpus (bench/make_real_corpus.py's token table, one
sentence per line, tokens joined by spaces): one ~50 MB file, and ten copies of it as one
505 MB file and as ten files. Each case runs `sparkembed tokenize` (local[2], JVM start,
vocabulary and writes included), gensim's `simple_preprocess` over the lines with 2
processes, and a single-threaded C whitespace split (compiled here with cc) as the floor.

    bash bench/setup_data.sh          # Debian text packages, bench extras
    .venv/bin/python -m bench.tokenize_text [--no-doc] [--cases 50,505,505x10]

Writes section "tokenize-text" of docs/benchmarks.md unless --no-doc.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.doc import load_average, machine, versions, write_section
from bench.runner import Run, run_cli

REPO = Path(__file__).resolve().parent.parent

PY = sys.executable
TARGET_MB = 50
COPIES = 10
C_FLOOR = r"""
#include <stdio.h>
#include <ctype.h>
/* Words (runs of non-space bytes) on stdin, one pass: the floor any tokenizer pays. */
int main(void) {
  static unsigned char buf[1 << 20];
  size_t n; long long words = 0; int in = 0;
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
    for (size_t i = 0; i < n; i++) {
      int space = isspace(buf[i]);
      if (!space && !in) words++;
      in = !space;
    }
  printf("%lld\n", words);
  return 0;
}
"""


def build_texts(corpus: Path, data: Path) -> dict[str, list[Path]]:
    """The three inputs, built once from the corpus' token table."""
    import pyarrow.dataset as ds

    one = data / "text50.txt"
    big = data / "text505.txt"
    parts = [data / "text505x10" / f"part-{i}.txt" for i in range(COPIES)]
    if not one.exists():
        data.mkdir(parents=True, exist_ok=True)
        sentences = ds.dataset(str(corpus / "tokens")).to_table(columns=["tokens"])
        lines, size = [], 0
        while size < TARGET_MB * 1_000_000:
            for tokens in sentences.column("tokens").to_pylist():
                line = " ".join(tokens) + "\n"
                lines.append(line)
                size += len(line.encode())
                if size >= TARGET_MB * 1_000_000:
                    break
        tmp = one.with_suffix(".tmp")
        tmp.write_text("".join(lines), encoding="utf-8")
        tmp.rename(one)
    if not big.exists():
        with open(big.with_suffix(".tmp"), "wb") as out:
            for _ in range(COPIES):
                out.write(one.read_bytes())
        big.with_suffix(".tmp").rename(big)
    for p in parts:
        if not p.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(one, p)
    return {"50": [one], "505": [big], "505x10": parts}


def _count_range(task: tuple[str, int, int]) -> int:
    """gensim's tokens of the lines in bytes [start, end) of a file (cut at line ends)."""
    from gensim.utils import simple_preprocess

    path, start, end = task
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read(end - start).decode("utf-8")
    return sum(len(simple_preprocess(line)) for line in text.splitlines())


def _halves(paths: list[Path]) -> list[tuple[str, int, int]]:
    """Each file cut in two at a line end: work for the 2 processes."""
    tasks = []
    for p in paths:
        size = p.stat().st_size
        with open(p, "rb") as f:
            f.seek(size // 2)
            middle = min(size, size // 2 + len(f.readline()))
        tasks += [(str(p), 0, middle), (str(p), middle, size)]
    return tasks


def time_gensim(paths: list[Path]) -> tuple[float, int]:
    t0 = time.perf_counter()
    with multiprocessing.Pool(2) as pool:
        tokens = pool.map(_count_range, _halves(paths), chunksize=1)
    return time.perf_counter() - t0, sum(tokens)


def time_floor(paths: list[Path], exe: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    words = 0
    for p in paths:
        with open(p, "rb") as f:
            out = subprocess.run([str(exe)], stdin=f, capture_output=True, check=True)
        words += int(out.stdout)
    return time.perf_counter() - t0, words


def time_ours(paths: list[Path], out: Path) -> tuple[Run, dict, int]:
    """One run; its counts and its tasks (one token file each: both cores busy?)."""
    shutil.rmtree(out, ignore_errors=True)
    args = ["tokenize", *map(str, paths), "--format", "text", "--output", str(out)]
    run = run_cli(args, ["--set", 'spark.master="local[2]"'], sample=True)
    meta = json.loads((out / "tokens" / "_sparkembed.json").read_text())
    return run, meta["counts"], len(list((out / "tokens").glob("part-*.parquet")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(REPO / ".data/realtext"))
    ap.add_argument("--data", default=str(REPO / ".data/bench_tokenize_text"))
    ap.add_argument("--cases", default="50,505,505x10")
    ap.add_argument("--no-doc", action="store_true", help="print, do not write the docs")
    args = ap.parse_args()
    corpus, data = Path(args.corpus).resolve(), Path(args.data).resolve()
    if not (corpus / "tokens").is_dir():
        subprocess.run(["bash", "bench/setup_data.sh"], cwd=REPO, check=True)
        make = [PY, "-m", "bench.make_real_corpus", "--output", str(corpus)]
        subprocess.run(make, cwd=REPO, check=True)
    inputs = build_texts(corpus, data)
    exe = data / "wsplit"
    if not exe.exists():
        (data / "wsplit.c").write_text(C_FLOOR)
        subprocess.run(["cc", "-O2", "-o", str(exe), str(data / "wsplit.c")], check=True)
    load_before = load_average()
    rows = []
    for case in args.cases.split(","):
        paths = inputs[case]
        mb = sum(p.stat().st_size for p in paths) / 1e6
        run, counts, tasks = time_ours(paths, data / f"out-{case}")
        steps = " ".join(f"{k} {v:.1f}s" for k, v in run.summary.get("steps", {}).items())
        g_s, g_tokens = time_gensim(paths)
        f_s, f_words = time_floor(paths, exe)
        tokens = int(counts["tokens"])
        print(f"{case}: ours {run.wall:.1f}s gensim {g_s:.1f}s floor {f_s:.1f}s", flush=True)
        rows.append(
            f"| {case} ({len(paths)} file{'s' if len(paths) > 1 else ''}, {mb:.0f} MB) "
            f"| {run.wall:.1f} | {tokens / run.wall / 1e6:.2f} | {tokens:,} | {tasks} | {steps} "
            f"| {g_s:.1f} ({g_tokens:,}) | {f_s:.1f} ({f_words:,}) |"
        )
    md = f"""## tokenize-text

Plain text, one sentence a line (the real-text corpus' sentences written out; 505 MB = ten
copies of the 50 MB file, as one file and as ten files; `bench/tokenize_text.py`),
{machine()}, one run each. 1-minute load average {load_before} before the runs,
{load_average()} after (2 cores).
{versions(["pyspark", "pyarrow", "gensim"])}.

| input | sparkembed s (local[2], all in) | M tokens/s | tokens | tasks | steps | gensim `simple_preprocess`, 2 processes: s (tokens) | C whitespace split, 1 thread: s (words) |
|---|---:|---:|---:|---:|---|---:|---:|
{chr(10).join(rows)}

Target: ≥ 3M tokens/s on 2 cores for 505 MB. How it runs (docs/tokenize.md, "Text, JSON
lines and Parquet"): even splits per task slot; text lines read from the splits and
tokenised in batches in the JVM; token files written by pyarrow in the same tasks, which
count the vocabulary as they go.
"""
    print(md)
    if not args.no_doc:
        write_section("tokenize-text", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
