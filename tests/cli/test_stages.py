"""Where stages meet: commits, ownership, inputs built from each other, `run` by fingerprint,
arguments checked before Spark, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pyarrow.parquet as pq
import pytest

from sparkembed import tables
from sparkembed.cli import main
from sparkembed.errors import SparkembedError
from sparkembed.tables import Commit, read_metadata, storage

SESSION = ["--set", 'spark.master="local[2]"', "--set", "spark.shuffle_partitions=4"]
SENTENCES = [
    "the cat sat on the mat with the dog",
    "the dog ate the bone near the cat",
    "a bird sang on the tree by the house",
    "the house had a red door and a cat",
]


def corpus(tmp_path, repeat=30, name="corpus.txt"):
    path = tmp_path / name
    path.write_text("\n".join(SENTENCES * repeat) + "\n")
    return path


def pipeline_file(tmp_path, text_file, window=5, stages=None):
    stages = stages or ["tokenize", "cooccur", "train:svd"]
    f = tmp_path / "pipeline.toml"
    f.write_text(
        f"""[pipeline]
workdir = "{tmp_path / "work"}"
inputs = ["{text_file}"]
stages = {json.dumps(stages)}

[tokenize]
format = "text"
min_count = 1

[cooccur]
window = {window}
shards = 3

[train]
dim = 4

