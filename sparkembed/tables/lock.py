"""One writer per work directory: a stage (and ``sparkembed run``, for its whole pipeline)
holds ``FOLDER/.sparkembed.lock`` in every folder it writes tables into, from before its
first write until it ends.

The lock is a file created atomically (``O_EXCL``) holding the owner's host, pid, process
start time and command. A second writer is refused with one line naming the holder. A lock
left by a process of this host that is gone (its pid is dead, or now another process's) is
broken, with a line saying so. The same process may take a lock it already holds (a
pipeline's stages inside its run). Only local folders are locked: on HDFS or object stores
a lock file is not atomic enough to trust, and two writers there are the user's to avoid
(the commit protocol still never leaves a half-written table).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sparkembed.errors import SparkembedError
from sparkembed.tables.storage import local_path

LOCK_NAME = ".sparkembed.lock"

_held: dict[str, int] = {}  # lock file -> how many holders in this process


def _process_start(pid: int) -> str | None:
    """A process's start time in clock ticks since boot (Linux), to tell a reused pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _owner() -> dict:
    pid = os.getpid()
    return {
        "host": socket.gethostname(),
        "pid": pid,
        "pid_start": _process_start(pid),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": " ".join(sys.argv[:4])[:200],
    }


def _gone(owner: dict) -> bool:
    """Whether the lock's owner is a process of this host that no longer runs."""
    if owner.get("host") != socket.gethostname():
        return False
    try:
        pid = int(owner["pid"])
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, KeyError, ValueError, TypeError):
        return False
    recorded, current = owner.get("pid_start"), _process_start(pid)
    return recorded is not None and current is not None and recorded != current


def _acquire(path: str) -> None:
    if path in _held:
        _held[path] += 1
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                with open(path, encoding="utf-8") as f:
                    owner = json.load(f)
            except (OSError, ValueError):
                owner = {}
            if owner and not _gone(owner):
                folder = os.path.dirname(path)
                raise SparkembedError(
                    f"{folder} is being written by pid {owner.get('pid')} on "
                    f"{owner.get('host')} since {owner.get('started')} "
                    f"({owner.get('command', '?')}): wait for it to end, or remove {path} "
                    "if that process is gone"
                ) from None
            print(
                f"[lock] removing the stale lock {path} ({owner or 'unreadable'})", file=sys.stderr
            )
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(_owner(), f)
        _held[path] = 1
        return
    raise SparkembedError(f"could not take the lock {path}")


def _release(path: str) -> None:
    _held[path] -= 1
    if _held[path] == 0:
        del _held[path]
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


@contextmanager
def writer_lock(folders: Iterable[str]) -> Iterator[None]:
    """Hold the lock of every local folder in ``folders`` for the block."""
    local = [local_path(str(f)) for f in folders]
    paths = sorted(
        {
            os.path.join(
                os.path.abspath("/" + f.lstrip("/") if f.startswith("//") else f), LOCK_NAME
            )
            for f in local
            if "://" not in f
        }
    )
    taken: list[str] = []
    try:
        for path in paths:
            _acquire(path)
            taken.append(path)
        yield
    finally:
        for path in reversed(taken):
            _release(path)


def output_folders(outputs: Iterable[str]) -> list[str]:
    """The folders a stage writes tables into: each output's parent."""
    return [os.path.dirname(local_path(str(p)).rstrip("/")) or "." for p in outputs]
