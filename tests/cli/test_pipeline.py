import pytest

from sparkembed.errors import ConfigError
from sparkembed.pipeline import load_pipeline, pipeline_config, stage_argv

PIPELINE = """
[pipeline]
workdir = "work/x"
inputs = ["$SE_TEST_DATA/dump.xml.bz2"]
stages = ["tokenize", "cooccur", "train:svd", "evaluate:svd"]
pairs = ["pairs.tsv"]

[train]
dim = 50
"""


def test_pipeline_parses_and_expands(tmp_path, monkeypatch):
    monkeypatch.setenv("SE_TEST_DATA", "/data")
    f = tmp_path / "p.toml"
    f.write_text(PIPELINE)
    p = load_pipeline(f)
    assert p.workdir == str(tmp_path / "work/x")
    assert p.inputs == ["/data/dump.xml.bz2"]
    assert "[pipeline]" not in p.config_text and "dim = 50" in p.config_text
    w = p.workdir
    assert stage_argv(p, "train:svd") == [
        "train", w, "--method", "svd", "--output", f"{w}/vectors-svd"
    ]  # fmt: skip
    assert stage_argv(p, "aggregate:svd") == [
        "aggregate", w, f"{w}/vectors-svd", "--output", f"{w}/aggregate-svd"
    ]  # fmt: skip
    assert stage_argv(p, "report:svd") == [
        "report", f"{w}/vectors-svd", "--output", f"{w}/pictures-svd",
        "--evaluation", f"{w}/report-svd",
    ]  # fmt: skip
    assert stage_argv(p, "evaluate:svd") == [
        "evaluate",
        f"{w}/vectors-svd",
        "--report",
        f"{w}/report-svd",
        "--pairs",
        str(tmp_path / "pairs.tsv"),
    ]


def test_pipeline_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("SE_TEST_DATA", raising=False)
    f = tmp_path / "p.toml"
    f.write_text(PIPELINE)
    with pytest.raises(ConfigError, match="unset environment variable"):
        load_pipeline(f)
    f.write_text(PIPELINE.replace("dim = 50", "dimm = 50").replace("$SE_TEST_DATA", "/d"))
    with pytest.raises(ConfigError, match="'dimm'"):
        load_pipeline(f)
    f.write_text(PIPELINE.replace('"cooccur"', '"coocur"').replace("$SE_TEST_DATA", "/d"))
    with pytest.raises(ConfigError, match="unknown stage 'coocur'"):
        load_pipeline(f)


def test_pipeline_sections_go_over_the_conf_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SE_TEST_DATA", "/data")
    f = tmp_path / "p.toml"
    f.write_text(PIPELINE)
    site = tmp_path / "cluster.toml"
    site.write_text("[spark]\nshuffle_partitions = 8\n[train]\ndim = 7\n")
    cfg = pipeline_config(load_pipeline(f), ["cooccur.window=3"], conf=str(site))
    assert (cfg.spark.shuffle_partitions, cfg.train.dim, cfg.cooccur.window) == (8, 50, 3)
    assert pipeline_config(load_pipeline(f), []).spark.shuffle_partitions == 0


def test_align_stage_takes_two_vector_tables_and_a_dictionary(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text(
        '[pipeline]\nworkdir = "es-en"\ninputs = ["es/vectors-svd", "en/vectors-svd"]\n'
        'dictionary = "es-en.tsv"\nstages = ["align"]\n'
    )
    p = load_pipeline(f)
    assert stage_argv(p, "align") == [
        "align",
        str(tmp_path / "es/vectors-svd"),
        str(tmp_path / "en/vectors-svd"),
        "--dictionary",
        str(tmp_path / "es-en.tsv"),
        "--output",
        str(tmp_path / "es-en"),
    ]
    f.write_text(
        '[pipeline]\nworkdir = "w"\ninputs = ["a"]\ndictionary = "identical"\nstages = ["align"]\n'
    )
    with pytest.raises(ConfigError, match="align needs two"):
        stage_argv(load_pipeline(f), "align")
