"""`sparkembed cooccur DIR`: tables in, sharded counts and marginals out, one summary line."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from chispa import assert_df_equality
from helpers import publish_workdir
from test_cooccur import (
    SENTENCES,
    VOCAB,
    expected_df,
    reference_counts,
    tokens_df,
    vocab_df,
)

from sparkembed.cli import main
from sparkembed.config import CooccurConfig
from sparkembed.tables import read_metadata, read_table


def test_cli_writes_counts_and_marginals(spark, tmp_path, capsys):
    work = tmp_path / "work"
    publish_workdir(spark, work, tokens=tokens_df(spark), vocab=vocab_df(spark))
    code = main(
        ["cooccur", str(work), "--window", "3", "--weighting", "uniform", "--shards", "3"]
        + ["--no-symmetric", "-q", "--set", "spark.master=local[2]"]
    )
    assert code == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("cooccur: nonzeros ")

    cfg = CooccurConfig(window=3, weighting="uniform", symmetric=False, shards=3)
    ref = reference_counts(SENTENCES, VOCAB, cfg)
    counts = read_table(spark, str(work / "cooccurrence"), stage="cooccur")
    assert_df_equality(
        counts.select("row", "col", "count", "shard").orderBy("row", "col"),
        expected_df(spark, ref, cfg).orderBy("row", "col"),
        ignore_nullable=True,
    )
    meta = read_metadata(spark, str(work / "cooccurrence"))
    assert meta["counts"]["nonzeros"] == len(ref)
    assert (
        meta["params"]["cooccur"]["symmetric"] is False and meta["params"]["cooccur"]["window"] == 3
    )
    assert meta["partition_by"] == ["shard"]
    assert meta["engine"] == "files"  # local paths, no subsampling

    sums = defaultdict(Fraction)
    for (a, _), c in ref.items():
        sums[a] += c
    expected = spark.createDataFrame(
        [(a, float(c)) for a, c in sorted(sums.items())], "id int, count double"
    )
    marginals = read_table(spark, str(work / "marginals"), stage="cooccur")
    assert_df_equality(marginals.orderBy("id"), expected, ignore_nullable=True)
    margin_counts = read_metadata(spark, str(work / "marginals"))["counts"]
    assert margin_counts == {"rows": len(sums), "total": float(sum(sums.values()))}


def test_cli_marginals_counts_on_the_dataframe_path(spark, tmp_path):
    """Subsampling takes the DataFrame path: its marginals counts come from one read."""
    work = tmp_path / "work"
    publish_workdir(spark, work, tokens=tokens_df(spark), vocab=vocab_df(spark))
    code = main(
        ["cooccur", str(work), "--shards", "2", "-q", "--set", "spark.master=local[2]"]
        + ["--set", "cooccur.subsample=0.5"]
    )
    assert code == 0
    rows = read_table(spark, str(work / "marginals")).collect()
    meta = read_metadata(spark, str(work / "cooccurrence"))
    assert meta["engine"] == "dataframe"
    assert meta["counts"]["nonzeros"] == read_table(spark, str(work / "cooccurrence")).count()
    margin_counts = read_metadata(spark, str(work / "marginals"))["counts"]
    assert margin_counts["rows"] == len(rows) > 0
    assert abs(margin_counts["total"] - sum(r["count"] for r in rows)) < 1e-9


def test_cli_missing_tables_is_one_clear_error(spark, tmp_path, capsys):
    code = main(["cooccur", str(tmp_path / "nowhere"), "-q"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"sparkembed cooccur: error: table not found: {tmp_path / 'nowhere'}/tokens"]
