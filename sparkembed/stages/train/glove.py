"""The GloVe trainer: DIR/cooccurrence, DIR/vocab -> vectors, by alternating least squares.

GloVe's objective (Pennington, Socher & Manning 2014) over the non-zero counts x_ij,

    J = Σ f(x_ij) (w_i · c_j + b_i + b̃_j − log x_ij)² + ridge · (|W|² + |C|²),

f(x) = min(1, (x / x_max)^alpha), is minimised by alternating exact solves: with the
context vectors and biases fixed, each word's vector and bias is an independent weighted
ridge regression over its row's non-zeros (``weighted_lsq``); then the same with the
words fixed. J never rises from one half-step to the next. The counts stay in Spark as
cached CSR blocks of log x (for symmetric counts, one set of blocks serves both halves:
row j of the counts is column j); each half-step is one Spark pass whose tasks read the
fixed side (vocabulary × (dim + 1) float32) from the block files the previous half-step's
tasks wrote, and write the rows they solve (``linalg.factors``). The driver holds neither
the counts nor the factors: costs and counts only.
"""

from __future__ import annotations

import time

import numpy as np

from sparkembed.config import GloveConfig, TrainConfig
from sparkembed.errors import SparkembedError
from sparkembed.linalg.factors import Factor, FactorSpace, Generated, row_norms, vector_rows
from sparkembed.linalg.sharded import (
    KIND_A,
    WIRE_DTYPE,
    BlockFiles,
    ShardedMatrix,
    pack_rows,
    stats_batch,
    write_block_files,
)
from sparkembed.stages.train.cells import shard_cells, shard_files, valid_entry
from sparkembed.stages.train.result import TrainResult, log, vector_frame, vocab_summary


def _log_count_blocks(fs, n_ids: int):
    """mapInArrow: the rows of this task's shard files as packed CSR blocks of log x."""

    def blocks(batches):
        entries = rejected = 0
        for b in batches:
            for path in b.column(0).to_pylist():
                (r, c, v), (read, set_aside) = shard_cells(fs, path, n_ids)
                entries += read
                rejected += set_aside
                yield from pack_rows(r, c, np.log(v), {"kind": KIND_A})
        yield stats_batch([entries, rejected])

    return blocks


def log_count_matrix(
    spark, cooc, n_ids: int, space, *, cooc_path=None, symmetric=False, partitions=0
):
    """``(ShardedMatrix of log x, cells read, cells set aside)``, its blocks in ``space``.

    Symmetric counts whose shard files pyarrow reaches are packed from the files with no
    shuffle, one set of blocks serving as both the matrix and its transpose; other tables
    go through Spark (a shuffle by row and one by column).
    """
    from pyspark.sql import functions as F

    located = shard_files(spark, cooc_path) if cooc_path and symmetric else None
    if located is not None:
        fs, units = located
        rows = BlockFiles(space.new("log-counts"), units.rdd.getNumPartitions())
        entries, rejected = (
            int(x)
            for x in write_block_files(units, _log_count_blocks(fs, n_ids), {KIND_A: rows.folder})
        )
        nnz = entries - rejected
        return ShardedMatrix(rows, rows, n_ids, n_ids, nnz, spark=spark), entries, rejected
    valid = valid_entry(n_ids)
    stats = cooc.agg(
        F.count(F.lit(1)).alias("n"), F.count(F.when(valid, 1)).alias("n_good")
    ).collect()[0]
    cells = cooc.where(valid).select("row", "col", F.log("count").alias("value"))
    parts = partitions or max(2, spark.sparkContext.defaultParallelism)
    matrix = ShardedMatrix.cache(cells, n_ids, n_ids, parts, space)
    return matrix, int(stats["n"]), int(stats["n"]) - int(stats["n_good"])


def _solve_block(x_max: float, alpha: float, ridge: float, with_cost: bool):
    """``ShardedMatrix.factor_pass``'s block function: a block's rows solved against the
    fixed side (a ``FixedSide``), and their cost."""
    from sparkembed.stages.train.weighted_lsq import solve_rows

    def solve(m, fixed):
        theta, cost = solve_rows(
            m.indptr,
            m.indices,
            m.data,
            fixed,
            x_max=x_max,
            alpha=alpha,
            ridge=ridge,
            with_cost=with_cost,
        )
        return theta.astype(WIRE_DTYPE), np.array([cost])

    return solve


def _fixed_side(rows):
    from sparkembed.stages.train.weighted_lsq import FixedSide

    return FixedSide(rows)


def _solved_stats(dim: int):
    """A task's stats after its half-step: cost, Σ|w|² of the solved vectors, rows."""

    def finish(ids, rows, stats):
        vectors = rows[:, :dim].astype(np.float64)
        cost = 0.0 if stats is None else float(stats[0])
        return rows, np.array([cost, float(np.einsum("ij,ij->", vectors, vectors)), len(ids)])

    return finish


