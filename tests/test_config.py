import tomllib
from pathlib import Path

import pytest

from sparkembed.cli import main
from sparkembed.config import Config, load_config
from sparkembed.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


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


def test_help_lists_planned_subcommands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in [
        "doctor",
        "tokenize",
        "cooccur",
        "train",
        "walks",
        "align",
        "export",
        "evaluate",
        "similar",
        "run",
    ]:
        assert name in out


def test_unbuilt_subcommand_exits_2(capsys):
    assert main(["align", "a", "b", "--dictionary", "d.tsv", "--output", "o"]) == 2
    assert "not built yet" in capsys.readouterr().err
