"""Truncated SVD of a sharded sparse matrix in Spark, and the PPMI+SVD trainer.

The randomized SVD (Halko, Martinsson & Tropp 2011, algorithm 4.4 with subspace iteration)
needs only products of the sparse matrix with tall dense factors: each product is one
Spark job over the cached shards (``mapInArrow``, scipy per partition, the dense factor
broadcast) whose result has one row per matrix row. The driver holds a few
``n × (k + oversample)`` dense factors: memory ∝ vocabulary × dim, never ∝ non-zeros.
MLlib's ``IndexedRowMatrix.computeSVD`` (ARPACK, one Spark job per iteration) is kept as
``svd.solver = "mllib"`` for comparison.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sparkembed.errors import SparkembedError
from sparkembed.train.ppmi import ppmi_entries

_ROWS_PER_BATCH = 4096


def _log(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(f"[train] {msg}", file=sys.stderr, flush=True)


def _product_fn(factor_bc, n_cols: int):
    """mapInArrow function: this partition's rows of (entries @ factor)."""

    def multiply(batches):
        import pyarrow as pa
        from scipy.sparse import csr_matrix

        rows, cols, vals = [], [], []
        for b in batches:
            rows.append(b.column(0).to_numpy(zero_copy_only=False))
            cols.append(b.column(1).to_numpy(zero_copy_only=False))
            vals.append(b.column(2).to_numpy(zero_copy_only=False))
        if not rows or not sum(len(r) for r in rows):
            return
        r = np.concatenate(rows)
        ids, local = np.unique(r, return_inverse=True)
        m = csr_matrix(
            (np.concatenate(vals), (local, np.concatenate(cols))), shape=(len(ids), n_cols)
        )
        product = np.ascontiguousarray(m @ factor_bc.value)
        width = product.shape[1]
        for start in range(0, len(ids), _ROWS_PER_BATCH):
            part = product[start : start + _ROWS_PER_BATCH]
            offsets = pa.array(np.arange(0, part.size + 1, width, dtype=np.int32))
            vectors = pa.ListArray.from_arrays(offsets, pa.array(part.ravel()))
            yield pa.RecordBatch.from_arrays(
                [pa.array(ids[start : start + _ROWS_PER_BATCH].astype(np.int32)), vectors],
                names=["id", "vector"],
            )

    return multiply


@dataclass
class ShardedMatrix:
    """A sparse ``n_rows × n_cols`` matrix as two cached DataFrames of ``(row, col, value)``:
    one hash-partitioned by row (for ``A @ X``), one transposed and partitioned by its new
    row (for ``Aᵀ @ X``), so every product partition owns whole output rows."""

    by_row: Any
    by_col: Any
    n_rows: int
    n_cols: int
    nnz: int
    passes: int = 0

    @classmethod
    def cache(cls, entries, n_rows: int, n_cols: int, partitions: int) -> ShardedMatrix:
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        level = StorageLevel.MEMORY_AND_DISK
        by_row = (
            entries.select("row", "col", F.col("value").cast("double"))
            .repartition(partitions, "row")
            .persist(level)
        )
        nnz = by_row.count()
        by_col = (
            by_row.select(F.col("col").alias("row"), F.col("row").alias("col"), "value")
            .repartition(partitions, "row")
            .persist(level)
        )
        by_col.count()
        return cls(by_row, by_col, n_rows, n_cols, nnz)

    def _apply(self, df, n_out: int, n_in: int, factor: np.ndarray) -> np.ndarray:
        spark = df.sparkSession
        if factor.shape[0] != n_in:
            raise ValueError(f"factor has {factor.shape[0]} rows, expected {n_in}")
        bc = spark.sparkContext.broadcast(np.ascontiguousarray(factor, dtype=np.float64))
        try:
            result = df.mapInArrow(_product_fn(bc, n_in), "id int, vector array<double>")
            table = result.toArrow()
        finally:
            bc.destroy()
        self.passes += 1
        out = np.zeros((n_out, factor.shape[1]), dtype=np.float64)
        if table.num_rows:
            ids = table.column("id").to_numpy()
            flat = table.column("vector").combine_chunks().flatten().to_numpy()
            out[ids] = flat.reshape(len(ids), factor.shape[1])
        return out

    def matmul(self, factor: np.ndarray) -> np.ndarray:
        """A @ factor, factor ``n_cols × l``."""
        return self._apply(self.by_row, self.n_rows, self.n_cols, factor)

    def rmatmul(self, factor: np.ndarray) -> np.ndarray:
        """Aᵀ @ factor, factor ``n_rows × l``."""
        return self._apply(self.by_col, self.n_cols, self.n_rows, factor)

    def unpersist(self) -> None:
        self.by_row.unpersist()
        self.by_col.unpersist()


