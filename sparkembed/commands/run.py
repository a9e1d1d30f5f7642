"""``sparkembed run PIPELINE.toml``: the pipeline's stages in order, in this process, with
one SparkSession; a stage whose outputs are up to date is skipped (see sparkembed.pipeline).
``--conf FILE`` goes under the pipeline's own sections, ``--set`` over them."""

from __future__ import annotations

from sparkembed.pipeline import load_pipeline, run_pipeline


def add_arguments(p) -> None:
    p.add_argument("pipeline", metavar="PIPELINE.toml")
    p.add_argument("--force", action="store_true", help="rerun every stage, up to date or not")


def run(args, cfg) -> int:
    pipeline = load_pipeline(args.pipeline)
    summary = run_pipeline(
        pipeline, args.overrides, force=args.force, quiet=args.quiet, conf=args.conf
    )
    print(summary)
    return 0
