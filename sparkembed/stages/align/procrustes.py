"""The algebra of alignment, in numpy on the driver: normalisation steps, orthogonal
Procrustes, CSLS and the refinement dictionary. Only dictionary rows, the most frequent
``refine_top`` words of each side and d x d matrices come here; whole vocabularies are
mapped in Spark (``sparkembed.stages.align.apply``).

Conventions: rows are vectors; the map ``w`` is d x d and acts on the right, ``x @ w``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from sparkembed.errors import SparkembedError

NORMALIZE_STEPS = ("unit", "center")


def check_steps(steps: Sequence[str]) -> tuple[str, ...]:
    """The normalisation steps (VecMap's ``unit``, ``center``, in any order), checked."""
    bad = [s for s in steps if s not in NORMALIZE_STEPS]
    if bad:
        raise SparkembedError(
            f"align.normalize: unknown step {bad[0]!r} (steps: {', '.join(NORMALIZE_STEPS)})"
        )
    return tuple(steps)


def unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float64); zero rows stay zero."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def normalize(x: np.ndarray, steps: Sequence[str], means: Sequence[np.ndarray]) -> np.ndarray:
    """``x`` through ``steps``; ``means[i]`` is the mean subtracted by the i-th ``center``
    (the mean of the whole vocabulary after the steps before it: ``step_means``)."""
    out = np.asarray(x, dtype=np.float64)
    centers = iter(means)
    for step in steps:
        out = unit(out) if step == "unit" else out - next(centers)
    return out


def procrustes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The orthogonal ``w`` minimising ``||x w - y||_F``: ``u vᵀ`` from the SVD of ``xᵀ y``
    (Schönemann 1966), for paired rows of ``x`` (source) and ``y`` (target)."""
    if x.shape != y.shape:
        raise SparkembedError(f"procrustes: {x.shape} source rows against {y.shape} target rows")
    u, _, vt = np.linalg.svd(np.asarray(x, np.float64).T @ np.asarray(y, np.float64))
    return u @ vt


def _blocks(n: int, rows: int) -> Iterator[slice]:
    for start in range(0, n, rows):
        yield slice(start, min(start + rows, n))


def mean_top_cosine(a: np.ndarray, b: np.ndarray, k: int, rows: int = 1024) -> np.ndarray:
    """For each unit row of ``a``: the mean cosine of its ``k`` nearest unit rows of ``b``
    (CSLS's neighbourhood density r), by blocks of ``rows``."""
    k = min(k, b.shape[0])
    out = np.empty(a.shape[0])
    for s in _blocks(a.shape[0], rows):
        scores = a[s] @ b.T
        top = np.partition(scores, scores.shape[1] - k, axis=1)[:, scores.shape[1] - k :]
        out[s] = top.mean(axis=1)
    return out


def csls_best(
    src: np.ndarray,
    tgt: np.ndarray,
    r_src: np.ndarray,
    r_tgt: np.ndarray,
    rows: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """Best target row of each (mapped, unit) source row by CSLS, ``2 cos - r_src - r_tgt``
    (Conneau et al. 2018), and its score; ties to the lower (more frequent) target row."""
    best = np.empty(src.shape[0], dtype=np.int64)
    score = np.empty(src.shape[0])
    for s in _blocks(src.shape[0], rows):
        csls = 2 * (src[s] @ tgt.T) - r_src[s, None] - r_tgt[None, :]
        best[s] = np.argmax(csls, axis=1)
        score[s] = csls[np.arange(csls.shape[0]), best[s]]
    return best, score


def mutual_csls_pairs(src: np.ndarray, tgt: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """Pairs ``(i, j)`` (int64, n x 2) where source row i's CSLS-best target is j and
    target row j's CSLS-best source is i, and the mean cosine of the source rows' best
    targets (the refinement's criterion). Rows are unit vectors in the shared space."""
    r_src = mean_top_cosine(src, tgt, k)  # how crowded each source row's target side is
    r_tgt = mean_top_cosine(tgt, src, k)
    fwd, _ = csls_best(src, tgt, r_src, r_tgt)
    back, _ = csls_best(tgt, src, r_tgt, r_src)
    mutual = np.flatnonzero(back[fwd] == np.arange(len(fwd)))
    cosine = float(np.mean(np.sum(src * tgt[fwd], axis=1))) if len(fwd) else 0.0
    return np.stack([mutual, fwd[mutual]], axis=1), cosine
