"""sparkembed export VECTORS --output FILE [--binary] [--lang L]: word2vec format, no Spark."""

from __future__ import annotations

from sparkembed.errors import SparkembedError
from sparkembed.progress import StageTimer


def run(args, cfg) -> int:
    from sparkembed.export import write_word2vec
    from sparkembed.vectors import load_vectors

    timer = StageTimer("export", quiet=args.quiet)
    with timer.step("read"):
        vs = load_vectors(args.vectors, lang=getattr(args, "lang", None))
    langs = sorted(set(vs.langs))
    if len(langs) > 1:
        raise SparkembedError(
            f"{args.vectors} holds several languages ({', '.join(langs)}): pick one with --lang"
        )
    fmt = "binary" if args.binary else "text"
    with timer.step(f"write {fmt}"):
        n = write_word2vec(vs, args.output, binary=args.binary)
    print(timer.summary({"vectors": n, "dim": vs.dim, "format": fmt}) + f" -> {args.output}")
    return 0
