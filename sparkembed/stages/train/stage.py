"""``sparkembed train DIR --method word2vec|svd|glove|umap|sgns|prone [--dim N] [--output VECTORS]``.

The method is the stage's engine: ``plan`` records it, ``run`` calls its trainer
(``METHODS``: the tables each method reads and its trainer, one signature for all).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from sparkembed.errors import SparkembedError, write_failure
from sparkembed.stage import Context, Plan
from sparkembed.stages.train.result import TrainResult
from sparkembed.tables import path_exists, read_metadata, read_table, table_metadata
from sparkembed.vectors.table import write_vectors


def add_arguments(p) -> None:
    p.add_argument("dir", metavar="DIR", help="work directory")
    p.add_argument("--output", metavar="VECTORS", help="vector table (default DIR/vectors)")


def plan(args, cfg) -> Plan:
    method = cfg.train.method
    workdir = str(args.dir).rstrip("/")
    roles = METHODS[method].inputs
    section = getattr(cfg, method)
    if method == "word2vec":
        from sparkembed.stages.train.word2vec import check_auto

        check_auto(section)  # before Spark starts
    return Plan(
        inputs={r: f"{workdir}/{r}" for r in roles},
        outputs={"vectors": args.output or f"{workdir}/vectors"},
        params={"train": dataclasses.asdict(cfg.train), method: dataclasses.asdict(section)},
        checked_together=roles,
        options={"tokens": f"{workdir}/tokens"},
        engine=method,
    )


def _check_dim(spark, vocab_path: str, dim: int) -> None:
    """``dim`` at most the vocabulary size, from the vocab's metadata (no Spark job)."""
    meta = table_metadata(spark, vocab_path)
    size = (meta or {}).get("counts", {}).get("vocab")
    if isinstance(size, int) and dim > size:
        raise SparkembedError(
            f"train.dim {dim} exceeds the vocabulary size {size:,} of {vocab_path}"
        )


def _lang(spark, tokens_path: str) -> str:
    """The corpus language: the ``lang`` parameter of the stage that wrote DIR/tokens
    (tokenize, walks), else a scan of DIR/tokens (one value, "mul" for a mixed corpus,
    "und" when there are no tokens)."""
    meta = table_metadata(spark, tokens_path)
    if meta is not None:
        stage = meta.get("stage")
        params = meta.get("params") or {}
        lang = (params.get(stage) or params).get("lang")
        if stage in ("tokenize", "walks") and isinstance(lang, str) and lang:
            return lang
    if meta is None and not path_exists(spark, tokens_path):
        return "und"
    tokens = read_table(spark, tokens_path)
    langs = [r[0] for r in tokens.select("lang").distinct().limit(2).collect()]
    if len(langs) == 1 and langs[0]:
        return str(langs[0])
    return "mul" if langs else "und"


def _symmetric(spark, cooc_path: str) -> bool:
    """Whether the cooccurrence table's metadata says its counts are symmetric."""
    meta = read_metadata(spark, cooc_path)
    return bool(meta.get("symmetric", (meta.get("params") or {}).get("symmetric")))


def run(ctx: Context, plan: Plan, cfg) -> dict:
    tc, spark, timer = cfg.train, ctx.spark, ctx.timer
    output = plan.outputs["vectors"]
    _check_dim(spark, plan.inputs["vocab"], tc.dim)
    with timer.step("read"):
        vocab = read_table(spark, plan.inputs["vocab"], table="vocab")
        lang = _lang(spark, plan.options["tokens"])
    with ctx.commit(plan) as commit:
        # The trainers' factors live in block files here until the vectors are written.
        scratch = commit.scratch(output, "factors")
        with timer.step(plan.engine):
            try:
                result = METHODS[plan.engine].train(ctx, plan, cfg, vocab, scratch)
            except Exception as exc:
                reason = write_failure(exc)
                if reason is None:
                    raise
                # The trainers write their matrix and factors to the scratch folder.
                raise SparkembedError(
                    f"{reason} while writing the {plan.engine} trainer's working files for "
                    f"the vectors table {output} (staged in {scratch}, now removed)"
                ) from exc
        with timer.step("write"):
            meta = write_vectors(
                result.vectors,
                output,
                dim=tc.dim,
                method=tc.method,
                lang=lang,
                counts=result.counts,
                extra=result.extra,
                commit=commit,
            )
    plan.suffix = f"-> {output}"
    return {"method": tc.method, "dim": tc.dim, "vectors": meta["counts"]["vectors"], "lang": lang}


