"""align: one language's vectors mapped onto another's. The algebra (normalisation,
Procrustes, CSLS, refinement) in ``procrustes`` on the driver, the whole-table passes in
``apply`` (Spark), the seed dictionaries in ``dictionary``, the learning loop in ``align``."""

from sparkembed.errors import ConfigError
from sparkembed.stage import Stage, Step
from sparkembed.stages.align import stage


def layout(workdir: str, _method: str) -> dict[str, str]:
    """Its tables in a pipeline's work directory."""
    return {t: f"{workdir}/{t}" for t in ("vectors", "alignment", "rejected", "translations")}


def step_arguments(step: Step) -> dict:
    # inputs: the source and the target vector tables (each from its own pipeline)
    if len(step.inputs) != 2 or not step.dictionary:
        raise ConfigError(
            "align needs two [pipeline] inputs (source and target vector tables) and "
            'a dictionary (a file, or "identical")'
        )
    source, target = step.inputs
    return {
        "source": source,
        "target": target,
        "dictionary": step.dictionary,
        "output": step.workdir,
    }


STAGE = Stage(
    name="align",
    help="SOURCE TARGET vector tables + dictionary -> DIR/vectors in one space",
    section="align",
    reads=("vectors",),
    writes=("vectors", "alignment", "rejected", "translations"),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    layout=layout,
    step_arguments=step_arguments,
)
