"""Truncated SVD of a sparse matrix held in Spark as packed CSR blocks.

The randomized SVD (Halko, Martinsson & Tropp 2011, algorithm 4.4 with subspace iteration)
needs only products of the sparse matrix with tall dense factors: each product is one
Spark job over the matrix's block files (``mapInArrow``, scipy per partition) that reads the
factor from its block files and writes the product's rows as new block files
(``factors.py``). The driver holds ``width × width`` matrices only: its memory does not
grow with rows × dim, nor with the non-zeros.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sparkembed.errors import SparkembedError
from sparkembed.linalg.factors import (
    FACTOR_DTYPE,
    Factor,
    FactorSpace,
    Generated,
    task_partition,
    write_block,
)

# Block kinds a task writing a matrix's blocks yields: a matrix, its transpose, its counts.
KIND_A, KIND_AT, KIND_STATS = 0, 1, 2  # rows of A, rows of Aᵀ, a task's counts


_BLOCK_NNZ = 1 << 20  # non-zeros per packed block (whole rows): ~12 MB of binary per row


BLOCK_SCHEMA = "ids binary, indptr binary, indices binary, data binary"


# Matrix values, factors and products are stored as float32 (Gram matrices, QR and the
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
    of the batch's binary cells)."""
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


# --- The matrix's blocks as files ------------------------------------------------------
#
# The blocks are not cached in Spark: a partition of a Wikipedia-sized matrix holds
# gigabytes of them, which Spark's columnar cache keeps in one batch per partition (the
# JVM then deserialises it whole, and runs out of heap at 100M tokens with 4 GB). Each
# task writes its partition's blocks as one Arrow stream file instead, and every pass
# reads its partition's file back one block at a time: the JVM holds none of it, a task
# one block at a time, and the page cache the rest.

# Blocks of one or two matrices (``kind``) and a row of counts per task (KIND_STATS).
FILE_BLOCK_SCHEMA = "kind int, ids binary, indptr binary, indices binary, data binary"


@dataclass(frozen=True)
class BlockFiles:
    """The packed CSR blocks of one matrix: ``folder/part-NNNNN.arrow`` for partitions
    0..parts-1 (a partition without rows has no file)."""

    folder: str
    parts: int


def _block_file(folder: str, partition: int) -> str:
    return f"{folder.rstrip('/')}/part-{partition:05d}.arrow"


def stats_batch(counts: list[int]):
    """The KIND_STATS row of a task: its int64 ``counts`` packed in ``ids``."""
    import pyarrow as pa

    empty = pa.array([b""], pa.binary())
    return pa.RecordBatch.from_pydict(
        {
            "kind": pa.array([KIND_STATS], pa.int32()),
            "ids": pa.array([np.array(counts, np.int64).tobytes()], pa.binary()),
            "indptr": empty,
            "indices": empty,
            "data": empty,
        }
    )


def _write_blocks_fn(inner, folders: dict[int, str]):
    """mapInArrow wrapper: the batches ``inner`` yields whose ``kind`` has a folder go to
    that folder's file of this task's partition (written whole, then renamed); the others
    (KIND_STATS rows) are the job's output."""
    import posixpath

    def run(batches):
        import pyarrow as pa

        from sparkembed.arrowio import arrow_location

        partition = task_partition()
        open_files: dict[int, tuple] = {}
        try:
            for batch in inner(batches):
                kind = batch.column(0)[0].as_py()
                if kind not in folders:
                    yield batch
                    continue
                if kind not in open_files:
                    fs, path = arrow_location(_block_file(folders[kind], partition))
                    fs.create_dir(posixpath.dirname(path), recursive=True)
                    tmp = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
                    sink = fs.open_output_stream(tmp)
                    schema = batch.schema.remove(0)
                    open_files[kind] = (fs, path, tmp, sink, pa.ipc.new_stream(sink, schema))
                open_files[kind][4].write_batch(batch.drop_columns(["kind"]))
            for fs, path, tmp, sink, writer in open_files.values():
                writer.close()
                sink.close()
                fs.move(tmp, path)
            open_files.clear()
        finally:
            for _fs, _path, _tmp, sink, _writer in open_files.values():
                sink.close()

    return run