# --- the trainers: (ctx, plan, cfg, vocab, scratch) -> TrainResult, each reading its own
# inputs; ``scratch`` is a working folder every executor reaches, removed after the write ---
# Their modules are imported when used: a run needs one, and word2vec's brings Spark ML.


def _word2vec(ctx: Context, plan: Plan, cfg, vocab, scratch: str) -> TrainResult:
    from sparkembed.stages.train import word2vec as w2v

    # MLlib's limits (vocab x dim < 2^31, the model in the driver's heap) from the vocab's
    # metadata, before any Spark job; train_word2vec checks again with the counted words.
    meta = table_metadata(ctx.spark, plan.inputs["vocab"])
    size = w2v.vocabulary_size(meta, cfg.word2vec.min_count)
    if size is not None:
        heap, result = w2v.driver_heap_bytes(ctx.spark), w2v.max_result_bytes(ctx.spark)
        w2v.check_model_size(size, cfg.train.dim, cfg.word2vec.min_count, heap, result)
    tokens = read_table(ctx.spark, plan.inputs["tokens"], table="tokens")
    result = w2v.train_word2vec(tokens, vocab, cfg.train, cfg.word2vec, quiet=ctx.quiet)
    result.counts["corpus_tokens"] = int(vocab.agg({"count": "sum"}).collect()[0][0] or 0)
    return result


def _cooccurrence(ctx: Context, plan: Plan) -> tuple:
    """The cooccurrence table, and what its trainers take besides: path and symmetry."""
    path = plan.inputs["cooccurrence"]
    table = read_table(ctx.spark, path, table="cooccurrence")
    return table, {"quiet": ctx.quiet, "cooc_path": path, "symmetric": _symmetric(ctx.spark, path)}


def _svd(ctx: Context, plan: Plan, cfg, vocab, scratch: str) -> TrainResult:
    from sparkembed.stages.train.svd import train_svd

    cooc, kw = _cooccurrence(ctx, plan)
    marginals = read_table(ctx.spark, plan.inputs["marginals"], table="marginals")
    return train_svd(cooc, marginals, vocab, cfg.train, cfg.svd, scratch=scratch, **kw)


def _glove(ctx: Context, plan: Plan, cfg, vocab, scratch: str) -> TrainResult:
    from sparkembed.stages.train.glove import train_glove

    cooc, kw = _cooccurrence(ctx, plan)
    return train_glove(cooc, vocab, cfg.train, cfg.glove, scratch=scratch, **kw)


def _sgns(ctx: Context, plan: Plan, cfg, vocab, scratch: str) -> TrainResult:
    from sparkembed.stages.train.sgns import train_sgns

    tokens = read_table(ctx.spark, plan.inputs["tokens"], table="tokens")
    return train_sgns(tokens, vocab, cfg.train, cfg.sgns, scratch=scratch, quiet=ctx.quiet)


def _umap(ctx: Context, plan: Plan, cfg, vocab, scratch: str) -> TrainResult:
    from sparkembed.stages.train.umap import train_umap

    graph = read_table(ctx.spark, plan.inputs["graph"], table="graph")
    return train_umap(graph, vocab, cfg.train.dim, cfg.umap, cfg.train.seed)


def _prone(ctx: Context, plan: Plan, cfg, vocab, scratch: str) -> TrainResult:
    from sparkembed.stages.train.prone import train_prone

    graph = read_table(ctx.spark, plan.inputs["graph"], table="graph")
    return train_prone(graph, vocab, cfg.train, cfg.prone, scratch=scratch, quiet=ctx.quiet)


@dataclass(frozen=True)
class Method:
    inputs: tuple[str, ...]  # the work directory's tables it reads
    train: Callable[..., TrainResult]  # (ctx, plan, cfg, vocab, scratch) -> TrainResult


# One entry per choice of ``train.method`` (a test holds the keys to the field's choices);
# each method's parameters are the config section of the same name.
METHODS = {
    "word2vec": Method(("tokens", "vocab"), _word2vec),
    "svd": Method(("cooccurrence", "marginals", "vocab"), _svd),
    "glove": Method(("cooccurrence", "vocab"), _glove),
    "umap": Method(("graph", "vocab"), _umap),  # a walks work directory
    "sgns": Method(("tokens", "vocab"), _sgns),
    "prone": Method(("graph", "vocab"), _prone),  # a walks work directory
}
