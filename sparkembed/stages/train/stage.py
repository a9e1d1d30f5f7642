"""``sparkembed train DIR --method word2vec|svd|glove|umap [--dim N] [--output VECTORS]``."""

from __future__ import annotations

import dataclasses

from sparkembed.errors import SparkembedError
from sparkembed.stage import Context, Plan
from sparkembed.tables import path_exists, read_metadata, read_table, table_metadata
from sparkembed.vectors.table import write_vectors

METHOD_INPUTS = {
    "word2vec": ("tokens", "vocab"),
    "svd": ("cooccurrence", "marginals", "vocab"),
    "glove": ("cooccurrence", "vocab"),
    "umap": ("graph", "vocab"),  # a walks work directory
}


def add_arguments(p) -> None:
    p.add_argument("dir", metavar="DIR", help="work directory")
    p.add_argument("--output", metavar="VECTORS", help="vector table (default DIR/vectors)")


def plan(args, cfg) -> Plan:
    method = cfg.train.method
    if method not in METHOD_INPUTS:
        raise SparkembedError(
            f"train.method must be one of {', '.join(sorted(METHOD_INPUTS))}, got {method!r}"
        )
    workdir = str(args.dir).rstrip("/")
    roles = METHOD_INPUTS[method]
    section = getattr(cfg, method)
    return Plan(
        inputs={r: f"{workdir}/{r}" for r in roles},
        outputs={"vectors": args.output or f"{workdir}/vectors"},
        params={"train": dataclasses.asdict(cfg.train), method: dataclasses.asdict(section)},
        checked_together=roles,
        options={"tokens": f"{workdir}/tokens"},
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
    paths = plan.inputs
    output = plan.outputs["vectors"]
    _check_dim(spark, paths["vocab"], tc.dim)
    with timer.step("read"):
        vocab = read_table(spark, paths["vocab"], table="vocab")
        lang = _lang(spark, plan.options["tokens"])
    if tc.method == "word2vec":
        from sparkembed.stages.train.word2vec import train_word2vec

        tokens = read_table(spark, paths["tokens"], table="tokens")
        with timer.step("word2vec"):
            result = train_word2vec(tokens, vocab, tc, cfg.word2vec, quiet=ctx.quiet)
        result.counts["corpus_tokens"] = int(vocab.agg({"count": "sum"}).collect()[0][0] or 0)
    elif tc.method == "umap":
        from sparkembed.stages.train.umap import train_umap

        graph = read_table(spark, paths["graph"], table="graph")
        with timer.step("umap"):
            result = train_umap(graph, vocab, tc.dim, cfg.umap, tc.seed)
    elif tc.method == "glove":
        from sparkembed.stages.train.glove import train_glove

        cooc = read_table(spark, paths["cooccurrence"], table="cooccurrence")
        with timer.step("glove"):
            result = train_glove(
                cooc,
                vocab,
                tc,
                cfg.glove,
                quiet=ctx.quiet,
                cooc_path=paths["cooccurrence"],
                symmetric=_symmetric(spark, paths["cooccurrence"]),
            )
    else:
        from sparkembed.stages.train.svd import train_svd

        cooc = read_table(spark, paths["cooccurrence"], table="cooccurrence")
        marginals = read_table(spark, paths["marginals"], table="marginals")
        with timer.step("svd"):
            result = train_svd(
                cooc,
                marginals,
                vocab,
                tc,
                cfg.svd,
                quiet=ctx.quiet,
                cooc_path=paths["cooccurrence"],
                symmetric=_symmetric(spark, paths["cooccurrence"]),
            )
    with timer.step("write"), ctx.commit(plan) as commit:
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
