"""Truncated SVD of a sparse matrix held in Spark as packed CSR blocks.

The randomized SVD (Halko, Martinsson & Tropp 2011, algorithm 4.4 with subspace iteration)
needs only products of the sparse matrix with tall dense factors: each product is one
Spark job over the cached blocks (``mapInArrow``, scipy per partition, the dense factor
broadcast) whose result has one row per matrix row. The driver holds a few
``n × (k + oversample)`` dense factors: memory ∝ rows × dim, never ∝ non-zeros.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparkembed.errors import SparkembedError

# Block kinds in one DataFrame that holds a matrix and its transpose (``from_symmetric_files``).
KIND_A, KIND_AT, KIND_STATS = 0, 1, 2  # rows of A, rows of Aᵀ, a task's counts


_BLOCK_NNZ = 1 << 20  # non-zeros per packed block (whole rows): ~12 MB of binary per row


BLOCK_SCHEMA = "ids binary, indptr binary, indices binary, data binary"
PRODUCT_SCHEMA = "ids binary, product binary"


# Matrix values, factors and products cross the JVM/Python border as float32 (QR and the
# small SVD on the driver stay float64). A pass costs far more in moving the factor to
# every task and the product back than in the multiplication (docs/train.md): float32
# halves the moving; singular values stay within ~1e-6 relative of float64
# (tests/stages/train/test_svd.py).
WIRE_DTYPE = np.float32


def pack_rows(r: np.ndarray, c: np.ndarray, v: np.ndarray, extra: dict | None = None):
    """Packed CSR blocks of whole rows (up to ``_BLOCK_NNZ`` non-zeros) of entries already
    sorted by (row, col); ``extra`` columns are added to every block."""
    import pyarrow as pa

    if not len(r):
        return
    c, v = c.astype(np.int32), v.astype(WIRE_DTYPE)
    ids, starts = np.unique(r, return_index=True)
    indptr = np.append(starts, len(r)).astype(np.int64)
    first = 0
    while first < len(ids):
        # whole rows, up to _BLOCK_NNZ non-zeros (at least one row)
        last = max(first + 1, int(np.searchsorted(indptr, indptr[first] + _BLOCK_NNZ, "right")) - 1)
        last = min(last, len(ids))
        lo, hi = indptr[first], indptr[last]
        columns = {name: pa.array([value], pa.int32()) for name, value in (extra or {}).items()}
        columns.update(
            ids=pa.array([ids[first:last].astype(np.int32).tobytes()], pa.binary()),
            indptr=pa.array([(indptr[first : last + 1] - lo).tobytes()], pa.binary()),
            indices=pa.array([c[lo:hi].tobytes()], pa.binary()),
            data=pa.array([v[lo:hi].tobytes()], pa.binary()),
        )
        yield pa.RecordBatch.from_pydict(columns)
        first = last


def _pack_fn(batches):
    """mapInArrow: this partition's ``(row, col, value)`` entries as packed CSR blocks.

    Cached once; every product then reads a few binary cells per partition instead of
    converting millions of rows to Arrow again.
    """
    rows, cols, vals = [], [], []
    for b in batches:
        rows.append(b.column(0).to_numpy(zero_copy_only=False))
        cols.append(b.column(1).to_numpy(zero_copy_only=False))
        vals.append(b.column(2).to_numpy(zero_copy_only=False))
    if not rows or not sum(len(r) for r in rows):
        return
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    order = np.lexsort((c, r))
    yield from pack_rows(r[order], c[order], v[order])


def block_matrix(batch, i: int, n_cols: int):
    """Row ``i`` of a BLOCK_SCHEMA batch: its row ids and its CSR matrix (zero-copy views
    of the cached binary cells)."""
    from scipy.sparse import csr_matrix

    ids = np.frombuffer(batch.column(0)[i].as_buffer(), dtype=np.int32)
    m = csr_matrix(
        (
            np.frombuffer(batch.column(3)[i].as_buffer(), dtype=WIRE_DTYPE),
            np.frombuffer(batch.column(2)[i].as_buffer(), dtype=np.int32),
            np.frombuffer(batch.column(1)[i].as_buffer(), dtype=np.int64),
        ),
        shape=(len(ids), n_cols),
    )
    return ids, m


# A factor of few rows is multiplied in column slices of at most this many bytes: each
# slice stays in the CPU cache while scipy gathers one factor row per non-zero (the
# timing is in docs/train.md). For factors of many rows a slice no longer fits and the
# repeated random gathers cost more: whole factor.
FACTOR_SLICE_BYTES = 3 << 20
_MIN_SLICE = 32


def slice_width(n_in: int, width: int) -> int:
    """Columns per slice of an ``n_in × width`` float32 factor (``width``: no slicing)."""
    cols = FACTOR_SLICE_BYTES // (max(n_in, 1) * np.dtype(WIRE_DTYPE).itemsize) // 16 * 16
    return width if cols < _MIN_SLICE or cols >= width else int(cols)


def _slices(factor: np.ndarray, cols: int) -> list[np.ndarray]:
    return [np.ascontiguousarray(factor[:, j : j + cols]) for j in range(0, factor.shape[1], cols)]


def _times_each(slices: list[np.ndarray], product) -> np.ndarray:
    """``product(factor)`` of a column-wise product, from the factor's column slices."""
    if len(slices) == 1:
        return product(slices[0])
    return np.hstack([product(z) for z in slices])


