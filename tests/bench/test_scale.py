"""bench.scale's pure parts: Spark event-log sums, process kinds, resuming from
results.jsonl, the pipeline files it writes, and the markdown; and bench.runner's CPU
measure of a process tree whose children outlive it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from bench import scale

REPO = Path(__file__).resolve().parents[2]


def _task(write=0, local=0, remote=0, mem=0, disk=0, cpu_ns=0, reason="Success"):
    return {
        "Event": "SparkListenerTaskEnd",
        "Stage ID": 1,
        "Task End Reason": {"Reason": reason},
        "Task Metrics": {
            "Executor Run Time": 1500,
            "Executor CPU Time": cpu_ns,
            "Memory Bytes Spilled": mem,
            "Disk Bytes Spilled": disk,
            "Input Metrics": {"Bytes Read": 100, "Records Read": 3},
            "Shuffle Read Metrics": {"Remote Bytes Read": remote, "Local Bytes Read": local},
            "Shuffle Write Metrics": {"Shuffle Bytes Written": write, "Shuffle Write Time": 9},
        },
    }


def test_event_log_totals_sum_the_task_end_events(tmp_path):
    log = tmp_path / "local-1"
    events = [
        {"Event": "SparkListenerApplicationStart", "App ID": "local-1"},
        _task(write=1000, cpu_ns=2_000_000_000),
        _task(write=24, local=500, remote=300, mem=4096, disk=1024, cpu_ns=500_000_000),
        _task(disk=10, reason="ExceptionFailure"),
        {"Event": "SparkListenerStageCompleted", "Stage Info": {"Stage ID": 1}},
        {"Event": "SparkListenerJobEnd", "Job ID": 0},
        {"Event": "SparkListenerTaskStart", "Task Info": {}},
    ]
    # the last line of a log still being written is cut short
    log.write_text("\n".join(json.dumps(e) for e in events) + '\n{"Event": "SparkListenerTa')
    # a rolling log is a folder of files: both kinds are read
    rolled = tmp_path / "eventlog_v2_local-2"
    rolled.mkdir()
    (rolled / "events_1_local-2").write_text(json.dumps(_task(write=6, mem=1)) + "\n")
    t = scale.event_log_totals([log, rolled])
    assert t["tasks"] == 4 and t["failed_tasks"] == 1
    assert t["shuffle_write"] == 1030
    assert t["shuffle_read"] == 800
    assert t["memory_spilled"] == 4097 and t["disk_spilled"] == 1034
    assert t["input_bytes"] == 400
    assert t["executor_cpu_s"] == pytest.approx(2.5)
    assert t["executor_run_s"] == pytest.approx(6.0)
    assert (t["jobs"], t["stages"], t["apps"]) == (1, 1, ["local-1"])
    assert scale.event_log_totals([])["tasks"] == 0


@pytest.mark.parametrize(
    "cmd, kind",
    [
        ("/work/main/.venv/bin/python -m sparkembed run steps/02-cooccur.toml", "driver Python"),
        (
            "/usr/lib/jvm/java-17-openjdk-amd64/bin/java -cp /x/pyspark/conf:/x/pyspark/jars/* "
            "-Xmx4g -XX:TieredStopAtLevel=1 org.apache.spark.deploy.SparkSubmit --conf "
            "spark.master=local[*] pyspark-shell",
            "driver JVM",
        ),
        ("/work/main/.venv/bin/python3.11 -m pyspark.daemon", "Python worker"),
        ("python3 /opt/spark/python/pyspark/worker.py", "Python worker"),
        (
            "/usr/lib/jvm/java-17-openjdk-amd64/bin/java -cp /x/jars/* -Xmx1024M "
            "org.apache.spark.executor.CoarseGrainedExecutorBackend --driver-url "
            "spark://CoarseGrainedScheduler@127.0.0.1:40000 --executor-id 0 --cores 1",
            "executor JVM",
        ),
        (
            "/usr/lib/jvm/java-17-openjdk-amd64/bin/java -cp /x/jars/* -Xmx1g "
            "org.apache.spark.deploy.worker.Worker spark://127.0.0.1:7077",
            "cluster daemon",
        ),
        ("/bin/bash /x/pyspark/bin/spark-class org.apache.spark.deploy.SparkSubmit", "other"),
        ("", "other"),
    ],
)
def test_process_kind_from_the_command_line(cmd, kind):
    assert scale.process_kind(cmd) == kind


def _record(step, key="k1", state=None, status="ok", wall=10.0, **extra):
    rec = {
        "step": step,
        "status": status,
        "key": key,
        "tables_state": state if state is not None else {"t": "run-1"},
        "started": "2025-01-01T00:00:00+00:00",
        "wall_s": wall,
    }
    rec.update(extra)
    return rec


def test_resume_keeps_only_measurements_of_this_step_file_and_these_tables(tmp_path):
    path = tmp_path / "results.jsonl"
    for rec in (
        _record("tokenize", wall=5.0),
        _record("cooccur", status="failed"),
        _record("tokenize", wall=7.0),
        _record("cooccur", state={"t": "run-2"}),
    ):
        scale.append_result(path, rec)
    with open(path, "a") as f:
        f.write('{"step": "train:svd", "status": "o')  # killed while writing
    records = scale.read_results(path)
    assert [r["step"] for r in records] == ["tokenize", "cooccur", "tokenize", "cooccur"]
    assert scale.read_results(tmp_path / "missing.jsonl") == []

    assert scale.measured(records, "tokenize", "k1", {"t": "run-1"})["wall_s"] == 7.0
    # another step file (parameters, inputs or options changed): measured again
    assert scale.measured(records, "tokenize", "k2", {"t": "run-1"}) is None
    # its tables were written again since (by hand, or a rerun): measured again
    assert scale.measured(records, "tokenize", "k1", {"t": "run-9"}) is None
    # tables missing
    assert scale.measured(records, "tokenize", "k1", {"t": ""}) is None
    assert scale.measured(records, "cooccur", "k1", {"t": "run-2"})["status"] == "ok"
    assert scale.measured(records, "train:svd", "k1", {"t": "run-1"}) is None

    last = scale.latest(records)
    assert list(last) == ["tokenize", "cooccur"]
    assert last["tokenize"]["wall_s"] == 7.0


def test_table_states_are_run_ids_or_sizes(tmp_path):
    table = tmp_path / "vocab"
    table.mkdir()
    (table / "_sparkembed.json").write_text(json.dumps({"run_id": "20250101-abc"}))
    (table / "part-0.parquet").write_bytes(b"x" * 300)
    report = tmp_path / "report.json"
    report.write_text("{}")
    paths = {"vocab": str(table), "report": str(report), "gone": str(tmp_path / "gone")}
    assert scale.table_states(paths) == {"vocab": "20250101-abc", "report": "2", "gone": ""}
    assert scale.path_bytes(table) == 300 + len(json.dumps({"run_id": "20250101-abc"}))


def test_pipeline_files_are_pipelines_sparkembed_runs(tmp_path):
    from sparkembed.commands.run import load_pipeline

    corpus = tmp_path / "wiki"
    (corpus / "text").mkdir(parents=True)
    (corpus / "dump").mkdir()
    for name in ("b.txt", "a.txt"):
        (corpus / "text" / name).write_text("some text\n")
    (corpus / "dump" / "enwiki-pages-articles-multistream.xml.bz2").write_bytes(b"BZh9")
    (corpus / "dump" / "enwiki-pages-articles-multistream-index.txt.bz2").write_bytes(b"BZh9")
    (corpus / "pairs.tsv").write_text("king\tqueen\t8.5\n")
    steps = scale.all_steps(has_dump=True, has_pairs=True)
    assert steps[:7] == list(scale.TEXT_STEPS) and steps[-1] == scale.DUMP_STEP
    work = tmp_path / "work"
    files = scale.write_pipelines(corpus, work, "spark://127.0.0.1:7077", {"a.b": "1"}, steps)

    whole = load_pipeline(work / "pipeline.toml")
    assert whole.stages == [s for s in steps if s != scale.DUMP_STEP]
    assert whole.inputs == [str(corpus / "text" / "a.txt"), str(corpus / "text" / "b.txt")]
    assert whole.pairs == [str(corpus / "pairs.tsv")]
    assert load_pipeline(work / "pipeline-dump.toml").stages == ["tokenize"]

    file, workdir = files["train:glove"]
    one = load_pipeline(file)
    assert one.stages == ["train:glove"] and one.workdir == str(work / "tables")
    data = tomllib.loads(file.read_text())
    assert data["train"]["dim"] == 300 and data["cooccur"]["window"] == 5
    assert data["tokenize"]["min_count"] == 5 and data["word2vec"]["min_count"] == 5
    assert data["spark"]["master"] == "spark://127.0.0.1:7077"
    conf = data["spark"]["conf"]
    assert conf["spark.eventLog.enabled"] == "true" and conf["a.b"] == "1"
    assert conf["spark.eventLog.dir"] == (work / "events").as_uri()
    assert "-Dsparkembed.task_log_level=warn" in conf["spark.driver.extraJavaOptions"]
    dump_file, dump_dir = files[scale.DUMP_STEP]
    dump = load_pipeline(dump_file)
    assert dump.stages == ["tokenize"] and dump.workdir == str(work / "dump-tables")
    assert dump.inputs == [str(corpus / "dump" / "enwiki-pages-articles-multistream.xml.bz2")]
    assert scale.outputs("train:glove", workdir) == {"vectors": f"{work}/tables/vectors-glove"}
    assert set(scale.outputs(scale.DUMP_STEP, dump_dir)) == {"tokens", "vocab", "rejected"}


def _measured(step, wall, driver_jvm, worker=0, executor=0, **spark):
    totals = dict.fromkeys(("shuffle_write", "shuffle_read", "memory_spilled", "disk_spilled"), 0)
    totals.update(spark)
    peak = {"driver Python": 2**28, "driver JVM": driver_jvm}
    psum = dict(peak)
    if worker:
        peak["Python worker"], psum["Python worker"] = worker, 3 * worker
    if executor:
        peak["executor JVM"], psum["executor JVM"] = executor, 2 * executor
    return _record(
        step,
        wall=wall,
        cpu_s=1.5 * wall,
        tables={"a": 3 * 2**20, "b": 2**20},
        spark=totals,
        peak=peak,
        peak_sum=psum,
        large_task_warnings=2,
        load_before=[1.04, 0, 0],
        load_after=[2.0, 0, 0],
        git="abc123",
        master="local[*]",
        machine={"cores": 2, "memory": 23 * 2**30, "arch": "x86_64", "python": "3.11.7"},
    )


def test_render_table_has_a_row_per_stage():
    records = [
        _measured("tokenize", 61.4, 2**30, worker=2**29, shuffle_write=5 * 2**30),
        _measured(
            "cooccur", 120.0, 3 * 2**29, executor=2**31, disk_spilled=2**20, memory_spilled=2**30
        ),
    ]
    corpus = {"seed": 1, "counts": {"tokens": 100_000_000, "articles": 12_345}}
    md = scale.render_table(records, "100M", corpus)
    assert md.startswith("### 100M tokens")
    assert "tokens 100,000,000, articles 12,345" in md
    assert "2 cores, 23 GB" in md and "abc123" in md
    rows = [
        line
        for line in md.splitlines()
        if line.startswith("| tokenize") or line.startswith("| cooccur")
    ]
    assert rows[0] == (
        "| tokenize | 61 | 92 | 4 MB | 5 GB / 0 B | 0 B / 0 B | 0.25 GB | 1.00 GB "
        "| 0.50 GB / 1.50 GB | – | 2 | 1.0 → 2.0 |"
    )
    assert rows[1] == (
        "| cooccur | 120 | 180 | 4 MB | 0 B / 0 B | 1 GB / 1 MB | 0.25 GB | 1.50 GB "
        "| – | 2.00 GB / 4.00 GB | 2 | 1.0 → 2.0 |"
    )
    assert "No stage measured" in scale.render_table([], "1B", {})


def test_render_growth_gives_time_ratios_driver_peaks_and_growth_per_word(tmp_path):
    corpora = {}
    for name, words in (("wiki100m", 250_000), ("wiki1b", 1_000_000)):
        corpora[name] = tmp_path / name
        corpora[name].mkdir()
        info = {"counts": {"tokens": 1, "types_min5": words}}
        (corpora[name] / "corpus.json").write_text(json.dumps(info))
    small = {  # measured in another order than the pipeline's
        "cooccur": _measured("cooccur", 40.0, 2**30),
        "tokenize": _measured("tokenize", 60.0, 2**30),
    }
    large = {"tokenize": _measured("tokenize", 660.0, 2**31)}  # cooccur not run yet
    for recs, corpus in ((small, corpora["wiki100m"]), (large, corpora["wiki1b"])):
        for rec in recs.values():
            rec["corpus"] = str(corpus)
    large["tokenize"]["peak"]["driver Python"] += 750_000 * 64  # 64 bytes per added word
    md = scale.render_growth([("1B", 10**9, large), ("100M", 10**8, small)])
    lines = md.splitlines()
    assert "Tokens grow 10x from 100M to 1B" in md and "at most 12x" in md
    head = next(line for line in lines if line.startswith("| stage"))
    assert head.startswith("| stage | wall s 100M | wall s 1B | time(1B) / time(100M) |")
    assert head.endswith("| driver growth per added word, bytes (JVM / Python) |")
    # the JVM went from 1 to 2 GB: 2**30 / 750,000 added words = 1,432 bytes a word
    assert (
        "| tokenize | 60 | 660 | 11.0 | 1.00 GB / 0.25 GB | 2.00 GB / 0.29 GB | 1,432 / 64 |"
        in lines
    )
    assert "| cooccur | 40 | – | – | 1.00 GB / 0.25 GB | – | – |" in lines
    assert "250,000 → 1,000,000" in md
    rows = [line.split(" | ")[0] for line in lines if line.startswith("| ") and "stage" not in line]
    assert rows == ["| tokenize", "| cooccur"]  # the pipeline's order, whatever the input's


def test_size_labels(tmp_path):
    assert scale.size_label(100_000_000, tmp_path) == "100M"
    assert scale.size_label(1_000_000_000, tmp_path) == "1B"
    assert scale.size_label(0, tmp_path / "wiki300m") == "300M"
    assert scale.corpus_tokens({"tokens": 5, "articles": 2}) == 5
    info = {"requested_tokens": 100_000_000, "counts": {"tokens": 100_000_017, "docs": 9}}
    assert scale.corpus_tokens(info) == 100_000_017
    assert scale.size_label(scale.requested_tokens(info), tmp_path) == "100M"
    assert scale.corpus_counts(info) == {"tokens": 100_000_017, "docs": 9}


def test_write_doc_creates_the_file_and_keeps_other_sections(tmp_path):
    doc = tmp_path / "scale.md"
    scale.write_doc("scale-100M", "table one", doc)
    assert doc.read_text().startswith("# Scale: Wikipedia-sized corpora\n")
    doc.write_text(doc.read_text() + "\n## Calibration\n\nkept\n")
    scale.write_doc("scale-100M", "table two", doc)
    text = doc.read_text()
    assert "table two" in text and "table one" not in text and "kept" in text
    assert text.count("<!-- bench:scale-100M -->") == 1


def test_run_measured_counts_the_cpu_of_children_that_outlive_the_command(tmp_path):
    # A command that leaves a grandchild burning ~0.6 s of CPU after it exits, and whose
    # child ignores SIGCHLD so that its own children are reaped unwaited (as pyspark's
    # daemon does). Measured in a fresh interpreter: run_measured makes its caller a
    # subreaper.
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass\n"
    command = textwrap.dedent(
        f"""
        import os, signal, subprocess, sys, time
        burn = {burn!r}
        # an orphan: started in the background, the command exits at once
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)\\n" + burn])
        # a daemon-like child ignoring SIGCHLD, whose child burns and is never waited for
        code = (
            "import signal, subprocess, sys, time\\n"
            "signal.signal(signal.SIGCHLD, signal.SIG_IGN)\\n"
            f"subprocess.Popen([sys.executable, '-c', {{burn!r}}])\\n"
            "time.sleep(1.5)\\n"
        )
        subprocess.run([sys.executable, "-c", code])
        """
    )
    probe = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        from bench.runner import run_measured
        run = run_measured([sys.executable, "-c", {command!r}], Path({str(tmp_path / "log")!r}),
                           interval=0.1)
        print(json.dumps({{"wall": run.wall, "cpu": run.cpu, "rc": run.returncode}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["rc"] == 0
    # two burns of 0.6 s, the one unwaited counted up to its last sample (0.1 s apart)
    assert got["cpu"] >= 1.05, got
    assert got["wall"] < 4.0


def test_cpu_seconds_sum_the_sampled_processes_when_recorded():
    rec = _measured("cooccur", 100.0, 2**30)
    assert scale.cpu_seconds(rec) == 150.0  # no samples: the recorded total
    rec["cpu_sampled_s"] = {"Python worker": 120.5, "driver JVM": 20.0, "driver Python": 4.5}
    assert scale.cpu_seconds(rec) == 145.0
    row = next(
        line for line in scale.render_table([rec], "1B", {}).splitlines() if "| cooccur" in line
    )
    assert row.startswith("| cooccur | 100 | 145 |")
