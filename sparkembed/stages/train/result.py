"""What every trainer returns: one vector frame schema, its counts, extra metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class TrainResult:
    vectors: Any  # DataFrame: token string, vector array<float>, count long, norm float
    counts: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # recorded in the table's metadata


def vector_frame(vocab, present: np.ndarray, rows: np.ndarray):
    """The vector frame of the vocabulary's words whose id is ``present``, their vectors the
    rows of ``rows`` (ids × dim, on the driver), and the number of vectors.

    The vocabulary (vocab-sized, like ``rows``) joins on the driver and the table leaves
    with float32 vectors and their norms: no Spark join, no per-element Spark functions in
    the write, and the number of vectors is known without reading the table back.
    """
    import pyarrow as pa

    dim = rows.shape[1]
    voc = vocab.select("id", "token", "count").toArrow()
    voc_ids = voc.column("id").to_numpy().astype(np.int64)
    keep = present[voc_ids]
    vectors = rows[voc_ids[keep]].astype(np.float32)
    offsets = pa.array(np.arange(0, vectors.size + 1, dim, dtype=np.int32))
    table = pa.table(
        {
            "token": voc.column("token").filter(pa.array(keep)),
            "vector": pa.ListArray.from_arrays(offsets, pa.array(vectors.ravel())),
            "count": voc.column("count").filter(pa.array(keep)).cast(pa.int64()),
            "norm": pa.array(np.linalg.norm(vectors.astype(np.float64), axis=1).astype(np.float32)),
        }
    )
    return vocab.sparkSession.createDataFrame(table), len(vectors)
