"""Every stage under spark-submit on a real standalone cluster (a master and two one-core
workers on 127.0.0.1, from scripts/cluster.sh), submitted the documented way: the packaged
code, the executors' Python as a venv-pack archive, conf/spark-defaults.conf.example and
conf/cluster.example.toml. The tables equal a local-mode run; an executor killed in the
middle of cooccur and of train costs retried tasks, not different tables."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from sparkembed.cli import main

ROOT = Path(__file__).resolve().parents[2]
SPARK_SUBMIT = str(Path(sys.executable).parent / "spark-submit")
ENV_ARCHIVE = ROOT / "dist" / "sparkembed-env.tar.gz"
DEMO = ROOT / "conf" / "pipeline.enwiki-sample.toml"
LOCAL = ["--set", 'spark.master="local[2]"', "--set", "spark.shuffle_partitions=4"]

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    master: str
    folder: Path
    code: Path  # the packaged library (--py-files)


def daemon_groups(folder: Path) -> list[int]:
    """Process groups of the master and workers (cluster.sh starts each in its own)."""
    return [int(p.read_text()) for p in folder.glob("*.pid")]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not ENV_ARCHIVE.is_file():
        pytest.fail(f"{ENV_ARCHIVE} missing: run scripts/setup.sh (it runs scripts/package.sh)")
    folder = tmp_path_factory.mktemp("cluster")
    code = folder / "sparkembed.zip"
    subprocess.run(
        ["bash", "scripts/package.sh", "--code", str(code)], check=True, cwd=ROOT, timeout=120
    )
    port = free_port()
    env = {
        **os.environ,
        "SPARK_MASTER_PORT": str(port),
        "SPARK_MASTER_WEBUI_PORT": str(free_port()),
    }
    command = ["bash", "scripts/cluster.sh"]
    groups = []
    try:
        subprocess.run(
            [*command, "start", "--workers", "2", "--cores", "1", "--memory", "1500m"]
            + ["--dir", str(folder)],
            check=True,
            cwd=ROOT,
            env=env,
            timeout=180,
        )
        groups = daemon_groups(folder)
        yield Cluster(f"spark://127.0.0.1:{port}", folder, code)
    finally:
        groups = groups or daemon_groups(folder)
        subprocess.run([*command, "stop", "--dir", str(folder)], cwd=ROOT, env=env, timeout=120)
        left = [g for g in groups if group_alive(g)]
        for g in left:
            os.killpg(g, signal.SIGKILL)
        assert not left, f"cluster.sh stop left process groups {left}"


def submit_command(cluster: Cluster, args: list[str], *conf: str) -> list[str]:
    """The documented submit line (docs/cluster.md), on this test's master and code zip."""
    extra = [item for c in conf for item in ("--conf", c)]
    return [
        SPARK_SUBMIT,
        "--properties-file",
        "conf/spark-defaults.conf.example",
        "--master",
        cluster.master,
        "--py-files",
        str(cluster.code),
        *extra,
        "jobs/sparkembed_job.py",
        *args,
    ]


def submit_env(gensim_data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "GENSIM_TEST_DATA": str(gensim_data),
    }


