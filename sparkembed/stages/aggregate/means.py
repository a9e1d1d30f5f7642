"""Weighted means of word vectors per document or sentence, in Spark (Arrow + numpy per
partition), and the removal of common components.

- Word weights (``word_weights``): ``sif`` a / (a + p(w)) with p(w) = count(w) / the sum of
  the vocabulary's counts; ``idf`` ln((1 + N) / (1 + doc_count(w))) + 1 over the N
  documents of the tokens table (scikit-learn's smoothed idf, never 0); ``uniform`` 1. A
  word with a vector but absent from the vocabulary (below its min count) has count 0:
  the largest weight. The lookup (tokens, vectors and weights of the vocabulary) is built on
  the driver and broadcast: its size is the vocabulary's, never the corpus's.
- Mean (``weighted_means``): sum over a unit's known tokens (every occurrence) of
  weight × vector, divided by the number of known tokens, as PrincetonML's SIF does. A
  token without a vector is out of vocabulary: skipped and counted (``n_oov``). A unit
  with no known token has no mean; it is returned with a null vector and an excerpt, for
  the rejected table.
- Order: a document's sentences are concatenated in ``sentence`` order, and every sum runs
  in float64 in that order, so a unit's vector depends on its tokens only, not on the
  partitioning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sparkembed import schemas
from sparkembed.arrowio import packed_rows, unpacked_rows
from sparkembed.linalg.gram import remove_components
from sparkembed.vocabulary.lookup import TokenIds

EXCERPT_TOKENS = 12

# The weighted means before component removal (float32 rows packed as binary, null for a
# rejected unit), and the rejected units' details beside them.
MEANS = (
    "doc_id string, title string, lang string, sentence int, vector binary, "
    "n_tokens int, n_oov int, source string, excerpt string"
)
DOC_VECTORS = schemas.DOC_VECTORS


@dataclass
class WordTable:
    """What the tasks need to embed units: per vector language its tokens (an Arrow string
    array, for a vectorised lookup) and vectors (float32, one row per token); per (input,
    vector language) the tokens' weights, float64 in the same order (an input is one
    tokens table with its vocabulary)."""

    tokens: dict[str, object] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[tuple[int, str], np.ndarray] = field(default_factory=dict)


def weights_of(
    counts: np.ndarray,
    doc_counts: np.ndarray,
    total: float,
    documents: int,
    weighting: str,
    a: float,
) -> np.ndarray:
    """Weights of words with these vocabulary counts (0 for words not in the vocabulary),
    by ``weighting`` (``aggregate.weighting``: sif, idf, or else uniform)."""
    counts = np.asarray(counts, np.float64)
    if weighting == "sif":
        p = counts / total if total > 0 else np.zeros_like(counts)
        return a / (a + p)
    if weighting == "idf":
        return np.log((1.0 + documents) / (1.0 + np.asarray(doc_counts, np.float64))) + 1.0
    return np.ones_like(counts)


def word_weights(vocab, lookup_tokens, documents: int, weighting: str, a: float) -> np.ndarray:
    """Weights of ``lookup_tokens`` (an Arrow string array) from a vocab table read into
    Arrow (``token, count, doc_count``)."""
    import pyarrow.compute as pc

    total = float(pc.sum(vocab.column("count")).as_py() or 0)
    at = pc.index_in(lookup_tokens, value_set=vocab.column("token").combine_chunks())
    found = ~np.asarray(pc.is_null(at).to_numpy(zero_copy_only=False))
    idx = np.asarray(pc.fill_null(at, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    counts = np.where(found, vocab.column("count").to_numpy()[idx], 0)
    doc_counts = np.where(found, vocab.column("doc_count").to_numpy()[idx], 0)
    return weights_of(counts, doc_counts, total, documents, weighting, a)


def unit_frame(tokens, unit: str):
    """The tokens table as units: one row per document (its sentences' tokens in order) or
    per sentence; columns input, doc_id, title, lang, sentence (null for documents),
    tokens. ``tokens`` has an ``input`` int column: which tokens table the row is from."""
    from pyspark.sql import functions as F

    if unit == "sentence":
        return tokens.select(
            "input", "doc_id", "title", "lang", F.col("sentence").cast("int"), "tokens"
        )
    ordered = F.array_sort(F.collect_list(F.struct("sentence", "tokens")))
    return tokens.groupBy("input", "lang", "doc_id").agg(
        F.min("title").alias("title"),
        F.lit(None).cast("int").alias("sentence"),
        F.flatten(F.transform(ordered, lambda s: s["tokens"])).alias("tokens"),
    )


def weighted_means(units, table: WordTable, dim: int, vectors_lang: str, source_names):
    """``units`` (from ``unit_frame``) -> the MEANS frame: one row per unit."""
    spark = units.sparkSession
    shared = spark.sparkContext.broadcast(table)
    names = list(source_names)

    def embed(batches):
        import pyarrow as pa
        import pyarrow.compute as pc

        t = shared.value
        token_ids = {lang: TokenIds(tokens) for lang, tokens in t.tokens.items()}
        for b in batches:
            col = {n: b.column(b.schema.get_field_index(n)) for n in b.schema.names}
            groups = pc.unique(
                pc.binary_join_element_wise(pc.cast(col["input"], pa.string()), col["lang"], "\x00")
            ).to_pylist()
            for key in groups:
                input_text, lang = key.split("\x00", 1)
                i = int(input_text)
                mask = pc.and_(pc.equal(col["input"], i), pc.equal(col["lang"], lang))
                sub = b.filter(mask) if len(groups) > 1 else b
                vlang = vectors_lang or lang
                yield _embed_batch(sub, t, token_ids.get(vlang), i, vlang, dim, names[i])

    cols = ["input", "doc_id", "title", "lang", "sentence", "tokens"]
    return units.select(*cols).mapInArrow(embed, MEANS)


def _weighted_sums(ids, n_known, weights, vectors, dim: int) -> np.ndarray:
    """Per row, the sum of weight × vector over its known tokens (``ids``, row after row,
    ``n_known`` of them per row), in float64.

    A sparse (rows × words) matrix of the weights times the vectors of the words the batch
    uses: one multiply-add per distinct (row, word) and dimension, no tokens × dim copy.
    Within a row the words are summed in vocabulary order (``sum_duplicates`` sorts them),
    so a row's sum does not depend on the other rows of its batch.
    """
    from scipy.sparse import csr_matrix

    n = len(n_known)
    if ids.size == 0:
        return np.zeros((n, dim))
    used = np.zeros(vectors.shape[0], bool)
    used[ids] = True
    words = np.flatnonzero(used)
    column = np.cumsum(used) - 1  # word id -> its column among the used words
    indptr = np.concatenate([[0], np.cumsum(n_known)])
    m = csr_matrix((weights[ids], column[ids], indptr), shape=(n, len(words)))
    m.sum_duplicates()
    return m @ vectors[words].astype(np.float64)


def _embed_batch(
    b,
    t: WordTable,
    token_ids: TokenIds | None,
    input_id: int,
    vlang: str,
    dim: int,
    source_name: str,
):
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = b.column(b.schema.get_field_index("tokens"))
    n = b.num_rows
    lengths = np.asarray(pc.fill_null(pc.list_value_length(lists), 0).to_numpy(), np.int64)
    flat = pc.list_flatten(lists)
    if token_ids is not None:
        ids = token_ids(flat)
        known = ids >= 0
        ids = ids[known]
    else:
        known, ids = np.zeros(len(flat), bool), np.zeros(0, np.int64)
    row_of = np.repeat(np.arange(n), lengths)
    n_known = np.bincount(row_of[known], minlength=n)
    has = n_known > 0
    weights = t.weights.get((input_id, vlang))
    sums = _weighted_sums(ids, n_known, weights, t.vectors.get(vlang), dim)
    means = (sums[has] / n_known[has][:, None]).astype(np.float32)
    vectors = packed_rows(means, has)  # the mean, or null for a rejected unit
    excerpt = [None] * n
    if not has.all():
        doc_ids = b.column(b.schema.get_field_index("doc_id")).to_pylist()
        for i in np.flatnonzero(~has):
            first = lists[int(i)].values[:EXCERPT_TOKENS].to_pylist() if lengths[i] else []
            excerpt[i] = f"{doc_ids[i]}: {' '.join(first)}"
    return pa.RecordBatch.from_arrays(
        [
            b.column(b.schema.get_field_index("doc_id")),
            b.column(b.schema.get_field_index("title")),
            b.column(b.schema.get_field_index("lang")),
            b.column(b.schema.get_field_index("sentence")),
            vectors,
            pa.array(lengths.astype(np.int32)),
            pa.array((lengths - n_known).astype(np.int32)),
            pa.array([source_name] * n, pa.string()),
            pa.array(excerpt, pa.string()),
        ],
        names=[
            "doc_id",
            "title",
            "lang",
            "sentence",
            "vector",
            "n_tokens",
            "n_oov",
            "source",
            "excerpt",
        ],
    )


def removed_frame(means, components: dict[str, np.ndarray], dim: int):
    """The DOC_VECTORS frame: ``means`` rows with a vector, each minus its projection on
    its language's ``components`` (k × d; none: unchanged), with its norm."""
    spark = means.sparkSession
    shared = spark.sparkContext.broadcast(components)

    def remove(batches):
        import pyarrow as pa
        import pyarrow.compute as pc

        comps = shared.value
        for b in batches:
            langs = b.column(b.schema.get_field_index("lang"))
            present = pc.unique(langs).to_pylist()
            for lang in present:
                sub = b.filter(pc.equal(langs, lang)) if len(present) > 1 else b
                x = unpacked_rows(sub.column(sub.schema.get_field_index("vector")), dim)
                u = comps.get(lang)
                y = (remove_components(x, u) if u is not None else x).astype(np.float32)
                offsets = pa.array(np.arange(0, y.size + 1, dim, dtype=np.int32))
                norms = np.linalg.norm(y.astype(np.float64), axis=1).astype(np.float32)
                names = ["doc_id", "title", "lang", "sentence"]
                yield pa.RecordBatch.from_arrays(
                    [sub.column(sub.schema.get_field_index(c)) for c in names]
                    + [
                        pa.ListArray.from_arrays(offsets, pa.array(y.ravel())),
                        sub.column(sub.schema.get_field_index("n_tokens")),
                        sub.column(sub.schema.get_field_index("n_oov")),
                        pa.array(norms),
                    ],
                    names=[*names, "vector", "n_tokens", "n_oov", "norm"],
                )

    cols = ["doc_id", "title", "lang", "sentence", "vector", "n_tokens", "n_oov"]
    return means.where(means["vector"].isNotNull()).select(*cols).mapInArrow(remove, DOC_VECTORS)
