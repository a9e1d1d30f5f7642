"""tokenize: corpus files (Wikipedia dumps, text, JSON lines, Parquet) -> tokens, vocab,
rejected. Readers in ``readers`` (and ``bz2blocks``, ``wikitext``), sentence tokens in
``tokens``, the one-pass token writer in ``token_files``, the vocabulary in the shared
``sparkembed.vocabulary``; the command in ``stage``."""

from sparkembed.errors import ConfigError
from sparkembed.stage import Stage, Step
from sparkembed.stages.tokenize import stage


def layout(workdir: str, _method: str) -> dict[str, str]:
    """Its tables in a pipeline's work directory."""
    return {t: f"{workdir}/{t}" for t in ("tokens", "vocab", "rejected")}


def step_arguments(step: Step) -> dict:
    if not step.inputs:
        raise ConfigError("tokenize needs [pipeline] inputs")
    return {"inputs": list(step.inputs), "output": step.workdir}


STAGE = Stage(
    name="tokenize",
    help="corpus files -> DIR/tokens, DIR/vocab, DIR/rejected",
    section="tokenize",
    reads=(),
    writes=("tokens", "vocab", "rejected"),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    layout=layout,
    step_arguments=step_arguments,
    jvm_bound=lambda _cfg: True,  # the tokenizer runs in the JVM (UDFs or Spark SQL)
)
