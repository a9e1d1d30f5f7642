"""``sparkembed run PIPELINE.toml``: the stages in order, in this process with one
SparkSession, skipping finished ones.

A pipeline file is a config file (any sections of conf/local.toml) plus ``[pipeline]``:

    [pipeline]
    workdir = "work/enwiki"
    inputs = ["$GENSIM_TEST_DATA/enwiki-....bz2"]    # environment variables expand
    stages = ["tokenize", "cooccur", "train:svd", "train:word2vec",
              "evaluate:svd", "evaluate:word2vec"]
    pairs = ["$GENSIM_TEST_DATA/wordsim353.tsv"]     # for evaluate
    analogies = ["$GENSIM_TEST_DATA/questions-words.txt"]

A graph pipeline starts with ``walks`` instead of ``tokenize`` (its one input is the edge
list): ``stages = ["walks", "cooccur", "train:svd"]``.

``requires = ["other.toml", ...]`` runs other pipeline files first, in order, each in its
own work directory (with the same ``--conf`` and ``--set``): an align pipeline requires
the pipelines of its two languages and takes their vector tables as its inputs.

The stages run in this process with one SparkSession. A stage is skipped only when its
outputs are complete, come from one run, and record the same parameters and the same input
fingerprints as this run would; otherwise it runs, and the line says why
(``cooccur: window 5 -> 2``). A rerun stage gives its outputs new fingerprints, so every
stage downstream of it runs too. ``--force`` reruns everything.

Each stage says where its outputs go in the work directory and how a step maps onto its
arguments (``Stage.layout``, ``Stage.step_arguments``): e.g. ``train:svd`` writes
``WORKDIR/vectors-svd`` and ``evaluate:svd`` reads it. A step without a method
(``train``, ``evaluate``) uses the config's ``train.method``. ``--conf FILE`` goes under
the pipeline's own sections, ``--set`` over them.
"""

from __future__ import annotations

import copy
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparkembed.config import Config, load_config
from sparkembed.errors import ConfigError, SparkembedError
from sparkembed.session import resolve_jit
from sparkembed.stage import (
    Context,
    Plan,
    Stage,
    Step,
    execute,
    input_fingerprints,
    prepare,
    step_namespace,
)
from sparkembed.stages import REGISTRY
from sparkembed.tables import recover, table_metadata
from sparkembed.tables.lock import writer_lock
from sparkembed.tables.storage import parent_path

NAME = "run"
HELP = "a pipeline TOML: the stages in order, skipping those up to date"
WRITES = False  # its stages write; the command itself takes no --overwrite


def add_arguments(p) -> None:
    p.add_argument("pipeline", metavar="PIPELINE.toml")
    p.add_argument("--force", action="store_true", help="rerun every stage, up to date or not")


def run(args, cfg) -> int:
    pipeline = load_pipeline(args.pipeline)
    summary = run_pipeline(
        pipeline, args.overrides, force=args.force, quiet=args.quiet, conf=args.conf
    )
    print(summary)
    return 0


def pipeline_stages() -> list[str]:
    """The stages a pipeline can run (the registry's, in its order)."""
    return [name for name, stage in REGISTRY.items() if stage.step_arguments is not None]


@dataclass
class Pipeline:
    workdir: str
    stages: list[str]
    inputs: list[str] = field(default_factory=list)
    pairs: list[str] = field(default_factory=list)
    analogies: list[str] = field(default_factory=list)
    dictionary: str = ""  # align: the seed dictionary file, or "identical"
    requires: list[str] = field(default_factory=list)  # pipeline files to run first
    sections: dict[str, Any] = field(default_factory=dict)  # the config sections
    source: str = ""  # the file it was read from


def _expand(paths: list[str], base: Path) -> list[str]:
    out = []
    for p in paths:
        p = os.path.expandvars(os.path.expanduser(p))
        if "$" in p:
            raise ConfigError(f"pipeline path names an unset environment variable: {p}")
        out.append(p if "://" in p or os.path.isabs(p) else os.path.normpath(base / p))
    return out


def _dictionary(value: str, base: Path) -> str:
    return value if value in ("", "identical") else _expand([value], base)[0]


def load_pipeline(path: str | Path) -> Pipeline:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"pipeline file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    spec = data.pop("pipeline", None)
    if not isinstance(spec, dict):
        raise ConfigError(f"{path}: no [pipeline] section")
    valid = {"workdir", "stages", "inputs", "pairs", "analogies", "dictionary", "requires"}
    unknown = sorted(set(spec) - valid)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key '{unknown[0]}' in [pipeline]; valid keys: {', '.join(sorted(valid))}"
        )
    if "workdir" not in spec or "stages" not in spec:
        raise ConfigError(f"{path}: [pipeline] needs workdir and stages")
    names = pipeline_stages()
    for stage in spec["stages"]:
        if stage.split(":")[0] not in names:
            raise ConfigError(
                f"{path}: unknown stage '{stage}'; stages: {', '.join(names)} (train:METHOD)"
            )
    # The rest must be a valid config: check it now, before any Spark job.
    load_config(sections=data, source=str(path))
    base = path.parent
    return Pipeline(
        workdir=_expand([spec["workdir"]], base)[0],
        stages=list(spec["stages"]),
        inputs=_expand(spec.get("inputs", []), base),
        pairs=_expand(spec.get("pairs", []), base),
        analogies=_expand(spec.get("analogies", []), base),
        dictionary=_dictionary(spec.get("dictionary", ""), base),
        requires=_expand(spec.get("requires", []), base),
        sections=data,
        source=str(path),
    )


def pipeline_config(p: Pipeline, overrides: list[str], conf: str | None = None) -> Config:
    """The config the pipeline's stages run with: defaults, ``conf`` (a site or cluster
    file), the pipeline's own sections, then ``overrides``."""
    return load_config(conf, overrides, sections=p.sections, source=p.source)