[svd]
oversample = 4
power_iters = 2
"""
    )
    return f


def tokenize(tmp_path, text_file, out, *extra):
    argv = ["tokenize", str(text_file), "--output", str(out), "--format", "text"]
    return main([*argv, "--min-count", "1", "-q", *SESSION, *extra])


def one_error_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if "WARN" not in line]
    assert len(err) == 1, err
    return err[0]


@pytest.fixture(scope="module")
def workdir(spark, tmp_path_factory):
    """A tokenized and counted work directory shared by the read-only tests."""
    tmp = tmp_path_factory.mktemp("stages")
    work = tmp / "work"
    assert tokenize(tmp, corpus(tmp), work) == 0
    assert main(["cooccur", str(work), "--shards", "3", "-q", *SESSION]) == 0
    return work


# --- never destroy what is not ours --------------------------------------------------


def test_train_output_onto_its_own_workdir_is_refused(workdir, capsys):
    before = sorted(os.listdir(workdir))
    code = main(["train", str(workdir), "--method", "svd", "--dim", "4", "--output", str(workdir)])
    assert code == 1
    line = one_error_line(capsys)
    assert "would hold this stage's input" in line and str(workdir) in line
    assert sorted(os.listdir(workdir)) == before


def test_an_output_inside_an_input_is_refused_before_anything_is_written(workdir, capsys):
    """``--output DIR/marginals/sub`` once wrote a vector table inside the marginals table."""
    marginals = workdir / "marginals"
    before = sorted(os.listdir(marginals))
    out = marginals / "sub"
    code = main(["train", str(workdir), "--method", "svd", "--dim", "4", "--output", str(out)])
    assert code == 1
    line = one_error_line(capsys)
    assert f"output vectors at {out} lies inside this stage's input marginals" in line
    assert sorted(os.listdir(marginals)) == before


def test_tokenize_output_onto_its_corpus_folder_is_refused(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("one line of text\n")
    code = main(["tokenize", str(corpus), "--output", str(corpus), "--format", "text", "-q"])
    assert code == 1
    assert "lies inside this stage's input input0" in one_error_line(capsys)
    assert sorted(p.name for p in corpus.iterdir()) == ["a.txt"]


def test_a_tilde_in_an_option_value_is_the_home_folder(tmp_path, monkeypatch):
    from sparkembed.config import load_config
    from sparkembed.stage import prepare, stage_parser
    from sparkembed.stages import REGISTRY

    monkeypatch.setenv("HOME", str(tmp_path))
    stage = REGISTRY["train"]
    args = stage_parser(stage).parse_args(["~/w", "--output=~/v"])
    plan = prepare(stage, args, load_config())
    assert plan.outputs == {"vectors": str(tmp_path / "v")}
    assert plan.inputs["vocab"] == str(tmp_path / "w" / "vocab")


def test_output_onto_a_foreign_folder_is_refused_unless_overwrite(workdir, tmp_path, capsys):
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    argv = ["train", str(workdir), "--method", "svd", "--dim", "4", "--output", str(other), "-q"]
    assert main([*argv, *SESSION]) == 1
    line = one_error_line(capsys)
    assert "1 entries that sparkembed did not write (notes.txt)" in line and "--overwrite" in line
    assert (other / "notes.txt").read_text() == "keep me"
    assert main([*argv, *SESSION, "--overwrite"]) == 0
    assert read_metadata(None, str(other))["table"] == "vectors"
    # a table the stage wrote before is its own: replaced without --overwrite
    assert main([*argv, *SESSION]) == 0


def test_a_table_of_another_stage_is_not_overwritten(workdir, tmp_path, capsys):
    shutil.copytree(workdir / "vocab", tmp_path / "vocab")
    argv = ["train", str(workdir), "--method", "svd", "--dim", "4", "-q"]
    assert main([*argv, "--output", str(tmp_path / "vocab"), *SESSION]) == 1
    assert "holds a 'vocab' table of stage tokenize" in one_error_line(capsys)


# --- inputs built from each other ------------------------------------------------------


def test_cooccurrence_of_another_corpus_is_refused(spark, workdir, tmp_path, capsys):
    other = tmp_path / "other"
    text = tmp_path / "other.txt"
    text.write_text("\n".join(["one two three four five six"] * 40) + "\n")
    assert tokenize(tmp_path, text, other) == 0
    for name in ("cooccurrence", "marginals"):
        shutil.copytree(workdir / name, other / name)
    code = main(["train", str(other), "--method", "svd", "--dim", "2", "-q", *SESSION])
    assert code == 1
    line = one_error_line(capsys)
    assert "were not built from each other" in line
    assert f"{other}/cooccurrence" in line and f"{other}/vocab" in line
    assert not (other / "vectors").exists()


def test_a_missing_or_mistyped_column_names_table_and_columns(spark, tmp_path, capsys):
    work = tmp_path / "w"
    bad = spark.createDataFrame([(0, "a", 3)], "id int, token string, count int")
    tables.publish(bad, str(work / "vocab"), stage="tokenize")
    spark.createDataFrame([("d", "t", "en", 0, ["a"])], "doc_id string, title string, lang string, sentence int, tokens array<string>").write.parquet(str(work / "tokens"))  # fmt: skip
    assert main(["cooccur", str(work), "-q", *SESSION]) == 1
    line = one_error_line(capsys)
    assert f"{work}/vocab: not a 'vocab' table" in line
    assert "expected columns (id int, token string, count bigint, doc_count bigint)" in line
    assert "found (id int, token string, count int)" in line


# --- commits ---------------------------------------------------------------------------


def test_tokenize_failing_between_outputs_leaves_the_previous_set(tmp_path, monkeypatch):
    text = corpus(tmp_path)
    work = tmp_path / "work"
    assert tokenize(tmp_path, text, work) == 0
    before = {t: read_metadata(None, str(work / t))["fingerprint"] for t in ("tokens", "vocab")}
    text.write_text("\n".join(["completely different words here"] * 50) + "\n")

    from sparkembed.stages.tokenize import stage as tokenize_stage

    def fail(*_a, **_k):
        raise SparkembedError("killed while writing the vocabulary")

    monkeypatch.setattr(tokenize_stage, "vocab_from_counts", fail)
    monkeypatch.setattr(tokenize_stage, "build_vocab", fail)
    assert tokenize(tmp_path, text, work) == 1
    after = {t: read_metadata(None, str(work / t))["fingerprint"] for t in ("tokens", "vocab")}
    assert after == before  # the new tokens were never published
    assert not (work / tables.STAGING_DIR).exists()


def test_a_commit_killed_after_its_journal_is_rolled_forward(spark, tmp_path, monkeypatch):
    df_a = spark.createDataFrame([(1,)], "x int")
    df_b = spark.createDataFrame([(2,)], "x int")
    with Commit(spark, "t") as c:
        c.write_df("a", str(tmp_path / "a"), df_a)
        c.write_df("b", str(tmp_path / "b"), df_a)
    renames = []
    real = storage.HadoopFS.rename

    def rename_then_die(self, src, dst):
        if len(renames) == 2:  # a moved aside and replaced; b not yet
            raise SystemExit("killed")
        renames.append(dst)
        return real(self, src, dst)

    monkeypatch.setattr(storage.HadoopFS, "rename", rename_then_die)
    c = Commit(spark, "t")
    c.write_df("a", str(tmp_path / "a"), df_b)
    c.write_df("b", str(tmp_path / "b"), df_b)
    with pytest.raises(SystemExit):
        c.commit()
    monkeypatch.undo()
    tables.recover(spark, str(tmp_path))  # what the next run does first
    for name in ("a", "b"):
        assert [r.x for r in spark.read.parquet(str(tmp_path / name)).collect()] == [2]
        assert read_metadata(spark, str(tmp_path / name))["run_id"] == c.run_id
    assert not (tmp_path / tables.STAGING_DIR).exists()


def test_staging_of_a_killed_run_is_cleaned_by_the_next(spark, tmp_path):
    staging = tmp_path / tables.STAGING_DIR
    dead = subprocess.Popen(["true"])
    dead.wait()
    leftover = staging / "20260101000000-deadbeef-tokens"
    leftover.mkdir(parents=True)
    (leftover / "part-0.parquet").write_bytes(b"x" * 100)
    owner = {"host": __import__("socket").gethostname(), "pid": dead.pid}
    (staging / "20260101000000-deadbeef.owner").write_text(json.dumps(owner))
    tables.publish(spark.createDataFrame([(1,)], "x int"), str(tmp_path / "t"), stage="t")
    assert not staging.exists()


# --- sparkembed run by fingerprint ---------------------------------------------------------


def test_run_reruns_a_stage_whose_parameters_changed_and_what_follows(tmp_path, capsys):
    text = corpus(tmp_path)
    f = pipeline_file(tmp_path, text, window=5)
    assert main(["run", str(f), *SESSION]) == 0
    assert "run: 3 stages run, 0 skipped" in capsys.readouterr().out
    assert main(["run", str(f), *SESSION]) == 0
    captured = capsys.readouterr()
    assert "run: 0 stages run, 3 skipped" in captured.out
    f.write_text(f.read_text().replace("window = 5", "window = 2"))
    assert main(["run", str(f), *SESSION]) == 0
    captured = capsys.readouterr()
    assert "run: 2 stages run, 1 skipped" in captured.out
    assert "[run] tokenize: up to date, skipped" in captured.err
    assert "[run] cooccur: window 5 -> 2; running" in captured.err
    assert "[run] train:svd: input cooccurrence, marginals changed; running" in captured.err
    work = tmp_path / "work"
    assert read_metadata(None, str(work / "cooccurrence"))["params"]["cooccur"]["window"] == 2
    cooc_fp = read_metadata(None, str(work / "cooccurrence"))["fingerprint"]
    vec_inputs = read_metadata(None, str(work / "vectors-svd"))["inputs"]
    assert cooc_fp in {i["fingerprint"] for i in vec_inputs}
    # the corpus itself changed: everything reruns
    text.write_text(text.read_text() + "the cat and the dog\n")
    assert main(["run", str(f), "-q", *SESSION]) == 0
    assert "run: 3 stages run, 0 skipped" in capsys.readouterr().out


# --- arguments checked before Spark starts -----------------------------------------------


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--dim", "0"], "train.dim must be >= 1, got 0"),
        (["--dim", "-3"], "train.dim must be >= 1, got -3"),
        (["--set", "svd.eig=-1"], "svd.eig must be >= 0, got -1.0"),
    ],
)
def test_bad_arguments_fail_before_spark_starts(tmp_path, capsys, monkeypatch, flags, message):
    import sparkembed.session

    def no_spark(*_a, **_k):
        raise AssertionError("Spark was started")

    monkeypatch.setattr(sparkembed.session, "get_spark", no_spark)
    assert main(["train", str(tmp_path), "--method", "svd", *flags]) == 1
    assert one_error_line(capsys) == f"sparkembed train: error: {message}"


def test_dim_larger_than_the_vocabulary_is_refused(workdir, tmp_path, capsys):
    vocab = read_metadata(None, str(workdir / "vocab"))["counts"]["vocab"]
    out = tmp_path / "v"
    argv = ["train", str(workdir), "--method", "svd", "--dim", str(vocab + 1), "--output", str(out)]
    assert main([*argv, "-q", *SESSION]) == 1
    assert f"train.dim {vocab + 1} exceeds the vocabulary size {vocab}" in one_error_line(capsys)
    assert not out.exists()


# --- one-line errors ---------------------------------------------------------------------


def test_unwritable_output_is_one_line(tmp_path, capsys):
    text = corpus(tmp_path, repeat=1)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert tokenize(tmp_path, text, blocker / "work") == 1
    assert one_error_line(capsys).endswith(f"{blocker} is a file, not a directory")
    assert tokenize(tmp_path, text, "/proc/sparkembed-work") == 1
    assert "cannot write /proc/sparkembed-work" in one_error_line(capsys)


def test_input_name_with_a_colon_is_one_line(tmp_path, capsys):
    text = corpus(tmp_path, repeat=1, name="notes:2024.txt")
    assert tokenize(tmp_path, text, tmp_path / "work") == 1
    assert "input name has a ':'" in one_error_line(capsys)


def test_export_onto_a_folder_and_bad_pairs_files_are_one_line(spark, workdir, tmp_path, capsys):
    vectors = tmp_path / "vectors"
    argv = ["train", str(workdir), "--method", "svd", "--dim", "4", "--output", str(vectors)]
    assert main([*argv, "-q", *SESSION]) == 0
    (tmp_path / "folder").mkdir()
    assert main(["export", str(vectors), "--output", str(tmp_path / "folder"), "-q"]) == 1
    assert "is a directory" in one_error_line(capsys)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_bytes(b"cat\tdog\t5.0\nthe\tmat\t\xff1.0\n")
    assert main(["evaluate", str(vectors), "--pairs", str(pairs), "--no-builtin", "-q"]) == 1
    assert "pairs.tsv: line 2 is not valid UTF-8" in one_error_line(capsys)
    pairs.write_text("not a pair line\nnor this\n")
    assert main(["evaluate", str(vectors), "--pairs", str(pairs), "--no-builtin", "-q"]) == 1
    assert "pairs.tsv: no valid line (2 malformed: lines 1, 2)" in one_error_line(capsys)


def test_an_unexpected_failure_is_one_line_and_debug_shows_it(tmp_path, capsys, monkeypatch):
    from sparkembed.stages.export import stage as export_stage

    def boom(*_a, **_k):
        raise ZeroDivisionError("deep inside")

    monkeypatch.setattr(export_stage, "load_vectors", boom)
    out, vectors = tmp_path / "x.txt", str(tmp_path / "vectors")
    assert main(["export", vectors, "--output", str(out), "-q"]) == 1
    line = one_error_line(capsys)
    assert "internal error ZeroDivisionError: deep inside" in line and "--debug" in line
    with pytest.raises(ZeroDivisionError):
        main(["export", vectors, "--output", str(out), "-q", "--debug"])


# --- one writer per work directory --------------------------------------------------


def _lock_of(pid: int) -> str:
    import socket

    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        start = f.read().rsplit(")", 1)[1].split()[19]
    owner = {"host": socket.gethostname(), "pid": pid, "pid_start": start}
    return json.dumps({**owner, "started": "2026-12-06 10:00:00", "command": "sparkembed x"})


def test_a_second_writer_on_a_work_directory_is_refused_naming_the_first(workdir, capsys):
    """Two cooccur runs on one directory once both exited 0, the first one's result lost."""
    lock = workdir / ".sparkembed.lock"
    holder = subprocess.Popen(["sleep", "60"])
    try:
        lock.write_text(_lock_of(holder.pid))
        before = read_metadata(None, str(workdir / "cooccurrence"))["run_id"]
        assert main(["cooccur", str(workdir), "--window", "2", "-q", *SESSION]) == 1
        line = one_error_line(capsys)
        assert f"{workdir} is being written by pid {holder.pid}" in line
        assert read_metadata(None, str(workdir / "cooccurrence"))["run_id"] == before
        assert lock.exists()  # the holder's lock is left alone
    finally:
        holder.kill()
        holder.wait()
        lock.unlink()


