"""export: a vector table -> a word2vec text or binary file that gensim loads."""

from sparkembed.stage import Stage
from sparkembed.stages.export import stage

STAGE = Stage(
    name="export",
    help="vector table -> word2vec text/binary file",
    section="",  # no parameters
    reads=("vectors",),
    writes=(),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    needs_spark=False,
)
