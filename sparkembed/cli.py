"""The ``sparkembed`` command line (also ``python -m sparkembed`` and jobs/sparkembed_job.py).

One subcommand per registered stage (``sparkembed.stages.REGISTRY``), plus ``doctor``,
``similar`` and ``run``. Config is loaded and every argument checked before Spark
starts; every failure a user can cause ends in one line and exit code 1 (``--debug``
shows the traceback).
"""

from __future__ import annotations

import argparse
import sys

from sparkembed import __version__
from sparkembed.config import load_config
from sparkembed.errors import SparkembedError
from sparkembed.stage import add_common_arguments

TOOLS = {
    "doctor": "check Java, Spark, GraphFrames JAR and native BLAS",
    "similar": "nearest neighbours and word algebra (paris -france +russia)",
    "run": "a pipeline TOML: the stages in order, skipping those up to date",
    "dictionary": "a FreeDict dictionary (dictd) -> source<TAB>target pairs for align",
}


def build_parser() -> argparse.ArgumentParser:
    from sparkembed.commands import dictionary, doctor, run, similar
    from sparkembed.stages import REGISTRY

    parser = argparse.ArgumentParser(
        prog="sparkembed",
        description="Spark batch jobs that turn corpora and graphs into embedding vector tables.",
        epilog="Run 'sparkembed COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"sparkembed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for stage in REGISTRY.values():
        p = sub.add_parser(stage.name, help=stage.help, description=stage.help)
        add_common_arguments(p, writes=True)
        stage.add_arguments(p)
    tools = (("doctor", doctor), ("similar", similar), ("run", run), ("dictionary", dictionary))
    for name, module in tools:
        p = sub.add_parser(name, help=TOOLS[name], description=TOOLS[name])
        add_common_arguments(p, writes=False)
        module.add_arguments(p)
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
        return int(dispatch(args) or 0)
    except KeyboardInterrupt:
        print(f"sparkembed {args.command}: interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:  # noqa: B036 - every failure ends in one line
        if args.debug or isinstance(exc, SystemExit):
            raise
        print(f"sparkembed {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 1


def dispatch(args) -> int:
    from sparkembed.commands import dictionary, doctor, run, similar
    from sparkembed.session import resolve_jit
    from sparkembed.stage import Context, execute, prepare
    from sparkembed.stages import REGISTRY

    cfg = load_config(args.conf, args.overrides)
    if args.command in REGISTRY:
        stage = REGISTRY[args.command]
        plan = prepare(stage, args, cfg)
        cfg.spark.jit = resolve_jit(cfg.spark.jit, stage.jvm_bound(cfg))
        ctx = Context(cfg, quiet=args.quiet, overwrite=args.overwrite)
        print(execute(stage, plan, cfg, ctx))
        return 0
    tools = {"doctor": doctor, "similar": similar, "run": run, "dictionary": dictionary}
    return tools[args.command].run(args, cfg)


def one_line(exc: BaseException) -> str:
    """The message a user needs, on one line: ours as it is, the OS's with the file it names,
    Spark's and Java's with the exception's first line (and the root cause's)."""
    if isinstance(exc, SparkembedError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 ({exc.reason} at byte {exc.start})"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    java = getattr(exc, "java_exception", None)
    if java is not None:
        return _java_message(java)
    text = " ".join(str(exc).split()) or type(exc).__name__
    name = type(exc).__name__
    if type(exc).__module__.startswith("pyspark"):
        return f"{name}: {text[:500]}"
    return f"internal error {name}: {text[:300]} (rerun with --debug for the traceback)"


def _java_message(java) -> str:
    """First line of a Java exception, and of its root cause when that says more."""
    try:
        top = str(java.toString()).splitlines()[0]
        cause = java
        while cause.getCause() is not None and cause.getCause() != cause:
            cause = cause.getCause()
        root = str(cause.toString()).splitlines()[0]
    except Exception:  # noqa: BLE001 - the gateway may be gone
        return str(java).splitlines()[0]
    return top if root == top else f"{root} (in {top.split(':')[0]})"


def _similar_options() -> tuple[set[str], set[str]]:
    """The option strings of ``similar``: those that take a value, and all of them."""
    from sparkembed.commands import similar

    p = argparse.ArgumentParser(add_help=True)
    add_common_arguments(p, writes=False)
    similar.add_arguments(p)
    options = [a for a in p._actions if a.option_strings]
    with_value = {o for a in options if a.nargs != 0 for o in a.option_strings}
    return with_value, {o for a in options for o in a.option_strings}


def _protect_negative_words(argv: list[str]) -> list[str]:
    """Options first, then '--' and the positionals in their order (VECTORS, words)."""
    with_value, known = _similar_options()
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
