"""Records → the token table's Parquet files, with the vocabulary counts, in one pass.

The java engine packs a partition's documents into batches (``sparkembed.TokenBatches``:
many documents per row, tokens as UTF-8 bytes and int32 offsets); a ``mapInArrow`` task
wraps each batch as Arrow arrays without touching a token, writes them with pyarrow as one
Parquet file per task into the table's staging folder, and counts the batch's tokens with
numpy. A document never spans two batches, so per-batch distinct (document, token) pairs
give exact ``doc_count``s. The tasks return their token counts as one row each (an Arrow
IPC stream, summed on the driver by ``task_counts`` as they arrive: a row per distinct
token would be a vocabulary per task for Spark to cache and collect), the document rows or
totals of ``vocabulary.files``, the rejected records and the skipped count: the input is read once
for all three tables.

Same rows as ``tokenize_documents`` written by Spark (tests/stages/tokenize/test_token_files.py);
the stage's ``files`` engine (java tokenizer, an output pyarrow can reach).
"""

from __future__ import annotations

import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkembed.arrowio import arrow_location
from sparkembed.config import TokenizeConfig
from sparkembed.stages.tokenize.inputs import MB
from sparkembed.stages.tokenize.readers import RECORD_COLUMNS
from sparkembed.stages.tokenize.tokens import tokenizer_object
from sparkembed.vocabulary.files import ipc_tables, summarise_partials, summed_counts

# Tokens per packed batch (bounds a task's Python memory: a batch and its counts).
BATCH_TOKENS = 1 << 20
# What the tasks return: PARTIAL_SCHEMA of vocabulary.files (its document rows; a task's
# token counts come as one row instead, ``counts``: an Arrow IPC stream of token, count,
# doc_count), then the rejected records, each partition's skipped count and, for text
# lines read in the JVM, the bytes read per file (file_size, file_bytes, file_cut; see
# rejected_table).
PARTS_SCHEMA = (
    "token string, count long, doc_count long, doc_id string, sentences long,"
    " source string, reason string, excerpt string, skipped long, documents long,"
    " file_size long, file_bytes long, file_cut boolean, counts binary"
)
TOKENS_ARROW = pa.schema(
    [
        ("doc_id", pa.string()),
        ("title", pa.string()),
        ("lang", pa.string()),
        ("sentence", pa.int32()),
        ("tokens", pa.list_(pa.string())),
    ]
)
STATS = ["doc_id", "title", "lang", "sentence"]
# What the tasks hand the writer: the tokens dictionary-encoded. Written without the Arrow
# schema (store_schema=False), the files read back as TOKENS_ARROW.
WRITE_SCHEMA = TOKENS_ARROW.set(
    4, pa.field("tokens", pa.list_(pa.dictionary(pa.int32(), pa.string())))
)
_PARTS_NAMES = [c.split()[0] for c in PARTS_SCHEMA.split(",")]
_PARTS_TYPES = {
    "token": pa.string(),
    "doc_id": pa.string(),
    "source": pa.string(),
    "reason": pa.string(),
    "excerpt": pa.string(),
    "file_cut": pa.bool_(),
    "counts": pa.binary(),
}
_PASSED = ("source", "reason", "excerpt", "skipped", "file_size", "file_bytes", "file_cut")


