"""The driver JVM's stderr, passed on to ours without the lines that are never news.

Spark's own log lines are shaped by log4j2.properties; what remains is written by the JVM
launcher and by the Python workers the JVM starts: the launcher's note about the incubating
vector module (Spark adds it to every JVM), and the traceback a worker prints when the JVM
closes its socket because the task was cancelled or the job failed (the command reports the
failure itself, in one line).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from typing import IO

NEVER_NEWS = re.compile(r"WARNING: Using incubator modules: ")
TRACEBACK_START = "Traceback (most recent call last):"
# The exception line that ends a worker's traceback when its socket was closed under it.
CLOSED_SOCKET = re.compile(r"(BrokenPipeError|ConnectionResetError|EOFError)\b")


def filtered_lines(lines):
    """``lines`` without the launcher's note and without closed-socket tracebacks."""
    held: list[str] = []
    for line in lines:
        if held:
            if line[:1].isspace() or not line.strip():
                held.append(line)
                continue
            if not CLOSED_SOCKET.match(line):
                yield from held
                yield line
            held = []
            continue
        if line.startswith(TRACEBACK_START):
            held = [line]
        elif not NEVER_NEWS.match(line):
            yield line
    yield from held


def _forward(stream: IO[bytes], fd: int, muted: Callable[[], bool]) -> None:
    text = (raw.decode("utf-8", "replace") for raw in iter(stream.readline, b""))
    for line in filtered_lines(text):
        if muted():
            continue
        try:
            os.write(fd, line.encode("utf-8"))
        except OSError:
            return


def forward_jvm_stderr(
    stream: IO[bytes], fd: int = 2, muted: Callable[[], bool] = lambda: False
) -> None:
    """Copy ``stream`` (the JVM's stderr pipe) to ``fd`` in a daemon thread, filtered, and
    nothing while ``muted()`` (after Ctrl-C, when cancelled tasks only report that)."""
    threading.Thread(
        target=_forward, args=(stream, fd, muted), daemon=True, name="jvm-stderr"
    ).start()
