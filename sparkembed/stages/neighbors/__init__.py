"""neighbors: a vector table -> the top-k cosine neighbours of every token, in Spark."""

from sparkembed.stage import Stage, Step
from sparkembed.stages.neighbors import stage


def layout(workdir: str, method: str) -> dict[str, str]:
    """Each method's neighbours: WORKDIR/neighbors-METHOD/neighbors."""
    return {"neighbors": f"{workdir}/neighbors-{method}/neighbors"}


def step_arguments(step: Step) -> dict:
    return {
        "vectors": step.output("train", "vectors"),
        "output": f"{step.workdir}/neighbors-{step.method}",
    }


STAGE = Stage(
    name="neighbors",
    help="top-k neighbours of every token -> DIR/neighbors",
    section="evaluate",
    reads=("vectors",),
    writes=("neighbors",),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    layout=layout,
    step_arguments=step_arguments,
    options=("evaluate.topn", "evaluate.block_mb", "evaluate.neighbor_partitions"),
)
