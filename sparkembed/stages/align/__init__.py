"""align: one language's vectors mapped onto another's. The algebra (normalisation,
Procrustes, CSLS, refinement) in ``procrustes`` on the driver, the whole-table passes in
``apply`` (Spark), the seed dictionaries in ``dictionary``, the learning loop in ``align``."""

from sparkembed.stage import Stage
from sparkembed.stages.align import stage

STAGE = Stage(
    name="align",
    help="SOURCE TARGET vector tables + dictionary -> DIR/vectors in one space",
    section="align",
    reads=("vectors",),
    writes=("vectors", "alignment", "rejected", "translations"),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
)
