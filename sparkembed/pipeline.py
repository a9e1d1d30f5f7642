"""``sparkembed run PIPELINE.toml``: the stages in order, skipping finished ones.

A pipeline file is a config file (any sections of conf/local.toml) plus ``[pipeline]``:

    [pipeline]
    workdir = "work/enwiki"
    inputs = ["$GENSIM_TEST_DATA/enwiki-....bz2"]    # environment variables expand
    stages = ["tokenize", "cooccur", "train:svd", "train:word2vec",
              "evaluate:svd", "evaluate:word2vec"]
    pairs = ["$GENSIM_TEST_DATA/wordsim353.tsv"]     # for evaluate
    analogies = ["$GENSIM_TEST_DATA/questions-words.txt"]

A stage whose output tables are complete (``_SUCCESS``) is skipped; ``--force`` reruns it.
Vectors of ``train:METHOD`` go to ``WORKDIR/vectors-METHOD``; evaluation reports to
``WORKDIR/report-METHOD``.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sparkembed.config import load_config
from sparkembed.errors import ConfigError

STAGES = ("tokenize", "cooccur", "train", "evaluate", "neighbors")


@dataclass
class Pipeline:
    workdir: str
    stages: list[str]
    inputs: list[str] = field(default_factory=list)
    pairs: list[str] = field(default_factory=list)
    analogies: list[str] = field(default_factory=list)
    config_text: str = ""  # the config sections, as TOML


def _expand(paths: list[str], base: Path) -> list[str]:
    out = []
    for p in paths:
        p = os.path.expandvars(os.path.expanduser(p))
        if "$" in p:
            raise ConfigError(f"pipeline path names an unset environment variable: {p}")
        out.append(p if "://" in p or os.path.isabs(p) else os.path.normpath(base / p))
    return out


def load_pipeline(path: str | Path) -> Pipeline:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"pipeline file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    spec = data.pop("pipeline", None)
    if not isinstance(spec, dict):
        raise ConfigError(f"{path}: no [pipeline] section")
    valid = {"workdir", "stages", "inputs", "pairs", "analogies"}
    unknown = sorted(set(spec) - valid)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key '{unknown[0]}' in [pipeline]; valid keys: {', '.join(sorted(valid))}"
        )
    if "workdir" not in spec or "stages" not in spec:
        raise ConfigError(f"{path}: [pipeline] needs workdir and stages")
    for stage in spec["stages"]:
        if stage.split(":")[0] not in STAGES:
            raise ConfigError(
                f"{path}: unknown stage '{stage}'; stages: {', '.join(STAGES)} (train:METHOD)"
            )
    # The rest must be a valid config: check it now, before any Spark job.
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as tmp:
        tmp.write(_strip_pipeline(text))
    try:
        load_config(tmp.name)
    finally:
        os.unlink(tmp.name)
    base = path.parent
    return Pipeline(
        workdir=_expand([spec["workdir"]], base)[0],
        stages=list(spec["stages"]),
        inputs=_expand(spec.get("inputs", []), base),
        pairs=_expand(spec.get("pairs", []), base),
        analogies=_expand(spec.get("analogies", []), base),
        config_text=_strip_pipeline(text),
    )


def _strip_pipeline(text: str) -> str:
    """The file without its [pipeline] table (TOML tables run to the next header)."""
    out, skipping = [], False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("[") and not s.startswith("[["):
            skipping = s == "[pipeline]"
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


def stage_argv(p: Pipeline, stage: str) -> tuple[list[str], list[str]]:
    """The subcommand arguments for one stage, and the tables it produces."""
    name, _, method = stage.partition(":")
    w = p.workdir
    if name == "tokenize":
        if not p.inputs:
            raise ConfigError("tokenize needs [pipeline] inputs")
        return ["tokenize", *p.inputs, "--output", w], [f"{w}/tokens", f"{w}/vocab"]
    if name == "cooccur":
        return ["cooccur", w], [f"{w}/cooccurrence", f"{w}/marginals"]
    if name == "train":
        method = method or "word2vec"
        out = f"{w}/vectors-{method}"
        return ["train", w, "--method", method, "--output", out], [out]
    if name == "evaluate":
        method = method or "word2vec"
        argv = ["evaluate", f"{w}/vectors-{method}", "--report", f"{w}/report-{method}"]
        for f in p.pairs:
            argv += ["--pairs", f]
        for f in p.analogies:
            argv += ["--analogies", f]
        return argv, []  # cheap: always rerun
    if name == "neighbors":
        method = method or "word2vec"
        out = f"{w}/neighbors-{method}"  # the command writes OUT/neighbors
        return ["neighbors", f"{w}/vectors-{method}", "--output", out], [f"{out}/neighbors"]
    raise ConfigError(f"unknown stage {stage}")


def is_complete(path: str) -> bool:
    if "://" in path:
        return False  # remote stores: let the stage decide (publish is atomic anyway)
    return (Path(path) / "_SUCCESS").is_file() and (Path(path) / "_sparkembed.json").is_file()
