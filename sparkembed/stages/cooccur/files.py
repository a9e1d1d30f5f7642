"""The cooccur stage's file path: token Parquet in, sharded counts out, Arrow I/O in tasks.

Same numbers as ``cooccurrence_counts`` (both drive the counting kernel of ``kernel``);
what differs is where rows cross the JVM/Python border. Reading ``tokens`` through Spark
copies every token string twice on its way to Python, and handing the summed cells back to
the JVM for Spark's Parquet writer makes one UnsafeRow per cell: together a large share of
the DataFrame path's CPU time (docs/cooccur.md has the figures). Here instead:

- map tasks read their share of the token table's Parquet row groups with pyarrow,
  dictionary-encoded: only each row group's dictionary is looked up in the vocabulary,
  not every token;
- reduce tasks write their shard's Parquet file with pyarrow and return only the shard's
  row sums, so ``DIR/marginals`` (vocabulary-sized) comes from the same pass.

Spark still plans the tasks, moves the packed partial sums between them and retries
failed tasks (a retried reduce overwrites its shard's file: names are per shard). Paths
must be readable and writable by pyarrow from every executor: local paths (one machine,
or a shared mount), or hdfs:// and s3:// where pyarrow has those filesystems.
``file_path_supported`` says when; the stage uses the DataFrame path otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession

from sparkembed.arrowio import (
    READ_BATCH_ROWS,
    arrow_location,
    plan_map_tasks,
    token_row_groups,
    tokens_leaf,
)
from sparkembed.config import CooccurConfig
from sparkembed.errors import SparkembedError
from sparkembed.session import task_slots
from sparkembed.stages.cooccur.kernel import (
    PACKED_SCHEMA,
    Params,
    count_chunks,
    load_vocab,
    runs,
    sum_shard,
)
from sparkembed.vocabulary.lookup import TokenIds

UNIT_SCHEMA = "path string, row_group int"
ROW_SUMS_SCHEMA = "row int, count double, cells long"
# Cells per Parquet row group of a shard file.
WRITE_ROW_GROUP = 1 << 20


def file_path_supported(tokens_path: str, out_path: str, cfg: CooccurConfig) -> bool:
    """Whether ``count_to_files`` can run: both paths reachable, no subsampling.

    Subsampling decides per token from Spark's xxhash64 of (doc_id, sentence), which only
    the DataFrame path computes.
    """
    if cfg.subsample > 0:
        return False
    return arrow_location(tokens_path) is not None and arrow_location(out_path) is not None


def _token_ids(lists: pa.Array, token_ids: TokenIds) -> tuple[np.ndarray, np.ndarray]:
    """Vocab ids (-1 out of vocabulary) and sentence lengths of one ``tokens`` batch."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy().astype(np.int64)
    return token_ids(lists.flatten()), lengths


def _row_group_chunks(
    fs: pafs.FileSystem,
    units: Iterator[tuple[str, int]],
    token_ids: TokenIds,
    chunk_tokens: int,
):
    """(ids, lengths, None) chunks of about ``chunk_tokens`` tokens from the row groups."""
    ids_parts, length_parts, pending = [], [], 0
    by_file: dict[str, list[int]] = {}
    for path, g in units:
        by_file.setdefault(path, []).append(g)
    for path, groups in by_file.items():
        try:
            with fs.open_input_file(path) as f:
                leaf = tokens_leaf(pq.ParquetFile(f).schema, path)
                pf = pq.ParquetFile(f, read_dictionary=[leaf])
                # One row group at a time: each has its own dictionary, and a batch that
                # spans two would need a chunked dictionary array, which Arrow refuses.
                for g in sorted(groups):
                    for batch in pf.iter_batches(
                        batch_size=READ_BATCH_ROWS, row_groups=[g], columns=["tokens"]
                    ):
                        ids, lengths = _token_ids(batch.column(0), token_ids)
                        ids_parts.append(ids)
                        length_parts.append(lengths)
                        pending += len(ids)
                        if pending >= chunk_tokens:
                            yield np.concatenate(ids_parts), np.concatenate(length_parts), None
                            ids_parts, length_parts, pending = [], [], 0
        except (pa.ArrowException, OSError, IndexError, ValueError) as e:
            # Parquet pages carry no checksum: damaged bytes can decode into ids that point
            # outside their dictionary rather than fail to decode.
            raise SparkembedError(
                f"tokens: cannot read {path} (row groups {groups}), damaged file? {e}"
            ) from e
    if ids_parts:
        yield np.concatenate(ids_parts), np.concatenate(length_parts), None


