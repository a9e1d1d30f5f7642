"""evaluate: a vector table -> word-pair, analogy, synonym and cluster scores (and a report).
Scoring in ``metrics`` (agrees with gensim's evaluate_word_pairs / _analogies)."""

from sparkembed.stage import Stage
from sparkembed.stages.evaluate import stage

STAGE = Stage(
    name="evaluate",
    help="word-pair similarity and analogy scores of a vector table",
    section="evaluate",
    reads=("vectors",),
    writes=("report",),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    needs_spark=False,
)
