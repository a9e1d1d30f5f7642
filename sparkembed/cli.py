"""The ``sparkembed`` command line (also ``python -m sparkembed``).

Each subcommand lives in ``sparkembed/commands/<name>.py`` as ``run(args, cfg) -> int``.
Config is loaded and checked before Spark starts, so a bad key fails in milliseconds.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sparkembed import __version__
from sparkembed.config import Config, load_config
from sparkembed.errors import SparkembedError

SUBCOMMANDS = {
    "doctor": "check Java, Spark, GraphFrames JAR and native BLAS",
    "tokenize": "corpus files -> DIR/tokens, DIR/vocab, DIR/rejected",
    "cooccur": "DIR/tokens + DIR/vocab -> DIR/cooccurrence (sharded), DIR/marginals",
    "train": "DIR -> DIR/vectors with word2vec or PPMI+SVD",
    "walks": "edge list or co-occurrence graph -> random walks -> vectors",
    "align": "map source vectors onto target vectors (Procrustes, CSLS)",
    "export": "vector table -> word2vec text/binary file",
    "evaluate": "word-pair similarity and analogy scores of a vector table",
    "similar": "nearest neighbours and word algebra (paris -france +russia)",
    "neighbors": "top-k neighbours of every token -> DIR/neighbors",
    "run": "a pipeline TOML: the stages above, skipping finished ones",
}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--conf", metavar="FILE.toml", help="config file (default: built-in local defaults)"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config value, e.g. --set train.dim=300 (repeatable)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sparkembed",
        description="Spark batch jobs that turn corpora and graphs into embedding vector tables.",
        epilog="Run 'sparkembed COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"sparkembed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cmds = {
        name: sub.add_parser(name, help=text, description=text)
        for name, text in SUBCOMMANDS.items()
    }
    for p in cmds.values():
        _common(p)

    p = cmds["tokenize"]
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files, directories or globs")
    p.add_argument("--output", required=True, metavar="DIR", help="work directory")
    p.add_argument("--format", choices=["auto", "wiki", "text", "jsonl", "parquet"])
    p.add_argument("--lang")
    p.add_argument("--min-count", type=int)
    p.add_argument("--max-vocab", type=int)

    p = cmds["cooccur"]
    p.add_argument("dir", metavar="DIR", help="work directory with tokens and vocab")
    p.add_argument("--window", type=int)
    p.add_argument("--weighting", choices=["harmonic", "uniform"])
    p.add_argument("--shards", type=int)
    p.add_argument(
        "--asymmetric", action="store_true", help="count only right contexts (col after row)"
    )
    p.add_argument("--subsample", type=float, metavar="T", help="hyperwords --sub threshold")
    p.add_argument("--keep-positions", action="store_true", help="OOV tokens keep their positions")

    p = cmds["train"]
    p.add_argument("dir", metavar="DIR", help="work directory")
    p.add_argument("--method", choices=["word2vec", "svd"])
    p.add_argument("--dim", type=int)
    p.add_argument("--output", metavar="VECTORS", help="vector table (default DIR/vectors)")

    p = cmds["walks"]
    p.add_argument(
        "source", metavar="EDGES|DIR", help="edge list (src,dst[,weight]) or work directory"
    )
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--weighted", action="store_true", default=None)
    p.add_argument("--p", type=float)
    p.add_argument("--q", type=float)
    p.add_argument("--walk-length", type=int)
    p.add_argument("--walks-per-node", type=int)
    p.add_argument("--dim", type=int)

    p = cmds["align"]
    p.add_argument("source_vectors", metavar="SOURCE_VECTORS")
    p.add_argument("target_vectors", metavar="TARGET_VECTORS")
    p.add_argument("--dictionary", required=True, metavar="PAIRS.tsv")
    p.add_argument("--output", required=True, metavar="DIR")

    p = cmds["export"]
    p.add_argument("vectors", metavar="VECTORS")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--binary", action="store_true", help="word2vec binary format")
    p.add_argument("--lang", help="the language to export, if the table holds several")

    p = cmds["evaluate"]
    p.add_argument("vectors", metavar="VECTORS")
    p.add_argument("--pairs", action="append", default=[], metavar="FILE")
    p.add_argument("--analogies", action="append", default=[], metavar="FILE")
    p.add_argument("--report", metavar="DIR", help="also write DIR/evaluation.json and .md")
    p.add_argument("--synonyms", action="append", default=[], metavar="FILE", help="synonym pairs")
    p.add_argument(
        "--clusters", action="append", default=[], metavar="FILE", help="'group<TAB>words' lines"
    )
    p.add_argument(
        "--no-builtin", action="store_true", help="skip the shipped synonym and cluster lists"
    )
    p.add_argument("--method", choices=["3cosadd", "3cosmul", "both"], default="both")
    p.add_argument("--lang", help="the language to evaluate, if the table holds several")
    p.add_argument("--restrict-vocab", type=int, metavar="N", help="only the N most frequent")
    p.add_argument("--case-sensitive", action="store_true", default=None, help="do not fold case")

    p = cmds["similar"]
    p.add_argument("vectors", metavar="VECTORS")
    p.add_argument("words", nargs="+", metavar="WORD", help="WORD, +WORD (add) or -WORD (subtract)")
    p.add_argument("--topn", type=int, help="answers to print (default evaluate.topn)")
    p.add_argument("--cosmul", action="store_true", help="3CosMul instead of 3CosAdd")
    p.add_argument("--lang", help="the language to query, if the table holds several")
    p.add_argument("--restrict-vocab", type=int, metavar="N", help="answers among the N first")

    p = cmds["neighbors"]
    p.add_argument("vectors", metavar="VECTORS")
    p.add_argument("--output", required=True, metavar="DIR", help="writes DIR/neighbors")
    p.add_argument("--topn", type=int, help="neighbours per token (default evaluate.topn)")
    p.add_argument("--tokens", metavar="FILE", help="only these tokens (one a line)")
    p.add_argument("--lang", help="the language to use, if the table holds several")
    p.add_argument("--block-mb", type=int, help="score matrix memory per block and task")

    p = cmds["run"]
    p.add_argument("pipeline", metavar="PIPELINE.toml")
    p.add_argument("--force", action="store_true", help="rerun stages whose outputs exist")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    # "-WORD" for 'similar' looks like an option to argparse: mark the rest as positional.
    if argv and argv[0] == "similar":
        argv = _protect_negative_words(argv)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        cfg: Config = load_config(args.conf, args.overrides)
        try:
            module = importlib.import_module(f"sparkembed.commands.{args.command}")
        except ModuleNotFoundError as exc:
            if exc.name != f"sparkembed.commands.{args.command}":
                raise
            print(f"sparkembed {args.command}: not built yet", file=sys.stderr)
            return 2
        return int(module.run(args, cfg) or 0)
    except SparkembedError as exc:
        print(f"sparkembed {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"sparkembed {args.command}: interrupted", file=sys.stderr)
        return 130


def _protect_negative_words(argv: list[str]) -> list[str]:
    """Options first, then '--' and the positionals in their order (VECTORS, words)."""
    with_value = {"--conf", "--set", "--topn", "--lang", "--restrict-vocab"}
    known = with_value | {"-q", "--quiet", "-h", "--help", "--cosmul"}
    out, rest = [argv[0]], []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a.split("=", 1)[0] in known:
            out.append(a)
            if a in with_value and i + 1 < len(argv):
                out.append(argv[i + 1])
                i += 1
        else:
            rest.append(a)
        i += 1
    return out + ["--", *rest]