def _count_row_groups(p: Params, fs: pafs.FileSystem, vocab_bc):
    def count(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        units = [
            (path, g)
            for b in batches
            for path, g in zip(b.column(0).to_pylist(), b.column(1).to_pylist(), strict=True)
        ]
        token_ids = TokenIds(vocab_bc.value)
        yield from count_chunks(
            p, _row_group_chunks(fs, iter(units), token_ids, p.chunk_tokens), None
        )

    return count


def _write_shard(p: Params, fs: pafs.FileSystem, root: str):
    """Reduce task: sum one shard's packed partial sums, write its Parquet file, return
    the shard's row sums (``row, count, cells``)."""
    schema = pa.schema(
        [
            pa.field("row", pa.int32(), nullable=False),
            pa.field("col", pa.int32(), nullable=False),
            pa.field("count", pa.float64(), nullable=False),
        ]
    )

    def reduce(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        summed = sum_shard(p, batches)
        if summed is None:
            return
        rows, cols, sums, counts = summed
        shard = int(p.shard_of[rows[0]])
        folder = f"{root}/shard={shard}"
        fs.create_dir(folder, recursive=True)
        final = f"{folder}/part-{shard:05d}.parquet"
        # Hidden while being written (Spark skips names starting with "."); a retried
        # task writes its own temporary file and replaces the same final name.
        tmp = f"{folder}/.part-{shard:05d}-{uuid.uuid4().hex[:8]}.parquet"
        table = pa.Table.from_arrays([rows, cols, counts], schema=schema)
        with fs.open_output_stream(tmp) as out:
            pq.write_table(table, out, row_group_size=WRITE_ROW_GROUP, compression="snappy")
        fs.move(tmp, final)
        del table, counts
        # Row sums from the exact (scaled integer) sums: the marginals need no second pass.
        row_values, row_starts = runs(rows)
        row_sums = np.add.reduceat(sums, row_starts)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(row_values, pa.int32()),
                pa.array(row_sums / float(p.scale) if p.scale else row_sums, pa.float64()),
                pa.array(np.diff(np.append(row_starts, len(rows))), pa.int64()),
            ],
            names=["row", "count", "cells"],
        )

    return reduce


def count_to_files(
    spark: SparkSession, tokens_path: str, vocab_df: DataFrame, cfg: CooccurConfig, out: str
) -> pa.Table:
    """Count co-occurrences of the token table at ``tokens_path`` into shards under ``out``.

    Writes ``out/shard=S/part-S.parquet`` (``row int, col int, count double``, sorted by
    (row, col)) and ``out/_SUCCESS``: the layout Spark's ``partitionBy("shard")`` writes.
    Returns the row sums on the driver (vocabulary-sized): ``row int, count double,
    cells long`` (cells: non-zeros of the row), sorted by row.
    """
    if not file_path_supported(tokens_path, out, cfg):
        raise SparkembedError("cooccur: the file path needs pyarrow-readable paths, no subsample")
    vocab = load_vocab(vocab_df)
    p = Params.from_config(cfg, vocab.num_rows)
    sc = spark.sparkContext
    in_fs, _ = arrow_location(tokens_path)
    out_fs, out_root = arrow_location(out)
    tasks = plan_map_tasks(token_row_groups(tokens_path), task_slots(spark))
    if not tasks:
        raise SparkembedError(f"tokens: no Parquet files under {tokens_path}")
    vocab_bc = sc.broadcast(vocab.column("token").combine_chunks())
    units = spark.createDataFrame(
        sc.parallelize(tasks, len(tasks)).flatMap(lambda t: t), UNIT_SCHEMA
    )
    packed = units.mapInArrow(_count_row_groups(p, in_fs, vocab_bc), PACKED_SCHEMA)
    out_fs.create_dir(out_root, recursive=True)
    row_sums = (
        packed.repartition(p.shards, "route")
        .mapInArrow(_write_shard(p, out_fs, out_root), ROW_SUMS_SCHEMA)
        .toArrow()
    )
    with out_fs.open_output_stream(f"{out_root}/_SUCCESS"):
        pass
    vocab_bc.unpersist()
    return row_sums.sort_by("row")
