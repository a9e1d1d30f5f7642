"""The ``sparkembed`` command line (also ``python -m sparkembed`` and jobs/sparkembed_job.py).

One subcommand per registered stage (``sparkembed.stages.REGISTRY``) and per command
(``sparkembed.commands.COMMANDS``). Config is loaded and every argument checked before Spark
starts; every failure a user can cause ends in one line and exit code 1 (``--debug``
shows the traceback).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys

from sparkembed import __version__
from sparkembed.config import load_config, validate
from sparkembed.errors import SparkembedError
from sparkembed.interrupts import acknowledge as acknowledge_ctrl_c
from sparkembed.interrupts import caused_by_ctrl_c, sigint_cancels_jobs
from sparkembed.stage import add_common_arguments, add_stage_arguments


def build_parser() -> argparse.ArgumentParser:
    from sparkembed.commands import COMMANDS
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
        add_stage_arguments(p, stage)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.HELP, description=command.HELP)
        add_common_arguments(p, writes=command.WRITES)
        command.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        with sigint_cancels_jobs():
            return _main(argv)
    except KeyboardInterrupt:  # before the command was known, or as it ended
        print("sparkembed: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    # Py4J logs a broken connection with its traceback; the command reports its own failure.
    logging.getLogger("py4j").setLevel(logging.CRITICAL + 1)
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    # "-WORD" for 'similar' looks like an option to argparse: mark the rest as positional.
    if argv and argv[0] == "similar":
        argv = _protect_negative_words(parser, argv)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(dispatch(args) or 0)
    except BaseException as exc:  # noqa: B036 - every failure ends in one line
        # Ctrl-C ends in whatever the cancelled job raised (or KeyboardInterrupt): the
        # stage has unwound and removed what it staged either way.
        if caused_by_ctrl_c(exc):
            acknowledge_ctrl_c()
            print(f"sparkembed {args.command}: interrupted", file=sys.stderr)
            return 130
        if args.debug or isinstance(exc, SystemExit):
            raise
        print(f"sparkembed {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 1


def dispatch(args) -> int:
    from sparkembed.commands import COMMANDS
    from sparkembed.options import apply_config_options
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
    apply_config_options(args, cfg)
    validate(cfg)
    return COMMANDS[args.command].run(args, cfg)


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
    worker = _python_worker_error(exc)
    if worker is not None:
        return worker
    java = getattr(exc, "java_exception", None)
    if java is not None:
        return _java_message(java)
    text = " ".join(str(exc).split()) or type(exc).__name__
    name = type(exc).__name__
    if type(exc).__module__.startswith("pyspark"):
        return f"{name}: {text[:500]}"
    return f"internal error {name}: {text[:300]} (rerun with --debug for the traceback)"


# The line that ends a Python traceback: "ValueError: ...", "sparkembed.errors.X: ...".
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*): (.+)$")
_OS_ERROR = re.compile(r"^\[Errno \d+\] ([^:]+)(?:: '(.*)')?$")


def _python_worker_error(exc: BaseException) -> str | None:
    """The error a Spark task's Python worker raised, from the traceback Spark hands back
    (None when ``exc`` carries none): our message as it is, the OS's with its file."""
    text = str(exc)
    if "Traceback (most recent call last)" not in text:
        return None
    found = None
    for line in text.splitlines():
        match = _EXCEPTION_LINE.match(line.strip())
        if match and not match.group(1).startswith(("org.", "java.", "scala.", "py4j.")):
            found = match
    if found is None:
        return None
    name, message = found.group(1).rsplit(".", 1)[-1], found.group(2).strip()
    if name in ("SparkembedError", "ConfigError"):
        return message
    os_error = _OS_ERROR.match(message)
    if os_error and name in ("OSError", "PermissionError", "FileNotFoundError", "IOError"):
        cause, path = os_error.groups()
        return f"{cause}: {path}" if path else cause
    return f"{name} in a Spark task: {message[:300]} (rerun with --debug for the traceback)"


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


def _similar_options(parser: argparse.ArgumentParser) -> tuple[set[str], set[str]]:
    """The option strings of ``similar``: those that take a value, and all of them."""
    choices = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    options = [a for a in choices.choices["similar"]._actions if a.option_strings]
    with_value = {o for a in options if a.nargs != 0 for o in a.option_strings}
    return with_value, {o for a in options for o in a.option_strings}


def _protect_negative_words(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """Options first, then '--' and the positionals in their order (VECTORS, words)."""
    with_value, known = _similar_options(parser)
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
