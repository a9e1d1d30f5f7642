"""Export a vector table to the word2vec text or binary format (gensim-loadable).

Text: a ``count dim`` header, then ``token v1 ... vd`` per line, most frequent first;
values printed with 9 significant digits, which round-trips float32 exactly.
Binary: the same header, then per token ``token``, a space, ``dim`` little-endian
float32 values and a newline (the original word2vec C layout; gensim reads both).
Tokens containing whitespace (or empty tokens) cannot be written in either format and
are rejected with an error naming them; nothing is escaped.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sparkembed.errors import SparkembedError
from sparkembed.vectors.table import VectorSet


def check_tokens(tokens: list[str]) -> None:
    """Raise naming the first tokens the word2vec formats cannot hold."""
    bad = [t for t in tokens if not t or any(ch.isspace() for ch in t)]
    if bad:
        shown = ", ".join(repr(t) for t in bad[:5])
        raise SparkembedError(
            f"{len(bad):,} token(s) contain whitespace or are empty, which the word2vec "
            f"format cannot hold: {shown}; re-tokenize without them"
        )


def write_word2vec(vs: VectorSet, path: str | Path, binary: bool = False) -> int:
    """Write ``vs`` (already most frequent first) to ``path``; returns the number of rows.

    Written to a temporary file beside ``path`` and renamed into place.
    """
    check_tokens(vs.tokens)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    vectors = np.ascontiguousarray(vs.vectors, dtype="<f4")
    n, dim = vectors.shape
    try:
        with open(tmp, "wb") as out:
            out.write(f"{n} {dim}\n".encode())
            if binary:
                for token, row in zip(vs.tokens, vectors, strict=True):
                    out.write(token.encode("utf-8") + b" " + row.tobytes() + b"\n")
            else:
                fmt = " ".join(["%.9g"] * dim)
                for start in range(0, n, 10000):
                    chunk = vectors[start : start + 10000].astype(np.float64)
                    lines = [
                        f"{token} {fmt % tuple(row)}\n"
                        for token, row in zip(vs.tokens[start : start + 10000], chunk, strict=True)
                    ]
                    out.write("".join(lines).encode("utf-8"))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n
