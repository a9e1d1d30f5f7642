"""A parameter has one home, its config field: every stage's parameter options are made from
its config fields (type, choices, help), a command-line value is checked like a config
value, and no stage declares a parameter of its own."""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
from pathlib import Path

import pytest

from sparkembed.cli import main
from sparkembed.config import Config
from sparkembed.options import PREFIX, option_name
from sparkembed.stage import stage_parser
from sparkembed.stages import REGISTRY

ROOT = Path(__file__).resolve().parents[2]

# What a stage may take besides its parameters: its inputs and outputs, the options every
# command has, and plain switches. A new entry here is a decision: a parameter (anything
# with a range, choices or a default that changes results) belongs in config.py instead.
NOT_PARAMETERS = {
    "--help", "--conf", "--set", "--quiet", "--debug", "--overwrite", "--output",
    "--vertices", "--components-from", "--dictionary", "--pairs", "--analogies", "--report",
    "--synonyms", "--clusters", "--no-builtin", "--lang", "--words", "--evaluation",
    "--labels", "--tokens", "--binary",
}  # fmt: skip


def _field(dotted: str) -> dataclasses.Field:
    section, name = dotted.split(".")
    return {f.name: f for f in dataclasses.fields(getattr(Config(), section))}[name]


@pytest.mark.parametrize("name", list(REGISTRY))
def test_each_stage_parser_is_its_config_section(name):
    stage = REGISTRY[name]
    actions = [a for a in stage_parser(stage)._actions if a.option_strings]
    from_config = {a.dest[len(PREFIX) :]: a for a in actions if a.dest.startswith(PREFIX)}
    expected = stage.config_options()
    if stage.section and not stage.options:
        expected_fields = [f.name for f in dataclasses.fields(getattr(Config(), stage.section))]
        assert expected == [f"{stage.section}.{n}" for n in expected_fields]
    assert sorted(from_config) == sorted(expected)
    for dotted, action in from_config.items():
        f = _field(dotted)
        assert action.option_strings[0] == option_name(f.name)
        assert action.help.startswith(f.metadata["help"])
        assert tuple(action.choices or ()) == tuple(f.metadata.get("choices", ()))
        assert action.default is argparse.SUPPRESS  # not given: the config's value stands
    others = {o for a in actions if not a.dest.startswith(PREFIX) for o in a.option_strings}
    others.discard("-h")
    others.discard("-q")
    assert others <= NOT_PARAMETERS, others - NOT_PARAMETERS
    for a in actions:
        if not a.dest.startswith(PREFIX):
            assert not a.choices and a.type in (None, str), a.option_strings


def test_every_config_field_has_help():
    for section in dataclasses.fields(Config()):
        for f in dataclasses.fields(getattr(Config(), section.name)):
            assert f.metadata.get("help"), f"{section.name}.{f.name}"


def test_no_stage_declares_flags_of_its_own():
    found = subprocess.run(
        [
            "grep",
            "-rnE",
            r"FLAGS =|set_flags|[^d]type=(int|float)|choices=[[(]",
            "sparkembed/stages",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    assert found == ""


def test_an_option_overrides_the_config_and_is_checked_like_it(tmp_path, capsys):
    conf = tmp_path / "c.toml"
    conf.write_text("[cooccur]\nwindow = 3\n")
    # Both refused before Spark starts, with the config's own message.
    assert main(["cooccur", str(tmp_path), "--window", "0"]) == 1
    from_flag = capsys.readouterr().err
    assert main(["cooccur", str(tmp_path), "--set", "cooccur.window=0"]) == 1
    from_set = capsys.readouterr().err
    assert "cooccur.window must be >= 1, got 0" in from_flag
    assert from_flag == from_set
    assert main(["similar", str(tmp_path), "king", "--topn", "-5"]) == 1
    assert "evaluate.topn must be >= 1, got -5" in capsys.readouterr().err


def test_options_go_over_the_file_and_set(tmp_path):
    from sparkembed.config import load_config
    from sparkembed.stage import prepare

    conf = tmp_path / "c.toml"
    conf.write_text("[cooccur]\nwindow = 3\nsymmetric = true\n")
    stage = REGISTRY["cooccur"]
    args = stage_parser(stage).parse_args(
        [str(tmp_path), "--window", "7", "--no-symmetric", "--set", "cooccur.shards=4"]
    )
    cfg = load_config(str(conf), args.overrides)
    plan = prepare(stage, args, cfg)
    assert (cfg.cooccur.window, cfg.cooccur.symmetric, cfg.cooccur.shards) == (7, False, 4)
    assert plan.params["cooccur"]["window"] == 7
    args = stage_parser(REGISTRY["align"]).parse_args(
        ["s", "t", "--dictionary", "identical", "--output", "o", "--normalize", "unit,center"]
    )
    cfg = load_config()
    prepare(REGISTRY["align"], args, cfg)
    assert cfg.align.normalize == ["unit", "center"]
