"""Kill ``sparkembed run`` at random points and check what the next run makes of it.

The pipeline (the Wikipedia sample: tokenize, cooccur, train:svd, evaluate:svd) runs once
uninterrupted into ``reference/``, timing each step (the start: the launch to the first
stage). Then, ``--runs`` times, a run with ``--force`` in ``work/`` is stopped with SIGKILL
or Ctrl-C (SIGINT to its process group, as a terminal sends it) at a random point of a
random step (a random share of the step's reference length after it begins, drawn from
``--seed``: the kills land in every step whatever the machine's speed); a run without
``--force`` follows. After it every table must equal the reference's (rows compared
sorted, vectors exactly; evaluation scores exactly) and no staging folder or lock may be
left. One line per kill; the exit code is the number of failed checks.

    .venv/bin/python -m bench.kill_runs --runs 20 --seed 32 --out .data/kill
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.dataset as ds

from sparkembed.tables import METADATA_FILE, STAGING_DIR
from sparkembed.tables.lock import LOCK_NAME

SPARKEMBED = str(Path(sys.executable).parent / "sparkembed")
STAGES = ["tokenize", "cooccur", "train:svd", "evaluate:svd"]


def gensim_data() -> Path:
    import gensim.test.utils

    return Path(gensim.test.utils.__file__).parent / "test_data"


def write_pipeline(path: Path, workdir: Path) -> Path:
    data = gensim_data()
    dump = data / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    path.write_text(
        f"""[pipeline]
workdir = "{workdir}"
inputs = ["{dump}"]
stages = {json.dumps(STAGES)}
pairs = ["{data / "wordsim353.tsv"}"]

[spark]
master = "local[2]"

[tokenize]
min_count = 5