def pack_records(
    spark: SparkSession,
    records: DataFrame,
    cfg: TokenizeConfig,
    lines: DataFrame | None = None,
) -> DataFrame:
    """A records table (``read_records``) → packed token batches (``TokenBatches.SCHEMA``).

    ``lines``: the planned line scan that ``plan_reading(..., lines_apart=True)`` left out
    of ``records``; its splits are read, turned into records and packed in the JVM
    (``TokenBatches.packTextLines``: no Spark SQL per line, and the check for lines the
    reader skipped comes from the same pass), one task per split, after the tasks of
    ``records``.
    """
    jdf = records.select(*RECORD_COLUMNS)._jdf
    jvm = spark.sparkContext._jvm
    tokenizer = tokenizer_object(spark, cfg)
    rdd = jvm.sparkembed.TokenBatches.pack(
        jdf.queryExecution().toRdd(), tokenizer, int(cfg.min_article_tokens), BATCH_TOKENS
    )
    if lines is not None:
        packed_lines = jvm.sparkembed.TokenBatches.packTextLines(
            spark._jsparkSession,
            lines._jdf.queryExecution().toRdd(),
            int(cfg.max_record_mb * MB),
            f"record longer than max_record_mb={cfg.max_record_mb} (cut by the reader)",
            tokenizer,
            BATCH_TOKENS,
        )
        rdd = rdd.union(packed_lines)
    schema = spark._jsparkSession.parseDataType(
        spark.createDataFrame([], jvm.sparkembed.TokenBatches.SCHEMA).schema.json()
    )
    return DataFrame(spark._jsparkSession.internalCreateDataFrame(rdd, schema, False), spark)


def _strings(data: pa.Buffer, offsets: pa.Buffer, valid: np.ndarray | None = None) -> pa.Array:
    n = offsets.size // 4 - 1
    array = pa.StringArray.from_buffers(n, offsets, data)
    if valid is not None and not valid.all():
        array = pc.if_else(pa.array(valid), array, pa.scalar(None, pa.string()))
    return array


def _parts(columns: dict[str, pa.Array], n: int) -> pa.RecordBatch:
    """A PARTS_SCHEMA batch of ``n`` rows: ``columns`` given, the others null."""
    arrays = [
        columns.get(name, pa.nulls(n, _PARTS_TYPES.get(name, pa.int64()))) for name in _PARTS_NAMES
    ]
    return pa.RecordBatch.from_arrays(arrays, names=_PARTS_NAMES)


