"""The vocab's file path: token Parquet files read with pyarrow in tasks, counted with numpy.

Same vocabulary as ``build_vocab`` and the same table statistics as the tokenize command's
``tokenize.tokens.token_table_stats`` (sentences, tokens, documents), from one pass that
never makes a Spark row per token. Each map task handles whole files: tokenize and walks write all sentences of a
document from one task, so into one file, and per-file distinct (document, token) pairs
give exact document counts. Tasks return vocabulary-sized partial sums (token, count,
doc_count) and one row per document (doc_id, sentences, tokens); the document rows check
that assumption (a doc_id in two files makes ``count_file_vocab`` return None: the caller
falls back to the DataFrame path).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkembed.arrowio import (
    READ_BATCH_ROWS,
    arrow_location,
    parquet_files,
    plan_map_tasks,
    tokens_leaf,
)
from sparkembed.errors import SparkembedError
from sparkembed.session import task_slots
from sparkembed.tables.driver_frames import driver_frame
from sparkembed.vocabulary.counts import rank_vocab

# Token rows: doc_id and sentences null. Document rows: token and doc_count null,
# count = the document's tokens, sentences not null.
PARTIAL_SCHEMA = "token string, count long, doc_count long, doc_id string, sentences long"
COUNTS_SCHEMA = "token string, count long, doc_count long"
# Parquet bytes per map task (tasks are rounded up to a multiple of the cores).
FILE_BYTES_PER_TASK = 256 << 20


def file_vocab_supported(tokens_path: str) -> bool:
    """Whether pyarrow can read the token table at ``tokens_path`` from the tasks."""
    return arrow_location(tokens_path) is not None


class _Dictionary:
    """Concatenated per-batch dictionaries of one column of one file, deduplicated at the end."""

    def __init__(self) -> None:
        self.parts: list[pa.Array] = []
        self.size = 0
        self._last: tuple | None = None

    def offset(self, dictionary: pa.Array) -> int:
        """Offset of ``dictionary``'s indices in the concatenation (batches of one row group
        share their dictionary: it is added once)."""
        key = (dictionary.buffers()[-1].address if dictionary.buffers()[-1] else 0, len(dictionary))
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        start = self.size
        self.parts.append(dictionary)
        self.size += len(dictionary)
        self._last = (key, start)
        return start

    def unique(self) -> tuple[pa.Array, np.ndarray]:
        """(distinct values, map from concatenated index to distinct index)."""
        if not self.parts:
            return pa.array([], pa.string()), np.zeros(0, np.int64)
        encoded = pc.dictionary_encode(pa.concat_arrays(self.parts))
        return encoded.dictionary, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _indices(array: pa.Array, dictionary: _Dictionary) -> np.ndarray:
    """Concatenated-dictionary indices of ``array``; -1 for nulls."""
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    start = dictionary.offset(array.dictionary)
    indices = pc.fill_null(array.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(indices >= 0, indices + start, -1)


def _global(indices: np.ndarray, remap: np.ndarray, null: int) -> np.ndarray:
    """Concatenated indices → distinct indices; -1 (null) → ``null`` (the appended last)."""
    return np.append(remap, np.int64(null))[indices]


def _file_partials(fs, path: str) -> Iterator[pa.RecordBatch]:
    """Token and document rows of one token file."""
    tokens_dict, docs_dict = _Dictionary(), _Dictionary()
    token_parts, doc_parts, length_parts = [], [], []
    try:
        with fs.open_input_file(path) as f:
            leaf = tokens_leaf(pq.ParquetFile(f).schema, path)
            pf = pq.ParquetFile(f, read_dictionary=[leaf, "doc_id"])
            for g in range(pf.num_row_groups):
                for batch in pf.iter_batches(
                    batch_size=READ_BATCH_ROWS, row_groups=[g], columns=["doc_id", "tokens"]
                ):
                    lists = batch.column(1)
                    # A null sentence counts no tokens (size() of null is not summed).
                    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy()
                    length_parts.append(lengths.astype(np.int64))
                    doc_parts.append(_indices(batch.column(0), docs_dict))
                    token_parts.append(_indices(lists.flatten(), tokens_dict))
    except (pa.ArrowException, OSError) as e:
        raise SparkembedError(f"tokens: cannot read {path}: {e}") from e
    token_values, token_remap = tokens_dict.unique()
    doc_values, doc_remap = docs_dict.unique()
    # Nulls get the index one past the distinct values (a null token and a null doc_id
    # are groups of their own, as in Spark's groupBy).
    n_tokens, n_docs = len(token_values) + 1, len(doc_values) + 1
    tokens = _global(
        np.concatenate(token_parts or [np.zeros(0, np.int64)]), token_remap, n_tokens - 1
    )
    docs = _global(np.concatenate(doc_parts or [np.zeros(0, np.int64)]), doc_remap, n_docs - 1)
    lengths = np.concatenate(length_parts or [np.zeros(0, np.int64)])
    del token_parts, doc_parts

    token_docs = np.repeat(docs, lengths)
    count = np.bincount(tokens, minlength=n_tokens)
    # Distinct (document, token) pairs: one in-place sort (np.unique's hash path is slower).
    pairs = token_docs * np.int64(n_tokens) + tokens
    del token_docs
    pairs.sort()
    first = np.ones(len(pairs), bool)
    np.not_equal(pairs[1:], pairs[:-1], out=first[1:])
    doc_count = np.bincount(pairs[first] % n_tokens, minlength=n_tokens)
    del pairs, first
    seen = np.flatnonzero(count)
    token_strings = pa.concat_arrays([token_values.cast(pa.string()), pa.nulls(1, pa.string())])
    null_long = pa.nulls(len(seen), pa.int64())
    yield pa.RecordBatch.from_arrays(
        [
            token_strings.take(pa.array(seen)),
            pa.array(count[seen], pa.int64()),
            pa.array(doc_count[seen], pa.int64()),
            pa.nulls(len(seen), pa.string()),
            null_long,
        ],
        names=["token", "count", "doc_count", "doc_id", "sentences"],
    )
    sentences = np.bincount(docs, minlength=n_docs)
    doc_tokens = np.bincount(docs, weights=lengths, minlength=n_docs).astype(np.int64)
    present = np.flatnonzero(sentences)
    doc_strings = pa.concat_arrays([doc_values.cast(pa.string()), pa.nulls(1, pa.string())])
    yield pa.RecordBatch.from_arrays(
        [
            pa.nulls(len(present), pa.string()),
            pa.array(doc_tokens[present], pa.int64()),
            pa.nulls(len(present), pa.int64()),
            doc_strings.take(pa.array(present)),
            pa.array(sentences[present], pa.int64()),
        ],
        names=["token", "count", "doc_count", "doc_id", "sentences"],
    )


def _count_files(fs):
    def count(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            for path in b.column(0).to_pylist():
                yield from _file_partials(fs, path)

    return count


def count_file_vocab(spark: SparkSession, tokens_path: str) -> tuple[pa.Table, dict] | None:
    """(token counts, table statistics) of the token table at ``tokens_path``, one pass.

    Counts: ``token string, count long, doc_count long`` on the driver (vocabulary-sized,
    every token, no min_count). Statistics: ``sentences``, ``tokens``, ``documents`` as
    the tokenize command's metadata has them. None when a doc_id occurs in more than one
    file (document counts would be wrong): use ``build_vocab`` then.
    """
    fs, root = arrow_location(tokens_path)
    files = parquet_files(fs, root)
    if not files:
        raise SparkembedError(f"tokens: no Parquet files under {tokens_path}")
    # Whole files per task, dealt by size (a proxy for tokens that needs no footer reads).
    sizes = [(p, 0, fs.get_file_info(p).size) for p in files]
    tasks = plan_map_tasks(sizes, task_slots(spark), FILE_BYTES_PER_TASK)
    sc = spark.sparkContext
    units = spark.createDataFrame(
        sc.parallelize([[(p,) for p, _ in t] for t in tasks], len(tasks)).flatMap(lambda t: t),
        "path string",
    )
    # Kept: the document rows (corpus-sized) are checked in Spark, the token rows
    # (vocabulary-sized per task) come to the driver.
    parts = units.mapInArrow(_count_files(fs), PARTIAL_SCHEMA).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        return summarise_partials(parts)
    finally:
        parts.unpersist()


def summarise_partials(parts: DataFrame) -> tuple[pa.Table, dict] | None:
    """count_file_vocab's answer from the tasks' rows (PARTIAL_SCHEMA's columns; other rows,
    with a null ``count``, are left alone). ``parts`` should be persisted: read twice."""
    docs = (
        parts.where(F.col("sentences").isNotNull())
        .agg(
            F.count("doc_id").alias("named"),
            F.count_distinct("doc_id").alias("documents"),
            F.count_if(F.col("doc_id").isNull()).alias("unnamed"),
            F.coalesce(F.sum("sentences"), F.lit(0)).alias("sentences"),
            F.coalesce(F.sum("count"), F.lit(0)).alias("tokens"),
        )
        .first()
    )
    if docs["named"] != docs["documents"] or docs["unnamed"] > 1:
        return None
    stats = {k: int(docs[k]) for k in ("sentences", "tokens", "documents")}
    return token_counts(parts), stats


def token_counts(parts: DataFrame) -> pa.Table:
    """The token rows of ``parts`` (``sentences`` null, ``count`` not) summed on the driver
    (vocabulary-sized): ``token, count, doc_count``."""
    token_rows = parts.where(F.col("sentences").isNull() & F.col("count").isNotNull()).select(
        "token", "count", "doc_count"
    )
    return summed_counts(ipc_tables(token_rows.mapInArrow(_as_ipc, "counts binary")))


def _as_ipc(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """A partition's rows as one Arrow IPC stream in one row (``counts binary``)."""
    sink, writer = pa.BufferOutputStream(), None
    for batch in batches:
        if writer is None:
            writer = pa.ipc.new_stream(sink, batch.schema)
        writer.write_batch(batch)
    if writer is not None:
        writer.close()
        yield pa.record_batch([pa.array([sink.getvalue().to_pybytes()], pa.binary())], ["counts"])


