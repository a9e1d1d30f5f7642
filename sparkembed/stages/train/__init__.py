"""train: tables in, a vector table out. ``svd``: PPMI of DIR/cooccurrence (context
smoothing, optional shift) and a randomized truncated SVD in Spark; ``word2vec``: Spark
MLlib's skip-gram on DIR/tokens. Both return a ``TrainResult`` of one schema."""

from sparkembed.stage import Stage
from sparkembed.stages.train import stage

STAGE = Stage(
    name="train",
    help="DIR -> vector table with word2vec or PPMI+SVD",
    section="train",
    reads=("tokens", "vocab", "cooccurrence", "marginals"),
    writes=("vectors",),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
)
