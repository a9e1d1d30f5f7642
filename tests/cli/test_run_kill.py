"""SIGKILL in the middle of each stage of `sparkembed run`, then `run` again: the stages that
finished are skipped and the final tables equal those of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from sparkembed.cli import main

SESSION = ["--set", 'spark.master="local[2]"', "--set", "spark.shuffle_partitions=4"]
SPARKEMBED = str(Path(sys.executable).parent / "sparkembed")


def write_pipeline(path: Path, workdir: Path, dump: Path, pairs: Path) -> Path:
    path.write_text(
        f"""[pipeline]
workdir = "{workdir}"
inputs = ["{dump}"]
stages = ["tokenize", "cooccur", "train:svd", "evaluate:svd"]
pairs = ["{pairs}"]

[tokenize]
min_count = 5

[train]
dim = 50
"""
    )
    return path


def run_until(pipeline: Path, marker: str, delay: float) -> str:
    """Start `sparkembed run`, SIGKILL it and its JVM ``delay`` s after ``marker`` appears on
    stderr; returns what it printed."""
    proc = subprocess.Popen(
        [SPARKEMBED, "run", str(pipeline), *SESSION],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if marker in line:
                time.sleep(delay)
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert any(marker in line for line in seen), "".join(seen[-20:])
    return "".join(seen)


@pytest.mark.slow
def test_sigkill_during_each_stage_then_run_again(spark, tmp_path, enwiki_sample, gensim_data):
    pairs = gensim_data / "wordsim353.tsv"
    reference = write_pipeline(tmp_path / "ref.toml", tmp_path / "ref", enwiki_sample, pairs)
    assert main(["run", str(reference), "-q", *SESSION]) == 0

    work = tmp_path / "killed"
    pipeline = write_pipeline(tmp_path / "killed.toml", work, enwiki_sample, pairs)
    # tokens staged, vocab not yet; then in the middle of the counting; then of the SVD
    run_until(pipeline, "[tokenize] vocab ...", 0.5)
    assert not (work / "tokens").exists() and not (work / "vocab").exists()
    log = run_until(pipeline, "[cooccur] count ...", 1.0)
    assert "[run] tokenize: no complete tokens" in log
    log = run_until(pipeline, "[train] svd ...", 2.0)
    assert "[run] tokenize: up to date, skipped" in log
    assert not (work / "vectors-svd").exists()

    done = subprocess.run(
        [SPARKEMBED, "run", str(pipeline), *SESSION], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "run: 2 stages run, 2 skipped" in done.stdout
    assert "[run] cooccur: up to date, skipped" in done.stderr
    assert not list(work.glob(".sparkembed-staging*"))

    ref = tmp_path / "ref"
    for table, order in [
        ("tokens", ["doc_id", "sentence"]),
        ("vocab", ["id"]),
        ("cooccurrence", ["row", "col"]),
        ("marginals", ["id"]),
    ]:
        got = spark.read.parquet(str(work / table)).orderBy(*order)
        want = spark.read.parquet(str(ref / table)).orderBy(*order)
        assertDataFrameEqual(got, want, checkRowOrder=True)
    got = spark.read.parquet(str(work / "vectors-svd")).orderBy("token")
    want = spark.read.parquet(str(ref / "vectors-svd")).orderBy("token")
    assertDataFrameEqual(got, want, checkRowOrder=True, rtol=1e-4, atol=1e-5)
    scores = [
        json.loads((d / "report-svd" / "evaluation.json").read_text())["word_pairs"]
        for d in (work, ref)
    ]
    assert scores[0][0]["spearman"] == pytest.approx(scores[1][0]["spearman"], abs=1e-4)
