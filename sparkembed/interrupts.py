"""Ctrl-C for commands: the running Spark jobs cancelled, the stage's own cleanup run, and
one line.

Python delivers SIGINT to the main thread as ``KeyboardInterrupt`` at its next bytecode.
Raised inside a Py4J call it breaks that call's connection to the JVM, and the cleanup that
follows (removing staged tables, through the same JVM) fails with Py4J errors. So while the
main thread waits on the JVM, the handler only asks: a helper thread cancels every Spark
job (the waiting call then fails, and the stage unwinds normally) and interrupts the main
thread again until it is back in Python code, where ``KeyboardInterrupt`` is safe. An
exception already unwinding is never interrupted: its cleanup runs to the end.
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_requested = threading.Event()  # Ctrl-C seen
_delivered = threading.Event()  # KeyboardInterrupt raised, or the run over
_deferred = threading.Event()  # in a block that must not be cut short (``deferred``)
RETRY_SECONDS = 0.25


def requested() -> bool:
    """Whether Ctrl-C was pressed during this command (whatever exception it caused)."""
    return _requested.is_set()


def caused_by_ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` is what Ctrl-C caused: our handler saw it, or a ``KeyboardInterrupt``
    lies in its chain (Ctrl-C during the SparkContext's start reaches pyspark's handler,
    whose ``KeyboardInterrupt`` inside a Py4J call comes back as a Py4J error)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return requested()


def _inside_py4j(frame) -> bool:
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("py4j."):
            return True
        frame = frame.f_back
    return False


_helpers: list[threading.Thread] = []


def _cancel_jobs_until_delivered() -> None:
    from pyspark import SparkContext

    while True:
        sc = SparkContext._active_spark_context
        if sc is not None:
            try:
                sc.cancelAllJobs()
            except Exception:  # noqa: BLE001 - the JVM may be gone already
                pass
        if _delivered.is_set():
            return
        _thread.interrupt_main()
        if _delivered.wait(RETRY_SECONDS):
            return


def _on_sigint(signum, frame) -> None:
    if _delivered.is_set():
        return
    if not _requested.is_set():
        _requested.set()
        helper = threading.Thread(target=_cancel_jobs_until_delivered, daemon=True)
        _helpers.append(helper)
        helper.start()
    if _deferred.is_set() or sys.exc_info()[0] is not None or _inside_py4j(frame):
        return  # not now: the helper thread comes back
    _delivered.set()
    raise KeyboardInterrupt


@contextmanager
def sigint_cancels_jobs() -> Iterator[None]:
    """Handle Ctrl-C as the module docstring says, for the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _requested.clear()
    _delivered.clear()
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        # Ctrl-C never delivered (swallowed by code that catches too much, or pressed as
        # the block ended) still ends the command as interrupted.
        undelivered = _requested.is_set() and not _delivered.is_set()
        _delivered.set()
        # The helper's last interrupt must reach our handler (which now ignores it), not the
        # one restored below.
        while _helpers:
            _helpers.pop().join()
        signal.signal(signal.SIGINT, previous)
    if undelivered:
        raise KeyboardInterrupt


def acknowledge() -> None:
    """The command has reported Ctrl-C (as whatever exception it caused): stop delivering."""
    _delivered.set()


@contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C until the block ends (the driver JVM's start: cut short, pyspark removes
    the folder the JVM reports its port in, and the JVM, failing to, never exits)."""
    _deferred.set()
    try:
        yield
    finally:
        _deferred.clear()


@contextmanager
def keep_sigint_handler() -> Iterator[None]:
    """Keep the SIGINT handler in place across the block: a SparkContext installs its own,
    whose Py4J call from inside the handler, while the main thread waits on another, breaks
    that connection instead of stopping the command."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    install = signal.signal

    def install_but_sigint(signum, handler):
        if signum == signal.SIGINT:
            return signal.getsignal(signum)
        return install(signum, handler)

    signal.signal = install_but_sigint
    try:
        yield
    finally:
        signal.signal = install
