"""report: pictures of a vector table in one HTML page: a word map (MLlib k-means, t-SNE or
UMAP), a dimension heatmap, norms against frequency, evaluation charts. Drawing in
``pictures`` (matplotlib, the ``report`` extra), the page in ``page``."""

from sparkembed.stage import Stage
from sparkembed.stages.report import stage

STAGE = Stage(
    name="report",
    help="vector table -> DIR/report.html: word map, heatmap, norms, evaluation charts",
    section="report",
    reads=("vectors",),
    writes=("report",),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
)
