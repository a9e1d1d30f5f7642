"""What a stage is, and how one runs: the same way from the CLI, ``sparkembed run`` and
spark-submit.

A ``Stage`` names its config section and the tables it reads and writes, adds its own
command-line arguments, turns them into a ``Plan`` without starting Spark (paths, the
parameters its outputs depend on, every argument checked), and ``run``s the plan,
committing its outputs through ``tables.Commit``. ``execute`` does what every stage needs
around that: output ownership, inputs built from each other, the summary line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sparkembed.config import Config, validate
from sparkembed.options import add_config_options, apply_config_options, config_fields
from sparkembed.progress import StageTimer
from sparkembed.tables import (
    Commit,
    check_apart,
    check_built_together,
    check_output,
    check_writable,
    fingerprint,
)
from sparkembed.tables.lock import output_folders, writer_lock


@dataclass
class Plan:
    """One run of a stage, decided before Spark starts."""

    inputs: dict[str, str]  # role -> path of every table or file read
    outputs: dict[str, str]  # table name -> path written
    params: dict[str, Any]  # what the outputs depend on (recorded, compared by `run`)
    checked_together: tuple[str, ...] = ()  # input roles that must come from each other
    options: dict[str, Any] = field(default_factory=dict)  # run-time choices, not identity
    # How the stage computes its outputs, chosen once here (e.g. "files" or "dataframe"):
    # recorded in the outputs' metadata, not part of their identity (same numbers either way).
    engine: str = ""
    suffix: str = ""  # appended to the summary line (e.g. "-> PATH")


@dataclass(frozen=True)
class Step:
    """One step of a ``sparkembed run`` pipeline, as a stage sees it."""

    workdir: str
    method: str  # the train method the step names (``train:svd``), else the config's
    inputs: tuple[str, ...] = ()  # the pipeline's inputs (files, or tables for align)
    pairs: tuple[str, ...] = ()
    analogies: tuple[str, ...] = ()
    dictionary: str = ""
    # (stage, method) of every step of the pipeline: a stage may use an earlier one's output
    steps: tuple[tuple[str, str], ...] = ()
    # (stage name, method) -> where that stage's outputs go in ``workdir``
    layout: Callable[[str, str], dict[str, str]] = lambda _stage, _method: {}

    def output(self, stage: str, table: str, method: str | None = None) -> str:
        """The path of ``table``, written by ``stage`` (for ``method``) in the work dir."""
        return self.layout(stage, method or self.method)[table]


@dataclass(frozen=True)
class Stage:
    name: str  # subcommand and pipeline step
    help: str
    section: str  # the config section of its parameters ("": none)
    reads: tuple[str, ...]  # table contracts (sparkembed.schemas) read
    writes: tuple[str, ...]  # tables written
    add_arguments: Callable[[argparse.ArgumentParser], None]
    plan: Callable[[argparse.Namespace, Config], Plan]
    run: Callable[[Context, Plan, Config], dict[str, Any]]  # -> summary counts
    needs_spark: bool = True
    # Whether its hot loop runs in JVM code for this config (``spark.jit = "auto"``).
    jvm_bound: Callable[[Config], bool] = lambda _cfg: False
    # Its config options ("section.field"); empty: every field of ``section``.
    options: tuple[str, ...] = ()
    # Where its outputs go in a pipeline's work directory: (workdir, method) -> {table: path}.
    layout: Callable[[str, str], dict[str, str]] | None = None
    # Its arguments as a pipeline step (the values its ``add_arguments`` would parse);
    # None: it is not a pipeline step.
    step_arguments: Callable[[Step], dict[str, Any]] | None = None

    def config_options(self) -> list[str]:
        """The config fields this stage takes as command-line options."""
        if self.options or not self.section:
            return list(self.options)
        return [f"{self.section}.{f.name}" for f in config_fields(self.section)]


class Context:
    """What a running stage gets besides its plan and config: the session (started on first
    use, shared by every stage of a ``sparkembed run``), progress output, the timer."""

    def __init__(
        self,
        cfg: Config,
        quiet: bool = False,
        overwrite: bool = False,
        spark=None,
        replace_hint: str = "choose another output, or pass --overwrite to replace it",
    ):
        self.stage: Stage | None = None  # the running stage, set by ``execute``
        # How a user gets past an output that holds something else (the command's options).
        self.replace_hint = replace_hint
        # Quiet: Spark's warnings too; its errors still show.
        quiet_level = quiet and cfg.spark.log_level.upper() in (
            "ALL",
            "TRACE",
            "DEBUG",
            "INFO",
            "WARN",
        )
        self.spark_config = replace(cfg.spark, log_level="ERROR") if quiet_level else cfg.spark
        self.quiet = quiet
        self.overwrite = overwrite
        self._spark = spark
        self.timer: StageTimer | None = None
        self.counts: dict[str, Any] = {}  # the last stage's summary counts

    @property
    def spark(self):
        if self._spark is None:
            from sparkembed.session import get_spark

            self._spark = get_spark(self.spark_config)
        return self._spark

    @property
    def started(self) -> bool:
        return self._spark is not None

    def log(self, stage: str, message: str) -> None:
        if not self.quiet:
            print(f"[{stage}] {message}", file=sys.stderr, flush=True)

    def commit(self, plan: Plan) -> Commit:
        """A commit of the running stage's outputs, recording ``plan``'s parameters, inputs
        and engine."""
        stage = self.stage
        if stage is None:
            raise RuntimeError("Context.commit outside execute()")
        spark = self.spark if stage.needs_spark else None
        fingerprints = input_fingerprints(spark, plan)
        return Commit(spark, stage.name, plan.params, fingerprints, engine=plan.engine)


def input_fingerprints(spark, plan: Plan) -> list[dict[str, Any]]:
    return [{"role": role, **fingerprint(spark, path)} for role, path in plan.inputs.items()]


def prepare(stage: Stage, args: argparse.Namespace, cfg: Config) -> Plan:
    """The stage's plan with every config value checked (the command line's options
    applied first): nothing here starts Spark."""
    apply_config_options(args, cfg)
    validate(cfg)
    return stage.plan(_expand_home(args), cfg)


def _expand_home(args: argparse.Namespace) -> argparse.Namespace:
    """``~`` in path arguments, which the shell leaves alone in ``--output=~/x``."""

    def expand(value):
        if isinstance(value, str) and value.startswith("~"):
            return os.path.expanduser(value)
        if isinstance(value, list):
            return [expand(v) for v in value]
        return value

    return argparse.Namespace(**{k: expand(v) for k, v in vars(args).items()})


def execute(stage: Stage, plan: Plan, cfg: Config, ctx: Context) -> str:
    """Run one planned stage; returns its summary line."""
    check_apart(plan.outputs, plan.inputs)
    for path in plan.outputs.values():
        check_writable(path)
    with writer_lock(output_folders(plan.outputs.values())):
        spark = ctx.spark if stage.needs_spark else None
        for table, path in plan.outputs.items():
            check_output(
                spark,
                path,
                stage=stage.name,
                table=table,
                overwrite=ctx.overwrite,
                hint=ctx.replace_hint,
            )
        if plan.checked_together:
            check_built_together(spark, {r: plan.inputs[r] for r in plan.checked_together})
        ctx.timer = StageTimer(stage.name, quiet=ctx.quiet)
        ctx.stage = stage
        counts = stage.run(ctx, plan, cfg)
    ctx.counts = counts
    return ctx.timer.summary(counts) + (f" {plan.suffix}" if plan.suffix else "")


def add_common_arguments(p: argparse.ArgumentParser, writes: bool) -> None:
    """The options every command takes (and ``--overwrite`` for the ones that write)."""
    p.add_argument(
        "--conf", metavar="FILE.toml", help="config file (default: built-in local defaults)"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config value, e.g. --set train.dim=300 (repeatable)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    if writes:
        p.add_argument(
            "--overwrite",
            action="store_true",
            help="replace whatever is at the output path (never the stage's own inputs)",
        )


def add_stage_arguments(p: argparse.ArgumentParser, stage: Stage) -> None:
    """A stage's command line: the common options, its inputs and outputs, and an option
    per config field it takes."""
    add_common_arguments(p, writes=True)
    stage.add_arguments(p)
    group = p.add_argument_group("parameters (config file, --set, or these options)")
    add_config_options(group, stage.config_options())


def step_namespace(stage: Stage, step: Step) -> argparse.Namespace:
    """A pipeline step's arguments for ``stage.plan``: the defaults of the stage's own
    options, then the step's values (no command line is built or parsed)."""
    p = argparse.ArgumentParser(add_help=False)
    stage.add_arguments(p)
    values = {a.dest: a.default for a in p._actions if a.default is not argparse.SUPPRESS}
    values.update(overwrite=False, quiet=False)
    values.update(stage.step_arguments(step))
    return argparse.Namespace(**values)


def stage_parser(stage: Stage) -> argparse.ArgumentParser:
    """A stage's own argument parser (its subcommand's, without the program name)."""
    p = argparse.ArgumentParser(prog=f"sparkembed {stage.name}", description=stage.help)
    add_stage_arguments(p, stage)
    return p
