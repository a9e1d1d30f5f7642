"""The one exception type users see: its message is printed as a single line."""

from __future__ import annotations

import re
from contextlib import contextmanager


class SparkembedError(Exception):
    """A user-facing error (bad input, bad config, missing table); no traceback shown."""


class ConfigError(SparkembedError):
    """A config file or --set override names an unknown key or has a wrong type."""


@contextmanager
def task_errors():
    """Re-raise a SparkembedError that a Spark task raised (it reaches the driver as a
    PythonException carrying the worker's traceback) as a SparkembedError with its own
    one-line message, so the user reads what was wrong rather than the task's stack."""
    try:
        yield
    except SparkembedError:
        raise
    except Exception as exc:
        found = re.search(r"SparkembedError: ([^\n]+)", str(exc))
        if found is None:
            raise
        raise SparkembedError(found.group(1).strip()) from exc


# What the OS says when a write cannot go on, as Python, Java and Arrow all quote it.
WRITE_FAILURES = (
    "No space left on device",
    "Disk quota exceeded",
    "Read-only file system",
    "Permission denied",
)


def write_failure(exc: BaseException) -> str | None:
    """The OS's reason a write failed, wherever it was raised (this process, a Spark task,
    the JVM); None when ``exc`` is not such a failure."""
    texts = [str(exc)]
    java = getattr(exc, "java_exception", None)
    if java is not None:
        try:
            texts.append(str(java.toString()))
        except Exception:  # noqa: BLE001 - the gateway may be gone
            pass
    for reason in WRITE_FAILURES:
        if any(reason in text for text in texts):
            return reason
    return None
