"""aggregate: document (or sentence) vectors from a tokens table and word vectors:
inverse-frequency weighted means (SIF, idf or uniform, in ``means``) with the common
components (first singular vectors, ``sparkembed.linalg.gram``) removed."""

from sparkembed.stage import Stage
from sparkembed.stages.aggregate import stage

STAGE = Stage(
    name="aggregate",
    help="DIR... VECTORS -> OUT/doc_vectors: SIF/idf/uniform means, common component removed",
    section="aggregate",
    reads=("tokens", "vocab", "vectors"),
    writes=("doc_vectors", "doc_rejected"),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
)