def test_a_lock_left_by_a_dead_process_is_broken_and_none_remains(tmp_path, capsys):
    text = tmp_path / "c.txt"
    text.write_text("a b c a b\n")
    out = tmp_path / "w"
    out.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock = out / ".sparkembed.lock"
    lock.write_text(json.dumps({**json.loads(_lock_of(os.getpid())), "pid": dead.pid}))
    assert tokenize(tmp_path, text, out) == 0
    assert "removing the stale lock" in capsys.readouterr().err
    assert not lock.exists()
    # another directory is never affected by a lock
    other = tmp_path / "other"
    assert tokenize(tmp_path, text, other) == 0 and not (other / ".sparkembed.lock").exists()


def test_run_runs_the_pipelines_a_pipeline_requires_first(tmp_path, capsys):
    # Two languages' pipelines, then the alignment of their vectors in a third that
    # requires them: one command; a second run skips every stage; a cycle is refused.
    sides = {}
    for lang in ("en", "xx"):
        d = tmp_path / lang
        d.mkdir()
        f = pipeline_file(d, corpus(d))
        f.write_text(f.read_text().replace('format = "text"', f'format = "text"\nlang = "{lang}"'))
        sides[lang] = f
    align = tmp_path / "align.toml"
    align.write_text(
        f"""[pipeline]
workdir = "{tmp_path / "aligned"}"
requires = ["{sides["en"]}", "{sides["xx"]}"]
inputs = ["{tmp_path / "en/work/vectors-svd"}", "{tmp_path / "xx/work/vectors-svd"}"]
dictionary = "identical"
stages = ["align"]
"""
    )
    assert main(["run", str(align), *SESSION]) == 0
    out = capsys.readouterr().out
    assert out.count("run: 3 stages run, 0 skipped") == 2
    assert "run: 1 stages run, 0 skipped" in out and str(tmp_path / "aligned") in out
    langs = {r["lang"] for r in pq.read_table(tmp_path / "aligned/vectors").to_pylist()}
    assert langs == {"en", "xx"}
    assert main(["run", str(align), *SESSION]) == 0
    out = capsys.readouterr().out
    assert out.count("run: 0 stages run, 3 skipped") == 2
    assert "run: 0 stages run, 1 skipped" in out
    sides["en"].write_text(
        sides["en"].read_text().replace("[pipeline]", f'[pipeline]\nrequires = ["{align}"]')
    )
    assert main(["run", str(align), *SESSION]) == 1
    assert "which requires it back" in capsys.readouterr().err
