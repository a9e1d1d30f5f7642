"""The cooccur stage's DataFrame path: Spark reads the tokens and writes the counts, the
counting kernel (``kernel``) runs in the tasks in between.

Tokens -> packed partial sums per partition (``mapInArrow``), one Spark shuffle by shard,
each shard summed and sorted in numpy. Works wherever Spark can read and write, and is the
only path that subsamples (it needs Spark's hash of each row); ``files`` is the faster
path where pyarrow reaches the tables. The definitions of the counts are in ``kernel``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkembed import schemas
from sparkembed.config import CooccurConfig
from sparkembed.stages.cooccur.kernel import (
    PACKED_SCHEMA,
    Params,
    count_chunks,
    load_vocab,
    require_columns,
    sum_shard,
    weight_scale,
)
from sparkembed.vocabulary.lookup import TokenIds
from sparkembed.vocabulary.subsample import keep_probability, row_hash_column

COUNTS_SCHEMA = schemas.COOCCURRENCE


def _batch_token_ids(
    batches: list[pa.RecordBatch], token_ids: TokenIds, with_hash: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Vocab ids (-1: out of vocabulary) and sentence lengths of ``tokens`` batches."""
    lists = pa.concat_arrays([b.column(0) for b in batches])
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy().astype(np.int64)
    flat = lists.flatten()  # skips values under null rows, like the zero lengths above
    ids = token_ids(flat)
    row_hash = None
    if with_hash:
        row_hash = pa.concat_arrays([b.column(1) for b in batches]).to_numpy()
    return ids, lengths, row_hash


def _count_partition(p: Params, vocab_bc, keep_bc):
    """mapInArrow: a partition's ``tokens`` (and ``row_hash``) batches -> packed partial
    sums, counted in chunks of about ``chunk_tokens`` tokens."""

    def chunks(batches: Iterator[pa.RecordBatch], token_ids: TokenIds):
        pending, pending_tokens = [], 0
        for batch in batches:
            pending.append(batch)
            pending_tokens += len(batch.column(0).flatten())
            if pending_tokens >= p.chunk_tokens:
                yield _batch_token_ids(pending, token_ids, p.subsample)
                pending, pending_tokens = [], 0
        if pending:
            yield _batch_token_ids(pending, token_ids, p.subsample)

    def count(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        keep_prob = keep_bc.value if keep_bc is not None else None
        yield from count_chunks(p, chunks(batches, TokenIds(vocab_bc.value)), keep_prob)

    return count


def _reduce_shard(p: Params):
    """One shard's packed partial sums -> its cells, summed and sorted by (row, col)."""

    def reduce(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        summed = sum_shard(p, batches)
        if summed is None:
            return
        rows, cols, _, counts = summed
        shard = pa.array(np.full(min(len(rows), p.emit_rows), p.shard_of[rows[0]], np.int32))
        for i in range(0, len(rows), p.emit_rows):
            s = slice(i, i + p.emit_rows)
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(rows[s]),
                    pa.array(cols[s]),
                    pa.array(counts[s]),
                    shard.slice(0, len(rows[s])),
                ],
                names=["row", "col", "count", "shard"],
            )

    return reduce


def _shuffle_packed(packed: DataFrame, p: Params) -> DataFrame:
    """Packed (route, keys, counts) rows -> summed, sharded counts sorted by (row, col).

    ``repartition(shards, route)`` puts every chunk of shard s in partition s (one task and
    one file per shard); the task sorts and sums its shard in numpy. Why not one
    (key, count) Spark row per partial sum, sorted by Spark: Spark's per-row costs would
    exceed the numpy work (docs/cooccur.md). A reduce task holds one shard's partial sums
    (about 40 bytes each while sorting), so ``shards`` must grow with the corpus
    (docs/cooccur.md says by how much).
    The writer's sort by ``shard`` (one value per task) keeps the rows in order.
    """
    return packed.repartition(p.shards, "route").mapInArrow(_reduce_shard(p), COUNTS_SCHEMA)


def cooccurrence_counts(tokens_df: DataFrame, vocab_df: DataFrame, cfg: CooccurConfig) -> DataFrame:
    """Co-occurrence counts of in-vocabulary tokens within ``cfg.window`` of each other.

    tokens_df: ``tokens array<string>`` (plus ``doc_id string, sentence int`` when
    subsampling); vocab_df: ``id int, token string, count long`` with ids 0..V-1.
    Returns ``row int, col int, count double, shard int``: one row per non-zero cell,
    partitioned into ``shard_count(cfg, None)`` partitions with shard = pmod(hash(row),
    shards) (Spark's murmur3 ``hash``), each sorted by (row, col). Write it with
    ``partitionBy("shard")``.
    """
    require_columns(tokens_df, "tokens", {"tokens": list})
    vocab = load_vocab(vocab_df)
    p = Params.from_config(cfg, vocab.num_rows)
    sc = tokens_df.sparkSession.sparkContext
    vocab_bc = sc.broadcast(vocab.column("token").combine_chunks())
    keep_bc = None
    columns = [F.col("tokens")]
    if p.subsample:
        require_columns(tokens_df, "tokens", {"doc_id": T.StringType, "sentence": T.IntegralType})
        keep_bc = sc.broadcast(
            keep_probability(vocab.column("count").to_numpy(), cfg.subsample, "hyperwords")
        )
        columns.append(row_hash_column(cfg.seed).alias("row_hash"))
    packed = tokens_df.select(*columns).mapInArrow(
        _count_partition(p, vocab_bc, keep_bc), PACKED_SCHEMA
    )
    return _shuffle_packed(packed, p)


def marginals(counts_df: DataFrame, cfg: CooccurConfig | None = None) -> DataFrame:
    """Row sums of the counts: ``id int, count double``, ordered by id.

    With ``cfg`` (the config the counts were made with) the sum is exact: counts are scaled
    back to the integers they were summed as, so the result does not depend on order.
    """
    scale = weight_scale(cfg) if cfg is not None else 0
    if scale:
        total = F.sum(F.round(F.col("count") * F.lit(float(scale))).cast("long")).cast(
            "double"
        ) / F.lit(float(scale))
    else:
        total = F.sum("count")
    return (
        counts_df.groupBy(F.col("row").cast("int").alias("id"))
        .agg(total.cast("double").alias("count"))
        .orderBy("id")
    )
