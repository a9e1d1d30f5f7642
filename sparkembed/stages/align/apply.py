"""The Spark side of alignment: passes over whole vector tables (Arrow + numpy per
partition) that never bring a vocabulary to the driver: the means of the normalisation's
``center`` steps, the rows of given tokens, the most frequent rows, and the mapped table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from sparkembed.errors import SparkembedError, task_errors
from sparkembed.stages.align.procrustes import normalize
from sparkembed.tables import broadcast_frame
from sparkembed.vectors.table import frequency_order

ALIGNED = "token string, vector array<float>, count long, norm float, lang string"


def vector_matrix(batch, dim: int) -> np.ndarray:
    lists = batch.column(batch.schema.get_field_index("vector"))
    flat = lists.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
    if flat.size != batch.num_rows * dim:
        raise SparkembedError(f"vectors: rows of another dimension than {dim}")
    return flat.reshape(batch.num_rows, dim)


def check_rows(batch, x: np.ndarray, where: str) -> None:
    """NaN, infinite and zero vectors stop the stage, naming the first such token."""
    bad = ~np.isfinite(x).all(axis=1)
    zero = ~bad & ~x.any(axis=1)
    for mask, what in ((bad, "a NaN or infinite"), (zero, "a zero")):
        if mask.any():
            token = batch.column(batch.schema.get_field_index("token"))[int(np.argmax(mask))]
            raise SparkembedError(
                f"{where}: token {token.as_py()!r} has {what} vector, which cannot be aligned"
            )


def step_means(df, dim: int, steps: Sequence[str], where: str) -> list[np.ndarray]:
    """The mean vector before each ``center`` step of ``steps``, over the whole table:
    one Spark pass per ``center`` (partial sums per task, summed on the driver)."""
    spark = df.sparkSession
    means: list[np.ndarray] = []
    for i, step in enumerate(steps):
        if step != "center":
            continue
        before = tuple(steps[:i])
        shared = spark.sparkContext.broadcast((before, list(means)))

        def partial_sums(batches, shared=shared):
            import pyarrow as pa

            prior, prior_means = shared.value
            total, rows = np.zeros(dim), 0
            for b in batches:
                x = vector_matrix(b, dim)
                check_rows(b, x, where)
                total += normalize(x, prior, prior_means).sum(axis=0)
                rows += b.num_rows
            yield pa.RecordBatch.from_arrays(
                [pa.array([rows], pa.int64()), pa.array([total.tobytes()], pa.binary())],
                names=["rows", "sums"],
            )

        parts = df.select("token", "vector").mapInArrow(partial_sums, "rows long, sums binary")
        with task_errors():
            got = parts.toArrow()
        shared.unpersist()
        rows = int(sum(got.column("rows").to_pylist()))
        if rows == 0:
            raise SparkembedError(f"{where}: no vectors")
        sums = sum(np.frombuffer(s, np.float64) for s in got.column("sums").to_pylist())
        means.append(sums / rows)
    return means


def rows_of(df, tokens: Sequence[str], dim: int, where: str) -> dict[str, np.ndarray]:
    """The raw vectors of ``tokens`` that the table has (a dictionary's worth, through a
    join with the token list, never the whole table)."""
    # Broadcast, not the tasks' own data: a dictionary's words would travel in every task.
    words = pa.table({"token": pa.array(list(dict.fromkeys(tokens)), pa.string())})
    wanted = broadcast_frame(df.sparkSession, words, "token string")
    with task_errors():
        table = df.join(wanted, "token").select("token", "vector").toArrow()
    if table.num_rows == 0:
        return {}
    batch = table.combine_chunks().to_batches()[0]
    x = vector_matrix(batch, dim)
    check_rows(batch, x, where)
    return dict(zip(table.column("token").to_pylist(), x, strict=True))


def top_rows(df, n: int, dim: int, where: str) -> tuple[list[str], np.ndarray]:
    """The first ``n`` rows in the table's order (most frequent first), raw."""
    with task_errors():
        table = (df.orderBy(*frequency_order(df)).limit(n).select("token", "vector")).toArrow()
    if table.num_rows == 0:
        return [], np.zeros((0, dim))
    batch = table.combine_chunks().to_batches()[0]
    x = vector_matrix(batch, dim)
    check_rows(batch, x, where)
    return table.column("token").to_pylist(), x


def mapped_frame(df, dim: int, steps, means, w: np.ndarray | None, lang: str, where: str = ""):
    """The table's vectors normalised (``steps``, ``means``) and, with ``w``, mapped
    (``x @ w``): the vector-table columns with ``lang``, per partition in numpy."""
    spark = df.sparkSession
    shared = spark.sparkContext.broadcast((tuple(steps), list(means), w))

    def transform(batches):
        import pyarrow as pa

        steps_, means_, w_ = shared.value
        for b in batches:
            raw = vector_matrix(b, dim)
            check_rows(b, raw, where)
            x = normalize(raw, steps_, means_)
            if w_ is not None:
                x = x @ w_
            y = x.astype(np.float32)
            offsets = pa.array(np.arange(0, y.size + 1, dim, dtype=np.int32))
            yield pa.RecordBatch.from_arrays(
                [
                    b.column(b.schema.get_field_index("token")),
                    pa.ListArray.from_arrays(offsets, pa.array(y.ravel())),
                    b.column(b.schema.get_field_index("count")).cast(pa.int64()),
                    pa.array(np.linalg.norm(y.astype(np.float64), axis=1).astype(np.float32)),
                    pa.array([lang] * b.num_rows, pa.string()),
                ],
                names=["token", "vector", "count", "norm", "lang"],
            )

    return df.select("token", "vector", "count").mapInArrow(transform, ALIGNED)