def _product_fn(factor_bc, n_cols: int, cols: int):
    """mapInArrow function: the rows of (block @ factor) for this partition's blocks, the
    factor taken ``cols`` columns at a time."""

    def multiply(batches):
        import pyarrow as pa

        slices = _slices(factor_bc.value, cols)
        for b in batches:
            for i in range(b.num_rows):
                ids, m = block_matrix(b, i, n_cols)
                product = _times_each(slices, lambda z, m=m: m @ z)
                product = np.ascontiguousarray(product, dtype=WIRE_DTYPE)
                yield pa.RecordBatch.from_arrays(
                    [pa.array([ids.tobytes()], pa.binary()), pa.array([product.tobytes()])],
                    names=["ids", "product"],
                )

    return multiply


def _gram_product_fn(factor_bc, n_cols: int, cols: int):
    """mapInArrow function: this partition's share of ``AᵀA @ factor``, one row.

    A partition holds whole rows of A, so ``Σ_i A_iᵀ (A_i Z)`` over partitions is
    ``AᵀA Z``: one pass instead of two, at the price of returning one ``n_cols × width``
    partial sum per partition instead of one set of rows.
    """

    def multiply(batches):
        import pyarrow as pa

        slices = _slices(factor_bc.value, cols)
        total = None
        for b in batches:
            for i in range(b.num_rows):
                ids, m = block_matrix(b, i, n_cols)
                mt = m.T
                part = _times_each(slices, lambda z, m=m, mt=mt: mt @ (m @ z))
                total = part if total is None else total + part
        if total is not None:
            total = np.ascontiguousarray(total, dtype=WIRE_DTYPE)
            yield pa.RecordBatch.from_arrays(
                [pa.array([b""], pa.binary()), pa.array([total.tobytes()])],
                names=["ids", "product"],
            )

    return multiply


# The fused pass returns a partial sum per partition to the driver; past this many bytes
# of partials the two-pass product (rows of A·Z, then Aᵀ·(A·Z)) is used instead, so driver
# memory stays ∝ vocabulary × width however many partitions a cluster gives.
_GRAM_PARTIALS_BYTES = 1 << 30


