import dataclasses
from pathlib import Path

import pytest

from sparkembed.commands.run import load_pipeline, pipeline_config, plan_steps
from sparkembed.errors import ConfigError

PIPELINE = """
[pipeline]
workdir = "work/x"
inputs = ["$SE_TEST_DATA/dump.xml.bz2"]
stages = ["tokenize", "cooccur", "train:svd", "evaluate:svd"]
pairs = ["pairs.tsv"]

[train]
dim = 50
"""


def _steps(p, overrides=()):
    """name -> (stage name, config, plan) of every step, planned as ``run`` plans them."""
    cfg = pipeline_config(p, list(overrides))
    return {name: (stage.name, c, plan) for name, stage, c, plan in plan_steps(p, cfg)}


def test_pipeline_parses_and_expands(tmp_path, monkeypatch):
    monkeypatch.setenv("SE_TEST_DATA", str(tmp_path))
    (tmp_path / "dump.xml.bz2").write_bytes(b"")
    (tmp_path / "pairs.tsv").write_text("a\tb\t1\n")
    f = tmp_path / "p.toml"
    f.write_text(
        PIPELINE.replace('"evaluate:svd"]', '"evaluate:svd", "aggregate:svd", "report:svd"]')
    )
    p = load_pipeline(f)
    assert p.workdir == str(tmp_path / "work/x")
    assert p.inputs == [str(tmp_path / "dump.xml.bz2")]
    assert p.sections == {"train": {"dim": 50}}
    w = p.workdir
    steps = _steps(p)
    stage, cfg, plan = steps["train:svd"]
    assert (stage, cfg.train.method, cfg.train.dim) == ("train", "svd", 50)
    assert plan.outputs == {"vectors": f"{w}/vectors-svd"}
    assert plan.inputs == {r: f"{w}/{r}" for r in ("cooccurrence", "marginals", "vocab")}
    _, _, plan = steps["aggregate:svd"]
    assert plan.inputs["vectors"] == f"{w}/vectors-svd" and plan.inputs["tokens"] == f"{w}/tokens"
    assert plan.outputs["doc_vectors"] == f"{w}/aggregate-svd/doc_vectors"
    _, _, plan = steps["evaluate:svd"]
    assert plan.inputs["vectors"] == f"{w}/vectors-svd"
    assert plan.inputs["pairs0"] == str(tmp_path / "pairs.tsv")
    assert plan.outputs == {"report": f"{w}/report-svd"}
    _, _, plan = steps["report:svd"]
    assert plan.outputs == {"report": f"{w}/pictures-svd"}
    assert plan.inputs["evaluation1"] == f"{w}/report-svd"


def test_a_step_without_method_trains_the_configs_method(tmp_path):
    """``[train] method = "svd"`` with a plain ``train`` step trains svd (the pipeline once
    passed word2vec for every step that named no method); ``train:glove`` trains glove."""
    (tmp_path / "corpus.txt").write_text("a b c\n")
    f = tmp_path / "p.toml"
    f.write_text(
        '[pipeline]\nworkdir = "w"\ninputs = ["corpus.txt"]\n'
        'stages = ["tokenize", "cooccur", "train", "train:glove", "evaluate"]\n'
        '[train]\nmethod = "svd"\n'
    )
    steps = _steps(load_pipeline(f))
    w = str(tmp_path / "w")
    _, cfg, plan = steps["train"]
    assert cfg.train.method == "svd" and plan.params["train"]["method"] == "svd"
    assert plan.outputs == {"vectors": f"{w}/vectors-svd"} and "svd" in plan.params
    _, cfg, plan = steps["train:glove"]
    assert cfg.train.method == "glove" and plan.outputs == {"vectors": f"{w}/vectors-glove"}
    assert "glove" in plan.params and "svd" not in plan.params
    _, _, plan = steps["evaluate"]
    assert plan.inputs["vectors"] == f"{w}/vectors-svd"
    # --set over the pipeline's sections reaches the steps too
    _, cfg, plan = _steps(load_pipeline(f), ["train.method=word2vec"])["train"]
    assert plan.outputs == {"vectors": f"{w}/vectors-word2vec"}


