"""Frequent-word subsampling, decided per token by a counter-based draw.

A token's draw is a function of (seed, doc_id, sentence, position in the sentence) only, so
the kept tokens do not depend on how the corpus is partitioned. Shared by cooccur
(hyperwords' rule) and train's word2vec (word2vec's rule).
"""

from __future__ import annotations

import numpy as np
from pyspark.sql import Column
from pyspark.sql import functions as F

RULES = ("hyperwords", "word2vec")


def keep_probability(counts: np.ndarray, threshold: float, rule: str) -> np.ndarray:
    """Probability of keeping one occurrence of each word, from the words' corpus counts.

    With f a word's share of the counted tokens and t the threshold:
    ``hyperwords``: min(1, sqrt(t / f)) (Levy et al. 2015, the --sub of hyperwords);
    ``word2vec``: min(1, (sqrt(f / t) + 1) * t / f) (word2vec.c and gensim's ``sample``).
    """
    if rule not in RULES:
        raise ValueError(f"subsampling rule must be one of {RULES}, got {rule!r}")
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return np.ones(len(counts))
    freq = counts / total
    with np.errstate(divide="ignore", invalid="ignore"):
        if rule == "hyperwords":
            keep = np.sqrt(threshold / freq)
        else:
            keep = (np.sqrt(freq / threshold) + 1.0) * threshold / freq
    return np.minimum(1.0, np.nan_to_num(keep, nan=1.0, posinf=1.0))


def row_hash_column(seed: int) -> Column:
    """Spark's xxhash64 of (doc_id, sentence, seed): the per-sentence part of a draw."""
    return F.xxhash64("doc_id", "sentence", F.lit(int(seed)))


def uniform_from_hash(row_hash: np.ndarray, position: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) per (row hash, position): splitmix64's finaliser, vectorised."""
    with np.errstate(over="ignore"):
        z = row_hash.astype(np.uint64) + (position.astype(np.uint64) + np.uint64(1)) * np.uint64(
            0x9E3779B97F4A7C15
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def positions(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per token of sentences laid back to back (``lengths[i]`` tokens each): its
    sentence's index and its position in that sentence."""
    sentence = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.cumsum(lengths) - lengths
    return sentence, np.arange(len(sentence)) - starts[sentence]


def kept(
    ids: np.ndarray,
    sentence: np.ndarray,
    position: np.ndarray,
    row_hash: np.ndarray,
    keep_prob: np.ndarray,
) -> np.ndarray:
    """Which tokens a subsampling keeps: ``ids`` are vocab ids (-1 out of vocabulary,
    never kept), ``row_hash`` one per sentence, ``keep_prob`` one per vocab id."""
    draw = uniform_from_hash(row_hash[sentence], position)
    return (ids >= 0) & (draw < keep_prob[np.maximum(ids, 0)])
