"""Token strings -> vocabulary ids inside a task, with one hash table per task.

``pyarrow.compute.index_in(strings, value_set=vocab)`` hashes the whole vocabulary at every
call: with a million words that is about 0.2 s per batch, whatever the batch's size, so a
task's cost would grow with batches x vocabulary. ``TokenIds`` hashes the vocabulary once
and then costs only the strings looked up. Shared by the stages that map tokens to ids in
their tasks (cooccur, train's word2vec, aggregate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


class TokenIds:
    """Ids of token strings in ``tokens`` (the vocabulary, id = position; -1: not in it).

    Build it once per task (from a broadcast vocabulary), then call it per batch.
    """

    def __init__(self, tokens: pa.Array | pa.ChunkedArray):
        values = tokens.to_numpy(zero_copy_only=False)
        self._index = pd.Index(values, dtype=object)
        if not self._index.is_unique:
            raise ValueError("the vocabulary has a repeated token")

    def __len__(self) -> int:
        return len(self._index)

    def __call__(self, strings: pa.Array) -> np.ndarray:
        """int64 ids of ``strings`` (a string array; nulls and unknown tokens: -1)."""
        if isinstance(strings, pa.ChunkedArray):
            strings = strings.combine_chunks()
        if pa.types.is_dictionary(strings.type):
            # Only the dictionary is looked up; the tokens are its indices.
            words = strings.dictionary.to_numpy(zero_copy_only=False)
            lookup = np.append(self._index.get_indexer(words), -1).astype(np.int64)
            return lookup[pc.fill_null(strings.indices, len(strings.dictionary)).to_numpy()]
        # A batch repeats its words: hashing the strings in Arrow and looking up each
        # distinct one is about 3x faster than looking up every string.
        return self(pc.dictionary_encode(strings))
