"""Vector tables (``token, vector array<float>, count, norm``, partitioned by ``lang``) and
the one in-memory form every reader uses: ``load_vectors`` -> ``VectorSet``, and
``Embeddings`` (gensim-like queries) on top of it."""

from sparkembed.vectors.query import Embeddings, UnknownWordError
from sparkembed.vectors.table import (
    VectorSet,
    load_vectors,
    vector_table_frame,
    write_doc_vectors,
    write_vectors,
)

__all__ = [
    "Embeddings",
    "UnknownWordError",
    "VectorSet",
    "load_vectors",
    "vector_table_frame",
    "write_doc_vectors",
    "write_vectors",
]
