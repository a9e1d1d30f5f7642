"""Learn the map: seed dictionary -> Procrustes -> refinement rounds, as MUSE and VecMap do
it, with every whole-vocabulary pass in Spark (``apply``) and only dictionary-sized and
``refine_top``-sized matrices on the driver (``procrustes``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sparkembed.errors import SparkembedError
from sparkembed.stages.align import apply
from sparkembed.stages.align.dictionary import Dictionary
from sparkembed.stages.align.procrustes import (
    check_steps,
    mutual_csls_pairs,
    normalize,
    procrustes,
    unit,
)


@dataclass
class Side:
    """One language's vector table (rows of one ``lang``) and what the map needs of it."""

    frame: object  # DataFrame: token, vector, count, position (read_vectors')
    lang: str
    dim: int
    means: list = field(default_factory=list)  # before each ``center`` step


@dataclass
class Alignment:
    w: np.ndarray  # d x d, source @ w lands in the target space
    steps: tuple[str, ...]
    source: Side
    target: Side
    info: dict


def learn_map(
    source: Side,
    target: Side,
    dictionary: Dictionary,
    steps,
    *,
    refine_rounds: int = 5,
    refine_top: int = 10_000,
    csls_k: int = 10,
    log: Callable[[str], None] = lambda _m: None,
) -> Alignment:
    """The orthogonal map of ``source`` onto ``target`` from ``dictionary``, refined by
    mutual CSLS neighbours among the ``refine_top`` most frequent words of each side while
    the mean cosine of the source words' best targets improves (at most ``refine_rounds``).
    ``info`` records the rounds run, the round whose map is kept (0: the seed's) and each
    round's mutual pairs and criterion.
    """
    steps = check_steps(steps)
    if source.dim != target.dim:
        raise SparkembedError(
            f"align: the source vectors have dimension {source.dim}, the target "
            f"{target.dim}; both sides need the same dimension"
        )
    source.means = apply.step_means(source.frame, source.dim, steps, f"source ({source.lang})")
    target.means = apply.step_means(target.frame, target.dim, steps, f"target ({target.lang})")
    src_rows = apply.rows_of(source.frame, [a for a, _ in dictionary.pairs], source.dim, "source")
    tgt_rows = apply.rows_of(target.frame, [b for _, b in dictionary.pairs], target.dim, "target")
    pairs = [(a, b) for a, b in dictionary.pairs if a in src_rows and b in tgt_rows]
    info = {**dictionary.stats(), "dictionary_pairs_in_vocabularies": len(pairs)}
    if not pairs:
        raise SparkembedError(
            f"align: none of the dictionary's {len(dictionary.pairs):,} pairs has its source "
            f"word in the source vocabulary and its target word in the target vocabulary"
        )
    x = normalize(np.stack([src_rows[a] for a, _ in pairs]), steps, source.means)
    y = normalize(np.stack([tgt_rows[b] for _, b in pairs]), steps, target.means)
    w = procrustes(x, y)
    log(f"Procrustes on {len(pairs):,} dictionary pairs")
    rounds: list[dict] = []
    if refine_rounds > 0:
        _, xs = apply.top_rows(source.frame, refine_top, source.dim, "source")
        _, ys = apply.top_rows(target.frame, refine_top, target.dim, "target")
        xs = normalize(xs, steps, source.means)
        ys = normalize(ys, steps, target.means)
        w, rounds = refine(xs, ys, w, refine_rounds, csls_k, log)
    kept = max((r["round"] for r in rounds if r.get("kept")), default=0)
    info.update(refine_rounds=max(len(rounds) - 1, 0), refine_kept_round=kept, refinement=rounds)
    return Alignment(w, steps, source, target, info)


def refine(xs, ys, w, rounds: int, csls_k: int, log=lambda _m: None):
    """MUSE's refinement: dictionary from mutual CSLS neighbours of ``xs @ w`` and ``ys``,
    Procrustes on it, while the criterion (mean cosine of the best targets) improves. The
    best map is kept; returns it and one record per round."""

    def criterion(m):
        pairs, cosine = mutual_csls_pairs(unit(xs @ m), unit(ys), csls_k)
        return pairs, cosine

    pairs, best = criterion(w)
    history = [{"round": 0, "pairs": int(len(pairs)), "criterion": best, "kept": True}]
    for r in range(1, rounds + 1):
        if len(pairs) < 2:
            break
        candidate = procrustes(xs[pairs[:, 0]], ys[pairs[:, 1]])
        new_pairs, score = criterion(candidate)
        history.append(
            {"round": r, "pairs": int(len(new_pairs)), "criterion": score, "kept": score > best}
        )
        log(f"refinement {r}: {len(new_pairs):,} mutual pairs, mean cosine {score:.4f}")
        if score <= best:
            break
        w, pairs, best = candidate, new_pairs, score
    return w, history
