"""The cooccur file path (pyarrow I/O inside tasks) gives the DataFrame path's numbers."""

from __future__ import annotations

import random
from collections import defaultdict
from fractions import Fraction

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from chispa import assert_df_equality
from test_cooccur import CASES, SENTENCES, VOCAB, expected_df, reference_counts, vocab_df

from sparkembed.arrowio import plan_map_tasks, token_row_groups
from sparkembed.config import CooccurConfig
from sparkembed.errors import SparkembedError
from sparkembed.stages.cooccur.files import count_to_files, file_path_supported


def write_tokens(folder, sentences, files=2, row_group_rows=3, dictionary=True):
    """Token files as Spark lays them out, several row groups each (plus a hidden file)."""
    folder.mkdir(parents=True, exist_ok=True)
    per_file = -(-len(sentences) // files)
    for f in range(files):
        part = sentences[f * per_file : (f + 1) * per_file]
        table = pa.table(
            {
                "doc_id": [f"d{f}-{i}" for i in range(len(part))],
                "tokens": pa.array(part, pa.list_(pa.string())),
            }
        )
        pq.write_table(
            table,
            folder / f"part-{f:05d}.parquet",
            row_group_size=row_group_rows,
            use_dictionary=dictionary,
        )
    (folder / "_SUCCESS").touch()
    (folder / ".part-00000.parquet.crc").write_bytes(b"not parquet")


def read_counts(spark, out):
    return spark.read.parquet(str(out)).select("row", "col", "count", "shard")


@pytest.mark.parametrize("cfg", CASES, ids=lambda c: f"w{c.window}-{c.weighting}-{c.symmetric}")
def test_file_path_equals_brute_force_reference(spark, tmp_path, cfg):
    write_tokens(tmp_path / "tokens", SENTENCES)
    row_sums = count_to_files(
        spark, str(tmp_path / "tokens"), vocab_df(spark), cfg, str(tmp_path / "out")
    )
    ref = reference_counts(SENTENCES, VOCAB, cfg)
    assert_df_equality(
        read_counts(spark, tmp_path / "out").orderBy("row", "col"),
        expected_df(spark, ref, cfg).orderBy("row", "col"),
        ignore_nullable=True,
    )
    sums, cells = defaultdict(Fraction), defaultdict(int)
    for (a, _), c in ref.items():
        sums[a] += c
        cells[a] += 1
    assert row_sums.to_pylist() == [
        {"row": a, "count": float(sums[a]), "cells": cells[a]} for a in sorted(sums)
    ]
    assert (tmp_path / "out" / "_SUCCESS").exists()


def test_shard_files_are_sorted_and_plain_strings_work(spark, tmp_path):
    rng = random.Random(7)
    words = VOCAB + ["oov1", "oov2"]
    sentences = [[rng.choice(words) for _ in range(rng.randint(0, 30))] for _ in range(300)]
    cfg = CooccurConfig(window=4, shards=3)
    for dictionary in (True, False):
        out = tmp_path / f"out-{dictionary}"
        write_tokens(tmp_path / f"tokens-{dictionary}", sentences, files=3, dictionary=dictionary)
        count_to_files(
            spark, str(tmp_path / f"tokens-{dictionary}"), vocab_df(spark), cfg, str(out)
        )
        ref = reference_counts(sentences, VOCAB, cfg)
        assert_df_equality(
            read_counts(spark, out).orderBy("row", "col"),
            expected_df(spark, ref, cfg).orderBy("row", "col"),
            ignore_nullable=True,
        )
        for shard_dir in out.glob("shard=*"):
            (part,) = [p for p in shard_dir.iterdir() if not p.name.startswith(".")]
            keys = pq.read_table(part).select(["row", "col"]).to_pylist()
            assert keys == sorted(keys, key=lambda k: (k["row"], k["col"]))


def test_row_groups_are_dealt_evenly():
    units = [("a", g, 10) for g in range(6)] + [("b", 0, 40), ("b", 1, 5)]
    # 105 tokens, 2 cores, 30 tokens a task: 2 waves of 2 tasks, largest row group first.
    assert plan_map_tasks(units, cores=2, tokens_per_task=30) == [
        [("b", 0)],
        [("a", 0), ("a", 3), ("b", 1)],
        [("a", 1), ("a", 4)],
        [("a", 2), ("a", 5)],
    ]
    # More slots than row groups: one row group a task.
    tasks = plan_map_tasks(units, cores=16, tokens_per_task=1000)
    assert tasks == [[("b", 0)]] + [[("a", g)] for g in range(6)] + [[("b", 1)]]


def test_token_row_groups_skips_hidden_files(tmp_path):
    write_tokens(tmp_path / "tokens", SENTENCES, files=2, row_group_rows=2)
    units = token_row_groups(str(tmp_path / "tokens"))
    assert {p.rsplit("/", 1)[1] for p, _, _ in units} == {
        "part-00000.parquet",
        "part-00001.parquet",
    }
    n_tokens = sum(len(s or []) for s in SENTENCES)
    assert sum(n for _, _, n in units) >= n_tokens  # num_values also counts null/empty slots


def test_unsupported_paths_and_subsampling(tmp_path):
    cfg = CooccurConfig()
    assert file_path_supported(str(tmp_path), f"file:{tmp_path}/out", cfg)
    assert not file_path_supported("s3a://bucket/tokens", str(tmp_path), cfg)
    assert not file_path_supported(str(tmp_path), str(tmp_path), CooccurConfig(subsample=1e-3))


def test_missing_tokens_column_is_a_clear_error(spark, tmp_path):
    (tmp_path / "tokens").mkdir()
    pq.write_table(pa.table({"text": ["a b"]}), tmp_path / "tokens" / "part-00000.parquet")
    with pytest.raises(SparkembedError, match="has no 'tokens array<string>' column"):
        count_to_files(
            spark, str(tmp_path / "tokens"), vocab_df(spark), CooccurConfig(), str(tmp_path / "o")
        )