def test_pipeline_stages_are_the_registrys():
    from sparkembed.commands.run import pipeline_stages
    from sparkembed.stages import REGISTRY

    assert pipeline_stages() == [n for n in REGISTRY if n != "export"]


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
    for side in ("es", "en"):
        (tmp_path / side / "vectors-svd").mkdir(parents=True)
    (tmp_path / "es-en.tsv").write_text("casa\thouse\n")
    f = tmp_path / "p.toml"
    f.write_text(
        '[pipeline]\nworkdir = "es-en"\ninputs = ["es/vectors-svd", "en/vectors-svd"]\n'
        'dictionary = "es-en.tsv"\nstages = ["align"]\n'
    )
    _, _, plan = _steps(load_pipeline(f))["align"]
    assert plan.inputs == {
        "source": str(tmp_path / "es/vectors-svd"),
        "target": str(tmp_path / "en/vectors-svd"),
        "dictionary": str(tmp_path / "es-en.tsv"),
    }
    assert plan.outputs["vectors"] == str(tmp_path / "es-en" / "vectors")
    f.write_text(
        '[pipeline]\nworkdir = "w"\ninputs = ["a"]\ndictionary = "identical"\nstages = ["align"]\n'
    )
    with pytest.raises(ConfigError, match="align needs two"):
        _steps(load_pipeline(f))


def test_pipeline_file_errors_name_the_file_and_take_one_line(tmp_path, capsys):
    """Config errors once named a temporary file, a commented [pipeline] header was refused
    and an unknown method printed the whole train usage."""
    from sparkembed.cli import main

    (tmp_path / "c.txt").write_text("a b\n")
    f = tmp_path / "p.toml"
    head = '[pipeline]  # main\nworkdir = "w"\ninputs = ["c.txt"]\n'
    f.write_text(head + 'stages = ["tokenize"]\n[trian]\ndim = 3\n')
    with pytest.raises(ConfigError, match=rf"^{f}: unknown config section \[trian\]"):
        load_pipeline(f)
    f.write_text(head + 'stages = ["tokenize", "cooccur", "train:svdd"]\n')
    assert load_pipeline(f).stages[-1] == "train:svdd"
    assert main(["run", str(f), "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "sparkembed run: error: stage train:svdd: train.method must be one of word2vec, svd, "
        "glove, umap, sgns, prone, got 'svdd'"
    ]


SHIPPED = sorted((Path(__file__).resolve().parents[2] / "conf").glob("pipeline.*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_pipelines_plan_every_stage(path, tmp_path, monkeypatch):
    # Each pipeline in conf/ parses, its config is valid and every stage plans its outputs
    # into the work directory; inputs a fresh checkout lacks (the demo's text, the Bibles,
    # the alignment's dictionary) stand in as small files.
    import gensim.test.utils as gtu

    monkeypatch.setenv("GENSIM_TEST_DATA", str(Path(gtu.__file__).parent / "test_data"))
    stub = tmp_path / "stub.txt"
    stub.write_text("a text\n")
    p = load_pipeline(path)
    dictionary = tmp_path / "dictionary.tsv"
    dictionary.write_text("a\tb\n")
    p = dataclasses.replace(
        p,
        inputs=[i if Path(i).exists() else str(stub) for i in p.inputs],
        dictionary=p.dictionary
        if p.dictionary in ("", "identical") or Path(p.dictionary).exists()
        else str(dictionary),
    )
    steps = _steps(p)
    assert list(steps) == p.stages
    for name, (_, _, plan) in steps.items():
        assert plan.outputs, name
        assert all(str(out).startswith(p.workdir) for out in plan.outputs.values()), name
