"""Python worker tuning for numpy-heavy tasks (cooccur's counting, train's PPMI blocks)."""

from __future__ import annotations

import numpy as np

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3  # glibc mallopt parameters


_worker_memory_tuned = False


def tune_worker_memory() -> None:
    """Keep freed memory in this (worker) process for the next chunk, once per process.

    The counting loops allocate and free arrays of tens of MB chunk after chunk. By default
    glibc gives such blocks back to the OS and the next one is paged in (and zeroed) again,
    and numpy asks for transparent huge pages, whose faults may compact memory first. Both
    cost more than the arithmetic here (docs/benchmarks.md has the measurement).
    No-op where there is no glibc.
    """
    global _worker_memory_tuned
    if _worker_memory_tuned:
        return
    _worker_memory_tuned = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's maximum
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
        libc.mallopt(_M_TOP_PAD, 64 << 20)
    except (OSError, AttributeError):
        pass
    multiarray = getattr(getattr(np, "_core", None), "multiarray", None)
    madvise = getattr(multiarray, "_set_madvise_hugepage", None)
    if madvise is not None:
        madvise(False)
