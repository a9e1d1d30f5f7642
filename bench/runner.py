"""Running sparkembed's CLI (or any command) from a benchmark: wall seconds, the stage
summary line parsed, and the peak memory of the process tree (sampled every 0.5 s)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


class TreeSampler:
    """Peak RSS of a process and all its descendants, sampled every ``interval`` s: the
    largest single process (and what it was) and the sum. psutil if present, else /proc."""

    def __init__(self, root: int, interval: float = 0.5):
        self.root, self.interval = root, interval
        self.peak_single, self.peak_single_kind, self.peak_sum = 0, "", 0
        self.peak_by_kind: dict[str, int] = {}  # the largest process of each kind
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            procs = self.tree()
            if procs:
                rss, kind = max(procs)
                if rss > self.peak_single:
                    self.peak_single, self.peak_single_kind = rss, kind
                self.peak_sum = max(self.peak_sum, sum(r for r, _ in procs))
                for r, k in procs:
                    self.peak_by_kind[k] = max(self.peak_by_kind.get(k, 0), r)
            self._stop.wait(self.interval)

    def tree(self) -> list[tuple[int, str]]:
        """(RSS bytes, 'java' | 'python' | name) of the root and every descendant."""
        try:
            import psutil
        except ImportError:
            return self._tree_proc()
        try:
            root = psutil.Process(self.root)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return []
        out = []
        for p in procs:
            try:
                out.append((p.memory_info().rss, _kind(" ".join(p.cmdline()))))
            except psutil.Error:
                continue
        return out

    def _tree_proc(self) -> list[tuple[int, str]]:
        kids: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                kids.setdefault(ppid, []).append(int(entry))
        todo, out = [self.root], []
        page = os.sysconf("SC_PAGE_SIZE")
        while todo:
            pid = todo.pop()
            todo.extend(kids.get(pid, []))
            try:
                with open(f"/proc/{pid}/stat") as f:
                    rss = int(f.read().rsplit(")", 1)[1].split()[21]) * page
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
            out.append((rss, _kind(cmd)))
        return out


def _kind(cmd: str) -> str:
    exe = os.path.basename(cmd.split(" ", 1)[0]) if cmd else "?"
    if "java" in exe:
        return "JVM"
    if "python" in exe:
        return "Python worker" if "pyspark" in cmd or "daemon" in cmd else "Python"
    return exe


@dataclass
class Run:
    wall: float
    stdout: str
    summary: dict = field(default_factory=dict)
    peak_single: int = 0
    peak_single_kind: str = ""
    peak_sum: int = 0
    peak_by_kind: dict = field(default_factory=dict)


class CommandFailed(RuntimeError):
    pass


def run_cli(args: list[str], extra: list[str] = (), sample: bool = False, stage: str = "") -> Run:
    """One ``python -m sparkembed ...`` (quiet); its wall seconds, stdout, parsed summary
    line and (``sample``) the process tree's peak memory. Raises CommandFailed."""
    cmd = [PY, "-m", "sparkembed", *args, *extra, "-q"]
    print("$ sparkembed " + " ".join(args + list(extra)), flush=True)
    return run_process(cmd, sample, stage or args[0])


def run_process(cmd: list[str], sample: bool, stage: str = "") -> Run:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = TreeSampler(proc.pid) if sample else None
    if sampler:
        sampler.__enter__()
    try:
        out, err = proc.communicate()
    finally:
        if sampler:
            sampler.__exit__(None, None, None)
    wall = time.perf_counter() - t0
    if proc.returncode:
        tail = (err.strip().splitlines() or ["(no stderr)"])[-1]
        print(err[-3000:], file=sys.stderr)
        raise CommandFailed(f"exit {proc.returncode}: {tail[:300]}")
    print(out.strip(), flush=True)
    run = Run(wall, out, parse_summary(out, stage) if stage else {})
    if sampler:
        run.peak_single, run.peak_single_kind = sampler.peak_single, sampler.peak_single_kind
        run.peak_sum = sampler.peak_sum
        run.peak_by_kind = dict(sampler.peak_by_kind)
    return run


def parse_summary(stdout: str, stage: str) -> dict:
    """A stage's summary line, ``STAGE: key value, key value | step 1.2s ... | total 3.4s``,
    as {"counts": {key: int|float|str}, "steps": {name: s}, "total": s}; {} if absent."""
    for line in stdout.splitlines():
        if not line.startswith(f"{stage}:") or "| total " not in line:
            continue
        head, _, rest = line[len(stage) + 1 :].partition(" | ")
        counts = {}
        for part in head.split(", "):
            key, _, value = part.strip().rpartition(" ")
            if key:
                counts[key] = _number(value)
        steps = {m[1]: float(m[2]) for m in re.finditer(r"(\S+) ([0-9.]+)s\b", rest)}
        total = steps.pop("total", float("nan"))
        return {"counts": counts, "steps": steps, "total": total}
    return {}


def _number(text: str):
    try:
        return int(text.replace(",", ""))
    except ValueError:
        try:
            return float(text.replace(",", ""))
        except ValueError:
            return text


# The memory columns of a scale table: headers, separators, and what the figures are.
MEMORY_HEADERS = "| peak Python driver | peak JVM | peak Python worker | peak sum |"
MEMORY_NOTE = (
    "RSS sampled every 0.5 s over the command's process tree; pages that forked workers "
    "share count once per process in the sum."
)


def memory_cells(run: Run) -> str:
    """``run``'s peaks as the cells under MEMORY_HEADERS, in GB."""
    gb, p = 2**30, run.peak_by_kind
    return (
        f"| {p.get('Python', 0) / gb:.2f} GB | {p.get('JVM', 0) / gb:.2f} GB "
        f"| {p.get('Python worker', 0) / gb:.2f} GB | {run.peak_sum / gb:.2f} GB |"
    )


def steps_text(run: Run) -> str:
    return ", ".join(f"{k} {v:.0f} s" for k, v in run.summary.get("steps", {}).items())
