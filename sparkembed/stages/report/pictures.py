"""The report's pictures, drawn with matplotlib (Agg, no display) from numpy arrays: the
word map, the dimension heatmap, norms against frequency, evaluation bars.

Every figure is written with fixed metadata, so the same input gives the same PNG bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sparkembed.errors import SparkembedError

PNG_METADATA = {"Software": None}  # no matplotlib version stamp: same input, same bytes
# The heatmap's default words, those of them the table has (the seed's king and queen).
HEATMAP_WORDS = [
    "king", "queen", "man", "woman", "prince", "princess", "boy", "girl",
    "father", "mother", "son", "daughter", "water", "fire", "paris", "france",
]  # fmt: skip


def plotting():
    """matplotlib's pyplot on the Agg backend, or one line saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SparkembedError(
            "sparkembed report needs the plotting extra: pip install 'sparkembed[report]' "
            "(scripts/setup.sh installs it)"
        ) from None
    return plt


def project_2d(x: np.ndarray, method: str, seed: int) -> np.ndarray:
    """2-D coordinates of the rows of ``x`` (unit vectors): t-SNE or UMAP, seeded."""
    n = len(x)
    if n < 4:
        return np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
    try:
        if method == "umap":
            import umap

            model = umap.UMAP(n_components=2, random_state=seed, n_neighbors=min(15, n - 1))
            return np.asarray(model.fit_transform(x), np.float64)
        from sklearn.manifold import TSNE
    except ImportError:
        raise SparkembedError(
            "sparkembed report needs scikit-learn (t-SNE) or umap-learn: pip install "
            "'sparkembed[report]'"
        ) from None
    perplexity = float(min(30.0, (n - 1) / 3))
    tsne = TSNE(n_components=2, init="pca", random_state=seed, perplexity=perplexity)
    return np.asarray(tsne.fit_transform(x.astype(np.float64)), np.float64)


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=100, metadata=PNG_METADATA)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def word_map(path: Path, xy, names, colour_ids, legend: list[str], labelled: int, title: str):
    """The 2-D map: one dot per word, coloured by cluster (or label), the first
    ``labelled`` names written beside their dots."""
    plt = plotting()
    fig, ax = plt.subplots(figsize=(12, 9))
    cmap = plt.get_cmap("tab20")
    colours = [cmap(i % 20) for i in range(len(legend))]
    for c, name in enumerate(legend):
        mask = colour_ids == c
        ax.scatter(xy[mask, 0], xy[mask, 1], s=10, color=colours[c], label=name, alpha=0.8)
    for i in range(min(labelled, len(names))):  # dark text: pale cluster colours are unreadable
        ax.annotate(names[i], xy[i], fontsize=7, xytext=(2, 2), textcoords="offset points",
                    color="#222222")  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    if len(legend) <= 20:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, markerscale=2)
    fig.tight_layout()
    return _save(fig, path)


def sorted_dimensions(unit_rows: np.ndarray) -> np.ndarray:
    """Dimensions in decreasing order of their mean over the rows: one the words share
    comes first (left), one they share with the opposite sign last."""
    return np.argsort(-unit_rows.mean(axis=0), kind="stable")


def heatmap(path: Path, words: list[str], unit_rows: np.ndarray, title: str) -> Path:
    """Words on rows, dimensions on columns (sorted by ``sorted_dimensions``), blue
    negative, red positive, symmetric about zero."""
    plt = plotting()
    order = sorted_dimensions(unit_rows)
    values = unit_rows[:, order]
    limit = float(np.abs(values).max()) or 1.0
    width = min(16.0, 4 + 0.08 * values.shape[1])
    fig, ax = plt.subplots(figsize=(width, 1.2 + 0.35 * len(words)))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_yticks(range(len(words)), labels=words, fontsize=9)
    ax.set_xlabel("dimension, sorted by its mean over these words (left: shared, positive)")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label="unit vector component")
    fig.tight_layout()
    return _save(fig, path)


def norms_plot(path: Path, counts: np.ndarray | None, norms: np.ndarray, rho: float, title: str):
    """Norm against count; ``counts`` None (a table without counts): against the row's
    place in the table's order."""
    plt = plotting()
    fig, ax = plt.subplots(figsize=(8, 5))
    if counts is None:
        ax.scatter(np.arange(1, norms.size + 1), norms, s=3, alpha=0.3, color="#1f77b4")
        ax.set_xlabel("row in the table's order (no counts; log scale)")
        ax.set_title(f"{title}: no counts")
    else:
        ax.scatter(np.maximum(counts, 1), norms, s=3, alpha=0.3, color="#1f77b4")
        ax.set_xlabel("frequency (count, log scale)")
        ax.set_title(f"{title}: Spearman rank correlation {rho:+.3f}")
    ax.set_xscale("log")
    ax.set_ylabel("vector norm")
    fig.tight_layout()
    return _save(fig, path)


def evaluation_bars(path: Path, reports: list[tuple[str, dict]]) -> Path:
    """Grouped bars: per test (word-pair Spearman, analogy accuracy), one bar per table."""
    plt = plotting()
    tests: list[str] = []
    scores: dict[tuple[str, str], float] = {}
    for name, r in reports:
        for p in r.get("word_pairs", []):
            key = f"{p['name']} (Spearman)"
            tests.append(key)
            scores[(name, key)] = p.get("spearman") or 0.0
        for a in r.get("analogies", []):
            key = f"{a['name']} {a['method']} (accuracy)"
            tests.append(key)
            scores[(name, key)] = a.get("accuracy") or 0.0
    tests = list(dict.fromkeys(tests))
    if not tests:
        raise SparkembedError("--evaluation: the reports hold no word-pair or analogy results")
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(tests) * max(1, len(reports)) / 2), 4.5))
    width = 0.8 / len(reports)
    for j, (name, _r) in enumerate(reports):
        values = [scores.get((name, t), 0.0) for t in tests]
        xs = np.arange(len(tests)) + (j - (len(reports) - 1) / 2) * width
        bars = ax.bar(xs, values, width, label=name)
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
    ax.set_xticks(range(len(tests)), labels=tests, fontsize=8, rotation=15, ha="right")
    ax.set_ylabel("score")
    ax.legend(fontsize=8)
    ax.set_title("evaluation")
    fig.tight_layout()
    return _save(fig, path)
