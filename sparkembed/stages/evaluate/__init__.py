"""evaluate: a vector table -> word-pair, analogy, synonym and cluster scores (and a report).
Scoring in ``metrics`` (agrees with gensim's evaluate_word_pairs / _analogies)."""

from sparkembed.stage import Stage, Step
from sparkembed.stages.evaluate import stage


def layout(workdir: str, method: str) -> dict[str, str]:
    """Each method's evaluation report: WORKDIR/report-METHOD."""
    return {"report": f"{workdir}/report-{method}"}


def step_arguments(step: Step) -> dict:
    return {
        "vectors": step.output("train", "vectors"),
        "report": step.output("evaluate", "report"),
        "pairs": list(step.pairs),
        "analogies": list(step.analogies),
    }


STAGE = Stage(
    name="evaluate",
    help="word-pair similarity and analogy scores of a vector table",
    section="evaluate",
    reads=("vectors",),
    writes=("report",),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    layout=layout,
    step_arguments=step_arguments,
    needs_spark=False,
    # evaluate.neighbor_partitions is the neighbors stage's
    options=tuple(
        f"evaluate.{key}"
        for key in (
            "restrict_vocab",
            "case_insensitive",
            "topn",
            "seed",
            "random_words",
            "analogy_method",
            "block_mb",
        )
    ),
)
