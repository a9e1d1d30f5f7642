"""Synthetic vectors over the words of gensim's evaluation files, for agreement tests.

Analogy pairs of a section share an offset (plus noise), so 3CosAdd and 3CosMul get a
fair share right and wrong; case variants of some words sit before or after the lower-case
form, to exercise case folding. Not a test module (no test_ prefix).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def file_words(gensim_data: Path) -> tuple[list[str], list[tuple[str, list[tuple[str, str]]]]]:
    words: dict[str, None] = {}
    for name in ("wordsim353.tsv", "simlex999.txt"):
        for line in (gensim_data / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) == 3:
                words.setdefault(parts[0].lower())
                words.setdefault(parts[1].lower())
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    for line in (gensim_data / "questions-words.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(": "):
            sections.append((line[2:].strip(), []))
            continue
        a, b, c, d = (w.lower() for w in line.split())
        sections[-1][1].extend([(a, b), (c, d)])
        for w in (a, b, c, d):
            words.setdefault(w)
    return list(words), sections


def synthetic_vectors(gensim_data: Path, dim: int = 48, seed: int = 7):
    """(tokens, vectors float32, counts) most frequent first; ~1% of file words left out."""
    rng = np.random.default_rng(seed)
    words, sections = file_words(gensim_data)
    words = [w for i, w in enumerate(words) if i % 97 != 5]  # some OOV pairs and questions
    vec = {w: rng.normal(size=dim).astype(np.float64) for w in words}
    done: set[str] = set()
    for _, pairs in sections:
        offset = rng.normal(size=dim) * 1.2
        for x, y in dict.fromkeys(pairs):
            if x in vec and y in vec and y not in done:
                vec[y] = vec[x] + offset + rng.normal(size=dim) * 0.9
                done.add(y)
    tokens = list(words)
    # Case variants: some before their lower-case form (they win when folding), some after.
    variants = []
    for i, w in enumerate(words[:600]):
        if i % 5 == 0:
            variants.append((w.capitalize(), i - 0.5))  # before w
        elif i % 5 == 1:
            variants.append((w.upper(), i + 0.5))  # after w
    order = [(w, float(i)) for i, w in enumerate(tokens)] + variants
    extras = [(f"filler{j:04d}", len(tokens) + j) for j in range(800)]
    order += extras
    order.sort(key=lambda t: t[1])
    out_tokens = [w for w, _ in order]
    base = {w: vec.get(w.lower()) for w in out_tokens}
    vectors = np.vstack(
        [
            (base[w] + rng.normal(size=dim) * 0.7) if base[w] is not None else rng.normal(size=dim)
            for w in out_tokens
        ]
    ).astype(np.float32)
    counts = np.arange(len(out_tokens), 0, -1, dtype=np.int64) * 3
    return out_tokens, vectors, counts
