"""The GloVe trainer: DIR/cooccurrence, DIR/vocab -> vectors, by alternating least squares.

GloVe's objective (Pennington, Socher & Manning 2014) over the non-zero counts x_ij,

    J = Σ f(x_ij) (w_i · c_j + b_i + b̃_j − log x_ij)² + ridge · (|W|² + |C|²),

f(x) = min(1, (x / x_max)^alpha), is minimised by alternating exact solves: with the
context vectors and biases fixed, each word's vector and bias is an independent weighted
ridge regression over its row's non-zeros (``weighted_lsq``); then the same with the
words fixed. J never rises from one half-step to the next. The counts stay in Spark as
cached CSR blocks of log x (for symmetric counts, one set of blocks serves both halves:
row j of the counts is column j); each half-step is one Spark pass that broadcasts the
fixed side (vocabulary × (dim + 1) float32) and returns the solved side, so the driver
holds vocabulary-sized factors only, never the counts.
"""

from __future__ import annotations

import time

import numpy as np

from sparkembed.config import GloveConfig, TrainConfig
from sparkembed.errors import SparkembedError
from sparkembed.linalg.sharded import KIND_A, WIRE_DTYPE, ShardedMatrix, block_matrix, pack_rows
from sparkembed.stages.train.cells import (
    FILE_BLOCK_SCHEMA,
    read_stats,
    shard_cells,
    shard_files,
    stats_batch,
    valid_entry,
)
from sparkembed.stages.train.result import TrainResult, log, vector_frame, vocab_summary

SOLVED_SCHEMA = "ids binary, theta binary, cost double"


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


def log_count_matrix(spark, cooc, n_ids: int, *, cooc_path=None, symmetric=False, partitions=0):
    """``(ShardedMatrix of log x, cells read, cells set aside)``.

    Symmetric counts whose shard files pyarrow reaches are packed from the files with no
    shuffle, one set of blocks serving as both the matrix and its transpose; other tables
    go through Spark (a shuffle by row and one by column).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    located = shard_files(spark, cooc_path) if cooc_path and symmetric else None
    if located is not None:
        fs, units = located
        blocks = units.mapInArrow(_log_count_blocks(fs, n_ids), FILE_BLOCK_SCHEMA).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        entries, rejected = (int(x) for x in read_stats(blocks))  # fills the cache
        rows = blocks.where(F.col("kind") == KIND_A).drop("kind")
        nnz = entries - rejected
        return ShardedMatrix(rows, rows, n_ids, n_ids, nnz, cached=(blocks,)), entries, rejected
    valid = valid_entry(n_ids)
    stats = cooc.agg(
        F.count(F.lit(1)).alias("n"), F.count(F.when(valid, 1)).alias("n_good")
    ).collect()[0]
    cells = cooc.where(valid).select("row", "col", F.log("count").alias("value"))
    parts = partitions or max(2, spark.sparkContext.defaultParallelism)
    matrix = ShardedMatrix.cache(cells, n_ids, n_ids, parts)
    return matrix, int(stats["n"]), int(stats["n"]) - int(stats["n_good"])


def _solve_fn(x_max: float, alpha: float, ridge: float, with_cost: bool):
    """mapInArrow function factory for ``ShardedMatrix.map_blocks``: each block's rows
    solved against the broadcast fixed side ``[vectors | bias]``."""
    from sparkembed.stages.train.weighted_lsq import FixedSide, solve_rows

    def make(fixed_bc, n_in: int, _cols: int):
        def solve(batches):
            import pyarrow as pa

            fixed = FixedSide(fixed_bc.value)
            for b in batches:
                for i in range(b.num_rows):
                    ids, m = block_matrix(b, i, n_in)
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
                    yield pa.RecordBatch.from_pydict(
                        {
                            "ids": pa.array([ids.tobytes()], pa.binary()),
                            "theta": pa.array([theta.astype(WIRE_DTYPE).tobytes()], pa.binary()),
                            "cost": pa.array([cost], pa.float64()),
                        }
                    )

        return solve

    return make


def _half_step(matrix: ShardedMatrix, blocks, fixed: np.ndarray, solve_fn):
    """Solve every row of ``blocks`` against ``fixed``: the new ``[vectors | bias]``
    (rows without entries stay zero), the ids solved, and the rows' cost."""
    table = matrix.map_blocks(blocks, solve_fn, matrix.n_cols, fixed, SOLVED_SCHEMA)
    out = np.zeros((matrix.n_rows, fixed.shape[1]), dtype=WIRE_DTYPE)
    solved = np.zeros(matrix.n_rows, dtype=bool)
    ids_col, theta_col = table.column("ids"), table.column("theta")
    for i in range(table.num_rows):
        rows = np.frombuffer(ids_col[i].as_buffer(), dtype=np.int32)
        theta = np.frombuffer(theta_col[i].as_buffer(), dtype=WIRE_DTYPE)
        out[rows] = theta.reshape(len(rows), fixed.shape[1])
        solved[rows] = True
    cost = float(np.sum(table.column("cost").to_numpy()))
    return out, solved, cost


