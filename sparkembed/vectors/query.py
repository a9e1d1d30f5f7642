"""Word vectors in memory with a gensim-like API: most_similar, similarity, doesnt_match.

``Embeddings`` mirrors gensim's ``KeyedVectors`` on the calls people use: the same formulas,
in float32, so that results agree with gensim on the same vectors (3CosAdd: cosine with the
normalised weighted mean of unit vectors; 3CosMul: Levy & Goldberg's product of shifted
cosines). Norms are computed on first use. Query words never appear in the results.

A table of several languages (the align stage's) is queried across them: ``"es:casa"``
names a word of one language (a bare word is its first occurrence, most frequent first),
and ``lang=`` limits the answers to one language.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sparkembed.errors import SparkembedError
from sparkembed.vectors.table import VectorSet, load_vectors

# A candidate spelling for an unknown word must be at least this similar (difflib ratio).
SUGGEST_CUTOFF = 0.75
# Above this many words, only words of similar length among the most frequent are compared.
SUGGEST_FULL_SCAN = 50_000


class UnknownWordError(KeyError, SparkembedError):
    """A word that is not in the vocabulary; names it and the closest spellings."""

    def __init__(self, word: str, suggestions: Sequence[str] = ()):
        self.word = word
        self.suggestions = list(suggestions)
        super().__init__(word)

    def __str__(self) -> str:
        text = f"'{self.word}' is not in the vocabulary"
        if self.suggestions:
            text += "; did you mean: " + ", ".join(self.suggestions) + "?"
        return text


def _split_weighted(items, default_weight: float) -> tuple[list[Any], list[float]]:
    """gensim's argument forms: 'word', ('word', weight), a vector, or one of those alone."""
    if items is None:
        return [], []
    if isinstance(items, (str, int, np.integer)) or (
        isinstance(items, np.ndarray) and items.ndim == 1
    ):
        items = [items]
    elif isinstance(items, np.ndarray) and items.ndim == 2:
        items = list(items)
    keys, weights = [], []
    for item in items:
        if isinstance(item, tuple):
            keys.append(item[0])
            weights.append(float(item[1]))
        else:
            keys.append(item)
            weights.append(default_weight)
    return keys, weights


