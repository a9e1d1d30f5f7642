"""The PPMI + truncated SVD trainer: DIR/cooccurrence, DIR/marginals, DIR/vocab -> vectors.

PPMI (context smoothing ``alpha``, optional shift ``neg``) built in Spark, then the
randomized SVD of ``sparkembed.linalg.sharded`` over the cached blocks; its factors stay
in block files the executors read and write, and the executors build the vectors.
"""

from __future__ import annotations

import numpy as np

from sparkembed.config import SvdConfig, TrainConfig
from sparkembed.errors import SparkembedError
from sparkembed.linalg.factors import FactorSpace, vector_rows
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
    scratch: str | None = None,
) -> TrainResult:
    """PPMI + truncated SVD: rows of ``U · S^eig`` (``+ V · S^eig`` if ``add_context``).

    With ``cooc_path`` (the table ``cooc`` was read from) and ``symmetric`` counts, the
    PPMI blocks are built from the shard files in one pass without a
    shuffle (``ppmi_matrix_from_files``); otherwise from ``cooc`` with Spark joins.
    ``scratch``: a folder every executor reaches for the factors' block files (a stage's
    scratch folder; without one, a local temporary folder, local masters only). The
    returned vectors are read from it: write them before it is removed.
    """

    spark = cooc.sparkSession
    dim, seed = train.dim, train.seed
    alpha, neg, eig = cfg.alpha, cfg.neg, cfg.eig
    voc = vocab_summary(vocab)
    n_ids = voc.n_ids
    space = FactorSpace(spark, scratch)
    from_files = None
    if cooc_path and symmetric:
        from sparkembed.stages.train.ppmi import ppmi_matrix_from_files

        from_files = ppmi_matrix_from_files(spark, cooc_path, marginals, n_ids, alpha, neg, space)
    if from_files is not None:
        matrix, pinfo = from_files
    else:
        entries, pinfo = ppmi_entries(cooc, marginals, n_ids, alpha=alpha, neg=neg)
        partitions = cfg.partitions or max(2, spark.sparkContext.defaultParallelism)
        matrix = ShardedMatrix.cache(entries, n_ids, n_ids, partitions, space)
    if pinfo.entries_rejected:
        log(f"set aside {pinfo.entries_rejected:,} malformed co-occurrence entries", quiet)
    try:
        if matrix.nnz == 0:
            raise SparkembedError("the PPMI matrix is empty (no positive PMI entry)")
        if dim > n_ids:
            raise SparkembedError(f"train.dim {dim} exceeds the vocabulary size {n_ids:,}")
        k = dim
        log(f"PPMI {n_ids:,} x {n_ids:,}, {matrix.nnz:,} non-zeros; randomized SVD, k={k}", quiet)
        svd = randomized_svd(
            matrix, k, space, cfg.oversample, cfg.power_iters, seed, log=lambda m: log(m, quiet)
        )
        passes, parts = matrix.passes, matrix.partitions
    except BaseException:
        space.close()
        raise
    finally:
        matrix.unpersist()
    weight = np.diag(svd.s**eig)
    terms = [svd.u.then(weight)]
    if cfg.add_context:
        terms.append(svd.v.then(weight))
    out = vector_frame(vocab, vector_rows(spark, parts, terms))
    if scratch is None:
        out = out.persist()
        out.count()
        space.close()
    counts = {
        "vocab_size": voc.size,
        "corpus_tokens": voc.tokens,
        "cooccurrence_entries": pinfo.entries_in,
        "cooccurrence_rejected": pinfo.entries_rejected,
        "ppmi_nonzeros": matrix.nnz,
        "tokens_without_ppmi": voc.size - svd.rows,
        "vectors": svd.rows,
        "spark_passes": passes,
    }
    return TrainResult(out, counts, {"singular_values": [float(x) for x in svd.s]})
