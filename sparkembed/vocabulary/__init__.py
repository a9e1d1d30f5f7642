"""Token table → vocabulary (``DIR/vocab``): counts, document counts, ids by rank. Shared by
the stages that write a vocabulary (tokenize, walks); ``files`` counts it from the token
files with pyarrow in the tasks, the same vocabulary in one pass."""

from sparkembed.vocabulary.counts import VOCAB_SCHEMA, build_vocab, rank_vocab

__all__ = ["VOCAB_SCHEMA", "build_vocab", "rank_vocab"]
