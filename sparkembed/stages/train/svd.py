"""The PPMI + truncated SVD trainer: DIR/cooccurrence, DIR/marginals, DIR/vocab -> vectors.

PPMI (context smoothing ``alpha``, optional shift ``neg``) built in Spark, then the
randomized SVD of ``sparkembed.linalg.sharded`` over the cached blocks.
"""

from __future__ import annotations

import numpy as np

from sparkembed.config import SvdConfig, TrainConfig
from sparkembed.errors import SparkembedError
from sparkembed.linalg.sharded import ShardedMatrix, randomized_svd
from sparkembed.stages.train.ppmi import ppmi_entries
from sparkembed.stages.train.result import TrainResult, log, vector_frame, vocab_summary


def train_svd(
    cooc,
    marginals,
    vocab,
    train: TrainConfig,
    cfg: SvdConfig,
    *,
    quiet: bool = False,
    cooc_path: str | None = None,
    symmetric: bool = False,
) -> TrainResult:
    """PPMI + truncated SVD: rows of ``U · S^eig`` (``+ V · S^eig`` if ``add_context``).

    With ``cooc_path`` (the table ``cooc`` was read from) and ``symmetric`` counts, the
    PPMI blocks are built from the shard files in one pass without a
    shuffle (``ppmi_blocks_from_files``); otherwise from ``cooc`` with Spark joins.
    """

    spark = cooc.sparkSession
    dim, seed = train.dim, train.seed
    alpha, neg, eig = cfg.alpha, cfg.neg, cfg.eig
    voc = vocab_summary(vocab)
    n_ids = voc.n_ids
    from_files = None
    if cooc_path and symmetric:
        from sparkembed.stages.train.ppmi import ppmi_blocks_from_files

        from_files = ppmi_blocks_from_files(spark, cooc_path, marginals, n_ids, alpha, neg)
    if from_files is not None:
        blocks, pinfo = from_files
        matrix = ShardedMatrix.from_symmetric_files(blocks, n_ids, pinfo.nonzeros)
    else:
        entries, pinfo = ppmi_entries(cooc, marginals, n_ids, alpha=alpha, neg=neg)
        partitions = cfg.partitions or max(2, spark.sparkContext.defaultParallelism)
        matrix = ShardedMatrix.cache(entries, n_ids, n_ids, partitions)
    if pinfo.entries_rejected:
        log(f"set aside {pinfo.entries_rejected:,} malformed co-occurrence entries", quiet)
    try:
        if matrix.nnz == 0:
            raise SparkembedError("the PPMI matrix is empty (no positive PMI entry)")
        if dim > n_ids:
            raise SparkembedError(f"train.dim {dim} exceeds the vocabulary size {n_ids:,}")
        k = dim
        log(f"PPMI {n_ids:,} x {n_ids:,}, {matrix.nnz:,} non-zeros; randomized SVD, k={k}", quiet)
        u, s, v = randomized_svd(
            matrix, k, cfg.oversample, cfg.power_iters, seed, log=lambda m: log(m, quiet)
        )
        present = np.zeros(n_ids, dtype=bool)
        present[matrix.row_ids().astype(np.int64)] = True
        passes = matrix.passes
    finally:
        matrix.unpersist()
    weight = s**eig
    w = u * weight
    if cfg.add_context:
        w = w + v * weight
    out, n_vectors = vector_frame(vocab, present, w)
    counts = {
        "vocab_size": voc.size,
        "corpus_tokens": voc.tokens,
        "cooccurrence_entries": pinfo.entries_in,
        "cooccurrence_rejected": pinfo.entries_rejected,
        "ppmi_nonzeros": matrix.nnz,
        "tokens_without_ppmi": voc.size - n_vectors,
        "vectors": n_vectors,
        "spark_passes": passes,
    }
    return TrainResult(out, counts, {"singular_values": [float(x) for x in s]})
