"""Counter-based random numbers for walks: every draw is a pure function of
(seed, walk id, step, attempt), so a walk is the same whichever task, partition or executor
takes it, and however often a task is retried. No generator state is carried anywhere.

The mixing function is splitmix64's finaliser (Steele, Lea & Flood 2014), applied to the
key in three rounds; vectorised over numpy uint64 arrays (wrap-around multiplication is the
point, so overflow warnings are off).
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / float(1 << 53)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def uniforms(seed: int, walk_ids: np.ndarray, step: int, attempt: int = 0) -> np.ndarray:
    """One U[0, 1) float64 per walk id for ``step`` (and rejection ``attempt``)."""
    with np.errstate(over="ignore"):
        key = _mix(np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * _GOLDEN + np.uint64(1))
        z = _mix(np.asarray(walk_ids, dtype=np.uint64) * _GOLDEN ^ key)
        z = _mix(z ^ (np.uint64(step) * _GOLDEN + np.uint64(attempt) * _M1))
    return (z >> np.uint64(11)).astype(np.float64) * _TO_UNIT