def _unpack(batch: pa.RecordBatch, i: int, lang: str) -> tuple[pa.RecordBatch, list]:
    """Row ``i`` of a packed batch → (tokens rows, [token counts, document rows] as
    PARTS batches)."""
    buf = {name: batch.column(name)[i].as_buffer() for name in batch.schema.names[:9]}
    valid = np.frombuffer(buf["doc_valid"], np.uint8).astype(bool)
    doc_ids = _strings(buf["doc_ids"], buf["doc_offsets"], valid)
    titles = _strings(buf["titles"], buf["title_offsets"])
    per_doc = np.frombuffer(buf["doc_sentences"], np.int32)
    lengths = np.frombuffer(buf["sentence_lengths"], np.int32)
    tokens = _strings(buf["tokens"], buf["token_offsets"])
    n_docs, n_sentences = len(per_doc), len(lengths)
    sentence_doc = np.repeat(np.arange(n_docs), per_doc)
    first = np.zeros(n_docs, np.int64)
    np.cumsum(per_doc[:-1], out=first[1:])
    offsets = np.zeros(n_sentences + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    doc_index = pa.array(sentence_doc)
    # Encoded once, for the counts and for the writer (which then does not hash them again).
    encoded = pc.dictionary_encode(tokens)
    rows = pa.RecordBatch.from_arrays(
        [
            doc_ids.take(doc_index),
            titles.take(doc_index),
            pa.repeat(pa.scalar(lang, pa.string()), n_sentences),
            pa.array((np.arange(n_sentences) - first[sentence_doc]).astype(np.int32)),
            pa.ListArray.from_arrays(pa.array(offsets), encoded),
        ],
        schema=WRITE_SCHEMA,
    )
    # Counts: tokens by value, distinct (document, token) pairs within the batch.
    index = encoded.indices.to_numpy().astype(np.int64)
    n_values = len(encoded.dictionary)
    count = np.bincount(index, minlength=n_values)
    pairs = np.repeat(sentence_doc, lengths) * n_values + index
    pairs.sort()
    new = np.ones(len(pairs), bool)
    np.not_equal(pairs[1:], pairs[:-1], out=new[1:])
    doc_count = np.bincount(pairs[new] % n_values, minlength=n_values)
    doc_tokens = np.bincount(sentence_doc, weights=lengths, minlength=n_docs).astype(np.int64)
    parts = [
        _parts(
            {
                "token": encoded.dictionary,
                "count": pa.array(count),
                "doc_count": pa.array(doc_count),
            },
            n_values,
        ),
        _parts(
            {
                "doc_id": doc_ids,
                "count": pa.array(doc_tokens),
                "sentences": pa.array(per_doc.astype(np.int64)),
            },
            n_docs,
        ),
    ]
    return rows, parts


def write_token_files(
    spark: SparkSession, batches: DataFrame, out_path: str, lang: str, check_ids: bool
):
    """Write ``pack_records``' batches as the token table's files under ``out_path`` (one
    file per task, ``part-NNNNN.parquet``); returns the tasks' PARTS_SCHEMA rows (lazy: run
    it once, persisted).

    ``check_ids``: a row per document (``doc_id``, ``sentences``, ``count`` = its tokens),
    for ids that may repeat across tasks; else one row of totals per task (``documents``).
    """
    fs, root = arrow_location(out_path)

    def write(inputs):
        from pyspark import TaskContext

        part = TaskContext.get().partitionId()
        writer = stream = tmp = None
        token_counts = []  # per batch; summed per task (vocabulary-sized rows out)
        totals = np.zeros(3, np.int64)  # documents, sentences, tokens
        try:
            for b in inputs:
                packed = pc.is_valid(b.column("tokens")).to_numpy(zero_copy_only=False)
                others = b.filter(pa.array(~packed))
                if others.num_rows:
                    yield _parts({name: others.column(name) for name in _PASSED}, others.num_rows)
                for i in np.flatnonzero(packed):
                    rows, parts = _unpack(b, int(i), lang)
                    if writer is None:
                        fs.create_dir(root, recursive=True)
                        # Hidden while being written; a retried task replaces the final name.
                        tmp = f"{root}/.part-{part:05d}-{uuid.uuid4().hex[:8]}.parquet"
                        stream = fs.open_output_stream(tmp)
                        # No min/max statistics of the tokens: costly to compute, and
                        # nothing filters on them.
                        writer = pq.ParquetWriter(
                            stream, WRITE_SCHEMA, write_statistics=STATS, store_schema=False
                        )
                    writer.write_batch(rows)
                    token_counts.append(parts[0])
                    docs = parts[1]
                    if check_ids:
                        yield docs
                    totals += [docs.num_rows, rows.num_rows, len(rows.column(4).values)]
            if writer is not None:
                writer.close()
                stream.close()
                writer = None
                fs.move(tmp, f"{root}/part-{part:05d}.parquet")
            if token_counts:
                # One row, not a row per distinct token: vocabulary-sized rows per task
                # would be most of what Spark caches and collects after the job.
                summed = (
                    pa.Table.from_batches(token_counts)
                    .select(["token", "count", "doc_count"])
                    .group_by("token", use_threads=False)
                    .aggregate([("count", "sum"), ("doc_count", "sum")])
                    .rename_columns(["token", "count", "doc_count"])
                )
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, summed.schema) as ipc:
                    ipc.write_table(summed)
                blob = sink.getvalue()
                offsets = pa.py_buffer(np.array([0, blob.size], np.int32))
                counts = pa.BinaryArray.from_buffers(pa.binary(), 1, [None, offsets, blob])
                yield _parts({"counts": counts}, 1)
            if not check_ids and totals[0]:
                yield _parts(
                    {
                        "documents": pa.array(totals[:1]),
                        "sentences": pa.array(totals[1:2]),
                        "count": pa.array(totals[2:]),
                    },
                    1,
                )
        finally:
            if writer is not None:  # failed mid-way: no half file left visible
                writer.close()
                stream.close()
                fs.delete_file(tmp)

    return batches.mapInArrow(write, PARTS_SCHEMA)


