"""``sparkembed export VECTORS --output FILE [--binary] [--lang L]``: word2vec format, no Spark."""

from __future__ import annotations

import re
from pathlib import Path

from sparkembed.errors import SparkembedError
from sparkembed.stage import Context, Plan
from sparkembed.stages.export.word2vec_format import write_word2vec
from sparkembed.tables import inside
from sparkembed.vectors.table import load_vectors

_HEADER = re.compile(rb"^\d+ \d+\n")


def add_arguments(p) -> None:
    p.add_argument("vectors", metavar="VECTORS")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--binary", action="store_true", help="word2vec binary format")
    p.add_argument("--lang", help="the language to export, if the table holds several")


def check_target(output: str, vectors: str, overwrite: bool) -> None:
    """A file we may write: not a folder, not inside the input, not someone else's file."""
    target = Path(output)
    if inside(output, vectors):
        raise SparkembedError(f"--output {output} lies inside the input table {vectors}")
    if target.is_dir():
        raise SparkembedError(f"--output {output} is a directory: give a file name")
    if target.exists() and not overwrite:
        with open(target, "rb") as f:
            head = f.read(64)
        if not _HEADER.match(head):
            raise SparkembedError(
                f"--output {output} exists and is not a word2vec file: choose another name, "
                "or pass --overwrite to replace it"
            )


def plan(args, cfg) -> Plan:
    check_target(args.output, args.vectors, getattr(args, "overwrite", False))
    return Plan(
        inputs={"vectors": args.vectors},
        outputs={},
        params={"binary": bool(args.binary), "lang": args.lang},
        options={"output": args.output},
        suffix=f"-> {args.output}",
    )


def run(ctx: Context, plan: Plan, cfg) -> dict:
    timer, lang = ctx.timer, plan.params["lang"]
    with timer.step("read"):
        vs = load_vectors(plan.inputs["vectors"], lang=lang)
    langs = sorted(set(vs.langs))
    if len(langs) > 1:
        raise SparkembedError(
            f"{plan.inputs['vectors']} holds several languages ({', '.join(langs)}): "
            "pick one with --lang"
        )
    fmt = "binary" if plan.params["binary"] else "text"
    with timer.step(f"write {fmt}"):
        n = write_word2vec(vs, plan.options["output"], binary=plan.params["binary"])
    return {"vectors": n, "dim": vs.dim, "format": fmt}