def write_block_files(units, inner, folders: dict[int, str]) -> np.ndarray:
    """Run ``inner`` (a mapInArrow function yielding FILE_BLOCK_SCHEMA batches) over
    ``units``' partitions, its blocks of each kind into ``folders[kind]``: the tasks'
    KIND_STATS counts, summed."""
    rows = units.mapInArrow(_write_blocks_fn(inner, folders), FILE_BLOCK_SCHEMA).collect()
    counts = [np.frombuffer(r["ids"], np.int64) for r in rows if r["kind"] == KIND_STATS]
    return np.sum(counts, axis=0) if counts else np.zeros(0, np.int64)


def iter_blocks(files: BlockFiles, partition: int, n_cols: int):
    """In a task: ``(ids, csr)`` of each block of one partition, read one at a time."""
    import pyarrow as pa
    import pyarrow.fs as pafs

    from sparkembed.arrowio import arrow_location

    fs, path = arrow_location(_block_file(files.folder, partition))
    if fs.get_file_info(path).type != pafs.FileType.File:
        return
    with fs.open_input_file(path) as f:
        for batch in pa.ipc.open_stream(f):
            for i in range(batch.num_rows):
                yield block_matrix(batch, i, n_cols)


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


PASS_SCHEMA = "partition int, stats binary"


def _stats_batch(partition: int, stats: np.ndarray):
    import pyarrow as pa

    return pa.RecordBatch.from_pydict(
        {
            "partition": pa.array([partition], pa.int32()),
            "stats": pa.array([np.asarray(stats, np.float64).tobytes()], pa.binary()),
        }
    )


# The factor a worker process laid out for its last task: Spark reuses Python workers, so
# the tasks of one pass that land in the same worker read the factor once.
_LAID_OUT: dict = {}


def _laid_out(factor: Factor, prepare):
    key = (factor.folder, factor.generated, factor.n, factor.stored_width, prepare)
    if key not in _LAID_OUT:
        _LAID_OUT.clear()  # free the last pass's factor before reading this one
        _LAID_OUT[key] = prepare(factor.stored_rows())
    return _LAID_OUT[key]


def _pass_fn(factor: Factor, blocks: BlockFiles, n_in: int, prepare, block_fn, finish, out):
    """mapInArrow function of ``ShardedMatrix.factor_pass`` (see there)."""

    def run(batches):
        for b in batches:
            for partition in b.column(0).to_pylist():
                fixed = _laid_out(factor, prepare)
                ids_parts, row_parts, block_stats = [], [], None
                for ids, m in iter_blocks(blocks, partition, n_in):
                    rows, stats = block_fn(m, fixed)
                    ids_parts.append(ids)
                    row_parts.append(rows)
                    block_stats = stats if block_stats is None else block_stats + stats
                width = row_parts[0].shape[1] if row_parts else 0
                ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, np.int32)
                rows = np.vstack(row_parts) if row_parts else np.zeros((0, width), FACTOR_DTYPE)
                del row_parts
                rows, stats = finish(ids, rows, block_stats)
                if out is not None and len(ids):
                    write_block(out, partition, ids, rows)
                yield _stats_batch(partition, stats)

    return run


def partition_units(spark, parts: int):
    """A DataFrame of ``partition int`` with one row per Spark partition: one task each."""
    return spark.createDataFrame(
        spark.sparkContext.parallelize([(p,) for p in range(parts)], parts), "partition int"
    )


def _no_prepare(rows):
    return rows


def _product_block(cols: int):
    def product(m, z):
        slices = _slices(z, cols)
        return np.ascontiguousarray(_times_each(slices, lambda f: m @ f), FACTOR_DTYPE), None

    return product


def _gram_finish(factor: Factor):
    """The product rows times the factor's pending transform, and their Gram matrix."""

    def finish(ids, rows, _stats):
        rows = factor.apply_transform(rows)
        wide = rows.astype(np.float64)
        return rows, np.append((wide.T @ wide).ravel(), len(ids))

    return finish


def _pack_counted(batches):
    """``_pack_fn``'s blocks as kind A, then a KIND_STATS row with their non-zeros."""
    import pyarrow as pa

    nnz = 0
    for b in _pack_fn(batches):
        nnz += len(b.column("data")[0].as_buffer()) // np.dtype(WIRE_DTYPE).itemsize
        yield b.add_column(0, "kind", pa.array([KIND_A], pa.int32()))
    yield stats_batch([nnz])