@dataclass
class ShardedMatrix:
    """A sparse ``n_rows × n_cols`` matrix cached in Spark as packed CSR blocks, twice:
    partitioned by row (for ``A @ X``) and transposed (for ``Aᵀ @ X``), so every block
    owns whole output rows and a product is one pass with no shuffle and no summing."""

    by_row: Any  # DataFrame of BLOCK_SCHEMA
    by_col: Any
    n_rows: int
    n_cols: int
    nnz: int
    passes: int = 0
    cached: tuple = ()  # the persisted DataFrames behind by_row / by_col

    @classmethod
    def cache(cls, entries, n_rows: int, n_cols: int, partitions: int) -> ShardedMatrix:
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        level = StorageLevel.MEMORY_AND_DISK
        cells = entries.select(
            F.col("row").cast("int"), F.col("col").cast("int"), F.col("value").cast("double")
        )
        by_row = (
            cells.repartition(partitions, "row").mapInArrow(_pack_fn, BLOCK_SCHEMA).persist(level)
        )
        transposed = cells.select(F.col("col").alias("row"), F.col("row").alias("col"), "value")
        by_col = (
            transposed.repartition(partitions, "row")
            .mapInArrow(_pack_fn, BLOCK_SCHEMA)
            .persist(level)
        )
        nnz = (
            by_row.select(F.sum(F.length("data") / WIRE_DTYPE().itemsize).cast("long")).collect()[
                0
            ][0]
            or 0
        )
        by_col.count()
        return cls(by_row, by_col, n_rows, n_cols, int(nnz), cached=(by_row, by_col))

    @classmethod
    def from_symmetric_files(cls, blocks, n_ids: int, nnz: int) -> ShardedMatrix:
        """A matrix and its transpose from one cached DataFrame of ``kind`` + BLOCK_SCHEMA
        rows (kind 0: rows of A, kind 1: rows of Aᵀ; others ignored), as
        ``ppmi_blocks_from_files`` makes; ``nnz`` as it counted them."""
        from pyspark.sql import functions as F

        from sparkembed.linalg.sharded import KIND_A, KIND_AT

        by_row = blocks.where(F.col("kind") == KIND_A).drop("kind")
        by_col = blocks.where(F.col("kind") == KIND_AT).drop("kind")
        return cls(by_row, by_col, n_ids, n_ids, int(nnz), cached=(blocks,))

    def map_blocks(
        self, blocks, block_fn, n_in: int, factor: np.ndarray, schema: str = PRODUCT_SCHEMA
    ):
        """One Spark pass: ``factor`` broadcast as float32, ``block_fn(bc, n_in, cols)``
        (a mapInArrow function, ``cols`` the factor's column slice width) over the cached
        ``blocks``, its output (``schema``) back to the driver as an Arrow table."""
        if factor.shape[0] != n_in:
            raise ValueError(f"factor has {factor.shape[0]} rows, expected {n_in}")
        bc = blocks.sparkSession.sparkContext.broadcast(
            np.ascontiguousarray(factor, dtype=WIRE_DTYPE)
        )
        cols = slice_width(n_in, factor.shape[1])
        try:
            table = blocks.mapInArrow(block_fn(bc, n_in, cols), schema).toArrow()
        finally:
            bc.destroy()
        self.passes += 1
        return table

    def _apply(self, blocks, n_out: int, n_in: int, factor: np.ndarray) -> np.ndarray:
        width = factor.shape[1]
        table = self.map_blocks(blocks, _product_fn, n_in, factor)
        out = np.zeros((n_out, width), dtype=np.float64)
        ids_col, product_col = table.column("ids"), table.column("product")
        for i in range(table.num_rows):
            # as_buffer: views of the Arrow cells, no copy of the ~50 MB products
            rows = np.frombuffer(ids_col[i].as_buffer(), dtype=np.int32)
            product = np.frombuffer(product_col[i].as_buffer(), dtype=WIRE_DTYPE)
            # += : a row split across blocks (never by our writers, but any input may)
            out[rows] += product.reshape(len(rows), width)
        return out

    def row_ids(self) -> np.ndarray:
        """Ids of the rows that hold at least one non-zero."""
        ids = self.by_row.select("ids").toArrow().column(0).to_pylist()
        return np.concatenate([np.frombuffer(b, dtype=np.int32) for b in ids] or [np.zeros(0)])

    def matmul(self, factor: np.ndarray) -> np.ndarray:
        """A @ factor, factor ``n_cols × l``."""
        return self._apply(self.by_row, self.n_rows, self.n_cols, factor)

    def rmatmul(self, factor: np.ndarray) -> np.ndarray:
        """Aᵀ @ factor, factor ``n_rows × l``."""
        return self._apply(self.by_col, self.n_cols, self.n_rows, factor)

    def gram_matmul(self, factor: np.ndarray) -> np.ndarray | None:
        """AᵀA @ factor in one pass (factor ``n_cols × l``), or None when the partial
        sums would exceed ``_GRAM_PARTIALS_BYTES`` on the driver."""
        parts = self.by_row.rdd.getNumPartitions()
        width = factor.shape[1]
        if parts * self.n_cols * width * np.dtype(WIRE_DTYPE).itemsize > _GRAM_PARTIALS_BYTES:
            return None
        table = self.map_blocks(self.by_row, _gram_product_fn, self.n_cols, factor)
        out = np.zeros((self.n_cols, width), dtype=np.float64)
        products = table.column("product")
        for i in range(table.num_rows):
            out += np.frombuffer(products[i].as_buffer(), dtype=WIRE_DTYPE).reshape(out.shape)
        return out

    def unpersist(self) -> None:
        for df in self.cached:
            df.unpersist()


