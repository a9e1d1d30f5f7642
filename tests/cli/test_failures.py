"""Failures a user meets end in one line: Ctrl-C, a full disk, a damaged file, -q; and what
they leave behind (nothing staged, no lock, the previous tables as they were) is recovered
by the next run."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sparkembed import tables
from sparkembed.cli import main, one_line
from sparkembed.interrupts import sigint_cancels_jobs
from sparkembed.jvm.stderr import filtered_lines
from sparkembed.tables.lock import LOCK_NAME

SESSION = ["--set", 'spark.master="local[2]"', "--set", "spark.shuffle_partitions=4"]
SPARKEMBED = str(Path(sys.executable).parent / "sparkembed")


def tree_digest(folder: Path) -> str:
    """A digest of every file's name and bytes under ``folder``."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Staging folders and locks anywhere under ``folder``."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.name in (tables.STAGING_DIR, LOCK_NAME)
    )


def interrupt(argv: list[str], marker: str, delay: float) -> tuple[int, list[str]]:
    """Run ``sparkembed argv``, press Ctrl-C (SIGINT to its process group, as a terminal
    does) ``delay`` s after ``marker`` shows on stderr; its exit code and the stderr lines
    that are not progress."""
    proc = subprocess.Popen(
        [SPARKEMBED, *argv, *SESSION],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if marker in line:
            time.sleep(delay)
            os.killpg(proc.pid, signal.SIGINT)
            break
    seen += proc.stderr.readlines()
    proc.stdout.read()
    code = proc.wait(timeout=120)
    assert any(marker in line for line in seen), "".join(seen[-20:])
    return code, [line.rstrip("\n") for line in seen if not line.startswith("[")]


@pytest.fixture(scope="module")
def wiki_work(spark, tmp_path_factory, enwiki_sample):
    """The Wikipedia sample tokenized and counted (long enough jobs to interrupt)."""
    work = tmp_path_factory.mktemp("failures") / "work"
    argv = ["tokenize", str(enwiki_sample), "--output", str(work), "--min-count", "5", "-q"]
    assert main([*argv, *SESSION]) == 0
    assert main(["cooccur", str(work), "-q", *SESSION]) == 0
    return work


# --- Ctrl-C ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_during_a_spark_job_is_interrupted_and_exit_130(wiki_work):
    before = tree_digest(wiki_work)
    code, lines = interrupt(["cooccur", str(wiki_work), "--window", "3"], "[cooccur] count", 1.0)
    assert (code, lines) == (130, ["sparkembed cooccur: interrupted"])
    assert tree_digest(wiki_work) == before
    assert leftovers(wiki_work) == []


@pytest.mark.slow
def test_ctrl_c_while_a_table_is_written_cleans_the_staging(wiki_work, tmp_path):
    out = tmp_path / "vectors"
    argv = ["train", str(wiki_work), "--method", "svd", "--output", str(out)]
    code, lines = interrupt(argv, "[train] write", 0.2)
    assert (code, lines) == (130, ["sparkembed train: interrupted"])
    assert not out.exists()
    assert leftovers(tmp_path) == [] and leftovers(wiki_work) == []


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.8, 1.5, 3.0])
def test_ctrl_c_while_the_command_and_its_jvm_start_is_one_line(wiki_work, tmp_path, delay):
    # From 0.8 s: before the interpreter has loaded sparkembed (0.1 s on a quiet machine,
    # several times that on a loaded CI runner) Ctrl-C is Python's own affair.
    out = tmp_path / "vectors"
    proc = subprocess.Popen(
        [SPARKEMBED, "train", str(wiki_work), "--method", "svd", "--output", str(out), *SESSION],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    lines = [line for line in err.splitlines() if not line.startswith("[")]
    assert proc.returncode == 130
    assert len(lines) == 1 and lines[0].endswith(": interrupted"), err
    assert not out.exists() and leftovers(tmp_path) == [] and leftovers(wiki_work) == []


def test_ctrl_c_held_back_still_ends_the_command_as_interrupted():
    # Pressed while an exception is being handled, Ctrl-C is held (cleanup must finish);
    # the command still ends as interrupted, at the latest when its block ends.
    with pytest.raises(KeyboardInterrupt), sigint_cancels_jobs():
        try:
            raise ValueError("being handled")
        except ValueError:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)