def _flip_signs(u: np.ndarray, vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic signs: each left singular vector's largest-|x| entry is positive."""
    pivots = np.argmax(np.abs(u), axis=0)
    signs = np.sign(u[pivots, np.arange(u.shape[1])])
    signs[signs == 0] = 1.0
    return u * signs, vt * signs[:, None]


def randomized_svd(
    matrix: ShardedMatrix,
    k: int,
    oversample: int = 20,
    power_iters: int = 4,
    seed: int = 42,
    log: Callable[[str], None] = lambda _m: None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top ``k`` singular triplets ``(U n_rows×k, S k, V n_cols×k)`` of ``matrix``.

    ``2 + 2 * power_iters`` Spark passes; QR of the tall factors on the driver between them.
    """
    width = min(k + oversample, matrix.n_rows, matrix.n_cols)
    if k > width:
        raise SparkembedError(f"dim {k} exceeds the matrix size {matrix.n_rows}×{matrix.n_cols}")
    omega = np.random.default_rng(seed).standard_normal((matrix.n_cols, width))
    q, _ = np.linalg.qr(matrix.matmul(omega))
    for i in range(power_iters):
        z, _ = np.linalg.qr(matrix.rmatmul(q))
        q, _ = np.linalg.qr(matrix.matmul(z))
        log(f"randomized SVD: power iteration {i + 1}/{power_iters}")
    b_t = matrix.rmatmul(q)  # Bᵀ = Aᵀ Q, n_cols × width
    v_b, s, u_b_t = np.linalg.svd(b_t, full_matrices=False)  # B = u_b s v_bᵀ
    u = q @ u_b_t.T[:, :k]
    u, vt = _flip_signs(u, v_b[:, :k].T)
    return u, s[:k], vt.T


def mllib_svd(
    entries, n_rows: int, n_cols: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same triplets with MLlib's ``IndexedRowMatrix.computeSVD`` (ARPACK)."""
    from pyspark.mllib.linalg import Vectors
    from pyspark.mllib.linalg.distributed import IndexedRow, IndexedRowMatrix
    from pyspark.sql import functions as F

    rows = entries.groupBy("row").agg(
        F.sort_array(F.collect_list(F.struct("col", "value"))).alias("cells")
    )
    rdd = rows.rdd.map(
        lambda r: IndexedRow(
            r["row"], Vectors.sparse(n_cols, [c[0] for c in r["cells"]], [c[1] for c in r["cells"]])
        )
    )
    svd = IndexedRowMatrix(rdd.cache(), n_rows, n_cols).computeSVD(k, computeU=True)
    s = np.asarray(svd.s.toArray())
    v = np.asarray(svd.V.toArray())
    u = np.zeros((n_rows, len(s)))
    for row in svd.U.rows.collect():
        u[row.index] = row.vector.toArray()
    u, vt = _flip_signs(u, v.T)
    return u, s, vt.T


@dataclass
class SvdResult:
    vectors: Any  # DataFrame: token, vector array<double>, count
    singular_values: np.ndarray
    counts: dict[str, Any] = field(default_factory=dict)


def train_svd(
    cooc,
    marginals,
    vocab,
    *,
    dim: int,
    seed: int,
    alpha: float = 0.75,
    neg: float = 1.0,
    eig: float = 0.5,
    add_context: bool = False,
    oversample: int = 20,
    power_iters: int = 4,
    solver: str = "randomized",
    partitions: int = 0,
    quiet: bool = False,
) -> SvdResult:
    """PPMI + truncated SVD: rows of ``U · S^eig`` (``+ V · S^eig`` if ``add_context``)."""
    from pyspark.sql import functions as F

    spark = cooc.sparkSession
    if solver not in ("randomized", "mllib"):
        raise SparkembedError(f"svd.solver must be randomized or mllib, got {solver!r}")
    if dim < 1:
        raise SparkembedError(f"train.dim must be >= 1, got {dim}")
    if eig < 0:
        raise SparkembedError(f"svd.eig must be >= 0, got {eig}")
    vocab_stats = vocab.agg(
        F.count(F.lit(1)).alias("n"), F.max("id").alias("max_id"), F.sum("count").alias("tokens")
    ).collect()[0]
    if not vocab_stats["n"]:
        raise SparkembedError("the vocabulary is empty")
    n_ids = int(vocab_stats["max_id"]) + 1
    entries, pinfo = ppmi_entries(cooc, marginals, n_ids, alpha=alpha, neg=neg)
    if pinfo.entries_rejected:
        _log(f"set aside {pinfo.entries_rejected:,} malformed co-occurrence entries", quiet)
    partitions = partitions or max(2, spark.sparkContext.defaultParallelism)
    matrix = ShardedMatrix.cache(entries, n_ids, n_ids, partitions)
    try:
        if matrix.nnz == 0:
            raise SparkembedError("the PPMI matrix is empty (no positive PMI entry)")
        k = min(dim, n_ids)
        _log(f"PPMI {n_ids:,} x {n_ids:,}, {matrix.nnz:,} non-zeros; {solver} SVD, k={k}", quiet)
        if solver == "randomized":
            u, s, v = randomized_svd(
                matrix, k, oversample, power_iters, seed, log=lambda m: _log(m, quiet)
            )
        else:
            u, s, v = mllib_svd(matrix.by_row, n_ids, n_ids, k)
        present = np.zeros(n_ids, dtype=bool)
        ids_with_rows = matrix.by_row.select("row").distinct().toArrow().column(0).to_numpy()
        present[ids_with_rows] = True
        passes = matrix.passes
    finally:
        matrix.unpersist()
    weight = s**eig
    w = u * weight
    if add_context:
        w = w + v * weight
    ids = np.flatnonzero(present)
    import pyarrow as pa

    flat = w[ids].astype(np.float64).ravel()
    offsets = pa.array(np.arange(0, flat.size + 1, k, dtype=np.int32))
    table = pa.table(
        {
            "id": pa.array(ids.astype(np.int32)),
            "vector": pa.ListArray.from_arrays(offsets, pa.array(flat)),
        }
    )
    vec_df = spark.createDataFrame(table)
    out = vec_df.join(vocab.select("id", "token", "count"), "id").select("token", "vector", "count")
    counts = {
        "vocab_size": int(vocab_stats["n"]),
        "corpus_tokens": int(vocab_stats["tokens"] or 0),
        "cooccurrence_entries": pinfo.entries_in,
        "cooccurrence_rejected": pinfo.entries_rejected,
        "ppmi_nonzeros": matrix.nnz,
        "tokens_without_ppmi": int(vocab_stats["n"]) - len(ids),
        "spark_passes": passes,
    }
    return SvdResult(out, s, counts)
