"""report: pictures of a vector table in one HTML page: a word map (spherical k-means, t-SNE
or UMAP), a dimension heatmap, norms against frequency, evaluation charts. Drawing in
``pictures`` (matplotlib, the ``report`` extra), the page in ``page``; no Spark."""

from sparkembed.stage import Stage, Step
from sparkembed.stages.report import stage


def layout(workdir: str, method: str) -> dict[str, str]:
    """Each method's pictures: WORKDIR/pictures-METHOD/report.html."""
    return {"report": f"{workdir}/pictures-{method}"}


def step_arguments(step: Step) -> dict:
    evaluated = ("evaluate", step.method) in step.steps
    return {
        "vectors": step.output("train", "vectors"),
        "output": step.output("report", "report"),
        "evaluation": [step.output("evaluate", "report")] if evaluated else [],
    }


STAGE = Stage(
    name="report",
    help="vector table -> DIR/report.html: word map, heatmap, norms, evaluation charts",
    section="report",
    reads=("vectors",),
    writes=("report",),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    layout=layout,
    step_arguments=step_arguments,
    needs_spark=False,
)
