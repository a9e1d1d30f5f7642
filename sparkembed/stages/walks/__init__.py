"""walks: random walks over a graph (DeepWalk, weighted, node2vec), written as sentences so
cooccur and train embed the vertices. Graph inputs and their cleaning in ``graph``, the
numpy walker in ``walker`` (randomness in ``draws``), the two Spark engines in ``engines``,
the command in ``stage``; :func:`walk_graph` is the Python entry for DataFrames and
GraphFrames."""

from __future__ import annotations

from sparkembed.errors import ConfigError
from sparkembed.stage import Stage, Step
from sparkembed.stages.walks import stage


def layout(workdir: str, _method: str) -> dict[str, str]:
    """Its tables in a pipeline's work directory."""
    return {t: f"{workdir}/{t}" for t in ("tokens", "vocab", "rejected", "graph")}


def step_arguments(step: Step) -> dict:
    if len(step.inputs) != 1:
        raise ConfigError("walks needs one [pipeline] input: the edge list (or a work dir)")
    return {"input": step.inputs[0], "output": step.workdir}


STAGE = Stage(
    name="walks",
    help="edge list or DIR/cooccurrence -> DIR/tokens (walks), DIR/vocab, DIR/rejected, DIR/graph",
    section="walks",
    reads=(),
    writes=("tokens", "vocab", "rejected", "graph"),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    layout=layout,
    step_arguments=step_arguments,
)


def walk_graph(spark, graph, output: str, cfg=None, *, overwrite: bool = False, quiet=True):
    """Walk ``graph`` into ``output`` (DIR/tokens, DIR/vocab, DIR/rejected, DIR/graph) and
    return the summary counts.

    ``graph``: a ``graphframes.GraphFrame`` (only its ``.vertices`` and ``.edges`` are read,
    so no GraphFrames JAR is needed), a ``(vertices, edges)`` pair of DataFrames in
    GraphFrames' shape (``vertices.id``; ``edges.src``, ``edges.dst``, ``edges.weight`` when
    weighted), or an edges DataFrame alone. ``cfg``: a :class:`sparkembed.config.Config`
    (its ``walks`` section; defaults when None).
    """
    from sparkembed.config import Config, validate
    from sparkembed.stage import Context, Plan, execute

    cfg = cfg or Config()
    validate(cfg)
    if hasattr(graph, "vertices") and hasattr(graph, "edges"):
        vertices, edges = graph.vertices, graph.edges
    elif isinstance(graph, tuple) and len(graph) == 2:
        vertices, edges = graph
    else:
        vertices, edges = None, graph
    out = output.rstrip("/")
    plan = Plan(
        inputs={},
        outputs={t: f"{out}/{t}" for t in STAGE.writes},
        params={"walks": {**cfg.walks.__dict__, "format": "dataframe"}},
        options={"edges_df": edges, "vertices_df": vertices},
    )
    ctx = Context(cfg, quiet=quiet, overwrite=overwrite, spark=spark)
    execute(STAGE, plan, cfg, ctx)
    return ctx.counts