def write_tokens_table(
    spark: SparkSession,
    records: DataFrame,
    cfg: TokenizeConfig,
    out_path: str,
    check_ids: bool,
    lines: DataFrame | None = None,
) -> DataFrame:
    """Tokenise ``records`` (and ``lines``, see pack_records) into token files under
    ``out_path`` (one Spark job, run here) and return the tasks' PARTS_SCHEMA rows,
    persisted (the caller unpersists them; ``rejected_table`` gives the rejected records
    from them)."""
    batches = pack_records(spark, records, cfg, lines)
    parts = write_token_files(spark, batches, out_path, cfg.lang, check_ids)
    parts = parts.persist(StorageLevel.MEMORY_AND_DISK)
    parts.count()
    fs, root = arrow_location(out_path)
    fs.create_dir(root, recursive=True)
    listing = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True))
    if not [i for i in listing if i.base_name.startswith("part-")]:
        # No document at all: one empty file, so the table still has its schema.
        pq.write_table(TOKENS_ARROW.empty_table(), f"{root}/part-00000.parquet", filesystem=fs)
    return parts


def rejected_table(parts: DataFrame, cfg: TokenizeConfig) -> tuple[DataFrame, int]:
    """The rejected table (``source, reason, excerpt``) from write_tokens_table's rows, and
    how many of its rows are not records: the records the tasks set aside, and for each
    text file bigger than ``max_record_mb`` whose lines (read in the JVM) add up to less
    than its size, the lines the reader skipped, as ``readers.read_text`` reports them
    (from a row per task and file, summed on the driver: no shuffle)."""
    size, read, cut = {}, {}, {}
    accounts = parts.where(F.col("file_size").isNotNull())
    for r in accounts.select("source", "file_size", "file_bytes", "file_cut").collect():
        size[r.source] = r.file_size
        read[r.source] = read.get(r.source, 0) + r.file_bytes
        cut[r.source] = cut.get(r.source, False) or r.file_cut
    reason = f"line longer than max_record_mb={cfg.max_record_mb} (skipped unread)"
    long_lines = [
        (source, reason, f"{size[source] - read[source]:,} bytes in skipped lines")
        for source in sorted(size)
        if size[source] > read[source] and not cut[source]
    ]
    rejected = parts.where(F.col("reason").isNotNull()).select("source", "reason", "excerpt")
    if long_lines:
        spark = parts.sparkSession
        schema = "source string, reason string, excerpt string"
        rejected = rejected.unionByName(spark.createDataFrame(long_lines, schema))
    return rejected, len(long_lines)


def summarise(parts: DataFrame, check_ids: bool) -> tuple[pa.Table, dict] | None:
    """(token counts, table statistics) as ``vocabulary.files.count_file_vocab`` gives them,
    from write_tokens_table's rows; None when a doc_id is in two tasks' files."""
    if check_ids:
        partials = summarise_partials(parts)  # the document rows (its token rows: none)
        return None if partials is None else (task_counts(parts), partials[1])
    row = (
        parts.where(F.col("documents").isNotNull())
        .agg(
            *[F.coalesce(F.sum(c), F.lit(0)).alias(c) for c in ("documents", "sentences", "count")]
        )
        .first()
    )
    stats = {"sentences": row["sentences"], "tokens": row["count"], "documents": row["documents"]}
    return task_counts(parts), {k: int(v) for k, v in stats.items()}


def task_counts(parts: DataFrame) -> pa.Table:
    """The tasks' token counts (``counts`` rows of write_tokens_table), summed on the
    driver as they arrive: ``token, count, doc_count`` (vocabulary.files.token_counts'
    table)."""
    return summed_counts(ipc_tables(parts.where(F.col("counts").isNotNull())))
