"""Arrow I/O inside Spark tasks: where pyarrow can reach a table, its files and row groups.

Stages whose hot loops run in numpy read and write Parquet with pyarrow from the tasks
(tokenize's vocabulary count, cooccur's counting, train's PPMI blocks): this is what they
share. Paths must be reachable by pyarrow from every executor (local or a shared mount,
hdfs://, s3://).
"""

from __future__ import annotations

import posixpath
from urllib.parse import urlparse

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from sparkembed.errors import SparkembedError

# Target tokens per map task. Fewer, bigger tasks send fewer duplicate partial sums into
# the shuffle (each task pre-aggregates its own); the count is rounded up to a multiple
# of the cores so that the last wave keeps every core busy.
TOKENS_PER_TASK = 25_000_000


# Sentences per Arrow batch read from a row group.
READ_BATCH_ROWS = 1 << 16


def arrow_location(uri: str) -> tuple[pafs.FileSystem, str] | None:
    """(pyarrow filesystem, path) for ``uri``, or None when pyarrow cannot reach it."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return pafs.LocalFileSystem(), posixpath.abspath(parsed.path if parsed.scheme else uri)
    if parsed.scheme in ("hdfs", "s3", "gs"):
        try:
            return pafs.FileSystem.from_uri(uri)
        except (pa.ArrowException, OSError, ValueError):
            return None
    return None


def visible(path: str, root: str) -> bool:
    rel = posixpath.relpath(path, root)
    return not any(part.startswith(("_", ".")) for part in rel.split("/"))


def tokens_leaf(schema: pq.ParquetSchema, path: str) -> str:
    leaves = [
        schema.column(i).path
        for i in range(len(schema))
        if schema.column(i).path.split(".")[0] == "tokens"
    ]
    if len(leaves) != 1:
        raise SparkembedError(f"tokens: {path} has no 'tokens array<string>' column")
    return leaves[0]


def parquet_files(fs: pafs.FileSystem, root: str) -> list[str]:
    """The data files of a table folder (not hidden, not ``_``-prefixed), sorted."""
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    return sorted(
        i.path
        for i in infos
        if i.type == pafs.FileType.File and i.path.endswith(".parquet") and visible(i.path, root)
    )


def token_row_groups(tokens_path: str) -> list[tuple[str, int, int]]:
    """(file, row group, tokens in it) for every row group of the token table's files."""
    fs, root = arrow_location(tokens_path)
    files = parquet_files(fs, root)
    units = []
    for path in files:
        try:
            with fs.open_input_file(path) as f:
                meta = pq.ParquetFile(f).metadata
        except (pa.ArrowException, OSError) as e:
            raise SparkembedError(f"tokens: cannot read the Parquet footer of {path}: {e}") from e
        leaf = tokens_leaf(meta.schema, path)
        column = next(i for i in range(meta.num_columns) if meta.schema.column(i).path == leaf)
        for g in range(meta.num_row_groups):
            units.append((path, g, meta.row_group(g).column(column).num_values))
    return units


def plan_map_tasks(
    units: list[tuple[str, int, int]], cores: int, tokens_per_task: int = TOKENS_PER_TASK
) -> list[list[tuple[str, int]]]:
    """Row groups dealt into tasks of about equal token counts (largest first, greedy)."""
    total = sum(n for _, _, n in units)
    waves = max(1, -(-total // (cores * tokens_per_task)))
    n_tasks = max(1, min(len(units), cores * waves))
    tasks: list[list[tuple[str, int]]] = [[] for _ in range(n_tasks)]
    load = np.zeros(n_tasks, np.int64)
    for path, g, n in sorted(units, key=lambda u: (-u[2], u[0], u[1])):
        t = int(np.argmin(load))
        tasks[t].append((path, g))
        load[t] += n
    return [sorted(t) for t in tasks if t]


def packed_rows(x: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """The rows of a float32 matrix as one binary value each (``valid`` False: null, and
    ``x`` holds only the valid rows). Between passes of one stage, Spark moves and stores a
    binary column many times faster than an ``array<float>`` of the same numbers, which
    it handles an element at a time."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    n = len(x) if valid is None else len(valid)
    row_bytes = 4 * (x.shape[1] if x.ndim == 2 else 0)
    sizes = np.full(n, row_bytes, np.int64) if valid is None else np.where(valid, row_bytes, 0)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(sizes, out=offsets[1:])
    mask = None if valid is None else pa.array(valid, pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(
        pa.binary(), n, [mask, pa.py_buffer(offsets), pa.py_buffer(x.tobytes())]
    )


def unpacked_rows(values: pa.Array, dim: int) -> np.ndarray:
    """``packed_rows``'s matrix back (float64), from a binary array without nulls."""
    if len(values) == 0:
        return np.zeros((0, dim))
    offsets = np.frombuffer(values.buffers()[1], np.int32)[
        values.offset : values.offset + len(values) + 1
    ]
    data = np.frombuffer(values.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    return data.view(np.float32).astype(np.float64).reshape(len(values), dim)
