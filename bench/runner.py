"""Running sparkembed's CLI (or any command) from a benchmark: wall seconds, the stage
summary line parsed, and the peak memory of the process tree (sampled every 0.5 s)."""

from __future__ import annotations

import os
import re
import resource
import signal
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
    largest single process (and what it was) and the sum. psutil if present, else /proc.

    ``classify`` names a process's kind from its command line (default: 'JVM', 'Python',
    'Python worker'); ``extra_roots`` (a callable returning pids) adds processes outside the
    tree, with their descendants: a standalone cluster's executors, say. Each process's CPU
    seconds (user + system) are kept as last seen, so exited ones still count, up to their
    last sample."""

    def __init__(self, root: int, interval: float = 0.5, classify=None, extra_roots=None):
        self.root, self.interval = root, interval
        self.classify = classify or _kind
        self.extra_roots = extra_roots
        self.peak_single, self.peak_single_kind, self.peak_sum = 0, "", 0
        self.peak_by_kind: dict[str, int] = {}  # the largest process of each kind
        self.peak_sum_by_kind: dict[str, int] = {}  # the largest sum over each kind
        self.cpu_by_pid: dict[int, tuple[str, float]] = {}  # pid -> (kind, CPU s last seen)
        self.extra_pids: set[int] = set()  # pids seen under extra roots, not the tree
        # pids whose parent ignores SIGCHLD (pyspark's daemon): the kernel reaps them, so
        # their CPU time never reaches a parent's, nor our RUSAGE_CHILDREN
        self.unwaited: set[int] = set()
        self.samples = 0
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
            self.sample_once()
            self._stop.wait(self.interval)

    def sample_once(self) -> None:
        procs = self._sample()
        if not procs:
            return
        self.samples += 1
        rss, kind = max((r, k) for _, _, r, k, _ in procs)
        if rss > self.peak_single:
            self.peak_single, self.peak_single_kind = rss, kind
        self.peak_sum = max(self.peak_sum, sum(r for _, _, r, _, _ in procs))
        ignoring = {pp for pp in {pp for _, pp, _, _, _ in procs} if _ignores_sigchld(pp)}
        self.unwaited.update(pid for pid, pp, _, _, _ in procs if pp in ignoring)
        sums: dict[str, int] = {}
        for pid, _, r, k, cpu in procs:
            self.peak_by_kind[k] = max(self.peak_by_kind.get(k, 0), r)
            sums[k] = sums.get(k, 0) + r
            self.cpu_by_pid[pid] = (k, cpu)
        for k, total in sums.items():
            self.peak_sum_by_kind[k] = max(self.peak_sum_by_kind.get(k, 0), total)

    def cpu_by_kind(self) -> dict[str, float]:
        """CPU seconds of every process seen, by kind (each as last sampled)."""
        out: dict[str, float] = {}
        for kind, cpu in self.cpu_by_pid.values():
            out[kind] = out.get(kind, 0.0) + cpu
        return out

    def tree(self) -> list[tuple[int, str]]:
        """(RSS bytes, 'java' | 'python' | name) of the root and every descendant."""
        return [(rss, kind) for _, _, rss, kind, _ in self._sample()]

    def _roots(self) -> list[int]:
        extra = list(self.extra_roots()) if self.extra_roots else []
        return [self.root, *(p for p in extra if p != self.root)]

    def _sample(self) -> list[tuple[int, int, int, str, float]]:
        """(pid, parent pid, RSS bytes, kind, CPU s) of the roots and every descendant."""
        try:
            import psutil
        except ImportError:
            return self._tree_proc()
        procs, seen = [], set()
        for pid in self._roots():
            try:
                root = psutil.Process(pid)
                found = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            procs += found
            if pid != self.root:
                self.extra_pids.update(p.pid for p in found)
        out = []
        for p in procs:
            if p.pid in seen:
                continue
            seen.add(p.pid)
            try:
                with p.oneshot():
                    cpu = p.cpu_times()
                    rss = p.memory_info().rss
                    cmd = " ".join(p.cmdline())
                    ppid = p.ppid()
            except psutil.Error:
                continue
            out.append((p.pid, ppid, rss, self.classify(cmd), cpu.user + cpu.system))
        return out

    def _tree_proc(self) -> list[tuple[int, int, int, str, float]]:
        kids: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                kids.setdefault(ppid, []).append(int(entry))
        todo = [(pid, pid != self.root) for pid in self._roots()]
        out, seen = [], set()
        page, tick = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
        while todo:
            pid, extra = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            if extra:
                self.extra_pids.add(pid)
            todo.extend((kid, extra) for kid in kids.get(pid, []))
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ppid, rss = int(fields[1]), int(fields[21]) * page
                cpu = (int(fields[11]) + int(fields[12])) / tick
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
            out.append((pid, ppid, rss, self.classify(cmd), cpu))
        return out


def _ignores_sigchld(pid: int) -> bool:
    """Whether process ``pid`` ignores SIGCHLD (so its children are reaped unwaited)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigIgn:"):
                    return bool(int(line.split()[1], 16) & (1 << 16))  # SIGCHLD is 17
    except (OSError, ValueError):
        pass
    return False


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
    peak_sum_by_kind: dict = field(default_factory=dict)
    cpu: float = 0.0  # CPU s of the process tree (run_measured)
    cpu_by_kind: dict = field(default_factory=dict)  # as sampled, by process kind
    returncode: int = 0


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


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux): a JVM that outlives
    the Python that started it comes back to us, so waiting for it adds its CPU time to
    ``RUSAGE_CHILDREN``. False where the system does not offer it."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def child_pids() -> set[int]:
    """This process's children (orphans handed to it as subreaper included), from /proc."""
    me, out = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == me:
                        out.add(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return out


def reap_children(timeout: float, keep: set[int] = frozenset()) -> bool:
    """Wait (up to ``timeout`` s) for our children but ``keep`` (those we had before), the
    orphans handed to us as subreaper included; True when none is left."""
    deadline = time.monotonic() + timeout
    while True:
        left = child_pids() - set(keep)
        for pid in left:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        if not child_pids() - set(keep):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def run_measured(
    cmd: list[str],
    log: Path,
    classify=None,
    extra_roots=None,
    env: dict | None = None,
    interval: float = 0.5,
    reap_timeout: float = 120.0,
) -> Run:
    """Run ``cmd`` with stdout and stderr appended to ``log``, sampling its process tree
    (and ``extra_roots``) every ``interval`` s; never raises on a non-zero exit.

    ``Run.cpu`` is the CPU time of the whole tree, exited processes included: the
    ``RUSAGE_CHILDREN`` growth once the command and the descendants it orphaned (this process
    is made their subreaper) have been waited for, plus the sampled CPU of ``extra_roots``'
    processes, which are not our descendants. The wall time ends when ``cmd`` exits."""
    subreaper = become_subreaper()
    had = child_pids()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
        with TreeSampler(proc.pid, interval, classify, extra_roots) as sampler:
            try:
                proc.wait()
            except KeyboardInterrupt:
                # Stopped: the command gets its own Ctrl-C (sparkembed then cleans up).
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=reap_timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                raise
            wall = time.perf_counter() - t0
        if subreaper:
            reap_children(reap_timeout, keep=had)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # What no wait() of ours accounts for: a cluster's executors (not our descendants) and
    # processes reaped unwaited, as last sampled.
    lost = sampler.extra_pids | sampler.unwaited
    cpu += sum(c for pid, (_, c) in sampler.cpu_by_pid.items() if pid in lost)
    return Run(
        wall,
        "",
        peak_single=sampler.peak_single,
        peak_single_kind=sampler.peak_single_kind,
        peak_sum=sampler.peak_sum,
        peak_by_kind=dict(sampler.peak_by_kind),
        peak_sum_by_kind=dict(sampler.peak_sum_by_kind),
        cpu=cpu,
        cpu_by_kind=sampler.cpu_by_kind(),
        returncode=proc.returncode,
    )


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
