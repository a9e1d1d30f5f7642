"""sparkembed train DIR --method word2vec|svd [--dim N] [--output VECTORS]"""

from __future__ import annotations

import dataclasses

from sparkembed.errors import SparkembedError
from sparkembed.progress import StageTimer


def _lang(spark, tokens_path: str, tokens) -> str:
    """The corpus language of DIR/tokens: one value, or "mul" for a mixed corpus.

    A table written by ``sparkembed tokenize`` has one language, its ``lang`` parameter,
    so its metadata answers without a pass over the corpus; other tables are scanned.
    """
    from sparkembed.tables import path_exists, read_metadata

    if path_exists(spark, f"{tokens_path}/_sparkembed.json"):
        meta = read_metadata(spark, tokens_path)
        lang = (meta.get("params") or {}).get("lang")
        if meta.get("stage") == "tokenize" and isinstance(lang, str) and lang:
            return lang
    langs = [r[0] for r in tokens.select("lang").distinct().limit(2).collect()]
    if len(langs) == 1 and langs[0]:
        return str(langs[0])
    return "mul" if langs else "und"


def run(args, cfg) -> int:
    from sparkembed.session import get_spark
    from sparkembed.tables import fingerprint, path_exists, read_metadata, read_table
    from sparkembed.vectors import write_vectors

    tc = cfg.train
    if args.method:
        tc.method = args.method
    if args.dim:
        tc.dim = args.dim
    if tc.method not in ("word2vec", "svd"):
        raise SparkembedError(f"train.method must be word2vec or svd, got {tc.method!r}")
    workdir = str(args.dir).rstrip("/")
    output = args.output or f"{workdir}/vectors"
    timer = StageTimer("train", quiet=args.quiet)
    spark = get_spark(cfg.spark)
    with timer.step("read"):
        vocab = read_table(spark, f"{workdir}/vocab")
        tokens_path = f"{workdir}/tokens"
        tokens = read_table(spark, tokens_path) if path_exists(spark, tokens_path) else None
        lang = _lang(spark, tokens_path, tokens) if tokens is not None else "und"
    section = cfg.word2vec if tc.method == "word2vec" else cfg.svd
    params = {"train": dataclasses.asdict(tc), tc.method: dataclasses.asdict(section)}
    if tc.method == "word2vec":
        from sparkembed.train.word2vec import train_word2vec

        if tokens is None:
            raise SparkembedError(f"table not found: {tokens_path} (run sparkembed tokenize)")
        inputs = [fingerprint(spark, tokens_path), fingerprint(spark, f"{workdir}/vocab")]
        with timer.step("word2vec"):
            result = train_word2vec(
                tokens,
                vocab,
                dim=tc.dim,
                seed=tc.seed,
                quiet=args.quiet,
                **dataclasses.asdict(cfg.word2vec),
            )
        vectors, counts, extra = result.vectors, result.counts, {}
        counts["corpus_tokens"] = int(vocab.agg({"count": "sum"}).collect()[0][0] or 0)
    else:
        from sparkembed.train.svd import train_svd

        paths = [f"{workdir}/cooccurrence", f"{workdir}/marginals", f"{workdir}/vocab"]
        cooc, marginals = read_table(spark, paths[0]), read_table(spark, paths[1])
        inputs = [fingerprint(spark, p) for p in paths]
        cooc_meta = read_metadata(spark, paths[0])
        with timer.step("svd"):
            result = train_svd(
                cooc,
                marginals,
                vocab,
                dim=tc.dim,
                seed=tc.seed,
                quiet=args.quiet,
                cooc_path=paths[0],
                symmetric=bool(cooc_meta.get("symmetric", cooc_meta["params"].get("symmetric"))),
                **dataclasses.asdict(cfg.svd),
            )
        vectors, counts = result.vectors, result.counts
        extra = {"singular_values": [float(x) for x in result.singular_values]}
    with timer.step("write"):
        meta = write_vectors(
            vectors,
            output,
            dim=tc.dim,
            method=tc.method,
            params=params,
            lang=lang,
            inputs=inputs,
            counts=counts,
            extra=extra,
        )
    print(
        timer.summary(
            {"method": tc.method, "dim": tc.dim, "vectors": meta["counts"]["vectors"], "lang": lang}
        )
        + f" -> {output}"
    )
    return 0
