"""``sparkembed dictionary FREEDICT.index --output PAIRS.tsv``: a FreeDict dictionary
(Debian's ``dict-freedict-*``, dictd format) as the seed-pair file ``align`` reads, single
words only. No Spark."""

from __future__ import annotations

import sys

from sparkembed.stages.align.dictionary import read_freedict, write_tsv

NAME = "dictionary"
HELP = "a FreeDict dictionary (dictd) -> source<TAB>target pairs for align"
WRITES = False


def add_arguments(p) -> None:
    p.add_argument(
        "index", metavar="FREEDICT.index", help="e.g. /usr/share/dictd/freedict-eng-spa.index"
    )
    p.add_argument("--output", required=True, metavar="PAIRS.tsv")
    p.add_argument("--reverse", action="store_true", help="write target<TAB>source")


def run(args, cfg) -> int:
    d = read_freedict(args.index)
    write_tsv(d, args.output, reverse=args.reverse)
    if not args.quiet:
        print(
            f"[dictionary] {len(d.pairs):,} single-word pairs from {d.lines:,} index lines "
            f"({d.duplicates:,} repeated) -> {args.output}",
            file=sys.stderr,
        )
    print(f"dictionary: pairs {len(d.pairs):,} -> {args.output}")
    return 0
