"""The Gram matrix ``XᵀX`` of a vector column in one Spark pass, and its top eigenvectors:
the right singular vectors of ``X`` (uncentred, as SIF's common component is), with
deterministic signs.

Each task sums ``xᵀx`` over its rows in float64 (a d × d partial per group); the partials
are combined by ``treeAggregate``, so the driver receives a few d × d matrices, never one per
task of a big cluster, and never a row of ``X``.
"""

from __future__ import annotations

import numpy as np

from sparkembed.arrowio import unpacked_rows
from sparkembed.errors import task_errors


def _float_matrix(values, dim: int) -> np.ndarray:
    """Rows of an ``array<float>`` column, or of float32 rows packed as binary."""
    import pyarrow as pa

    if pa.types.is_binary(values.type):
        return unpacked_rows(values, dim)
    flat = values.flatten().to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    return flat.reshape(len(values), dim)


def gram_matrices(df, dim: int, group: str | None = None) -> dict[str, tuple[int, np.ndarray]]:
    """``{group value: (rows, XᵀX)}`` over ``df``'s ``vector`` column (array<float>, or
    ``arrowio.packed_rows`` binary; no nulls), one entry per value of the ``group`` column
    (``""`` for all rows without one)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def partial_grams(batches):
        sums: dict[str, list] = {}
        for b in batches:
            vectors = b.column(b.schema.get_field_index("vector"))
            keys = b.column(b.schema.get_field_index(group)) if group else pa.nulls(b.num_rows)
            for key in pc.unique(keys).to_pylist():
                if group:
                    part = vectors.filter(pc.equal(keys, key))
                else:
                    part = vectors
                x = _float_matrix(part, dim)
                entry = sums.setdefault(key or "", [0, np.zeros((dim, dim))])
                entry[0] += x.shape[0]
                entry[1] += x.T @ x
        for key, (rows, g) in sums.items():
            yield pa.RecordBatch.from_arrays(
                [pa.array([key]), pa.array([rows], pa.int64()), pa.array([g.tobytes()])],
                names=["key", "rows", "gram"],
            )

    columns = ["vector"] + ([group] if group else [])
    parts = df.select(*columns).mapInArrow(partial_grams, "key string, rows long, gram binary")

    def as_dict(row):
        return {row["key"]: (row["rows"], np.frombuffer(row["gram"], np.float64).reshape(dim, dim))}

    def merge(a, b):
        out = dict(a)
        for key, (rows, g) in b.items():
            if key in out:
                out[key] = (out[key][0] + rows, out[key][1] + g)
            else:
                out[key] = (rows, g)
        return out

    with task_errors():
        return parts.rdd.map(as_dict).treeAggregate({}, merge, merge, depth=2)


def top_components(gram: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` eigenvectors of a Gram matrix with the largest eigenvalues, as rows
    (``k × d``), largest first, each with its largest-|x| entry positive; and the singular
    values (square roots of the eigenvalues)."""
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:k]
    u = vectors[:, order].T
    pivots = np.argmax(np.abs(u), axis=1)
    signs = np.sign(u[np.arange(len(order)), pivots])
    signs[signs == 0] = 1.0
    return u * signs[:, None], np.sqrt(np.clip(values[order], 0, None))


def remove_components(x: np.ndarray, components: np.ndarray) -> np.ndarray:
    """``x - x Uᵀ U`` for ``components`` ``U`` (k × d orthonormal rows)."""
    if components.size == 0:
        return x
    return x - (x @ components.T) @ components