class Embeddings:
    """Vectors most frequent first, looked up by word; a small gensim ``KeyedVectors``."""

    def __init__(
        self,
        tokens: Sequence[str],
        vectors: np.ndarray,
        counts: np.ndarray | None = None,
        metadata: dict[str, Any] | None = None,
        langs: Sequence[str] | None = None,
        titles: Sequence[str] | None = None,
    ):
        self.index_to_key = list(tokens)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.index_to_key):
            raise SparkembedError(
                f"{len(self.index_to_key)} tokens but vectors of shape {self.vectors.shape}"
            )
        self.counts = (
            np.asarray(counts, dtype=np.int64)
            if counts is not None
            else np.zeros(len(self.index_to_key), dtype=np.int64)
        )
        self.metadata = metadata or {}
        self.langs = [str(x) for x in langs] if langs is not None else []
        if self.langs and len(self.langs) != len(self.index_to_key):
            raise SparkembedError(f"{len(self.index_to_key)} tokens but {len(self.langs)} langs")
        # Document vectors (the aggregate stage's): each document's title.
        self.titles = list(titles) if titles else []
        self._by_lang: dict[str, dict[str, int]] | None = None
        # First occurrence wins: a token present in two languages is looked up as the first.
        self.key_to_index: dict[str, int] = {}
        for i, token in enumerate(self.index_to_key):
            self.key_to_index.setdefault(token, i)
        self._norms: np.ndarray | None = None
        self._lower_index: dict[str, list[str]] | None = None

    @classmethod
    def from_vector_set(cls, vs: VectorSet) -> Embeddings:
        return cls(vs.tokens, vs.vectors, vs.counts, vs.metadata, vs.langs, vs.titles)

    @classmethod
    def load(cls, path: str | Path, lang: str | None = None) -> Embeddings:
        """Read a vector table (pyarrow, no Spark)."""
        return cls.from_vector_set(load_vectors(path, lang=lang))

    # -- lookup -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key) -> bool:
        return key in self.key_to_index or self._qualified(key) is not None

    @property
    def languages(self) -> list[str]:
        """The table's languages, in order of first appearance."""
        return list(dict.fromkeys(self.langs))

    def _qualified(self, key) -> int | None:
        """The row of ``"lang:token"`` when ``lang`` is one of the table's languages."""
        if not isinstance(key, str) or ":" not in key or len(set(self.langs)) < 2:
            return None
        if self._by_lang is None:
            by_lang: dict[str, dict[str, int]] = {}
            for i, (lang, token) in enumerate(zip(self.langs, self.index_to_key, strict=True)):
                by_lang.setdefault(lang, {}).setdefault(token, i)
            self._by_lang = by_lang
        lang, _, token = key.partition(":")
        return self._by_lang.get(lang, {}).get(token)

    def lang_mask(self, lang: str | None) -> np.ndarray | None:
        """True for the rows of ``lang`` (None: no restriction)."""
        if lang is None:
            return None
        if lang not in set(self.langs):
            raise SparkembedError(
                f"no words of lang {lang!r} (languages: {', '.join(self.languages) or 'none'})"
            )
        return np.asarray(self.langs) == lang

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def norms(self) -> np.ndarray:
        if self._norms is None:
            self._norms = np.linalg.norm(self.vectors, axis=1)
        return self._norms

    def fill_norms(self, force: bool = False) -> None:
        if self._norms is None or force:
            self._norms = np.linalg.norm(self.vectors, axis=1)

    def get_index(self, key) -> int:
        if isinstance(key, str):
            idx = self._qualified(key)
            if idx is None:
                idx = self.key_to_index.get(key)
            if idx is None:
                raise UnknownWordError(key, self.suggest(key))
            return idx
        if isinstance(key, (int, np.integer)) and 0 <= key < len(self):
            return int(key)
        raise UnknownWordError(str(key))

    def get_vector(self, key, norm: bool = False) -> np.ndarray:
        idx = self.get_index(key)
        vec = self.vectors[idx]
        if norm:
            vec = vec / self.norms[idx]
        return vec

    def __getitem__(self, key_or_keys):
        if isinstance(key_or_keys, (str, int, np.integer)):
            return self.get_vector(key_or_keys)
        return np.vstack([self.get_vector(k) for k in key_or_keys])

    def unit_vectors(self, limit: int | None = None) -> np.ndarray:
        """The first ``limit`` rows (all by default) scaled to unit length, float32."""
        n = len(self) if limit is None else min(limit, len(self))
        return self.unit_rows(np.arange(n))

    def unit_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows ``rows`` (any shape of ids) scaled to unit length; zero rows stay zero."""
        rows = np.asarray(rows, dtype=np.int64)
        norms = self.norms[rows]
        safe = np.where(norms > 0, norms, 1).astype(np.float32)
        return self.vectors[rows] / safe[..., None]

    def suggest(self, word: str, n: int = 3) -> list[str]:
        """The closest spellings of ``word`` in the vocabulary (case variants first)."""
        if self._lower_index is None:
            index: dict[str, list[str]] = {}
            for token in self.index_to_key:
                index.setdefault(token.lower(), []).append(token)
            self._lower_index = index
        same_case = [t for t in self._lower_index.get(word.lower(), []) if t != word]
        if len(self) <= SUGGEST_FULL_SCAN:
            pool = self.index_to_key
        else:  # a cheaper scan: similar lengths among the most frequent words
            lo, hi = len(word) - 2, len(word) + 2
            pool = [t for t in self.index_to_key[: 4 * SUGGEST_FULL_SCAN] if lo <= len(t) <= hi]
        close = difflib.get_close_matches(word, pool, n=n, cutoff=SUGGEST_CUTOFF)
        out = same_case + [t for t in close if t not in same_case]
        return out[:n]

    # -- similarity ---------------------------------------------------------------------
    def similarity(self, w1, w2) -> float:
        """Cosine similarity of two words."""
        a = self.get_vector(w1, norm=True)
        b = self.get_vector(w2, norm=True)
        return float(np.dot(a, b))

    def _mean_unit(self, keys: list[Any], weights: list[float]) -> np.ndarray:
        """gensim's get_mean_vector(pre_normalize=True, post_normalize=True), in float32."""
        if not keys:
            raise ValueError("cannot compute similarity with no input")
        mean = np.zeros(self.vector_size, dtype=np.float32)
        w = np.asarray(weights, dtype=np.float64)
        total = 0.0
        for key, weight in zip(keys, w, strict=True):
            vec = key if isinstance(key, np.ndarray) else self.get_vector(key, norm=True)
            mean += weight * vec
            total += abs(weight)
        mean = mean / total if total > 0 else mean.astype(np.float64)
        length = np.linalg.norm(mean)
        return (mean * (1.0 / length) if length > 0 else mean).astype(np.float32)

    def most_similar(
        self,
        positive=None,
        negative=None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
        lang: str | None = None,
    ):
        """3CosAdd: words closest to the mean of +unit(positive) and -unit(negative).

        Returns ``[(word, cosine)]`` best first, or all scores when ``topn`` is None;
        ``lang`` keeps the answers of one language (the others score -inf).
        """
        if topn is not None and topn < 1:
            return []
        pos_keys, pos_w = _split_weighted(positive, 1.0)
        neg_keys, neg_w = _split_weighted(negative, -1.0)
        keys, weights = pos_keys + neg_keys, pos_w + neg_w
        mean = self._mean_unit(keys, weights)
        end = min(restrict_vocab, len(self)) if restrict_vocab else len(self)
        scores = np.dot(self.vectors[:end], mean) / self.norms[:end]
        scores = self._only(scores, lang)
        if topn is None:
            return scores
        exclude = {self.get_index(k) for k in keys if not isinstance(k, np.ndarray)}
        return self._top(scores, topn, exclude)

    def most_similar_cosmul(
        self,
        positive=None,
        negative=None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
        lang: str | None = None,
    ):
        """3CosMul (Levy & Goldberg 2014): prod((1+cos)/2 of positives) / (prod(negatives)+1e-6).

        Unlike gensim, which ignores it here, ``restrict_vocab`` limits the candidates.
        """
        if topn is not None and topn < 1:
            return []
        pos_keys, _ = _split_weighted(positive, 1.0)
        neg_keys, _ = _split_weighted(negative, -1.0)
        if not pos_keys:
            raise ValueError("cannot compute similarity with no input")
        end = min(restrict_vocab, len(self)) if restrict_vocab else len(self)
        vecs, norms = self.vectors[:end], self.norms[:end]

        def shifted(key):
            term = key if isinstance(key, np.ndarray) else self.get_vector(key, norm=True)
            return (1 + np.dot(vecs, term) / norms) / 2

        pos = [shifted(k) for k in pos_keys]
        neg = [shifted(k) for k in neg_keys]
        scores = self._only(np.prod(pos, axis=0) / (np.prod(neg, axis=0) + 0.000001), lang)
        if topn is None:
            return scores
        exclude = {self.get_index(k) for k in pos_keys + neg_keys if not isinstance(k, np.ndarray)}
        return self._top(scores, topn, exclude)

    def _only(self, scores: np.ndarray, lang: str | None) -> np.ndarray:
        mask = self.lang_mask(lang)
        if mask is None:
            return scores
        return np.where(mask[: scores.size], scores, -np.inf).astype(scores.dtype)

    def _top(self, scores: np.ndarray, topn: int, exclude: set[int]) -> list[tuple[str, float]]:
        return [(self.index_to_key[i], v) for i, v in self.top_rows(scores, topn, exclude)]

    def top_rows(self, scores: np.ndarray, topn: int, exclude=()) -> list[tuple[int, float]]:
        """The ``topn`` best rows of ``scores`` (as ``most_similar(topn=None)`` returns
        them) and their scores, leaving out the rows in ``exclude`` and -inf scores."""
        exclude = set(exclude)
        want = min(topn + len(exclude), scores.size)
        if want < scores.size:
            best = np.argpartition(-scores, want - 1)[:want]
        else:
            best = np.arange(scores.size)
        # Best first; equal scores in vocabulary order, so the answer is repeatable.
        best = best[np.lexsort((best, -scores[best]))]
        out = [
            (int(i), float(scores[i]))
            for i in best
            if int(i) not in exclude and scores[i] > -np.inf
        ]
        return out[:topn]

    def label(self, row: int) -> str:
        """Row ``row``'s word, as ``lang:token`` in a table of several languages."""
        if len(set(self.langs)) > 1:
            return f"{self.langs[row]}:{self.index_to_key[row]}"
        return self.index_to_key[row]

    def similar_by_word(self, word, topn: int = 10, restrict_vocab: int | None = None):
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def doesnt_match(self, words: Iterable[str]) -> str:
        """The word furthest from the normalised mean of the (known) words' unit vectors."""
        words = list(words)
        used = [w for w in words if w in self]
        if not used:
            if words:
                raise UnknownWordError(words[0], self.suggest(words[0]))
            raise ValueError("cannot select a word from an empty list")
        units = np.vstack([self.get_vector(w, norm=True) for w in used]).astype(np.float32)
        mean = self._mean_unit(list(units), [1.0] * len(used))
        scores = units @ mean
        # gensim: sorted((score, word), reverse=True)[-1]: lowest score, then lowest word.
        return min(zip(scores.tolist(), used, strict=True))[1]