@dataclass
class ShardedMatrix:
    """A sparse ``n_rows × n_cols`` matrix as packed CSR block files, twice: partitioned
    by row (for ``A @ X``) and transposed (for ``Aᵀ @ X``), so every block owns whole
    output rows and a product is one pass with no shuffle and no summing. Both are
    partitioned alike: partition ``p`` of either holds the same row ids' rows."""

    by_row: BlockFiles
    by_col: BlockFiles | None  # None: cached without the transpose
    n_rows: int
    n_cols: int
    nnz: int
    passes: int = 0
    spark: object | None = None

    @classmethod
    def cache(
        cls,
        entries,
        n_rows: int,
        n_cols: int,
        partitions: int,
        space: FactorSpace,
        transposed: bool = True,
    ) -> ShardedMatrix:
        """The matrix of ``entries`` (``row, col, value``), its blocks written to two
        folders of ``space`` (two shuffles: by row, and by column); without
        ``transposed``, by row only (no ``Aᵀ`` products)."""
        from pyspark.sql import functions as F

        cells = entries.select(
            F.col("row").cast("int"), F.col("col").cast("int"), F.col("value").cast("double")
        )
        flipped = cells.select(F.col("col").alias("row"), F.col("row").alias("col"), "value")
        by_row = BlockFiles(space.new("matrix-rows"), partitions)
        stats = write_block_files(
            cells.repartition(partitions, "row"), _pack_counted, {KIND_A: by_row.folder}
        )
        by_col = None
        if transposed:
            by_col = BlockFiles(space.new("matrix-columns"), partitions)
            write_block_files(
                flipped.repartition(partitions, "row"), _pack_counted, {KIND_A: by_col.folder}
            )
        nnz = int(stats[0]) if len(stats) else 0
        return cls(by_row, by_col, n_rows, n_cols, nnz, spark=entries.sparkSession)

    @property
    def partitions(self) -> int:
        """Partitions of ``by_row`` (and of ``by_col``): the blocks a pass writes."""
        return self.by_row.parts

    def factor_pass(
        self, blocks: BlockFiles, factor: Factor, block_fn, finish, out, prepare=_no_prepare
    ) -> np.ndarray:
        """One Spark pass over the block files ``blocks`` with ``factor`` (read whole once
        per worker process: ``prepare(rows)`` lays it out): ``block_fn(csr, prepared)``
        gives each block's ``(rows, stats)``; ``finish(ids, rows, stats)`` the partition's
        rows to write to ``out`` (one block file per partition) and its stats vector.
        Returns the partitions' stats summed (in partition order); nothing factor-sized
        reaches the driver."""
        n_in = self.n_cols if blocks is self.by_row else self.n_rows
        if factor.n != n_in:
            raise ValueError(f"factor has {factor.n} rows, expected {n_in}")
        shipped = factor.shipped(self.spark)
        fn = _pass_fn(shipped, blocks, n_in, prepare, block_fn, finish, out)
        try:
            rows = partition_units(self.spark, blocks.parts).mapInArrow(fn, PASS_SCHEMA).collect()
        finally:
            if shipped is not factor:
                shipped.shipped_transform.destroy()
        self.passes += 1
        total = None
        for r in sorted(rows, key=lambda r: r["partition"]):
            stats = np.frombuffer(r["stats"], np.float64)
            total = stats if total is None else total + stats
        return total

    def product(self, factor: Factor, out: str, transposed: bool = False):
        """``A @ factor`` (``Aᵀ @ factor`` if ``transposed``) as block files in ``out``:
        ``(Factor, its width × width Gram matrix, its rows with a non-zero)``. The
        factor's pending transform is applied to the product's rows."""
        blocks = self.by_col if transposed else self.by_row
        if blocks is None:
            raise ValueError("this matrix was cached without its transpose")
        n_out = self.n_cols if transposed else self.n_rows
        cols = slice_width(factor.n, factor.stored_width)
        shipped = factor.shipped(self.spark)
        try:
            stats = self.factor_pass(
                blocks, shipped, _product_block(cols), _gram_finish(shipped), out
            )
        finally:
            if shipped.shipped_transform is not None:
                shipped.shipped_transform.destroy()
        w = factor.width
        gram = stats[: w * w].reshape(w, w)
        return Factor(n_out, w, folder=out), gram, int(stats[w * w])

    def unpersist(self) -> None:
        """Remove the block files."""
        for files in {self.by_row, self.by_col} - {None}:
            FactorSpace.remove(files.folder)


