"""cooccur: tokens + vocab -> windowed co-occurrence counts in sorted shards, and their row
sums. The counting kernel in ``kernel``, driven by ``counts`` (DataFrame path) or ``files``
(Arrow I/O in tasks)."""

from sparkembed.stage import Stage, Step
from sparkembed.stages.cooccur import stage


def layout(workdir: str, _method: str) -> dict[str, str]:
    """Its tables in a pipeline's work directory."""
    return {t: f"{workdir}/{t}" for t in ("cooccurrence", "marginals")}


def step_arguments(step: Step) -> dict:
    return {"dir": step.workdir}


STAGE = Stage(
    name="cooccur",
    help="DIR/tokens + DIR/vocab -> DIR/cooccurrence (sharded), DIR/marginals",
    section="cooccur",
    reads=("tokens", "vocab"),
    writes=("cooccurrence", "marginals"),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    layout=layout,
    step_arguments=step_arguments,
)
