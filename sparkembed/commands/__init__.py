"""Commands that are not stages, each a module with ``NAME``, ``HELP``, ``WRITES``,
``add_arguments(parser)`` and ``run(args, cfg) -> exit code``: ``doctor`` (the
environment), ``similar`` (queries on a vector table), ``run`` (a pipeline of stages),
``dictionary`` (seed pairs for align). ``class_archive`` is set-up's, not the CLI's."""

from sparkembed.commands import dictionary, doctor, run, similar

COMMANDS = {m.NAME: m for m in (doctor, similar, run, dictionary)}