def _cholesky_r(gram: np.ndarray) -> np.ndarray | None:
    """The upper Cholesky factor ``r`` of ``gram`` (``gram = rᵀ r``), or None when it
    fails or is too ill-conditioned for Cholesky QR."""
    try:
        r = np.linalg.cholesky((gram + gram.T) / 2).T
    except np.linalg.LinAlgError:
        return None
    d = np.abs(np.diag(r))
    # cond(y) ≈ max/min of r's diagonal; past ~1e6 the Gram matrix has lost the small
    # directions to rounding (cond(gram) = cond(y)²)
    if not np.all(np.isfinite(r)) or d.min() <= 1e-6 * d.max():
        return None
    return r


def _basis(gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(t, r)`` with ``y t`` a basis of the span of ``y`` (whose Gram matrix is
    ``gram``) and ``y = (y t) r`` on that span.

    Cholesky QR (``t = r⁻¹``) where it holds; else the Gram matrix's eigenvectors, the
    directions below rounding (``λ ≤ 1e-12 λ_max``, under float32's reach) dropped: a
    factor of lower rank than its width (a matrix with fewer non-empty rows than the
    width, or converged power iterations) gets fewer, well-conditioned columns.
    """
    from scipy.linalg import solve_triangular

    r = _cholesky_r(gram)
    if r is not None:
        return solve_triangular(r, np.eye(r.shape[0]), lower=False), r
    lam, vec = np.linalg.eigh((gram + gram.T) / 2)
    keep = lam > 1e-12 * max(float(lam.max()), np.finfo(float).tiny)
    lam, vec = lam[keep][::-1], vec[:, keep][:, ::-1]
    return vec / np.sqrt(lam), (vec * np.sqrt(lam)).T


def span_basis(factor: Factor, gram: np.ndarray) -> Factor:
    """A well-conditioned basis of the span of ``factor`` (whose Gram matrix is
    ``gram``) between power iterations, with no pass of its own."""
    return factor.then(_basis(gram)[0])


def gram_of(spark, factor: Factor, parts: int) -> np.ndarray:
    """``factorᵀ factor`` from its block files: one job, each task reading its own block."""
    shipped = factor.shipped(spark)
    fn = _block_gram_fn(shipped)
    rows = partition_units(spark, parts).mapInArrow(fn, PASS_SCHEMA)
    total = np.zeros(factor.width * factor.width)
    for r in sorted(rows.collect(), key=lambda r: r["partition"]):
        total += np.frombuffer(r["stats"], np.float64)
    if shipped.shipped_transform is not None:
        shipped.shipped_transform.destroy()
    return total.reshape(factor.width, factor.width)


def _block_gram_fn(factor: Factor):
    def gram(batches):
        for b in batches:
            for p in b.column(0).to_pylist():
                _ids, rows = factor.block(p)
                wide = rows.astype(np.float64)
                yield _stats_batch(p, (wide.T @ wide).ravel())

    return gram


def orthonormal_basis(spark, factor: Factor, gram: np.ndarray, parts: int):
    """``factor = q r`` with orthonormal ``q`` (a Factor of the block files, with a
    transform) and ``r`` (on the driver): CholeskyQR2, a second Cholesky QR of the
    first's ``q`` from one light job over the blocks (``_basis`` where Cholesky fails)."""
    t1, r1 = _basis(gram)
    t2, r2 = _basis(gram_of(spark, factor.then(t1), parts))
    return factor.then(t1 @ t2), r2 @ r1


def column_signs(spark, factor: Factor, parts: int) -> np.ndarray:
    """Deterministic signs: the sign of each column's largest-|x| entry (the lowest row
    id among ties), from one job over the block files."""
    factor = factor.shipped(spark)

    def pivots(batches):
        for b in batches:
            for p in b.column(0).to_pylist():
                ids, rows = factor.block(p)
                stats = np.zeros(3 * factor.width)
                stats[: factor.width] = -1.0
                if len(ids):
                    order = np.argsort(ids, kind="stable")
                    ids, rows = ids[order], rows[order]
                    at = np.argmax(np.abs(rows), axis=0)
                    cols = np.arange(factor.width)
                    stats[: factor.width] = np.abs(rows[at, cols])
                    stats[factor.width : 2 * factor.width] = np.sign(rows[at, cols])
                    stats[2 * factor.width :] = ids[at]
                yield _stats_batch(p, stats)

    rows = partition_units(spark, parts).mapInArrow(pivots, PASS_SCHEMA).collect()
    w = factor.width
    best = np.full(w, -1.0)
    sign = np.ones(w)
    best_id = np.full(w, np.inf)
    for r in rows:
        s = np.frombuffer(r["stats"], np.float64)
        value, sgn, rid = s[:w], s[w : 2 * w], s[2 * w :]
        better = (value > best) | ((value == best) & (rid < best_id))
        best = np.where(better, value, best)
        sign = np.where(better, sgn, sign)
        best_id = np.where(better, rid, best_id)
    sign[sign == 0] = 1.0
    return sign


@dataclass
class SvdFactors:
    u: Factor  # n_rows × k, rows of A with a non-zero only
    s: np.ndarray  # k singular values, descending
    v: Factor  # n_cols × k
    rows: int  # rows of A with a non-zero (the rows U has)


def randomized_svd(
    matrix: ShardedMatrix,
    k: int,
    space: FactorSpace,
    oversample: int = 20,
    power_iters: int = 4,
    seed: int = 42,
    log: Callable[[str], None] = lambda _m: None,
) -> SvdFactors:
    """Top ``k`` singular triplets ``(U n_rows×k, S k, V n_cols×k)`` of ``matrix``; U and
    V are Factors (block files in ``space``), S is on the driver.

    ``2 + 2 * power_iters`` products (Spark passes over the matrix) and three light jobs
    over block files. On the driver only ``width × width`` matrices (Gram matrices of
    the tall factors, their Cholesky factors, the small SVD): Y = A (AᵀA)^q Ω, the span
    Halko et al.'s (AAᵀ)^q A Ω has, with a new basis of the span after each product
    (Cholesky QR from the Gram matrix the product returns); the final bases orthonormal
    by CholeskyQR2, and ``Bᵀ = AᵀQ`` reduced to a ``width × width`` SVD through its own
    QR, so no SVD or Householder QR of a tall matrix runs at all.
    """
    width = min(k + oversample, matrix.n_rows, matrix.n_cols)
    if k > width:
        raise SparkembedError(f"dim {k} exceeds the matrix size {matrix.n_rows}×{matrix.n_cols}")
    spark = matrix.spark
    parts = matrix.partitions
    z = Factor(matrix.n_cols, width, generated=Generated(seed, "normal"))
    previous: list[str | None] = []

    def step(factor: Factor, name: str, transposed: bool):
        out, gram, rows = matrix.product(factor, space.new(name), transposed=transposed)
        for folder in previous:
            space.drop(folder)
        previous[:] = [factor.folder]
        return out, gram, rows

    for i in range(power_iters):
        y, gram, _ = step(z, f"az{i}", False)
        g, gram, _ = step(span_basis(y, gram), f"atq{i}", True)
        z = span_basis(g, gram)
        log(f"randomized SVD: power iteration {i + 1}/{power_iters}")
    y, gram, rows = step(z, "y", False)
    q, _ = orthonormal_basis(spark, y, gram, parts)
    b_t, gram, _ = step(q, "bt", True)  # Bᵀ = Aᵀ Q, n_cols × width
    previous.clear()  # q's blocks (y) make U
    q_b, r_b = orthonormal_basis(spark, b_t, gram, parts)  # Bᵀ = q_b r_b
    u_r, s, v_r_t = np.linalg.svd(r_b, full_matrices=False)  # r_b = u_r s v_rᵀ
    if len(s) < k:
        raise SparkembedError(f"dim {k} exceeds the rank of the matrix ({len(s)} at most)")
    # B = v_r s (q_b u_r)ᵀ: left vectors of B are v_r, right vectors q_b u_r
    u = q.then(v_r_t.T[:, :k])
    signs = column_signs(spark, u, parts)
    return SvdFactors(u.then(np.diag(signs)), s[:k], q_b.then(u_r[:, :k] * signs), rows)