def ipc_tables(frame: DataFrame) -> Iterator[pa.Table]:
    """The Arrow tables in the ``counts`` column (IPC streams) of ``frame``, brought to the
    driver one partition at a time (``parts`` of the callers are persisted, so a partition's
    job only reads its cached rows); the next partition's job runs while the caller sums
    this one's table."""
    for row in frame.select("counts").toLocalIterator(prefetchPartitions=True):
        yield pa.ipc.open_stream(row["counts"]).read_all()


# Pending rows are merged into the running sum once they reach this many times its rows
# (at least MERGE_MIN_ROWS): each merge is a hash pass over both, so a larger ratio hashes
# each row fewer times (about 1 + 1 / ratio) for more memory (about ratio + 1 times the
# distinct tokens).
MERGE_RATIO = 4
MERGE_MIN_ROWS = 1 << 20


def summed_counts(tables: Iterator[pa.Table]) -> pa.Table:
    """``token, count, doc_count`` of ``tables`` summed by token as they arrive.

    The tasks' tables hold each task's distinct tokens, so together they grow with the
    corpus (tasks x distinct tokens per task), while their sum grows with the vocabulary
    only: pending tables are merged into the running sum once they outnumber its rows
    MERGE_RATIO times, so the driver holds a few times the distinct tokens, not every
    task's.
    """
    total = pa.table(
        {
            "token": pa.array([], pa.string()),
            "count": pa.array([], pa.int64()),
            "doc_count": pa.array([], pa.int64()),
        }
    )
    pending: list[pa.Table] = []
    pending_rows = 0
    for table in tables:
        pending.append(table.select(["token", "count", "doc_count"]))
        pending_rows += table.num_rows
        if pending_rows >= max(MERGE_RATIO * total.num_rows, MERGE_MIN_ROWS):
            total, pending, pending_rows = _sum_by_token([total, *pending]), [], 0
    return _sum_by_token([total, *pending]) if pending else total


