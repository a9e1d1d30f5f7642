"""No stage ships vocabulary-sized driver data inside its tasks.

A DataFrame built on the driver from rows (``spark.createDataFrame(rows)``) travels inside
every task that reads it: Spark warns "Stage N contains a task of very large size", and at
a million words that is gigabytes per task. The sample pipeline runs through the command
line as a user runs it (Spark's warnings shown), and no step may print that warning.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SESSION = ["--set", 'spark.master="local[2]"', "--set", "spark.shuffle_partitions=4"]
SPARKEMBED = str(Path(sys.executable).parent / "sparkembed")
LARGE_TASK = re.compile(r"task of very large size")
STEP = re.compile(r"^\[run\] ([\w:]+): ")


def run_cli(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [SPARKEMBED, *argv, *SESSION],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def large_tasks_by_step(stderr: str, first: str) -> dict[str, list[str]]:
    """The "task of very large size" lines of ``stderr``, under the step that printed them
    (``first`` before any ``[run] STEP:`` line)."""
    step, found = first, {}
    for line in stderr.splitlines():
        m = STEP.match(line)
        if m:
            step = m.group(1)
        elif LARGE_TASK.search(line):
            found.setdefault(step, []).append(line)
    return found


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory, gensim_data, enwiki_sample):
    """The sample pipeline through ``sparkembed run``: its work directory and stderr."""
    folder = tmp_path_factory.mktemp("task_size")
    work = folder / "work"
    pipeline = folder / "pipeline.toml"
    pipeline.write_text(
        f"""[pipeline]
workdir = "{work}"
inputs = ["{enwiki_sample}"]
stages = ["tokenize", "cooccur", "train:svd", "train:glove", "train:word2vec",
          "neighbors:word2vec", "aggregate:word2vec"]

[tokenize]
lang = "en"
min_count = 5

[train]
dim = 100

[word2vec]
num_partitions = 1
"""
    )
    done = run_cli(["run", str(pipeline)], {"GENSIM_TEST_DATA": str(gensim_data)})
    return work, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "step",
    [
        "tokenize",
        "cooccur",
        "train:word2vec",
        "neighbors:word2vec",
        "aggregate:word2vec",
        # svd's and glove's vectors come from the driver too (their own change)
        "train:svd",
        "train:glove",
    ],
)
def test_no_step_of_the_sample_pipeline_ships_large_tasks(sample_run, step):
    work, stderr = sample_run
    assert f"[run] {step}: " in stderr, stderr[-3000:]
    found = large_tasks_by_step(stderr, "start")
    assert step not in found, "\n".join(found[step])
    assert "start" not in found, "\n".join(found["start"])


@pytest.fixture(scope="module")
def wide_run(tmp_path_factory):
    """tokenize, cooccur and word2vec through ``sparkembed run`` on a corpus of 200,000
    distinct words (twice each): the vocabulary, the marginals and the vectors are
    megabytes, where the sample's fit in a task."""
    folder = tmp_path_factory.mktemp("task_size_wide")
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["zq" + "".join(letters[i // 26**k % 26] for k in range(4)) for i in range(200_000)]
    lines = [" ".join(words[i : i + 20]) for i in range(0, len(words), 20)]
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(lines + lines[::-1]) + "\n")
    pipeline = folder / "pipeline.toml"
    pipeline.write_text(
        f"""[pipeline]
workdir = "{folder / "work"}"
inputs = ["{corpus}"]
stages = ["tokenize", "cooccur", "train:word2vec"]

[tokenize]
min_count = 1

[train]
dim = 10

[word2vec]
min_count = 1
max_iter = 1
num_partitions = 1
"""
    )
    return run_cli(["run", str(pipeline)]).stderr


@pytest.mark.slow
@pytest.mark.parametrize("step", ["tokenize", "cooccur", "train:word2vec"])
def test_a_large_vocabulary_ships_no_large_tasks(wide_run, step):
    assert f"[run] {step}: " in wide_run, wide_run[-3000:]
    found = large_tasks_by_step(wide_run, "start")
    assert step not in found, "\n".join(found[step])
    assert "start" not in found, "\n".join(found["start"])


@pytest.mark.slow
def test_align_ships_no_large_tasks(sample_run, tmp_path):
    """align of two of the sample's tables (one copied without its ``lang`` column, so
    that the two are different languages), with the identical-strings dictionary."""
    work, _ = sample_run
    source = tmp_path / "source"
    source.mkdir()
    for i, part in enumerate(sorted((work / "vectors-word2vec").rglob("*.parquet"))):
        shutil.copy(part, source / f"part-{i:05d}.parquet")
    out = tmp_path / "aligned"
    argv = ["align", str(source), str(work / "vectors-svd"), "--dictionary", "identical"]
    done = run_cli([*argv, "--output", str(out)])
    assert (out / "alignment" / "_SUCCESS").is_file()
    found = large_tasks_by_step(done.stderr, "align")
    assert not found, "\n".join(found.get("align", []))


def test_the_large_task_warning_is_found_under_its_step():
    stderr = (
        "[run] tokenize: --force; running\n"
        "02:00:00 WARN TaskSetManager: Stage 3 contains a task of very large size "
        "(1669 KiB). The maximum recommended task size is 1000 KiB.\n"
        "[run] cooccur: --force; running\n"
        "[cooccur] count ...\n"
    )
    found = large_tasks_by_step(stderr, "start")
    assert list(found) == ["tokenize"]
