"""neighbors: a vector table -> the top-k cosine neighbours of every token, in Spark."""

from sparkembed.stage import Stage
from sparkembed.stages.neighbors import stage

STAGE = Stage(
    name="neighbors",
    help="top-k neighbours of every token -> DIR/neighbors",
    section="evaluate",
    reads=("vectors",),
    writes=("neighbors",),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
)
