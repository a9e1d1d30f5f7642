"""Benchmark: the .bz2 wiki reader, libbz2 in tasks (bz2_decoder=python) vs Hadoop's codec.

Runs each contender as its own process (local[2]) and reports wall time, CPU seconds of the
whole process tree (driver, JVM, Python workers; sampled from /proc) and the load average
before and after, since other jobs may share the cores:

- ``decode``: the reader alone (pages as records) written to Spark's ``noop`` sink;
- ``tokenize``: ``sparkembed tokenize`` end to end.

    .venv/bin/python -m bench.bz2_reader [DUMP] [--what decode tokenize]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sparkembed.config import SparkConfig, TokenizeConfig
from sparkembed.session import get_spark
from sparkembed.stages.tokenize.inputs import list_inputs
from sparkembed.stages.tokenize.readers import scan_text, scan_wiki_bz2

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DUMP = ROOT / ".data" / "bench" / "enwiki-bench-100mb.xml.bz2"
TICK = os.sysconf("SC_CLK_TCK")


def decode(decoder: str, dump: str) -> None:
    """The reader alone (``decoder``: python or hadoop) into Spark's ``noop`` sink."""
    spark = get_spark(SparkConfig(master="local[2]"))
    cfg = TokenizeConfig()
    files = list_inputs(spark, [dump], "auto")
    if decoder == "python":
        df = scan_wiki_bz2(spark, files, split_mb=cfg.split_mb, max_record_mb=cfg.max_record_mb)
    else:
        df = scan_text(
            spark,
            [f.path for f in files],
            line_sep="</page>",
            split_mb=cfg.split_mb,
            max_record_mb=cfg.max_record_mb,
        )
    df.write.format("noop").mode("overwrite").save()


def _tree_cpu(root: int, seen: dict[int, tuple[str, float]]) -> None:
    """Record (command, utime+stime seconds) of ``root`` and its descendants into ``seen``.

    A process's time is its last sample: up to one sampling period of a process that ends
    is lost (Spark's JVM and Python workers live for the whole run).
    """
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                head, tail = f.read().rsplit(")", 1)
        except OSError:
            continue
        fields = tail.split()
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        cpu[pid] = (int(fields[11]) + int(fields[12])) / TICK
        names[pid] = head.split("(", 1)[1]
    stack = [root]
    while stack:
        pid = stack.pop()
        if pid in cpu:
            seen[pid] = (names[pid], max(seen.get(pid, ("", 0.0))[1], cpu[pid]))
        stack.extend(children.get(pid, []))


def measure(cmd: list[str], env: dict) -> tuple[float, float, float, str, str]:
    """(wall s, CPU s of the process tree, of which in the JVM, loadavg before, after)."""
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    seen: dict[int, tuple[str, float]] = {}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while proc.poll() is None:
        _tree_cpu(proc.pid, seen)
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    out, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err.decode()[-3000:]}")
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    jvm = sum(c for name, c in seen.values() if name == "java")
    total = sum(c for _, c in seen.values())
    return wall, total, jvm, " ".join(load_before), " ".join(load_after)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump", nargs="?", default=str(DEFAULT_DUMP))
    ap.add_argument("--what", nargs="+", default=["decode", "tokenize"])
    ap.add_argument("--decoders", nargs="+", default=["python", "hadoop"])
    ap.add_argument("--repeat", type=int, default=1, help="alternate the decoders this often")
    ap.add_argument("--decode-only", metavar="DECODER", help=argparse.SUPPRESS)  # one contender
    args = ap.parse_args()
    if args.decode_only:
        decode(args.decode_only, args.dump)
        return
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    size_mb = Path(args.dump).stat().st_size / 2**20
    print(f"dump: {args.dump} ({size_mb:.0f} MB), {os.cpu_count()} cores")
    print("what      decoder  wall_s  cpu_s  (jvm)  load before -> after")
    for what in args.what:
        for decoder in args.decoders * args.repeat:
            if what == "decode":
                cmd = [
                    sys.executable,
                    "-m",
                    "bench.bz2_reader",
                    "--decode-only",
                    decoder,
                    args.dump,
                ]
            else:
                out = Path(tempfile.mkdtemp(prefix="bench-bz2-"))
                cmd = [
                    sys.executable,
                    "-m",
                    "sparkembed",
                    "tokenize",
                    args.dump,
                    "--output",
                    str(out / "o"),
                    "--set",
                    'spark.master="local[2]"',
                    "--set",
                    f'tokenize.bz2_decoder="{decoder}"',
                    "-q",
                ]
            wall, cpu, jvm, before, after = measure(cmd, env)
            if what == "tokenize":
                shutil.rmtree(out, ignore_errors=True)
            print(
                f"{what:9} {decoder:8} {wall:6.1f} {cpu:6.1f} {jvm:6.1f}  {before} -> {after}",
                flush=True,
            )


if __name__ == "__main__":
    main()