def _layout(workdir: str) -> Any:
    def layout(stage: str, method: str) -> dict[str, str]:
        return REGISTRY[stage].layout(workdir, method)

    return layout


def plan_steps(p: Pipeline, base: Config) -> list[tuple[str, Stage, Config, Plan]]:
    """Every step's stage, config and plan, in order; nothing here starts Spark.

    A step ``stage:METHOD`` runs with ``train.method = METHOD`` (that method's vectors);
    a step without one with the config's ``train.method``.
    """
    resolved = []
    for name in p.stages:
        stage_name, _, method = name.partition(":")
        cfg = copy.deepcopy(base)
        if method:
            cfg.train.method = method
        resolved.append((name, REGISTRY[stage_name], cfg))
    steps = tuple((stage.name, cfg.train.method) for _, stage, cfg in resolved)
    planned = []
    for name, stage, cfg in resolved:
        step = Step(
            workdir=p.workdir,
            method=cfg.train.method,
            inputs=tuple(p.inputs),
            pairs=tuple(p.pairs),
            analogies=tuple(p.analogies),
            dictionary=p.dictionary,
            steps=steps,
            layout=_layout(p.workdir),
        )
        try:
            plan = prepare(stage, step_namespace(stage, step), cfg)
        except SparkembedError as exc:
            raise type(exc)(f"stage {name}: {exc}") from None
        planned.append((name, stage, cfg, plan))
    return planned


def staleness(spark, stage, plan) -> str | None:
    """Why ``plan`` must run (a short reason), or None when its outputs are up to date."""
    if not plan.outputs:
        return "no table to keep"
    metas = {}
    for table, path in plan.outputs.items():
        meta = table_metadata(spark, path)
        if meta is None:
            return f"no complete {table} at {path}"
        if meta.get("stage") != stage.name:
            return f"{path} was not written by {stage.name}"
        metas[table] = meta
    if len({m.get("run_id") for m in metas.values()}) > 1:
        return "its outputs come from different runs"
    meta = next(iter(metas.values()))
    changes = _changes(meta.get("params") or {}, plan.params)
    if changes:
        return ", ".join(changes)
    recorded = {i.get("role"): i.get("fingerprint") for i in meta.get("inputs", [])}
    current = input_fingerprints(spark, plan)
    if set(recorded) != {i["role"] for i in current}:
        return "its inputs are not the same files"
    changed = [i["role"] for i in current if recorded[i["role"]] != i["fingerprint"]]
    if changed:
        return f"input {', '.join(changed)} changed"
    return None


def _changes(old: dict, new: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key, "unset"), new.get(key, "unset")
        if isinstance(a, dict) and isinstance(b, dict):
            out += _changes(a, b, "")
        elif a != b:
            out.append(f"{prefix}{key} {a} -> {b}")
    return out


def run_pipeline(
    p: Pipeline,
    overrides: list[str],
    force: bool = False,
    quiet: bool = False,
    conf: str | None = None,
    _chain: tuple[str, ...] = (),
):
    """Run the pipeline's stages in order in this process, after the pipelines it
    requires; returns the summary lines.

    ``conf``: a config file under the pipeline's own sections (a cluster's ``[spark]``, say).
    """
    chain = (*_chain, str(Path(p.source).resolve()))
    summaries = []
    for required in p.requires:
        if str(Path(required).resolve()) in chain:
            raise ConfigError(f"{p.source}: requires {required}, which requires it back")
        summaries.append(
            run_pipeline(load_pipeline(required), overrides, force, quiet, conf, chain)
        )
    base = pipeline_config(p, overrides, conf)
    # Every stage is planned (and every argument checked) before the first one runs.
    steps = plan_steps(p, base)
    # One JVM serves every stage: its JIT is chosen for all of them.
    jit = resolve_jit(base.spark.jit, any(stage.jvm_bound(cfg) for _, stage, cfg, _ in steps))
    for _, _, cfg, _ in steps:
        cfg.spark.jit = jit
    # One writer per work directory for the whole pipeline, not only stage by stage.
    with writer_lock([p.workdir]):
        summaries.append(_run_steps(steps, force=force, quiet=quiet, workdir=p.workdir))
    return "\n".join(summaries)


def _run_steps(steps, force: bool, quiet: bool, workdir: str) -> str:
    session, done, skipped, t0 = None, [], [], time.perf_counter()
    # run has no --overwrite: what sparkembed did not write is the user's to move.
    hint = f"move it out of the work directory {workdir}, or give the pipeline another workdir"
    for name, stage, cfg, plan in steps:
        ctx = Context(cfg, quiet=quiet, spark=session, replace_hint=hint)
        spark = ctx.spark if stage.needs_spark else None
        session = ctx.spark if ctx.started else session
        # What killed runs left (a commit to finish, staging to remove) goes first: a
        # finished commit makes its tables complete, and a skipped stage cleans up too.
        for folder in sorted({parent_path(path) for path in plan.outputs.values()}):
            recover(spark, folder)
        reason = "--force" if force else staleness(spark, stage, plan)
        if reason is None:
            ctx.log("run", f"{name}: up to date, skipped")
            skipped.append(name)
            continue
        ctx.log("run", f"{name}: {reason}; running")
        try:
            print(execute(stage, plan, cfg, ctx), flush=True)
        except SparkembedError as exc:
            raise SparkembedError(f"stage {name}: {exc}") from exc
        session = ctx.spark if ctx.started else session
        done.append(name)
    total = time.perf_counter() - t0
    return f"run: {len(done)} stages run, {len(skipped)} skipped | total {total:.1f}s -> {workdir}"
