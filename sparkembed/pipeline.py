"""``sparkembed run PIPELINE.toml``: the stages in order, skipping finished ones.

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

The stages run in this process with one SparkSession. A stage is skipped only when its
outputs are complete, come from one run, and record the same parameters and the same input
fingerprints as this run would; otherwise it runs, and the line says why
(``cooccur: window 5 -> 2``). A rerun stage gives its outputs new fingerprints, so every
stage downstream of it runs too. ``--force`` reruns everything. Vectors of
``train:METHOD`` go to ``WORKDIR/vectors-METHOD``; evaluation reports to
``WORKDIR/report-METHOD``; ``aggregate:METHOD`` writes the documents' vectors of
``WORKDIR/tokens`` to ``WORKDIR/aggregate-METHOD/doc_vectors``; ``report:METHOD`` draws
``WORKDIR/pictures-METHOD/report.html`` (with the evaluation, when the pipeline has it).
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sparkembed.config import Config, load_config
from sparkembed.errors import ConfigError, SparkembedError
from sparkembed.tables import table_metadata

# What a pipeline can run.
STAGES = (
    "tokenize", "walks", "cooccur", "train", "align", "aggregate", "evaluate", "neighbors",
    "report",
)  # fmt: skip


@dataclass
class Pipeline:
    workdir: str
    stages: list[str]
    inputs: list[str] = field(default_factory=list)
    pairs: list[str] = field(default_factory=list)
    analogies: list[str] = field(default_factory=list)
    dictionary: str = ""  # align: the seed dictionary file, or "identical"
    config_text: str = ""  # the config sections, as TOML


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
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    spec = data.pop("pipeline", None)
    if not isinstance(spec, dict):
        raise ConfigError(f"{path}: no [pipeline] section")
    valid = {"workdir", "stages", "inputs", "pairs", "analogies", "dictionary"}
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
        dictionary=_dictionary(spec.get("dictionary", ""), base),
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


def stage_argv(p: Pipeline, stage: str) -> list[str]:
    """The subcommand arguments of one pipeline stage."""
    name, _, method = stage.partition(":")
    w = p.workdir
    if name == "tokenize":
        if not p.inputs:
            raise ConfigError("tokenize needs [pipeline] inputs")
        return ["tokenize", *p.inputs, "--output", w]
    if name == "walks":
        if len(p.inputs) != 1:
            raise ConfigError("walks needs one [pipeline] input: the edge list (or a work dir)")
        return ["walks", p.inputs[0], "--output", w]
    if name == "cooccur":
        return ["cooccur", w]
    if name == "train":
        method = method or "word2vec"
        out = f"{w}/vectors-{method}"
        return ["train", w, "--method", method, "--output", out]
    if name == "align":
        # inputs: the source and the target vector tables (each from its own pipeline)
        if len(p.inputs) != 2 or not p.dictionary:
            raise ConfigError(
                "align needs two [pipeline] inputs (source and target vector tables) and "
                'a dictionary (a file, or "identical")'
            )
        return ["align", *p.inputs, "--dictionary", p.dictionary, "--output", w]
    if name == "aggregate":
        method = method or "word2vec"
        vectors = f"{w}/vectors-{method}"
        return ["aggregate", w, vectors, "--output", f"{w}/aggregate-{method}"]
    if name == "evaluate":
        method = method or "word2vec"
        argv = ["evaluate", f"{w}/vectors-{method}", "--report", f"{w}/report-{method}"]
        for f in p.pairs:
            argv += ["--pairs", f]
        for f in p.analogies:
            argv += ["--analogies", f]
        return argv
    if name == "report":
        method = method or "word2vec"
        argv = ["report", f"{w}/vectors-{method}", "--output", f"{w}/pictures-{method}"]
        if f"evaluate:{method}" in p.stages or (method == "word2vec" and "evaluate" in p.stages):
            argv += ["--evaluation", f"{w}/report-{method}"]
        return argv
    if name == "neighbors":
        method = method or "word2vec"
        out = f"{w}/neighbors-{method}"  # the command writes OUT/neighbors
        return ["neighbors", f"{w}/vectors-{method}", "--output", out]
    raise ConfigError(f"unknown stage {stage}")


def staleness(spark, stage, plan) -> str | None:
    """Why ``plan`` must run (a short reason), or None when its outputs are up to date."""
    from sparkembed.stage import input_fingerprints

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


def pipeline_config(p: Pipeline, overrides: list[str], conf: str | None = None) -> Config:
    """The config the pipeline's stages run with: defaults, ``conf`` (a site or cluster
    file), the pipeline's own sections, then ``overrides``."""
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as tmp:
        tmp.write(p.config_text)
    try:
        return load_config([conf, tmp.name], overrides)
    finally:
        os.unlink(tmp.name)


def run_pipeline(
    p: Pipeline,
    overrides: list[str],
    force: bool = False,
    quiet: bool = False,
    conf: str | None = None,
):
    """Run the pipeline's stages in order in this process; returns the summary line.

    ``conf``: a config file under the pipeline's own sections (a cluster's ``[spark]``, say).
    """
    import copy
    import sys
    import time

    from sparkembed.session import resolve_jit
    from sparkembed.stage import Context, execute, prepare, stage_parser
    from sparkembed.stages import REGISTRY

    base = pipeline_config(p, overrides, conf)
    # Every stage is planned (and every argument checked) before the first one runs.
    steps = []
    for name in p.stages:
        argv = stage_argv(p, name)
        stage = REGISTRY[argv[0]]
        args = stage_parser(stage).parse_args(argv[1:])
        cfg = copy.deepcopy(base)
        steps.append((name, stage, cfg, prepare(stage, args, cfg)))
    # One JVM serves every stage: its JIT is chosen for all of them.
    jit = resolve_jit(base.spark.jit, any(stage.jvm_bound(cfg) for _, stage, cfg, _ in steps))
    for _, _, cfg, _ in steps:
        cfg.spark.jit = jit
    session, done, skipped, t0 = None, [], [], time.perf_counter()
    for name, stage, cfg, plan in steps:
        ctx = Context(cfg, quiet=quiet, spark=session)
        spark = ctx.spark if stage.needs_spark else None
        session = ctx.spark if ctx.started else session
        reason = "--force" if force else staleness(spark, stage, plan)
        if reason is None:
            print(f"[run] {name}: up to date, skipped", file=sys.stderr, flush=True)
            skipped.append(name)
            continue
        print(f"[run] {name}: {reason}; running", file=sys.stderr, flush=True)
        try:
            print(execute(stage, plan, cfg, ctx), flush=True)
        except SparkembedError as exc:
            raise SparkembedError(f"stage {name}: {exc}") from exc
        session = ctx.spark if ctx.started else session
        done.append(name)
    total = time.perf_counter() - t0
    return f"run: {len(done)} stages run, {len(skipped)} skipped | total {total:.1f}s"
