"""Spherical (cosine) k-means in numpy, seeded: for the few thousand rows at most that
evaluate's cluster test and the report's word map cluster on the driver, where starting
Spark for them would cost more than the clustering."""

from __future__ import annotations

import numpy as np


def spherical_kmeans(
    x: np.ndarray, k: int, seed: int = 42, restarts: int = 10, iters: int = 100
) -> np.ndarray:
    """Cluster ids of the unit rows ``x`` by cosine k-means: k-means++ starts, the best fit
    (sum of each row's cosine to its centre) of ``restarts`` runs, at most ``min(k, rows)``
    clusters. Ids are numbered by first appearance, so the first row is in cluster 0 and
    the same rows and seed give the same ids."""
    x = np.asarray(x)
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64)
    k = max(1, min(k, len(x)))
    rng = np.random.default_rng(seed)
    best_labels, best_fit = np.zeros(len(x), dtype=np.int64), -np.inf
    for _ in range(restarts):
        centres = [x[rng.integers(len(x))]]
        for _ in range(1, k):
            dist = 1 - np.max(x @ np.asarray(centres).T, axis=1)
            dist = np.clip(dist, 0, None) ** 2
            probs = dist / dist.sum() if dist.sum() > 0 else np.full(len(x), 1 / len(x))
            centres.append(x[rng.choice(len(x), p=probs)])
        c = np.asarray(centres)
        labels = np.full(len(x), -1)
        for _ in range(iters):
            new = np.argmax(x @ c.T, axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            for j in range(k):
                members = x[labels == j]
                if len(members):  # an empty cluster keeps its centre
                    m = members.sum(axis=0)
                    c[j] = m / (np.linalg.norm(m) or 1)
        fit = float(np.sum(np.max(x @ c.T, axis=1)))
        if fit > best_fit:
            best_fit, best_labels = fit, labels
    _, first = np.unique(best_labels, return_index=True)
    order = np.argsort(first, kind="stable")  # clusters by their first row
    renumber = np.empty(len(first), dtype=np.int64)
    renumber[order] = np.arange(len(first))
    ids = np.searchsorted(np.unique(best_labels), best_labels)
    return renumber[ids]
