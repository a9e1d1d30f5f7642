"""Scale runs: every stage of the pipeline on a Wikipedia-sized corpus (100M, 300M, 1B tokens),
one ``sparkembed run`` per stage, measured and resumable.

    .venv/bin/python -m bench.scale --corpus .data/wiki100m --work .data/scale/100m
    .venv/bin/python -m bench.scale --summary .data/scale/100m .data/scale/300m .data/scale/1b

The corpus folder is ``bench.make_wiki_corpus``'s: ``text/*.txt``, ``dump/*.xml.bz2``,
``pairs.tsv`` (optional: adds ``evaluate:METHOD`` steps) and ``corpus.json`` (its counts).
In the work folder the harness writes:

- ``pipeline.toml``: the whole text pipeline (tokenize, cooccur, train svd / glove /
  word2vec, neighbors:svd, aggregate:svd; tokenize.min_count 5, cooccur.window 5, train.dim
  300, word2vec.min_count 5, the rest default), runnable by hand; ``pipeline-dump.toml``:
  tokenize of the ``.xml.bz2`` dump, into its own tables.
- ``steps/NN-STEP.toml``: the same pipeline with one stage each. ``sparkembed run`` has no
  option to run one stage of a pipeline; a pipeline of that one stage finds the earlier
  stages' tables in the same work directory (each stage's ``layout``) and is skipped when
  up to date, like the step of the whole pipeline. (Pipelines of every prefix would also
  re-plan and re-check all earlier stages in each run, and would run every stage under
  tokenize's JIT choice; one stage per file gets the JIT that stage's own command gets.)
- ``logs/NN-STEP.log``: each run's stdout and stderr, appended; ``events/``: Spark's event
  logs (``spark.eventLog.*`` set through ``[spark] conf``); ``results.jsonl``: one line per
  measured stage.

Per stage it records wall and CPU seconds (the whole process tree, exited processes
included), peak RSS per process kind (driver Python, driver JVM, Python workers, executor
JVMs on a cluster), the bytes of the tables the stage wrote, Spark's shuffle and spill
totals of the run's tasks (from its event log), the "task of very large size" warnings of
its log (TaskSetManager's warnings, which sparkembed silences in local mode, are turned on
for these runs), load averages before and after, the machine and the git commit.

Resuming: a stage whose line in ``results.jsonl`` matches its step file and whose tables on
disk are the ones that line measured is not run again (until a stage before it is rerun);
any other stage goes through ``sparkembed run``, which skips what is up to date. When run
finds a stage up to date that the harness never measured (killed between the two), the
stage is run again with ``--force`` to measure it.

The table goes into ``docs/scale.md`` between ``<!-- bench:scale-SIZE -->`` markers
(``--no-doc`` prints it); ``--summary`` writes ``<!-- bench:scale-growth -->``: each
stage's time at each size and how it grows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.doc import write_section
from bench.runner import PY, REPO, parse_summary, run_measured

DOC = REPO / "docs" / "scale.md"
DOC_TITLE = "# Scale: Wikipedia-sized corpora\n"
TEXT_STEPS = (
    "tokenize",
    "cooccur",
    "train:svd",
    "train:glove",
    "train:word2vec",
    "neighbors:svd",
    "aggregate:svd",
)
EVALUATE_STEPS = ("evaluate:svd", "evaluate:glove", "evaluate:word2vec")
DUMP_STEP = "tokenize-dump"  # tokenize of the .xml.bz2 dump, in its own work directory
SECTIONS = {
    "tokenize": {"min_count": 5},
    "cooccur": {"window": 5},
    "train": {"dim": 300},
    "word2vec": {"min_count": 5, "window": 5},
}
LARGE_TASK = "task of very large size"
KINDS = ("driver Python", "driver JVM", "Python worker", "executor JVM")
GB = 2**30


# -- processes --------------------------------------------------------------------------


def process_kind(cmd: str) -> str:
    """A process of a run, from its command line: 'driver Python', 'driver JVM', 'Python
    worker' (pyspark's daemon and the workers it forks), 'executor JVM' (a cluster's
    CoarseGrainedExecutorBackend), 'cluster daemon' (a standalone master or worker) or
    'other' (the launcher's shell scripts)."""
    exe = os.path.basename(cmd.split(" ", 1)[0]) if cmd else ""
    if exe == "java" or exe.startswith("java"):
        if "CoarseGrainedExecutorBackend" in cmd:
            return "executor JVM"
        if "deploy.worker.Worker" in cmd or "deploy.master.Master" in cmd:
            return "cluster daemon"
        return "driver JVM"
    if exe.startswith("python"):
        if re.search(r"pyspark[./](daemon|worker)\b", cmd):
            return "Python worker"
        return "driver Python"
    return "other"


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def executor_pids() -> set[int]:
    """The executor JVMs on this machine (a standalone cluster's), by pid."""
    return {
        int(p)
        for p in os.listdir("/proc")
        if p.isdigit() and process_kind(_cmdline(p)) == "executor JVM"
    }


# -- Spark's event log -------------------------------------------------------------------


def event_log_files(folder: Path) -> set[Path]:
    """The event logs in ``folder``: one file per application, or a rolling log's folder."""
    return set(folder.iterdir()) if folder.is_dir() else set()


def event_log_totals(paths) -> dict:
    """Sums over the ``SparkListenerTaskEnd`` events of the event logs ``paths`` (files, or
    folders of rolled files): tasks and failed tasks, shuffle bytes written and read, bytes
    spilled from memory and to disk, input bytes, and the tasks' executor CPU and run
    seconds; plus the jobs and stages completed and the application ids."""
    totals = dict.fromkeys(
        (
            "tasks",
            "failed_tasks",
            "shuffle_write",
            "shuffle_read",
            "memory_spilled",
            "disk_spilled",
            "input_bytes",
            "jobs",
            "stages",
        ),
        0,
    )
    totals.update(executor_cpu_s=0.0, executor_run_s=0.0, apps=[])
    files = []
    for path in sorted(Path(p) for p in paths):
        files += sorted(path.iterdir()) if path.is_dir() else [path]
    for file in files:
        with open(file, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue  # the last line of a log still being written
                kind = event.get("Event")
                if kind == "SparkListenerTaskEnd":
                    _add_task(totals, event)
                elif kind == "SparkListenerJobEnd":
                    totals["jobs"] += 1
                elif kind == "SparkListenerStageCompleted":
                    totals["stages"] += 1
                elif kind == "SparkListenerApplicationStart":
                    totals["apps"].append(event.get("App ID", ""))
    return totals


def _add_task(totals: dict, event: dict) -> None:
    totals["tasks"] += 1
    if (event.get("Task End Reason") or {}).get("Reason", "Success") != "Success":
        totals["failed_tasks"] += 1
    metrics = event.get("Task Metrics") or {}
    write = metrics.get("Shuffle Write Metrics") or {}
    read = metrics.get("Shuffle Read Metrics") or {}
    totals["shuffle_write"] += write.get("Shuffle Bytes Written", 0)
    totals["shuffle_read"] += read.get("Remote Bytes Read", 0) + read.get("Local Bytes Read", 0)
    totals["memory_spilled"] += metrics.get("Memory Bytes Spilled", 0)
    totals["disk_spilled"] += metrics.get("Disk Bytes Spilled", 0)
    totals["input_bytes"] += (metrics.get("Input Metrics") or {}).get("Bytes Read", 0)
    totals["executor_cpu_s"] += metrics.get("Executor CPU Time", 0) / 1e9  # nanoseconds
    totals["executor_run_s"] += metrics.get("Executor Run Time", 0) / 1e3  # milliseconds


# -- the pipelines -----------------------------------------------------------------------


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"no TOML for {value!r}")


def pipeline_toml(
    workdir: Path, inputs: list, stages: list, pairs: list, spark: dict, comment: str = ""
) -> str:
    """A ``sparkembed run`` pipeline file: [pipeline], the scale settings and ``[spark]``."""
    lines = [f"# {line}" for line in comment.splitlines()]
    spec = {"workdir": str(workdir), "inputs": [str(p) for p in inputs], "stages": stages}
    if pairs:
        spec["pairs"] = [str(p) for p in pairs]
    for section, values in [("pipeline", spec), *SECTIONS.items(), ("spark", spark)]:
        lines += ["", f"[{section}]"] + [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines).lstrip("\n") + "\n"


def spark_settings(work: Path, master: str, extra: dict) -> dict:
    """``[spark]`` of every step: the master, the event log in WORK/events (plain files, one
    per run), TaskSetManager's warnings on, and the user's own ``--spark-conf``."""
    conf = {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": (work / "events").resolve().as_uri(),
        "spark.eventLog.compress": "false",
        "spark.eventLog.rolling.enabled": "false",
        # sparkembed turns TaskSetManager off in local mode; its large-task warning is news here.
        "spark.driver.extraJavaOptions": "-Dsparkembed.task_log_level=warn",
        **extra,
    }
    return {"master": master, "conf": conf}


def corpus_files(corpus: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """The corpus's text files, dump files and word-pair file (if any), absolute."""
    corpus = corpus.resolve()
    text = sorted((corpus / "text").glob("*.txt"))
    # the dump, not its index (which is .bz2 too)
    dump = sorted(p for p in (corpus / "dump").glob("*.bz2") if "-index" not in p.name)
    pairs = [corpus / "pairs.tsv"] if (corpus / "pairs.tsv").is_file() else []
    return text, dump, pairs


def step_order(step: str) -> tuple[int, str]:
    """Steps in the order the harness runs them (unknown ones last)."""
    known = [*TEXT_STEPS, *EVALUATE_STEPS, DUMP_STEP]
    return (known.index(step) if step in known else len(known), step)


def all_steps(has_dump: bool, has_pairs: bool) -> list[str]:
    return [*TEXT_STEPS, *(EVALUATE_STEPS if has_pairs else ()), *([DUMP_STEP] if has_dump else [])]


def write_pipelines(corpus: Path, work: Path, master: str, spark_conf: dict, steps: list[str]):
    """The whole pipelines and one file per step; returns {step: (file, workdir)}."""
    text, dump, pairs = corpus_files(corpus)
    if not text:
        raise SystemExit(f"bench.scale: no text files in {corpus}/text")
    work = work.resolve()
    (work / "steps").mkdir(parents=True, exist_ok=True)
    (work / "events").mkdir(exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    spark = spark_settings(work, master, spark_conf)
    text_steps = [s for s in steps if s != DUMP_STEP]
    note = f"written by bench.scale from {corpus}; sparkembed run FILE"
    (work / "pipeline.toml").write_text(
        pipeline_toml(work / "tables", text, text_steps, pairs, spark, note)
    )
    if dump:
        (work / "pipeline-dump.toml").write_text(
            pipeline_toml(work / "dump-tables", dump, ["tokenize"], [], spark, note)
        )
    files = {}
    for i, step in enumerate(steps, 1):
        if step == DUMP_STEP:
            workdir, inputs, stage = work / "dump-tables", dump, "tokenize"
        else:
            workdir, inputs, stage = work / "tables", text, step
        path = work / "steps" / f"{i:02d}-{step.replace(':', '-')}.toml"
        comment = f"bench.scale step {step}: one stage of {work / 'pipeline.toml'}"
        path.write_text(pipeline_toml(workdir, inputs, [stage], pairs, spark, comment))
        files[step] = (path, workdir)
    return files


def outputs(step: str, workdir: Path) -> dict[str, str]:
    """The tables (paths) a step writes in its work directory (its stage's layout)."""
    from sparkembed.stages import REGISTRY

    stage, _, method = ("tokenize" if step == DUMP_STEP else step).partition(":")
    return REGISTRY[stage].layout(str(workdir), method or "svd")


def path_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def table_states(paths: dict[str, str]) -> dict[str, str]:
    """What identifies each output as written: its run id, else its size ('' if absent)."""
    out = {}
    for table, path in paths.items():
        meta = Path(path) / "_sparkembed.json"
        try:
            out[table] = json.loads(meta.read_text()).get("run_id") or ""
        except (OSError, ValueError):
            out[table] = str(path_bytes(Path(path))) if Path(path).exists() else ""
    return out


# -- results and resuming ----------------------------------------------------------------


def read_results(path: Path) -> list[dict]:
    """The lines of a results.jsonl (a line cut short by a kill is left out)."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def measured(records: list[dict], step: str, key: str, states: dict) -> dict | None:
    """The last successful measurement of ``step`` with this step file (``key``) whose
    tables are still the ones on disk (``states``), else None."""
    for rec in reversed(records):
        if rec.get("step") == step and rec.get("status") == "ok":
            ok = rec.get("key") == key and rec.get("tables_state") == states
            return rec if ok and all(states.values()) else None
    return None


def latest(records: list[dict]) -> dict[str, dict]:
    """Each step's last successful line, in the order the steps were first measured."""
    out: dict[str, dict] = {}
    for rec in records:
        if rec.get("status") == "ok":
            out.pop(rec["step"], None)
            out[rec["step"]] = rec
    return out


def step_key(file: Path, extra: list[str]) -> str:
    return hashlib.sha256((file.read_text() + "\0".join(extra)).encode()).hexdigest()[:16]


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return ""


def machine() -> dict:
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return {
        "host": platform.node(),
        "arch": platform.machine(),
        "cores": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
    }


def read_corpus(corpus: Path) -> dict:
    try:
        return json.loads((corpus / "corpus.json").read_text())
    except (OSError, ValueError):
        return {}


def corpus_counts(info: dict) -> dict:
    """corpus.json's counts (make_wiki_corpus keeps them under "counts")."""
    counts = info.get("counts") if isinstance(info.get("counts"), dict) else info
    return {k: v for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)}


def corpus_tokens(info: dict) -> int:
    return int(corpus_counts(info).get("tokens", 0))


def requested_tokens(info: dict) -> int:
    """The size the corpus was made for (its label), else the tokens it has."""
    n = info.get("requested_tokens")
    return int(n) if isinstance(n, int) and n > 0 else corpus_tokens(info)


def size_label(tokens: int, corpus: Path) -> str:
    """'100M', '300M', '1B' from the corpus's tokens, else from its folder's name."""
    if tokens >= 10**9:
        return f"{tokens / 10**9:.3g}B"
    if tokens >= 10**6:
        return f"{tokens / 10**6:.3g}M"
    m = re.search(r"(\d+[kmbKMB])$", corpus.resolve().name)
    return m.group(1).upper() if m else corpus.resolve().name


# -- running -----------------------------------------------------------------------------


def measure_step(
    step: str, file: Path, workdir: Path, work: Path, log: Path, extra: list[str], force: bool
) -> dict:
    """One ``sparkembed run`` of ``file``, measured; the results line (without the harness
    fields)."""
    cmd = [PY, "-m", "sparkembed", "run", str(file), *extra, *(["--force"] if force else [])]
    offset = log.stat().st_size if log.exists() else 0
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with open(log, "a") as f:
        f.write(f"\n=== {stamp} bench.scale {step}: $ {' '.join(cmd)}\n")
    events = work / "events"
    events_before = event_log_files(events)
    cluster = not _is_local(file)
    executors_before = executor_pids() if cluster else set()
    load_before = os.getloadavg()
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    extra_roots = (lambda: executor_pids() - executors_before) if cluster else None
    run = run_measured(cmd, log, classify=process_kind, extra_roots=extra_roots, env=env)
    load_after = os.getloadavg()
    with open(log, errors="replace") as f:
        f.seek(offset)
        text = f.read()
    stage = "tokenize" if step == DUMP_STEP else step.split(":")[0]
    run_step = "tokenize" if step == DUMP_STEP else step
    new_logs = sorted(event_log_files(events) - events_before)
    paths = outputs(step, workdir)
    return {
        "step": step,
        "status": "ok" if run.returncode == 0 else "failed",
        "returncode": run.returncode,
        "skipped_by_run": f"[run] {run_step}: up to date, skipped" in text,
        "forced": force,
        "started": stamp,
        "wall_s": round(run.wall, 2),
        "cpu_s": round(run.cpu, 2),
        "cpu_sampled_s": {k: round(v, 2) for k, v in run.cpu_by_kind.items()},
        "peak": run.peak_by_kind,
        "peak_sum": run.peak_sum_by_kind,
        "peak_tree": run.peak_sum,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "tables": {t: path_bytes(Path(p)) if Path(p).exists() else 0 for t, p in paths.items()},
        "tables_state": table_states(paths),
        "spark": event_log_totals(new_logs),
        "event_logs": [str(p) for p in new_logs],
        "large_task_warnings": text.count(LARGE_TASK),
        "summary": parse_summary(text, stage),
        "tail": text.strip().splitlines()[-3:] if run.returncode else [],
        "log": str(log),
        "command": cmd,
    }


def _is_local(file: Path) -> bool:
    import tomllib

    return tomllib.loads(file.read_text())["spark"]["master"].startswith("local")


def append_result(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def run_steps(args, steps: list[str], files: dict, work: Path, header: dict) -> bool:
    """Measure each step not measured before; False when one fails."""
    results = work / "results.jsonl"
    extra = [x for kv in args.set for x in ("--set", kv)]
    rerun_chain: set[Path] = set()  # work directories where a stage ran in this harness run
    for step in steps:
        file, workdir = files[step]
        key = step_key(file, extra)
        paths = outputs(step, workdir)
        done_before = measured(read_results(results), step, key, table_states(paths))
        done = None if workdir in rerun_chain or args.again else done_before
        if done:
            print(f"[scale] {step}: measured {done['started']} ({done['wall_s']:.0f} s), kept")
            continue
        log = work / "logs" / f"{file.stem}.log"
        why = "checking (a stage before it ran again)" if done_before else "running"
        if args.again:
            why = "measuring again"
        print(f"[scale] {step}: {why}, log {log}", flush=True)
        rec = measure_step(step, file, workdir, work, log, extra, force=args.again)
        if rec["status"] == "ok" and rec["skipped_by_run"] and done_before:
            # An earlier stage ran again, but not one this stage reads.
            print(f"[scale] {step}: up to date, measured {done_before['started']}, kept")
            continue
        if rec["status"] == "ok" and rec["skipped_by_run"]:
            # Up to date but never measured here (killed before its line, or made by hand).
            print(f"[scale] {step}: up to date but not measured; again with --force", flush=True)
            rec = measure_step(step, file, workdir, work, log, extra, force=True)
        rerun_chain.add(workdir)
        rec.update(header, key=key)
        append_result(results, rec)
        if rec["status"] != "ok":
            print(f"[scale] {step}: FAILED (exit {rec['returncode']}), see {log}", flush=True)
            for line in rec["tail"]:
                print(f"    {line}", flush=True)
            return False
        sp = rec["spark"]
        print(
            f"[scale] {step}: wall {rec['wall_s']:.1f} s, CPU {rec['cpu_s']:.1f} s, "
            f"tables {fmt_bytes(sum(rec['tables'].values()))}, shuffle write "
            f"{fmt_bytes(sp['shuffle_write'])}, spill {fmt_bytes(sp['disk_spilled'])} on disk, "
            f"driver JVM {fmt_gb(rec['peak'].get('driver JVM', 0))}",
            flush=True,
        )
    return True


# -- markdown ----------------------------------------------------------------------------


def fmt_bytes(n: float) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def cpu_seconds(rec: dict) -> float:
    """A stage's CPU seconds: the sum of each sampled process's last CPU time.

    ``cpu_s`` (the waited children's rusage plus the processes reaped unwaited, as
    sampled) can count more than the machine has: cooccur at 1B recorded 2,419 s on 2
    cores in 671 s, where the samples and Spark's task run times give about 1,250 (some
    Python workers seem to be counted both ways). The samples count each process once."""
    sampled = rec.get("cpu_sampled_s") or {}
    return sum(sampled.values()) if sampled else rec["cpu_s"]


def fmt_gb(n: float) -> str:
    return f"{n / GB:.2f} GB" if n else "–"


def render_table(records: list[dict], size: str, corpus: dict) -> str:
    """The markdown section of one size: what was run where, and a row per step."""
    if not records:
        return f"### {size} tokens\n\nNo stage measured yet.\n"
    last = records[-1]
    started = sorted(r["started"] for r in records)
    counts = ", ".join(f"{k} {v:,}" for k, v in corpus_counts(corpus).items())
    commits = sorted({r.get("git", "") for r in records})
    m = last.get("machine", {})
    lines = [
        f"### {size} tokens",
        "",
        f"Corpus: {counts or 'corpus.json absent'}. Master `{last.get('master', '')}`; "
        f"{m.get('cores')} cores, {m.get('memory', 0) / GB:.0f} GB, {m.get('arch')}, "
        f"Python {m.get('python')}; sparkembed at {', '.join(commits)}; "
        f"measured {started[0]} to {started[-1]}.",
        "",
        "| stage | wall s | CPU s | table bytes | shuffle write / read | spill memory / disk "
        "| peak driver Python | peak driver JVM | peak Python worker (largest / sum) "
        "| peak executor JVMs (largest / sum) | large-task warnings | load before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in records:
        sp, peak, psum = r["spark"], r["peak"], r["peak_sum"]
        worker = (
            f"{fmt_gb(peak.get('Python worker', 0))} / {fmt_gb(psum.get('Python worker', 0))}"
            if peak.get("Python worker")
            else "–"
        )
        executor = (
            f"{fmt_gb(peak.get('executor JVM', 0))} / {fmt_gb(psum.get('executor JVM', 0))}"
            if peak.get("executor JVM")
            else "–"
        )
        lines.append(
            f"| {r['step']} | {r['wall_s']:.0f} | {cpu_seconds(r):.0f} "
            f"| {fmt_bytes(sum(r['tables'].values()))} "
            f"| {fmt_bytes(sp['shuffle_write'])} / {fmt_bytes(sp['shuffle_read'])} "
            f"| {fmt_bytes(sp['memory_spilled'])} / {fmt_bytes(sp['disk_spilled'])} "
            f"| {fmt_gb(peak.get('driver Python', 0))} | {fmt_gb(peak.get('driver JVM', 0))} "
            f"| {worker} | {executor} | {r['large_task_warnings']} "
            f"| {r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} |"
        )
    lines += [
        "",
        "Each stage is one `sparkembed run` of a one-stage pipeline (JVM start included). CPU: "
        "user + system seconds of every process of the tree (executors included), each as "
        "last sampled (every 0.5 s), so a process's last half second is missed. "
        "Peaks: RSS sampled every 0.5 s, by command line; a sum counts pages shared by forked "
        "workers once per process. Shuffle and spill: the sums over the run's tasks in Spark's "
        "event log. 1 GB = 2^30 bytes. Load: 1-minute average.",
    ]
    return "\n".join(lines) + "\n"


def render_growth(sizes: list[tuple[str, int, dict[str, dict]]]) -> str:
    """Per step: wall seconds at each size, the growth from the smallest to the largest
    size (against the growth of tokens), and the driver JVM / Python peaks at each size.
    ``sizes``: (label, tokens, {step: record}), any order."""
    sizes = sorted(sizes, key=lambda s: s[1])
    labels = [s[0] for s in sizes]
    lo, hi = sizes[0], sizes[-1]
    steps = sorted({s for _, _, recs in sizes for s in recs}, key=step_order)
    token_ratio = hi[1] / lo[1] if lo[1] else float("nan")
    head = (
        "| stage | "
        + " | ".join(f"wall s {x}" for x in labels)
        + f" | time({hi[0]}) / time({lo[0]}) | "
        + " | ".join(f"driver JVM / Python {x}" for x in labels)
        + " | driver growth per added word, bytes (JVM / Python) |"
    )
    lines = [
        "### Growth with corpus size",
        "",
        f"Tokens grow {token_ratio:.3g}x from {lo[0]} to {hi[0]}; the target for a stage's "
        f"time is at most {1.2 * token_ratio:.3g}x (12 for 100M → 1B).",
        "",
        head,
        "|---|" + "---:|" * (2 * len(labels) + 2),
    ]
    for step in steps:
        walls = [recs.get(step, {}).get("wall_s") for _, _, recs in sizes]
        ratio = f"{walls[-1] / walls[0]:.1f}" if walls[0] and walls[-1] and len(sizes) > 1 else "–"
        peaks = []
        for _, _, recs in sizes:
            p = recs.get(step, {}).get("peak", {})
            peaks.append(
                f"{fmt_gb(p.get('driver JVM', 0))} / {fmt_gb(p.get('driver Python', 0))}"
                if p
                else "–"
            )
        cells = [f"{w:.0f}" if w is not None else "–" for w in walls]
        lines.append(
            f"| {step} | "
            + " | ".join(cells)
            + f" | {ratio} | "
            + " | ".join(peaks)
            + f" | {driver_growth_per_word(step, sizes)} |"
        )
    words = [vocabulary_words(recs) for _, _, recs in sizes]
    lines += [
        "",
        "Driver growth per added word: (driver peak at "
        f"{hi[0]} − at {lo[0]}) / (words with count ≥ 5 at {hi[0]} − at {lo[0]}: "
        + " → ".join(f"{w:,}" for w in words if w)
        + "), for the driver JVM and the driver Python; a vocabulary × dim float32 matrix "
        "on the driver would add 4 × dim bytes a word (1,200 at dim 300). In local mode the "
        "driver JVM is also the executor, so its peak is bounded by its heap, not by the "
        "driver's own work.",
    ]
    return "\n".join(lines) + "\n"


def vocabulary_words(recs: dict[str, dict]) -> int:
    """Words with count >= 5 of the corpus the records measured (its corpus.json)."""
    for rec in recs.values():
        counts = corpus_counts(read_corpus(Path(rec.get("corpus", ""))))
        if counts.get("types_min5"):
            return counts["types_min5"]
    return 0


def driver_growth_per_word(step: str, sizes: list[tuple[str, int, dict[str, dict]]]) -> str:
    """Bytes a driver peak grew per added vocabulary word, smallest to largest size."""
    (_, _, lo), (_, _, hi) = sizes[0], sizes[-1]
    if step not in lo or step not in hi or len(sizes) < 2:
        return "–"
    added = vocabulary_words(hi) - vocabulary_words(lo)
    if added <= 0:
        return "–"
    cells = []
    for kind in ("driver JVM", "driver Python"):
        a, b = lo[step].get("peak", {}).get(kind), hi[step].get("peak", {}).get(kind)
        cells.append(f"{(b - a) / added:,.0f}" if a and b else "–")
    return " / ".join(cells)


def write_doc(name: str, markdown: str, doc: Path = DOC) -> None:
    if not doc.exists():
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(DOC_TITLE)
    write_section(name, markdown, doc)


# -- the command -------------------------------------------------------------------------


def _lock(work: Path) -> None:
    """One harness per work folder (sparkembed's own lock would fail the second's stages)."""
    lock = work / ".scale.pid"
    try:
        pid = int(lock.read_text())
    except (OSError, ValueError):
        pid = 0
    if pid and pid != os.getpid() and "bench.scale" in _cmdline(str(pid)):
        raise SystemExit(f"bench.scale: already running in {work} (pid {pid})")
    lock.write_text(str(os.getpid()))


def _interrupt(*_):
    raise KeyboardInterrupt


def summary(args) -> int:
    sizes = []
    for folder in args.summary:
        recs = latest(read_results(Path(folder) / "results.jsonl"))
        if not recs:
            print(f"bench.scale: no results in {folder}", file=sys.stderr)
            continue
        last = list(recs.values())[-1]
        sizes.append((last.get("size", folder), last.get("corpus_tokens", 0), recs))
    if not sizes:
        return 1
    md = render_growth(sizes)
    if args.no_doc:
        print(md)
    else:
        write_doc("scale-growth", md)
        print(f"[scale] wrote bench:scale-growth into {DOC}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, help="bench.make_wiki_corpus's output folder")
    p.add_argument("--work", type=Path, help="the work folder (tables, logs, results.jsonl)")
    p.add_argument(
        "--stages",
        help="comma-separated steps to run (default: all); "
        f"steps: {', '.join([*TEXT_STEPS, *EVALUATE_STEPS, DUMP_STEP])}",
    )
    p.add_argument(
        "--master",
        default="local[*]",
        help="Spark master, e.g. spark://127.0.0.1:7077 (scripts/cluster.sh)",
    )
    p.add_argument("--size", help="the size's label in docs/scale.md (default: from corpus.json)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="passed to every sparkembed run (a trial's smaller train.dim, say)",
    )
    p.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="more [spark] conf entries (executor memory on a cluster, say)",
    )
    p.add_argument(
        "--again",
        action="store_true",
        help="measure the --stages steps again even when measured with the same step file "
        "(after a code change)",
    )
    p.add_argument("--no-doc", action="store_true", help="print the section instead")
    p.add_argument(
        "--summary",
        nargs="+",
        metavar="WORK",
        help="write the growth section from these work folders' results",
    )
    args = p.parse_args(argv)
    if args.summary:
        return summary(args)
    if not args.corpus or not args.work:
        p.error("--corpus and --work are needed (or --summary)")
    if args.again and not args.stages:
        p.error("--again needs --stages")
    corpus, work = args.corpus.resolve(), args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    _lock(work)
    # `kill PID` (SIGTERM) stops the harness as Ctrl-C does: the running stage is
    # interrupted, cleans up, and has no line in results.jsonl; the next start resumes.
    signal.signal(signal.SIGTERM, _interrupt)
    text, dump, pairs = corpus_files(corpus)
    steps = all_steps(bool(dump), bool(pairs))
    if args.stages:
        wanted = [s.strip() for s in args.stages.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in steps]
        if unknown:
            p.error(f"unknown or unavailable step {unknown[0]}; steps: {', '.join(steps)}")
        run = [s for s in steps if s in wanted]
    else:
        run = steps
    spark_conf = dict(kv.split("=", 1) for kv in args.spark_conf)
    files = write_pipelines(corpus, work, args.master, spark_conf, steps)
    info = read_corpus(corpus)
    tokens = corpus_tokens(info)
    size = args.size or size_label(requested_tokens(info), corpus) + (
        "" if args.master.startswith("local") else "-cluster"
    )
    header = {
        "size": size,
        "corpus": str(corpus),
        "corpus_tokens": tokens,
        "master": args.master,
        "git": git_commit(),
        "machine": machine(),
    }
    print(f"[scale] {size}: {len(text)} text files, {len(dump)} dump files, work {work}")
    t0 = time.perf_counter()
    ok = run_steps(args, run, files, work, header)
    print(f"[scale] {'done' if ok else 'stopped'} after {time.perf_counter() - t0:.0f} s")
    recs = sorted(
        latest(read_results(work / "results.jsonl")).values(), key=lambda r: step_order(r["step"])
    )
    md = render_table(recs, size, info)
    if args.no_doc:
        print(md)
    else:
        write_doc(f"scale-{size}", md)
        print(f"[scale] wrote bench:scale-{size} into {DOC}")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("[scale] interrupted; start the same command again to resume", flush=True)
        sys.exit(130)
