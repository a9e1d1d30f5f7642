"""Benchmark: `sparkembed tokenize` with tokenize.engine = sql vs java, same input.

CPU seconds (the whole process tree: Python driver + JVM, read from /proc while it runs)
and wall time, with the load average beside each figure: other jobs share the cores, so
CPU seconds are the figure to compare. The input is a slice of the bench dump decompressed
to .xml, which takes the bzip2 cost out of the comparison.

    .venv/bin/python -m bench.tokenize_engines [--slice-mb 20] [--runs 1] [--write]
"""

from __future__ import annotations

import argparse
import bz2
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pyspark.sql import functions as F

from bench.doc import write_section
from sparkembed.config import SparkConfig, TokenizeConfig
from sparkembed.session import get_spark
from sparkembed.stages.tokenize.tokens import chunked_sentence_tokens
from sparkembed.stages.tokenize.wikitext import clean_page

ROOT = Path(__file__).resolve().parent.parent

DUMP = ROOT / ".data" / "bench" / "enwiki-bench-100mb.xml.bz2"
TICKS = os.sysconf("SC_CLK_TCK")


def make_slice(dump: Path, mb: int) -> Path:
    """The first ``mb`` MB of the decompressed dump, cut after a page, closed properly."""
    target = dump.parent / f"enwiki-bench-slice-{mb}mb.xml"
    if target.exists():
        return target
    want = mb * 1024 * 1024
    with bz2.open(dump, "rb") as f:
        head = f.read(want)
    head = head[: head.rindex(b"</page>") + len(b"</page>")]
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(head + b"\n</mediawiki>\n")
    tmp.rename(target)
    return target


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _cpu_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError):
        return None


def run_measured(cmd: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s of the process tree, exit code), sampling /proc every 0.1 s."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    last: dict[int, int] = {}
    while proc.poll() is None:
        todo = [proc.pid]
        while todo:
            pid = todo.pop()
            ticks = _cpu_ticks(pid)
            if ticks is not None:
                last[pid] = max(ticks, last.get(pid, 0))
            todo.extend(_children(pid))
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    out, err = proc.communicate()
    if proc.returncode != 0:
        sys.stderr.write(err.decode(errors="replace")[-3000:])
    else:
        sys.stderr.write(out.decode(errors="replace"))
    return wall, sum(last.values()) / TICKS, proc.returncode


def warm_jvm_figures(src: Path, repeats: int = 4) -> list[tuple[str, str, float, float, str]]:
    """Cleaning and tokenising alone, in one warm JVM, on pages held in memory.

    Returns (step, engine, wall s, JVM CPU s, loadavg) of the last of ``repeats`` runs.
    """

    spark = get_spark(SparkConfig(master="local[2]", shuffle_partitions=4))
    jvm_pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    xml = src.read_text(encoding="utf-8")
    bodies = re.findall(r"(?s)<text[^>]*>(.*?)</text>", xml)
    pages = spark.createDataFrame([(b,) for b in bodies], "body string").repartition(4)
    pages = pages.cache()
    pages.count()
    text = pages.select(clean_page(spark, F.col("body"), "sql").alias("text")).cache()
    text.count()
    rows = []
    for step, engine in [(s, e) for s in ("clean", "tokenize") for e in ("sql", "java")]:
        for _ in range(repeats):
            if step == "clean":
                job = pages.select(F.sum(F.length(clean_page(spark, F.col("body"), engine))))
            else:
                cfg = TokenizeConfig(engine=engine)
                sentences = chunked_sentence_tokens(spark, F.col("text"), cfg)
                job = text.select(F.sum(F.size(F.flatten(sentences))))
            c0, t0 = _cpu_ticks(jvm_pid), time.perf_counter()
            result = job.first()[0]
            wall, cpu = time.perf_counter() - t0, (_cpu_ticks(jvm_pid) - c0) / TICKS
        rows.append((step, engine, wall, cpu, loadavg()))
        print(f"{step} {engine}: {result} wall {wall:.1f} s CPU {cpu:.1f} s", file=sys.stderr)
    spark.stop()
    return rows


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slice-mb", type=int, default=20)
    ap.add_argument("--input", help="input file instead of the slice (e.g. the .bz2 dump)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--write", action="store_true", help="write docs/benchmarks.md section")
    ap.add_argument(
        "--warm", action="store_true", help="only cleaning/tokenising jobs in one warm JVM"
    )
    args = ap.parse_args()
    src = Path(args.input) if args.input else make_slice(DUMP, args.slice_mb)
    size_mb = src.stat().st_size / 1e6
    if args.warm:
        md = "\n".join(
            [
                f"Cleaning and tokenising alone, warm JVM, local[2], pages of {src.name} "
                f"({size_mb:.0f} MB) in memory (last of 4 runs of each):",
                "",
                "| step | engine | wall s | JVM CPU s | loadavg |",
                "|---|---|---|---|---|",
                *[
                    f"| {s} | {e} | {w:.1f} | {c:.1f} | {la} |"
                    for s, e, w, c, la in warm_jvm_figures(src)
                ],
            ]
        )
        print(md)
        return 0
    rows = []
    for run in range(args.runs):
        for engine in ("sql", "java"):
            out = ROOT / ".data" / "bench" / "out" / f"tokens-engine-{engine}"
            shutil.rmtree(out, ignore_errors=True)
            before = loadavg()
            wall, cpu, rc = run_measured(
                [
                    sys.executable,
                    "-m",
                    "sparkembed",
                    "tokenize",
                    str(src),
                    "--output",
                    str(out),
                    "--set",
                    'spark.master="local[2]"',
                    "--set",
                    f'tokenize.engine="{engine}"',
                    "-q",
                ]
            )
            if rc != 0:
                print(f"engine {engine}: exit {rc}", file=sys.stderr)
                return rc
            rows.append((run, engine, wall, cpu, before, loadavg()))
            print(
                f"run {run} engine {engine}: wall {wall:.1f} s, CPU {cpu:.1f} s, "
                f"loadavg before {before} after {loadavg()}",
                file=sys.stderr,
            )
    lines = [
        f"`sparkembed tokenize` on {src.name} ({size_mb:.0f} MB), local[2], "
        "engine sql (Spark SQL regexps) vs java (sparkembed-udfs.jar):",
        "",
        "| run | engine | wall s | CPU s (driver + JVM) | loadavg before | loadavg after |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r} | {e} | {w:.1f} | {c:.1f} | {b} | {a} |" for r, e, w, c, b, a in rows]
    md = "\n".join(lines)
    print(md)
    if args.write:
        write_section("tokenize-engines", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
