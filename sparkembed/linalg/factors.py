"""Tall dense factors (vocabulary × width) kept out of the driver: row blocks in files.

A trainer that factorises a sharded matrix (``sharded.py``) passes its tall factors from
one Spark pass to the next as files: each task writes the rows it computed as one block
file in a folder of the stage's scratch space, and every task of the next pass reads the
whole folder. The driver sees only what a pass returns besides (``width × width`` Gram
matrices, costs, counts), so its memory does not grow with vocabulary × dim, and no
factor travels inside a task's closure or through a broadcast built on the driver.

A factor may be *generated* instead (a seeded random start): every task draws the same
numbers itself. A factor may carry a pending ``width × width`` transform (``Factor.then``)
that the next product applies to its output rows: ``A (Y T) = (A Y) T``, so a basis
change costs each task its own rows, not the whole factor.

Block files: ``part-NNNNN.npy`` holding the int32 row ids then the float32 rows (two
``np.save`` records), written under a temporary name and renamed, so a retried task
replaces its block whole. The folder must be reachable by pyarrow from every executor (a
local folder in local mode and on one machine, ``hdfs://`` on a cluster), as the work
directory already must be.
"""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import tempfile
import uuid
from dataclasses import dataclass, replace

import numpy as np

from sparkembed.errors import SparkembedError

FACTOR_DTYPE = np.float32  # rows as stored and as tasks use them


@dataclass(frozen=True)
class Generated:
    """A seeded random start every task draws for itself (no file)."""

    seed: int
    kind: str  # "normal": standard normal; "glove": GloVe's start (uniform ±0.5/dim, zero bias)

    def rows(self, n: int, width: int) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        if self.kind == "normal":
            return rng.standard_normal((n, width), dtype=FACTOR_DTYPE)
        if self.kind == "glove":
            dim = width - 1
            out = np.zeros((n, width), dtype=FACTOR_DTYPE)
            out[:, :dim] = (rng.random((n, dim)) - 0.5) / dim
            return out
        raise ValueError(f"unknown generated factor {self.kind!r}")