# --- -q ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_quiet_prints_the_summary_line_only(wiki_work, tmp_path):
    argv = [SPARKEMBED, "train", str(wiki_work), "--method", "svd", "--dim", "10", "-q"]
    done = subprocess.run(
        [*argv, "--output", str(tmp_path / "v"), *SESSION],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert len(done.stdout.splitlines()) == 1
    assert done.stdout.startswith("train: method svd, dim 10, vectors 8,574")


def test_the_jvm_stderr_loses_only_what_is_never_news():
    lines = [
        "WARNING: Using incubator modules: jdk.incubator.vector\n",
        "Traceback (most recent call last):\n",
        '  File "daemon.py", line 87, in worker\n',
        "BrokenPipeError: [Errno 32] Broken pipe\n",
        "Traceback (most recent call last):\n",
        '  File "x.py", line 1, in f\n',
        "ValueError: kept\n",
        "12:00:00 ERROR Something: kept too\n",
    ]
    assert list(filtered_lines(lines)) == lines[4:]


# --- damaged and full ---------------------------------------------------------------------


def test_a_damaged_tokens_file_is_one_line_naming_it(wiki_work, tmp_path, capsys):
    work = tmp_path / "work"
    for table in ("tokens", "vocab", "marginals"):
        shutil.copytree(wiki_work / table, work / table)
    part = sorted((work / "tokens").glob("part-*.parquet"))[0]
    data = bytearray(part.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 2000] = os.urandom(2000)
    part.write_bytes(bytes(data))
    assert main(["cooccur", str(work), "-q", *SESSION]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"sparkembed cooccur: error: tokens: cannot read {part}")
    assert leftovers(work) == [] and not (work / "cooccurrence").exists()


def test_worker_and_os_errors_are_one_line_naming_the_file():
    class WorkerFailed(Exception):
        pass

    trace = (
        "An exception was thrown from the Python worker. Please see the stack trace below.\n"
        "Traceback (most recent call last):\n"
        '  File "kernel.py", line 9, in count\n'
        "PermissionError: [Errno 13] Permission denied: '/data/tokens/part-0.parquet'\n"
    )
    assert one_line(WorkerFailed(trace)) == "Permission denied: /data/tokens/part-0.parquet"
    ours = trace.replace(
        "PermissionError: [Errno 13] Permission denied: '/data/tokens/part-0.parquet'",
        "sparkembed.errors.SparkembedError: tokens: cannot read /data/t.parquet",
    )
    assert one_line(WorkerFailed(ours)) == "tokens: cannot read /data/t.parquet"
    err = OSError(28, "No space left on device", "/work/vectors/part-0.parquet")
    assert one_line(err) == "No space left on device: /work/vectors/part-0.parquet"


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MB tmpfs (root only)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)])
    if made.returncode != 0:
        pytest.skip("this machine does not let us mount a tmpfs")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave_kb: int) -> None:
    """Fill ``disk`` until ``leave_kb`` KB remain free."""
    free = shutil.disk_usage(disk).free
    (disk / "filler").write_bytes(b"\0" * max(0, free - leave_kb * 1024))


@pytest.mark.parametrize(
    ("stage", "table"),
    [("tokenize", "tokens"), ("cooccur", "cooccurrence"), ("train", "vectors")],
)
def test_a_full_disk_is_one_line_naming_the_table(
    stage, table, wiki_work, enwiki_sample, small_disk, capsys
):
    work = small_disk / "work"
    if stage == "tokenize":
        argv = ["tokenize", str(enwiki_sample), "--output", str(work), "--min-count", "5"]
        work.mkdir()
    else:
        needed = ["tokens", "vocab", "marginals"] + (["cooccurrence"] if stage == "train" else [])
        for name in needed:
            shutil.copytree(wiki_work / name, work / name)
        argv = [stage, str(work)] + (["--method", "svd"] if stage == "train" else [])
    before = tree_digest(work)
    fill(small_disk, leave_kb=200)
    assert main([*argv, "-q", *SESSION]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"sparkembed {stage}: error: No space left on device while writing")
    assert f" table {work / table} " in err[0]
    assert leftovers(work) == []
    assert tree_digest(work) == before


# --- recovery -------------------------------------------------------------------------------


def test_staging_without_an_owner_file_goes_with_the_next_run(spark, tmp_path):
    staging = tmp_path / tables.STAGING_DIR
    leftover = staging / "20260101000000-deadbeef-cooccurrence" / "shard=7"
    leftover.mkdir(parents=True)
    (leftover / "part-00007.parquet").write_bytes(b"x" * 1000)
    tables.publish(spark.createDataFrame([(1,)], "x int"), str(tmp_path / "t"), stage="t")
    assert not staging.exists()


def pipeline(tmp_path: Path, text: Path) -> Path:
    f = tmp_path / "pipeline.toml"
    f.write_text(
        f'[pipeline]\nworkdir = "{tmp_path / "work"}"\ninputs = ["{text}"]\n'
        'stages = ["tokenize", "cooccur"]\n\n[tokenize]\nformat = "text"\nmin_count = 1\n'
    )
    return f


def test_run_rebuilds_its_own_table_that_lost_its_success_file(tmp_path, capsys):
    text = tmp_path / "corpus.txt"
    text.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 20)
    f = pipeline(tmp_path, text)
    assert main(["run", str(f), "-q", *SESSION]) == 0
    vocab = tmp_path / "work" / "vocab"
    words = json.loads((vocab / tables.METADATA_FILE).read_text())["counts"]
    (vocab / "_SUCCESS").unlink()
    capsys.readouterr()
    assert main(["run", str(f), *SESSION]) == 0
    captured = capsys.readouterr()
    assert f"[run] tokenize: no complete vocab at {vocab}; running" in captured.err
    assert "run: 2 stages run, 0 skipped" in captured.out
    assert (vocab / "_SUCCESS").exists()
    assert json.loads((vocab / tables.METADATA_FILE).read_text())["counts"] == words


def test_run_refusing_a_foreign_folder_hints_at_what_run_can_do(tmp_path, capsys):
    text = tmp_path / "corpus.txt"
    text.write_text("the cat sat on the mat\n" * 20)
    foreign = tmp_path / "work" / "vocab"
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine")
    assert main(["run", str(pipeline(tmp_path, text)), "-q", *SESSION]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert "--overwrite" not in err[0]
    assert f"move it out of the work directory {tmp_path / 'work'}" in err[0]
    assert (foreign / "notes.txt").read_text() == "mine"


def test_run_that_skips_every_stage_still_removes_what_a_killed_run_left(tmp_path, capsys):
    text = tmp_path / "corpus.txt"
    text.write_text("the cat sat on the mat\n" * 20)
    f = pipeline(tmp_path, text)
    assert main(["run", str(f), "-q", *SESSION]) == 0
    staging = tmp_path / "work" / tables.STAGING_DIR
    (staging / "20260101000000-deadbeef-tokens").mkdir(parents=True)
    capsys.readouterr()
    assert main(["run", str(f), "-q", *SESSION]) == 0
    assert "run: 0 stages run, 2 skipped" in capsys.readouterr().out
    assert leftovers(tmp_path / "work") == []
