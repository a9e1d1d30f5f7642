"""aggregate: document (or sentence) vectors from a tokens table and word vectors:
inverse-frequency weighted means (SIF, idf or uniform, in ``means``) with the common
components (first singular vectors, ``sparkembed.linalg.gram``) removed."""

from sparkembed.stage import Stage, Step
from sparkembed.stages.aggregate import stage


def layout(workdir: str, method: str) -> dict[str, str]:
    """Documents' vectors from each method's word vectors: WORKDIR/aggregate-METHOD/."""
    out = f"{workdir}/aggregate-{method}"
    return {t: f"{out}/{t}" for t in ("doc_vectors", "doc_rejected")}


def step_arguments(step: Step) -> dict:
    return {
        "dirs": [step.workdir],
        "vectors": step.output("train", "vectors"),
        "output": f"{step.workdir}/aggregate-{step.method}",
    }


STAGE = Stage(
    name="aggregate",
    help="DIR... VECTORS -> OUT/doc_vectors: SIF/idf/uniform means, common component removed",
    section="aggregate",
    reads=("tokens", "vocab", "vectors"),
    writes=("doc_vectors", "doc_rejected"),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    layout=layout,
    step_arguments=step_arguments,
)