def train_glove(
    cooc,
    vocab,
    train: TrainConfig,
    cfg: GloveConfig,
    *,
    quiet: bool = False,
    cooc_path: str | None = None,
    symmetric: bool = False,
) -> TrainResult:
    """GloVe vectors (``W + C``, or ``W`` without ``add_context``) of the counts in
    ``cooc`` (``row, col, count``); the objective after every iteration is in the
    progress lines and in the table's metadata (``extra["cost"]``).

    With ``cooc_path`` (the table ``cooc`` was read from) and ``symmetric`` counts, the
    blocks are packed straight from the shard files.
    """

    spark = cooc.sparkSession
    dim, seed = train.dim, train.seed
    voc = vocab_summary(vocab)
    n_ids = voc.n_ids
    if dim > n_ids:
        raise SparkembedError(f"train.dim {dim} exceeds the vocabulary size {n_ids:,}")
    matrix, entries, rejected = log_count_matrix(
        spark,
        cooc,
        n_ids,
        cooc_path=cooc_path,
        symmetric=symmetric,
        partitions=cfg.partitions,
    )
    if rejected:
        log(f"set aside {rejected:,} malformed co-occurrence entries", quiet)
    # Only the second half-step's cost is reported: the first skips computing it.
    solve_words = _solve_fn(cfg.x_max, cfg.alpha, cfg.ridge, with_cost=False)
    solve_contexts = _solve_fn(cfg.x_max, cfg.alpha, cfg.ridge, with_cost=True)
    costs = []
    try:
        if matrix.nnz == 0:
            raise SparkembedError("the co-occurrence table has no positive counts")
        log(
            f"GloVe ALS {n_ids:,} x {n_ids:,}, {matrix.nnz:,} non-zeros, dim {dim}, "
            f"{cfg.iterations} iterations",
            quiet,
        )
        # GloVe's start: small uniform vectors; the biases start at zero
        rng = np.random.default_rng(seed)
        contexts = np.zeros((n_ids, dim + 1), dtype=WIRE_DTYPE)
        contexts[:, :dim] = (rng.random((n_ids, dim)) - 0.5) / dim
        for it in range(cfg.iterations):
            t0 = time.perf_counter()
            words, present, _ = _half_step(matrix, matrix.by_row, contexts, solve_words)
            contexts, _, cost = _half_step(matrix, matrix.by_col, words, solve_contexts)
            w = words[:, :dim].astype(np.float64)
            cost += cfg.ridge * float(np.einsum("ij,ij->", w, w))
            costs.append(cost)
            log(
                f"GloVe iteration {it + 1}/{cfg.iterations}: cost {cost:.6g} "
                f"({cost / matrix.nnz:.5f} per non-zero), {time.perf_counter() - t0:.1f}s",
                quiet,
            )
        passes = matrix.passes
    finally:
        matrix.unpersist()
    vectors = words[:, :dim].astype(np.float64)
    if cfg.add_context:
        vectors = vectors + contexts[:, :dim]
    # A word seen with one distinct context (or with contexts whose vectors coincide) is
    # fitted by its bias alone: its vector is zero up to rounding, has no direction, and
    # is left out like a word without counts (a zero norm breaks cosine readers).
    norms = np.linalg.norm(vectors, axis=1)
    floor = 1e-6 * float(np.median(norms[present])) if present.any() else 0.0
    zero = present & (norms <= floor)
    out, n_vectors = vector_frame(vocab, present & ~zero, vectors)
    counts = {
        "vocab_size": voc.size,
        "corpus_tokens": voc.tokens,
        "cooccurrence_entries": entries,
        "cooccurrence_rejected": rejected,
        "cooccurrence_nonzeros": matrix.nnz,
        "tokens_without_counts": voc.size - int(present.sum()),
        "zero_vectors": int(zero.sum()),
        "vectors": n_vectors,
        "spark_passes": passes,
    }
    return TrainResult(out, counts, {"cost": costs})