def _flip_signs(u: np.ndarray, vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic signs: each left singular vector's largest-|x| entry is positive."""
    pivots = np.argmax(np.abs(u), axis=0)
    signs = np.sign(u[pivots, np.arange(u.shape[1])])
    signs[signs == 0] = 1.0
    return u * signs, vt * signs[:, None]


def _cholesky_qr(y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``y = q r`` by Cholesky QR (the ``width × width`` Gram matrix, its Cholesky factor,
    one triangular solve), or None when ``y`` is too ill-conditioned for it.

    On the driver, for a 64k × 200 factor, this is one BLAS product and a 200 × 200
    solve: ~0.1 s against 0.35 s for LU and 0.9 s for Householder QR.
    """
    from scipy.linalg import solve_triangular

    gram = y.T @ y
    try:
        r = np.linalg.cholesky(gram).T  # upper: gram = rᵀ r
    except np.linalg.LinAlgError:
        return None
    d = np.abs(np.diag(r))
    # cond(y) ≈ max/min of r's diagonal; past ~1e6 the Gram matrix has lost the small
    # directions to rounding (cond(gram) = cond(y)²)
    if not np.all(np.isfinite(r)) or d.min() <= 1e-6 * d.max():
        return None
    q = solve_triangular(r, y.T, trans="T", lower=False, check_finite=False).T
    return q, r


def _span_basis(y: np.ndarray) -> np.ndarray:
    """A well-conditioned basis of ``y``'s columns between power iterations (only the span
    matters): Cholesky QR, or LU with partial pivoting (as scikit-learn) when that fails."""
    from scipy.linalg import lu

    qr = _cholesky_qr(y)
    return qr[0] if qr is not None else lu(y, permute_l=True, check_finite=False)[0]


def _orthonormal_basis(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``y = q r`` with orthonormal ``q``: Cholesky QR twice (CholeskyQR2, orthogonal to
    rounding for any cond(y) it accepts), else Householder QR."""
    first = _cholesky_qr(y)
    if first is not None:
        second = _cholesky_qr(first[0])
        if second is not None:
            return second[0], second[1] @ first[1]
    return np.linalg.qr(y)


def randomized_svd(
    matrix: ShardedMatrix,
    k: int,
    oversample: int = 20,
    power_iters: int = 4,
    seed: int = 42,
    log: Callable[[str], None] = lambda _m: None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top ``k`` singular triplets ``(U n_rows×k, S k, V n_cols×k)`` of ``matrix``.

    ``2 + power_iters`` Spark passes (``2 + 2 * power_iters`` where ``gram_matmul`` must
    split). On the driver, between passes, the tall factors get a new basis of the same
    span (Cholesky QR, ~0.1 s for 64k × 200); the final basis is orthonormal
    (CholeskyQR2), and ``Bᵀ = AᵀQ`` is reduced to a ``width × width`` SVD through its own
    QR, so no SVD or Householder QR of a tall matrix runs at all.
    """
    width = min(k + oversample, matrix.n_rows, matrix.n_cols)
    if k > width:
        raise SparkembedError(f"dim {k} exceeds the matrix size {matrix.n_rows}×{matrix.n_cols}")
    # Y = A (AᵀA)^q Ω: the span Halko et al.'s (AAᵀ)^q A Ω has, with each AᵀA one pass
    # where the partial sums fit (gram_matmul); a new basis of the span after each.
    z = np.random.default_rng(seed).standard_normal((matrix.n_cols, width))
    for i in range(power_iters):
        gram = matrix.gram_matmul(z)
        if gram is None:
            gram = matrix.rmatmul(_span_basis(matrix.matmul(z)))
        z = _span_basis(gram)
        log(f"randomized SVD: power iteration {i + 1}/{power_iters}")
    q, _ = _orthonormal_basis(matrix.matmul(z))
    b_t = matrix.rmatmul(q)  # Bᵀ = Aᵀ Q, n_cols × width
    q_b, r_b = _orthonormal_basis(b_t)  # Bᵀ = q_b r_b
    u_r, s, v_r_t = np.linalg.svd(r_b, full_matrices=False)  # r_b = u_r s v_rᵀ
    # B = v_r s (q_b u_r)ᵀ: left vectors of B are v_r, right vectors q_b u_r
    u = q @ v_r_t.T[:, :k]
    u, vt = _flip_signs(u, (q_b @ u_r[:, :k]).T)
    return u, s[:k], vt.T