[train]
dim = 100
"""
    )
    return path


def run(pipeline: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SPARKEMBED, "run", str(pipeline), "-q", *extra], capture_output=True, text=True
    )


def forced_run(pipeline: Path, **popen) -> subprocess.Popen:
    """``sparkembed run PIPELINE --force`` started, its output as text."""
    return subprocess.Popen([SPARKEMBED, "run", str(pipeline), "--force"], text=True, **popen)


def stage_marks(pipeline: Path) -> tuple[int, dict[str, float]]:
    """Run ``run --force`` to its end: its exit code and when each step started (s after
    launch; "start" is the launch itself, "end" the exit)."""
    t0 = time.perf_counter()
    proc = forced_run(pipeline, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    marks = {"start": 0.0}
    for line in proc.stderr:
        if line.startswith("[run] ") and line.rstrip().endswith("running"):
            marks[line.split()[1].rstrip(":")] = time.perf_counter() - t0
    code = proc.wait()
    marks["end"] = time.perf_counter() - t0
    return code, marks


def run_and_stop(pipeline: Path, step: str, delay: float, sig: int) -> tuple[int | None, str]:
    """``run --force`` stopped with ``sig`` ``delay`` s after ``step`` began ("start": the
    launch); None when it ended first."""
    t0 = time.perf_counter()
    proc = forced_run(
        pipeline, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    seen = []
    if step != "start":
        for line in proc.stdout:
            seen.append(line)
            if line.startswith(f"[run] {step}:"):
                break
    deadline = time.perf_counter() + delay if step != "start" else t0 + delay
    # Keep reading its output while waiting, so the run never blocks on a full pipe.
    reader = threading.Thread(target=lambda: seen.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        proc.wait(timeout=max(0.0, deadline - time.perf_counter()))
        reader.join()
        return None, "".join(seen)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, sig)
    # The run's summary line printed before the signal: it had finished (only the
    # interpreter's exit was left), and 0 is its right exit code.
    finished = any(line.startswith("run: ") for line in list(seen))
    try:
        code = proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        code = proc.wait()
    if sig == signal.SIGKILL:
        # What the killed run's JVM and workers may still hold: a real kill takes them too.
        subprocess.run(["pkill", "-KILL", "-g", str(proc.pid)], check=False)
    reader.join(timeout=30)
    return (None if finished and code == 0 else code), "".join(seen)


def tables_of(workdir: Path) -> list[str]:
    return sorted(p.parent.name for p in workdir.glob(f"*/{METADATA_FILE}"))


def same_rows(a: Path, b: Path) -> bool:
    """Whether two Parquet tables hold the same rows (in any order and any files)."""
    ta = ds.dataset(str(a), format="parquet", partitioning="hive").to_table()
    tb = ds.dataset(str(b), format="parquet", partitioning="hive").to_table()
    if ta.schema.names != tb.schema.names or ta.num_rows != tb.num_rows:
        return False
    keys = [
        (name, "ascending")
        for name, kind in zip(ta.schema.names, ta.schema.types, strict=True)
        if not str(kind).startswith(("list", "large_list", "struct", "map"))
    ]
    return ta.sort_by(keys).equals(tb.sort_by(keys).select(ta.schema.names))


def same_report(a: Path, b: Path) -> bool:
    """Whether two evaluations hold the same scores (the paths in them differ)."""

    def scores(folder: Path, workdir: Path):
        text = (folder / "evaluation.json").read_text().replace(str(workdir), "WORKDIR")
        return json.loads(text)

    return scores(a, a.parent) == scores(b, b.parent)


def differences(reference: Path, work: Path) -> list[str]:
    """What differs from the reference, and what was left behind."""
    found = []
    for table in tables_of(reference):
        if not (work / table / "_SUCCESS").exists():
            found.append(f"{table} missing")
        elif (reference / table / "evaluation.json").exists():
            if not same_report(reference / table, work / table):
                found.append(f"{table} scores differ")
        elif not same_rows(reference / table, work / table):
            found.append(f"{table} rows differ")
    for path in work.rglob("*"):
        if path.name in (STAGING_DIR, LOCK_NAME):
            found.append(f"left behind: {path.relative_to(work)}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path(".data/kill"))
    args = parser.parse_args(argv)

    # A pipeline's relative workdir is relative to its file: hand it absolute paths.
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    reference, work = args.out / "reference", args.out / "work"
    shutil.rmtree(work, ignore_errors=True)
    ref_pipeline = write_pipeline(args.out / "reference.toml", reference)
    code, marks = stage_marks(ref_pipeline)
    if code != 0 or not tables_of(reference):
        print(f"the reference run failed (exit {code}, tables in {reference}: none)")
        return 1
    steps = list(marks)[:-1]  # start, then each stage
    lengths = {a: marks[b] - marks[a] for a, b in zip(steps, list(marks)[1:], strict=False)}
    print(
        f"reference: {', '.join(tables_of(reference))}; "
        + ", ".join(f"{k} {v:.0f} s" for k, v in lengths.items()),
        flush=True,
    )

    pipeline = write_pipeline(args.out / "work.toml", work)
    rng = random.Random(args.seed)
    failed = 0
    for i in range(1, args.runs + 1):
        sig = rng.choice([signal.SIGKILL, signal.SIGINT])
        step = rng.choice(steps)
        delay = rng.uniform(0.0, 1.0) * lengths[step]
        code, err = run_and_stop(pipeline, step, delay, sig)
        last = err.strip().splitlines()[-1] if err.strip() else ""
        again = run(pipeline)
        problems = differences(reference, work)
        if again.returncode != 0:
            problems.append(f"rerun failed: {again.stderr.strip().splitlines()[-1:]}")
        if sig == signal.SIGINT and code not in (130, None):
            problems.append(f"Ctrl-C ended with {code}: {last}")
        failed += len(problems)
        name = "SIGKILL" if sig == signal.SIGKILL else "SIGINT"
        summary = again.stdout.strip().splitlines()[-1] if again.stdout.strip() else "-"
        print(
            f"{i:2d} {name:7s} {delay:5.1f} s into {step:13s} exit {code!s:4s} "
            f"rerun: {summary.split(' | ')[0]} | "
            f"{'; '.join(problems) or 'tables identical, nothing left behind'}",
            flush=True,
        )
    print(f"{args.runs} kills, {failed} problems", flush=True)
    return min(failed, 100)


if __name__ == "__main__":
    sys.exit(main())