def _sum_by_token(tables: list[pa.Table]) -> pa.Table:
    return (
        pa.concat_tables(tables)
        .group_by("token", use_threads=False)
        .aggregate([("count", "sum"), ("doc_count", "sum")])
        .rename_columns(["token", "count", "doc_count"])
    )


def vocab_from_counts(
    spark: SparkSession,
    counts: pa.Table,
    min_count: int = 1,
    max_vocab: int = 0,
    folder: str | None = None,
) -> DataFrame:
    """The vocab table (as ``build_vocab``) from ``count_file_vocab``'s token counts.

    ``folder``: a scratch folder (``Commit.scratch``) where the counts go as Parquet for
    Spark to read, so that the vocabulary-sized rows never travel inside the tasks; the
    frame must be written before the scratch is removed. None: the counts travel inside
    the tasks (``createDataFrame``), as before a caller has a commit to pass a folder of.
    """
    if min_count > 1:
        # Most distinct tokens are rare: drop them before they become Spark rows.
        counts = counts.filter(pc.greater_equal(counts.column("count"), min_count))
    counts = counts.select(["token", "count", "doc_count"])
    if folder is None:
        frame = spark.createDataFrame(counts, COUNTS_SCHEMA)
    else:
        frame = driver_frame(spark, counts, folder, COUNTS_SCHEMA)
    return rank_vocab(frame, min_count, max_vocab)
