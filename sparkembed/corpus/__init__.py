"""Corpus readers (Wikipedia dumps, text, JSON lines, Parquet) and wikitext cleaning."""

from sparkembed.corpus.readers import read_corpus, read_records, split_records

__all__ = ["read_corpus", "read_records", "split_records"]
