"""train: tables in, a vector table out. ``svd``: PPMI of DIR/cooccurrence (context
smoothing, optional shift) and a randomized truncated SVD in Spark; ``glove``: GloVe's
weighted least squares on DIR/cooccurrence by alternating exact solves in Spark; ``word2vec``: Spark
MLlib's skip-gram on DIR/tokens; ``sgns``: skip-gram with negative sampling on DIR/tokens,
the vocabulary's vectors in buckets that no process holds all of; ``umap``: UMAP of a small graph's transition matrix
(DIR/graph of the walks stage), on the driver; ``prone``: ProNE's spectral embedding of
DIR/graph on the sharded matrix. All return a ``TrainResult`` of one schema."""

from sparkembed.stage import Stage, Step
from sparkembed.stages.train import stage


def layout(workdir: str, method: str) -> dict[str, str]:
    """A pipeline keeps each method's vectors: ``train:svd`` writes WORKDIR/vectors-svd."""
    return {"vectors": f"{workdir}/vectors-{method}"}


def step_arguments(step: Step) -> dict:
    return {"dir": step.workdir, "output": step.output("train", "vectors")}


STAGE = Stage(
    name="train",
    help="DIR -> vector table with word2vec, PPMI+SVD, GloVe, skip-gram (sgns), and for "
    "graphs ProNE or (small graphs) UMAP",
    section="train",
    reads=("tokens", "vocab", "cooccurrence", "marginals", "graph"),
    writes=("vectors",),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    layout=layout,
    step_arguments=step_arguments,
    # MLlib's skip-gram is Scala; sgns trains in our Java loop
    jvm_bound=lambda cfg: cfg.train.method in ("word2vec", "sgns"),
)