def submit(command: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """Run spark-submit in its own process group; the whole group (JVM and Python driver) is
    killed if it overruns or the test is interrupted."""
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


def pipeline_file(path: Path, workdir: Path, stages: list[str] | None = None) -> Path:
    """The demo pipeline, writing to ``workdir`` (and running only ``stages``)."""
    text = DEMO.read_text()
    text = re.sub(r'(?m)^workdir = ".*"$', f'workdir = "{workdir}"', text)
    if stages is not None:
        text = re.sub(r"(?m)^stages = \[.*\]$", f"stages = {json.dumps(stages)}", text)
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def cluster_run(cluster, tmp_path_factory, gensim_data):
    """The demo pipeline through spark-submit on the cluster."""
    tmp = tmp_path_factory.mktemp("cluster-run")
    pipeline = pipeline_file(tmp / "demo.toml", tmp / "work")
    command = submit_command(cluster, ["run", str(pipeline), "--conf", "conf/cluster.example.toml"])
    out = submit(command, submit_env(gensim_data), timeout=1200)
    assert out.returncode == 0, out.stderr[-4000:]
    return tmp / "work", out


TABLES = [
    ("tokens", ["doc_id", "sentence"]),
    ("vocab", ["id"]),
    ("rejected", ["source", "reason", "excerpt"]),
    ("cooccurrence", ["row", "col"]),
    ("marginals", ["id"]),
]


def assert_same_tables(spark, got: Path, want: Path, tables, vectors) -> None:
    for table, order in tables:
        g = spark.read.parquet(str(got / table))
        w = spark.read.parquet(str(want / table))
        assertDataFrameEqual(g.orderBy(*order), w.orderBy(*order), checkRowOrder=True)
    for table in vectors:
        g = spark.read.parquet(str(got / table)).orderBy("token")
        w = spark.read.parquet(str(want / table)).orderBy("token")
        assertDataFrameEqual(g, w, checkRowOrder=True, rtol=1e-4, atol=1e-5)


def scores(report: Path) -> dict[str, float]:
    r = json.loads((report / "evaluation.json").read_text())
    out = {f"pairs {p['name']}": p["spearman"] for p in r["word_pairs"]}
    out |= {f"analogies {a['method']}": a["accuracy"] for a in r["analogies"]}
    out |= {f"synonyms {s['name']}": s["score"] for s in r["synonyms"]}
    out |= {f"clusters {c['name']}": c["kmeans_purity"] for c in r["clusters"]}
    return out


def test_executors_run_the_shipped_environment(cluster, gensim_data):
    # The first job must see both workers' executors: the scheduler waits for the 2 cores
    # asked for to register (else a job can start with one executor and report one; a
    # standalone master expects no cores unless spark.cores.max says how many).
    wait = ("spark.cores.max=2", "spark.scheduler.minRegisteredResourcesRatio=1.0",
            "spark.scheduler.maxRegisteredResourcesWaitingTime=120s")  # fmt: skip
    command = submit_command(cluster, ["doctor"], *wait)
    out = submit(command, submit_env(gensim_data), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("executors"))
    # Both workers' executors, each in the archive unpacked in its work folder, with the
    # library from the zip: nothing from the checkout's .venv.
    for worker in ("worker-1", "worker-2"):
        app = rf"{cluster.folder}/work/{worker}/app-[-\d]+/\d+"
        env = rf"python 3\.11\.\d+ in {app}/env \(numpy 2\.4\.6, scipy 1\.17\.1, pyarrow 26\.0\.1;"
        assert re.search(rf"{env} sparkembed from {app}/sparkembed\.zip\)", line), line
    assert ".venv" not in line, line
    assert f"master {cluster.master}" in out.stdout


def test_demo_pipeline_on_the_cluster_equals_local_mode(
    spark, cluster_run, tmp_path, gensim_data, monkeypatch
):
    work, out = cluster_run
    assert "run: 10 stages run, 0 skipped" in out.stdout
    # sparkembed's progress lines (spark-submit passes the Python driver's stderr to its
    # stdout), Spark's log at WARN: no INFO flood, no known harmless warnings.
    assert "[cooccur] count ..." in out.stdout and "[train] svd ..." in out.stdout
    assert not re.search(r"\bINFO\b", out.stderr), out.stderr[:2000]
    assert "NativeCodeLoader" not in out.stderr and "WindowExec" not in out.stderr

    local = tmp_path / "local"
    monkeypatch.setenv("GENSIM_TEST_DATA", str(gensim_data))
    assert main(["run", str(pipeline_file(tmp_path / "local.toml", local)), "-q", *LOCAL]) == 0
    assert_same_tables(
        spark, work, local, TABLES, ["vectors-svd", "vectors-glove", "vectors-word2vec"]
    )
    docs = [spark.read.parquet(str(w / "aggregate-svd" / "doc_vectors")) for w in (work, local)]
    assert docs[0].count() == 106  # every article of the sample
    # the report, drawn by the driver of the cluster run too (k-means ran on the cluster)
    rows = (work / "pictures-svd" / "word_map.tsv").read_text().splitlines()
    assert len(rows) == 1 + 1000 and (work / "pictures-svd" / "report.html").is_file()
    assertDataFrameEqual(
        docs[0].orderBy("doc_id"),
        docs[1].orderBy("doc_id"),
        checkRowOrder=True,
        rtol=1e-4,
        atol=1e-5,
    )
    for method in ("svd", "glove", "word2vec"):
        got, want = scores(work / f"report-{method}"), scores(local / f"report-{method}")
        assert got.keys() == want.keys()
        assert got == pytest.approx(want, abs=1e-4)


# --- an executor killed mid-stage ----------------------------------------------------------


def rest(ui_port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/api/v1/{path}", timeout=5) as r:
        return json.load(r)


def executor_pid(app_id: str, executor_id: str) -> int | None:
    """The executor JVM a worker started for ``app_id`` (its command line names both)."""
    want = ["--executor-id", executor_id]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in args]
        if "org.apache.spark.executor.CoarseGrainedExecutorBackend" not in words:
            continue
        pairs = list(zip(words, words[1:], strict=False))
        if tuple(want) in pairs and ("--app-id", app_id) in pairs:
            return int(proc.name)
    return None


def kill_busy_executor(ui_port: int, timeout: float = 60) -> str:
    """SIGKILL an executor the status API reports running a task; returns its id.

    The report can lag: the executor may have finished its task by the time it is killed,
    so the test reads which kills cost a task from the event log.
    """
    deadline = time.monotonic() + timeout
    last = "nothing polled"  # what the last poll saw, for a failure's message
    while time.monotonic() < deadline:
        try:
            app = rest(ui_port, "applications")[0]["id"]
            executors = rest(ui_port, f"applications/{app}/executors")
            busy = [e["id"] for e in executors if e["id"] != "driver" and e["activeTasks"] > 0]
            last = f"executors {[(e['id'], e['activeTasks']) for e in executors]}"
        except (OSError, IndexError, KeyError, ValueError) as error:
            busy, last = [], f"status API on port {ui_port}: {error!r}"
        for executor in busy:
            pid = executor_pid(app, executor)
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                return executor
            last = f"no process found for busy executor {executor} of {app}"
        time.sleep(0.1)
    raise AssertionError(f"no executor was running a task; last poll: {last}")


def task_ends(event_dir: Path) -> list[dict]:
    logs = [p for p in event_dir.iterdir() if p.is_file() and not p.name.startswith(".")]
    assert len(logs) == 1, logs
    events = (json.loads(line) for line in logs[0].read_text().splitlines() if line)
    return [e for e in events if e["Event"] == "SparkListenerTaskEnd"]


def test_executor_killed_mid_cooccur_and_mid_train(
    spark, cluster, cluster_run, tmp_path, gensim_data
):
    stages = ["tokenize", "cooccur", "train:svd"]
    work = tmp_path / "work"
    pipeline = pipeline_file(tmp_path / "kill.toml", work, stages)
    events = tmp_path / "events"
    events.mkdir()
    ui = free_port()
    command = submit_command(
        cluster,
        ["run", str(pipeline), "--conf", "conf/cluster.example.toml"],
        f"spark.ui.port={ui}",
        "spark.eventLog.enabled=true",
        "spark.eventLog.rolling.enabled=false",
        "spark.eventLog.compress=false",
        f"spark.eventLog.dir=file://{events}",
    )
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=submit_env(gensim_data),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    log, killed = [], []  # the driver's Python output and Spark's log, interleaved
    # In the middle of the counting, then of the SVD's power iterations.
    markers = ["[cooccur] count ...", "[train] randomized SVD: power iteration 1/"]
    seen = queue.Queue()

    def read_output():  # drained on a thread: the driver must not block on a full pipe
        pending = list(markers)
        for line in proc.stdout:
            log.append(line)
            if pending and pending[0] in line:
                seen.put(pending.pop(0))
        seen.put(None)

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        while seen.get(timeout=600) is not None:
            killed.append(kill_busy_executor(ui))
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        reader.join(timeout=60)
    text = "".join(log)
    (tmp_path / "driver.log").write_text(text)  # the whole log, for a failure's cause
    assert proc.returncode == 0, text[-4000:]
    assert len(killed) == 2, text[-4000:]
    assert "run: 3 stages run, 0 skipped" in text

    # The driver's log names each lost executor and each task lost with it; at least one
    # kill cost a running task, and every lost task ran again and succeeded (event log).
    ends = task_ends(events)
    lost = [e for e in ends if e["Task End Reason"]["Reason"] == "ExecutorLostFailure"]
    lost_on = {e["Task Info"]["Executor ID"] for e in lost}
    assert lost_on & set(killed), (killed, text[-4000:])
    for executor in killed:
        assert re.search(rf"Lost executor {executor} on 127\.0\.0\.1", text), text[-4000:]
        if executor in lost_on:
            pattern = (
                rf"Lost task \S+ in stage \S+ \(TID \d+\) \(127\.0\.0\.1 executor {executor}\)"
            )
            assert re.search(pattern, text), text[-4000:]
    done = {
        (e["Stage ID"], e["Task Info"]["Index"])
        for e in ends
        if e["Task End Reason"]["Reason"] == "Success"
    }
    retried = [(e["Stage ID"], e["Task Info"]["Index"]) for e in lost]
    print("".join(x for x in log if "Lost executor" in x or "Lost task" in x), end="")
    print("lost and retried tasks (stage, index):", retried)
    assert all(key in done for key in retried), retried

    got, want = work, cluster_run[0]
    assert_same_tables(spark, got, want, TABLES, ["vectors-svd"])
    assert not list(work.glob(".sparkembed-staging*"))


def test_sgns_on_two_executors_equals_local_mode(
    spark, cluster, cluster_run, tmp_path, gensim_data
):
    # The same K (3) on the cluster's 2 executors and in this process's local session: the
    # same vectors to the bit, as each bucket is trained by one task at a time wherever it
    # runs and the pairs are ordered by their place in the corpus.
    work, _ = cluster_run
    args = ["train", str(work), "--method", "sgns", "--dim", "16"]
    args += ["--set", "sgns.partitions=3", "--set", "sgns.epochs=2"]
    command = submit_command(cluster, [*args, "--output", str(tmp_path / "cluster")])
    out = submit(command, submit_env(gensim_data), timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert main([*args, "--output", str(tmp_path / "local"), "-q", *LOCAL]) == 0
    got = spark.read.parquet(str(tmp_path / "cluster")).orderBy("token")
    want = spark.read.parquet(str(tmp_path / "local")).orderBy("token")
    assert got.count() > 1000
    assertDataFrameEqual(got, want, checkRowOrder=True, rtol=0, atol=0)