def _half_step(matrix: ShardedMatrix, blocks, fixed: Factor, solve, out: str) -> tuple:
    """Solve every row of ``blocks`` against ``fixed``: the new ``[vectors | bias]`` as
    block files in ``out`` (rows without entries have none), and the pass's stats."""
    stats = matrix.factor_pass(
        blocks, fixed, solve, _solved_stats(fixed.width - 1), out, prepare=_fixed_side
    )
    return Factor(matrix.n_rows, fixed.width, folder=out), stats


def train_glove(
    cooc,
    vocab,
    train: TrainConfig,
    cfg: GloveConfig,
    *,
    quiet: bool = False,
    cooc_path: str | None = None,
    symmetric: bool = False,
    scratch: str | None = None,
) -> TrainResult:
    """GloVe vectors (``W + C``, or ``W`` without ``add_context``) of the counts in
    ``cooc`` (``row, col, count``); the objective after every iteration is in the
    progress lines and in the table's metadata (``extra["cost"]``).

    With ``cooc_path`` (the table ``cooc`` was read from) and ``symmetric`` counts, the
    blocks are packed straight from the shard files. ``scratch``: where the factors'
    block files go, as for ``train_svd``.
    """

    spark = cooc.sparkSession
    dim, seed = train.dim, train.seed
    voc = vocab_summary(vocab)
    n_ids = voc.n_ids
    if dim > n_ids:
        raise SparkembedError(f"train.dim {dim} exceeds the vocabulary size {n_ids:,}")
    space = FactorSpace(spark, scratch)
    matrix, entries, rejected = log_count_matrix(
        spark,
        cooc,
        n_ids,
        space,
        cooc_path=cooc_path,
        symmetric=symmetric,
        partitions=cfg.partitions,
    )
    if rejected:
        log(f"set aside {rejected:,} malformed co-occurrence entries", quiet)
    # Only the second half-step's cost is reported: the first skips computing it.
    solve_words = _solve_block(cfg.x_max, cfg.alpha, cfg.ridge, with_cost=False)
    solve_contexts = _solve_block(cfg.x_max, cfg.alpha, cfg.ridge, with_cost=True)
    costs = []
    try:
        if matrix.nnz == 0:
            raise SparkembedError("the co-occurrence table has no positive counts")
        log(
            f"GloVe ALS {n_ids:,} x {n_ids:,}, {matrix.nnz:,} non-zeros, dim {dim}, "
            f"{cfg.iterations} iterations",
            quiet,
        )
        # GloVe's start: small uniform vectors, zero biases (each task draws them)
        contexts = Factor(n_ids, dim + 1, generated=Generated(seed, "glove"))
        words = None
        for it in range(cfg.iterations):
            t0 = time.perf_counter()
            old = (words, contexts)
            words, word_stats = _half_step(
                matrix, matrix.by_row, contexts, solve_words, space.new(f"words{it}")
            )
            contexts, stats = _half_step(
                matrix, matrix.by_col, words, solve_contexts, space.new(f"contexts{it}")
            )
            for factor in old:
                space.drop(factor.folder if factor is not None else None)
            cost = float(stats[0]) + cfg.ridge * float(word_stats[1])
            costs.append(cost)
            log(
                f"GloVe iteration {it + 1}/{cfg.iterations}: cost {cost:.6g} "
                f"({cost / matrix.nnz:.5f} per non-zero), {time.perf_counter() - t0:.1f}s",
                quiet,
            )
        passes, parts = matrix.passes, matrix.partitions
        present = int(word_stats[2])
    except BaseException:
        space.close()
        raise
    finally:
        matrix.unpersist()
    # W (+ C): the first dim columns of [vectors | bias]
    select = np.eye(dim + 1)[:, :dim]
    terms = [words.then(select)] + ([contexts.then(select)] if cfg.add_context else [])
    # A word seen with one distinct context (or with contexts whose vectors coincide) is
    # fitted by its bias alone: its vector is zero up to rounding, has no direction, and
    # is left out like a word without counts (a zero norm breaks cosine readers).
    norms = row_norms(spark, parts, terms)
    floor = 1e-6 * float(np.median(norms)) if len(norms) else 0.0
    zero = int((norms <= floor).sum())
    out = vector_frame(vocab, vector_rows(spark, parts, terms, min_norm=floor))
    if scratch is None:
        out = out.persist()
        out.count()
        space.close()
    counts = {
        "vocab_size": voc.size,
        "corpus_tokens": voc.tokens,
        "cooccurrence_entries": entries,
        "cooccurrence_rejected": rejected,
        "cooccurrence_nonzeros": matrix.nnz,
        "tokens_without_counts": voc.size - present,
        "zero_vectors": zero,
        "vectors": present - zero,
        "spark_passes": passes,
    }
    return TrainResult(out, counts, {"cost": costs})
