"""``train --method umap``: vertex vectors for small graphs, UMAP (umap-learn) of the rows
of the row-normalised transition matrix of DIR/graph (the walks stage's adjacency), on the
driver.

Row ``v`` of ``(P + P^2 + ... + P^T) / T`` (``T`` = ``umap.steps``) is where a walker from
``v`` is within T steps; UMAP embeds those rows (cosine distance by default), so vertices
with similar neighbourhoods land close together. With T = 1 two neighbours' rows barely
overlap (a sparse graph's rows are nearly orthogonal): on the karate club, macro-F1 of the
two clubs is 0.32 at T = 1 and 1.0 at T = 3. It runs in one process: the whole matrix comes to the
driver, so graphs are refused above ``umap.max_vertices`` vertices (or ``umap.max_edges``
out-edges) with a message saying so; walks + svd or word2vec scale instead.
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
from pyspark.sql import functions as F

from sparkembed.errors import SparkembedError
from sparkembed.stages.train.result import TrainResult
from sparkembed.tables import broadcast_frame

VECTOR_ROWS = "token string, vector array<float>, norm float"


def transition_matrix(table):
    """scipy CSR ``n x n``: row v holds v's out-edge weights (1 unweighted) over their sum;
    ``table`` is DIR/graph as Arrow, sorted by vertex."""
    import scipy.sparse as sp

    lengths = pc.list_value_length(table["neighbors"]).to_numpy(zero_copy_only=False)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    indices = pc.list_flatten(table["neighbors"]).to_numpy(zero_copy_only=False)
    if table["weights"].null_count < len(table):
        data = pc.list_flatten(table["weights"]).to_numpy(zero_copy_only=False)
    else:
        data = np.ones(len(indices))
    n = len(lengths)
    m = sp.csr_matrix((data.astype(np.float64), indices, indptr), shape=(n, n))
    sums = np.asarray(m.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sp.diags(scale) @ m


def train_umap(graph, vocab, dim: int, cfg, seed: int) -> TrainResult:
    """Vectors (``token, vector, count, norm``) of the graph's vertices; ``cfg``: [umap]."""
    try:
        import umap
    except ImportError:
        raise SparkembedError(
            "train.method umap needs umap-learn: pip install 'sparkembed[umap]'"
        ) from None
    stats = graph.agg(
        F.count(F.lit(1)).alias("n"), F.coalesce(F.sum(F.size("neighbors")), F.lit(0)).alias("e")
    ).first()
    n, e = int(stats["n"]), int(stats["e"])
    if n > cfg.max_vertices or e > cfg.max_edges:
        raise SparkembedError(
            f"umap runs on the driver and is for small graphs: {n:,} vertices and {e:,} "
            f"out-edges exceed umap.max_vertices {cfg.max_vertices:,} or umap.max_edges "
            f"{cfg.max_edges:,}; use --method svd, glove or word2vec on the walks"
        )
    if dim >= n - 1:
        raise SparkembedError(f"train.dim {dim} must be below the vertex count - 1 ({n - 1})")
    table = graph.select("vertex", "id", "neighbors", "weights").toArrow().sort_by("vertex")
    step = transition_matrix(table)
    power, matrix = step, step
    for _ in range(cfg.steps - 1):
        power = power @ step
        matrix = matrix + power
    matrix = matrix / cfg.steps
    model = umap.UMAP(
        n_components=dim,
        n_neighbors=min(cfg.n_neighbors, n - 1),
        min_dist=cfg.min_dist,
        metric=cfg.metric,
        random_state=seed,
        # One thread: with random_state umap-learn is only repeatable single-threaded.
        n_jobs=1,
    )
    points = model.fit_transform(matrix).astype(np.float32)
    import pyarrow as pa

    vectors = pa.table(
        {
            "token": table["id"],
            "vector": pa.ListArray.from_arrays(
                pa.array(np.arange(0, (n + 1) * dim, dim), pa.int32()), pa.array(points.ravel())
            ),
            "norm": pa.array(np.linalg.norm(points, axis=1).astype(np.float32)),
        }
    )
    # Broadcast, not the tasks' own data: n x dim floats would travel inside every task.
    frame = broadcast_frame(graph.sparkSession, vectors, VECTOR_ROWS)
    frame = frame.join(vocab.select("token", "count"), "token", "left").select(
        "token", "vector", F.coalesce("count", F.lit(0)).cast("long").alias("count"), "norm"
    )
    return TrainResult(frame, {"vertices": n, "out_edges": e}, {"umap": {"metric": cfg.metric}})
