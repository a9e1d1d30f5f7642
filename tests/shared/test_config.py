import tomllib
from pathlib import Path

import pytest

from sparkembed.cli import main
from sparkembed.config import Config, TrainConfig, load_config, validate
from sparkembed.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_match_conf_local_toml():
    cfg = load_config(ROOT / "conf" / "local.toml")
    assert cfg == Config()
    # every section of the dataclass defaults is spelled out in the file
    data = tomllib.loads((ROOT / "conf" / "local.toml").read_text())
    assert set(data) == set(Config().to_dict())


def test_overrides_are_typed():
    cfg = load_config(
        None, ["train.dim=300", "svd.alpha=1", "cooccur.symmetric=false", "tokenize.lang=bg"]
    )
    assert cfg.train.dim == 300
    assert cfg.svd.alpha == 1.0 and isinstance(cfg.svd.alpha, float)
    assert cfg.cooccur.symmetric is False
    assert cfg.tokenize.lang == "bg"


def test_file_then_override(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[train]\ndim = 50\nmethod = 'svd'\n")
    cfg = load_config(f, ["train.dim=64"])
    assert (cfg.train.dim, cfg.train.method) == (64, "svd")


def test_unknown_key_names_it_and_lists_valid_keys():
    with pytest.raises(ConfigError) as err:
        load_config(None, ["train.dimm=3"])
    msg = str(err.value)
    assert "'dimm'" in msg and "dim, method, seed" in msg


def test_unknown_section():
    with pytest.raises(ConfigError, match=r"unknown config section \[trian\]"):
        load_config(None, ["trian.dim=3"])


def test_wrong_type_names_key():
    with pytest.raises(ConfigError, match=r"train\.dim must be int, got str 'big'"):
        load_config(None, ["train.dim=big"])
    with pytest.raises(ConfigError, match=r"cooccur\.window must be int, got bool"):
        load_config(None, ["cooccur.window=true"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.dim=0", "train.dim must be >= 1, got 0"),
        ("train.dim=100001", "train.dim must be <= 100000, got 100001"),
        ("cooccur.window=0", "cooccur.window must be >= 1, got 0"),
        ("cooccur.weighting='x'", "cooccur.weighting must be one of harmonic, uniform, got 'x'"),
        ("svd.eig=-1", "svd.eig must be >= 0, got -1.0"),
        ("svd.alpha=0", "svd.alpha must be > 0, got 0.0"),
        ("word2vec.step_size=0", "word2vec.step_size must be > 0, got 0.0"),
        (
            "train.method='mllib'",
            "train.method must be one of word2vec, svd, glove, umap, sgns, prone, got 'mllib'",
        ),
        ("tokenize.engine='jvm'", "tokenize.engine must be one of auto, java, sql, got 'jvm'"),
        (
            "spark.log_level='LOUD'",
            "spark.log_level must be one of ALL, DEBUG, ERROR, FATAL, "
            "INFO, OFF, TRACE, WARN, got 'LOUD'",
        ),
    ],
)
def test_out_of_range_values_fail_in_one_line(override, message):
    with pytest.raises(ConfigError) as err:
        load_config(None, [override])
    assert str(err.value) == message


def test_validate_reports_the_first_invalid_value():
    cfg = Config()
    cfg.train.dim = 0
    cfg.evaluate.topn = 0
    with pytest.raises(ConfigError, match=r"^train\.dim must be >= 1, got 0$"):
        validate(cfg)
    cfg.train = TrainConfig()
    with pytest.raises(ConfigError, match=r"^evaluate\.topn must be >= 1, got 0$"):
        validate(cfg)


def test_values_at_the_bounds_pass():
    validate(Config())  # the defaults
    cfg = load_config(
        None,
        [
            "train.dim=1",
            "train.dim=100000",
            "train.seed=0",
            "train.method='svd'",
            "cooccur.window=1",
            "cooccur.weighting='uniform'",
            "cooccur.subsample=0",
            "tokenize.max_vocab=0",
            "tokenize.format='parquet'",
            "svd.eig=0",
            "svd.oversample=0",
            "svd.power_iters=0",
            "svd.alpha=0.001",
            "evaluate.restrict_vocab=0",
            "spark.log_level='info'",  # Spark takes any case
        ],
    )
    assert (cfg.train.dim, cfg.svd.eig, cfg.cooccur.subsample) == (100000, 0.0, 0.0)


def test_bad_value_in_file_fails(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[cooccur]\nshards = -1\n")
    with pytest.raises(ConfigError, match=r"cooccur\.shards must be >= 0, got -1"):
        load_config(f)


def test_cli_out_of_range_fails_before_spark(capsys):
    code = main(["train", "somedir", "--set", "train.dim=0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].endswith("train.dim must be >= 1, got 0")


def test_bad_file_key_names_file(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[cooccur]\nwindw = 3\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: unknown config key 'windw'"):
        load_config(f)


def test_cli_bad_config_fails_before_spark(capsys):
    code = main(["train", "somedir", "--set", "train.dimm=3"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and "dimm" in err[0] and "valid keys: dim, method, seed" in err[0]


def test_help_lists_every_registered_stage_and_tool(capsys):
    from sparkembed.stages import REGISTRY

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in [*REGISTRY, "doctor", "similar", "run"]:
        assert name in out
    assert set(REGISTRY) == {
        "tokenize",
        "walks",
        "cooccur",
        "train",
        "align",
        "aggregate",
        "evaluate",
        "neighbors",
        "export",
        "report",
    }


def test_unknown_subcommand_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate", "a", "b"])
    assert exc.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_files_in_turn_later_ones_win(tmp_path):
    site = tmp_path / "cluster.toml"
    site.write_text("[spark]\nshuffle_partitions = 8\n[train]\ndim = 7\n")
    own = tmp_path / "pipeline.toml"
    own.write_text("[train]\ndim = 50\n")
    cfg = load_config([site, None, own], ["cooccur.window=3"])
    assert (cfg.spark.shuffle_partitions, cfg.train.dim, cfg.cooccur.window) == (8, 50, 3)