@dataclass(frozen=True)
class Factor:
    """An ``n × width`` factor: block files in ``folder`` (or ``generated``), times an
    optional pending ``transform`` (stored width × width) that products apply to their
    output rows."""

    n: int
    stored_width: int
    folder: str | None = None
    generated: Generated | None = None
    transform: np.ndarray | None = None
    shipped_transform: object | None = None  # the transform as a broadcast (``shipped``)
    width_after: int | None = None  # the transform's columns, once shipped

    @property
    def width(self) -> int:
        if self.width_after is not None:
            return self.width_after
        return self.stored_width if self.transform is None else self.transform.shape[1]

    def then(self, transform: np.ndarray) -> Factor:
        """This factor times ``transform`` (applied lazily, by the next product)."""
        if self.shipped_transform is not None:
            raise ValueError("a shipped factor is for tasks only")
        t = np.asarray(transform, dtype=np.float64)
        if self.transform is not None:
            t = self.transform @ t
        return replace(self, transform=t)

    def shipped(self, spark) -> Factor:
        """This factor as tasks take it: the transform (width² float64, 1.3 MB at width
        400: past Spark's task-size warning if it rode in the closure) as a broadcast."""
        if self.transform is None:
            return self
        bc = spark.sparkContext.broadcast(self.transform)
        return replace(
            self, transform=None, shipped_transform=bc, width_after=self.transform.shape[1]
        )

    def _matrix(self) -> np.ndarray | None:
        if self.shipped_transform is not None:
            return self.shipped_transform.value
        return self.transform

    def stored_rows(self) -> np.ndarray:
        """In a task: the whole stored factor, ``n × stored_width`` float32 (rows never
        written stay zero). The transform is not applied: see ``apply_transform``."""
        if self.generated is not None:
            return self.generated.rows(self.n, self.stored_width)
        out = np.zeros((self.n, self.stored_width), dtype=FACTOR_DTYPE)
        for ids, rows in read_blocks(self.folder):
            out[ids] = rows
        return out

    def apply_transform(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` (of the stored factor, or of a product with it) times the transform."""
        t = self._matrix()
        if t is None:
            return rows
        return (rows.astype(np.float64) @ t).astype(FACTOR_DTYPE)

    def block(self, partition: int) -> tuple[np.ndarray, np.ndarray]:
        """In a task: the ids and transformed rows of one block (empty when the pass's
        task ``partition`` had no rows)."""
        import pyarrow.fs as pafs

        fs, root = _location(self.folder)
        path = posixpath.join(root, _block_name(partition))
        if fs.get_file_info(path).type != pafs.FileType.File:
            return np.zeros(0, np.int32), np.zeros((0, self.width), FACTOR_DTYPE)
        ids, rows = _read_block(fs, path)
        return ids, self.apply_transform(rows)


def _location(folder: str):
    from sparkembed.arrowio import arrow_location

    location = arrow_location(folder)
    if location is None:
        raise SparkembedError(f"factor files: pyarrow cannot reach {folder}")
    return location


def _block_name(partition: int) -> str:
    return f"part-{partition:05d}.npy"


def _read_block(fs, path: str) -> tuple[np.ndarray, np.ndarray]:
    with fs.open_input_stream(path) as f:
        data = io.BytesIO(f.read())
    return np.load(data), np.load(data)


def read_blocks(folder: str):
    """In a task: ``(ids, rows)`` of every block file of ``folder``."""
    import pyarrow.fs as pafs

    fs, root = _location(folder)
    infos = fs.get_file_info(pafs.FileSelector(root))
    for info in sorted(infos, key=lambda i: i.path):
        if info.type == pafs.FileType.File and posixpath.basename(info.path).startswith("part-"):
            if info.path.endswith(".npy"):
                yield _read_block(fs, info.path)


def write_block(folder: str, partition: int, ids: np.ndarray, rows: np.ndarray) -> None:
    """In a task: this task's rows as one block file (replacing a failed attempt's)."""
    fs, root = _location(folder)
    fs.create_dir(root, recursive=True)
    final = posixpath.join(root, _block_name(partition))
    tmp = f"{final}.{uuid.uuid4().hex[:8]}.tmp"
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(ids, dtype=np.int32))
    np.save(buf, np.ascontiguousarray(rows, dtype=FACTOR_DTYPE))
    with fs.open_output_stream(tmp) as f:
        f.write(buf.getbuffer())
    fs.move(tmp, final)


def task_partition() -> int:
    """The running task's partition (the block it writes)."""
    from pyspark import TaskContext

    return TaskContext.get().partitionId()


class FactorSpace:
    """Folders for a trainer's factors, one per pass, under ``root`` (a stage's scratch
    folder); without one, a local temporary folder (local masters only), removed by
    ``close``."""

    def __init__(self, spark, root: str | None = None):
        self._own = None
        if root is None:
            master = spark.sparkContext.master
            if not master.startswith("local"):
                raise SparkembedError(
                    "factor files need a folder every executor reaches: pass the stage's "
                    "scratch folder (a cluster's tasks cannot read the driver's temp dir)"
                )
            self._own = tempfile.mkdtemp(prefix="sparkembed-factors-")
            root = self._own
        self.root = root.rstrip("/")
        self._count = 0

    def new(self, name: str) -> str:
        self._count += 1
        return f"{self.root}/{self._count:03d}-{name}"

    def drop(self, folder: str | None) -> None:
        """Remove a folder no later pass reads (keeps the scratch space's size bounded)."""
        if folder is not None:
            self.remove(folder)

    @staticmethod
    def remove(folder: str) -> None:
        fs, path = _location(folder)
        try:
            fs.delete_dir(path)
        except FileNotFoundError:
            pass

    def close(self) -> None:
        if self._own and os.path.isdir(self._own):
            shutil.rmtree(self._own, ignore_errors=True)


VECTOR_ROWS_SCHEMA = "id int, vector array<float>, norm float"
_BATCH_ROWS = 1 << 16  # vector rows per Arrow batch


def aligned_rows(ids: np.ndarray, other_ids: np.ndarray, other_rows: np.ndarray) -> np.ndarray:
    """``other_rows`` reordered to ``ids`` (zero where ``other_ids`` lacks an id)."""
    out = np.zeros((len(ids), other_rows.shape[1]), dtype=FACTOR_DTYPE)
    if not len(other_ids) or not len(ids):
        return out
    order = np.argsort(other_ids, kind="stable")
    at = np.searchsorted(other_ids[order], ids)
    at = np.minimum(at, len(order) - 1)
    found = other_ids[order][at] == ids
    out[found] = other_rows[order[at[found]]]
    return out


def vector_rows(spark, parts: int, terms: list[Factor], min_norm: float = 0.0, unit: bool = False):
    """A DataFrame of ``id, vector, norm``: for each row id of ``terms[0]``'s blocks the
    sum of the terms' rows (the same block ``p`` of each: the passes that wrote them ran
    over alike-partitioned matrices), kept when its norm exceeds ``min_norm``; with
    ``unit``, each divided by its norm. Computed by the executors from the block files;
    lazy (the files must outlive its use)."""

    terms = [t.shipped(spark) for t in terms]

    def rows(batches):
        import pyarrow as pa

        for b in batches:
            for p in b.column(0).to_pylist():
                ids, total = terms[0].block(p)
                total = total.astype(np.float32)
                for term in terms[1:]:
                    other_ids, other = term.block(p)
                    total = total + aligned_rows(ids, other_ids, other)
                norms = np.linalg.norm(total.astype(np.float64), axis=1)
                keep = norms > min_norm
                ids, total, norms = ids[keep], total[keep], norms[keep]
                if unit:
                    total = (total / norms[:, None]).astype(np.float32)
                    norms = np.linalg.norm(total.astype(np.float64), axis=1)
                for lo in range(0, len(ids), _BATCH_ROWS):
                    hi = lo + _BATCH_ROWS
                    chunk = np.ascontiguousarray(total[lo:hi], dtype=np.float32)
                    width = chunk.shape[1]
                    offsets = np.arange(0, chunk.size + 1, width, dtype=np.int32)
                    yield pa.RecordBatch.from_pydict(
                        {
                            "id": pa.array(ids[lo:hi], pa.int32()),
                            "vector": pa.ListArray.from_arrays(offsets, chunk.ravel()),
                            "norm": pa.array(norms[lo:hi].astype(np.float32)),
                        }
                    )

    units = spark.createDataFrame(
        spark.sparkContext.parallelize([(p,) for p in range(parts)], parts), "partition int"
    )
    return units.mapInArrow(rows, VECTOR_ROWS_SCHEMA)


def row_norms(spark, parts: int, terms: list[Factor]) -> np.ndarray:
    """The norms of ``vector_rows``' rows (no threshold), one float per row on the driver,
    in no particular order (for a quantile)."""
    from pyspark.sql import functions as F

    frame = vector_rows(spark, parts, terms, min_norm=-1.0).select(F.col("norm").cast("double"))
    table = frame.toArrow()
    return table.column(0).to_numpy()


def to_numpy(factor: Factor) -> np.ndarray:
    """The whole factor on the calling process (transform applied): for tests and small
    factors only; the trainers never call it on the driver."""
    return factor.apply_transform(factor.stored_rows()).astype(np.float64)


def write_factor(folder: str, rows: np.ndarray, parts: int = 1) -> Factor:
    """``rows`` as a Factor of ``parts`` block files (for tests and small factors)."""
    n = len(rows)
    for p, ids in enumerate(np.array_split(np.arange(n, dtype=np.int32), parts)):
        write_block(folder, p, ids, rows[ids])
    return Factor(n, rows.shape[1], folder=folder)
