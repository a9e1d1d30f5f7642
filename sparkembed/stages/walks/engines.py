"""The two ways the walks run on Spark; both draw every step from ``draws.uniforms`` keyed by
(seed, walk id, step, attempt) and sample from the same adjacency rows, so they give the
same walks, not only the same distribution.

- **replicated**: every task reads the whole adjacency (written once by Spark as Parquet)
  with pyarrow into CSR arrays, kept for the life of its Python worker, and walks its share
  of the start vertices with :func:`walker.walks`, all its walkers at once, writing its
  walks as a Parquet file itself and returning visit counts (the vocabulary) from the same
  pass. Memory per Python worker: :func:`replicated_bytes`.
- **partitioned**: the adjacency stays partitioned by vertex. Each step, the walkers are
  grouped by the vertex they stand on and joined to its row (a vertex's row meets its
  walkers once, however many there are), and a vectorised task moves them. node2vec's
  rejection test needs the previous vertex's neighbours: the proposals (``PROPOSALS`` per
  walker per round) are grouped by previous vertex and joined to its row in turn; walkers
  with no accepted proposal go round again. Each step's moves are written to the run's
  scratch folder, which cuts the query plan; a task never holds more than its own rows.

A walk is ``walk_id = v * walks_per_node + r`` for walk number ``r`` from vertex ``v``,
started from every vertex with out-edges. All walks of a start vertex (one document of the
tokens table) are written by one task, into one file: the vocabulary is then counted from
the files (``sparkembed.vocabulary.files``).
"""

from __future__ import annotations

import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkembed.arrowio import arrow_location, parquet_files
from sparkembed.errors import SparkembedError
from sparkembed.stages.walks.draws import uniforms
from sparkembed.stages.walks.walker import (
    Graph,
    first_order_step,
    has_edge,
    row_cumulative,
    walks,
)

TOKENS = "doc_id string, title string, lang string, sentence int, tokens array<string>"
PROPOSALS = 8  # node2vec proposals per walker per round (partitioned engine)
WALKERS_PER_CHUNK = 50_000  # replicated engine: walkers moved together in one task


def replicated_bytes(n_vertices: int, n_edges: int, weighted: bool, id_bytes: int) -> int:
    """Memory of the replicated graph in one Python worker: CSR offsets (8 bytes a vertex),
    neighbours (4 bytes an out-edge; an undirected edge is two), running weight sums (8 bytes
    an out-edge when weighted), and the vertex ids as Arrow strings; reading the table takes
    about as much again, briefly."""
    return 8 * (n_vertices + 1) + (12 if weighted else 4) * n_edges + id_bytes + 4 * n_vertices


# --- replicated --------------------------------------------------------------------------

_LOADED: dict[str, tuple[Graph, pa.Array]] = {}


def load_graph(path: str) -> tuple[Graph, pa.Array]:
    """The adjacency table at ``path`` as a :class:`Graph` and the vertex ids (by vertex),
    read once per Python worker (workers are reused across tasks)."""
    if path not in _LOADED:
        location = arrow_location(path)
        if location is None:
            raise SparkembedError(f"walks: pyarrow cannot read {path} from the executors")
        fs, root = location
        parts = [pq.read_table(f, filesystem=fs) for f in parquet_files(fs, root)]
        table = pa.concat_tables(parts).sort_by("vertex")
        lengths = pc.list_value_length(table["neighbors"]).to_numpy(zero_copy_only=False)
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = pc.list_flatten(table["neighbors"]).to_numpy(zero_copy_only=False)
        cumulative = None
        if table["weights"].null_count < len(table):
            weights = pc.list_flatten(table["weights"]).to_numpy(zero_copy_only=False)
            cumulative = row_cumulative(indptr, weights)
        _LOADED.clear()  # one run's graph at a time
        _LOADED[path] = (
            Graph(indptr, indices.astype(np.int32), cumulative),
            table["id"].combine_chunks(),
        )
    return _LOADED[path]


def walk_rows(ids: pa.Array, walk_ids: np.ndarray, paths: np.ndarray, per_node: int, lang: str):
    """A tokens batch from walks (vertex indices, -1 past a dead end)."""
    lengths = (paths >= 0).sum(axis=1)
    offsets = np.zeros(len(paths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    start = ids.take(pa.array(paths[:, 0]))
    tokens = pa.ListArray.from_arrays(pa.array(offsets), ids.take(pa.array(paths[paths >= 0])))
    return pa.RecordBatch.from_arrays(
        [
            start,
            start,
            pa.array(np.full(len(paths), lang, dtype=object), pa.string()),
            pa.array((walk_ids % per_node).astype(np.int32)),
            tokens,
        ],
        names=["doc_id", "title", "lang", "sentence", "tokens"],
    )


VISITS = "vertex int, count long, doc_count long"


def _tokens_schema() -> pa.Schema:
    return pa.schema(
        [
            ("doc_id", pa.string()),
            ("title", pa.string()),
            ("lang", pa.string()),
            ("sentence", pa.int32()),
            ("tokens", pa.list_(pa.string())),
        ]
    )


def replicated_to_files(
    spark, graph_path: str, n_vertices: int, cfg, partitions: int, out_path: str
) -> DataFrame:
    """Walk ``cfg.walks_per_node`` walks from every vertex with out-edges, each task a range
    of start vertices, writing its walks (tokens rows, one a walk) as one Parquet file under
    ``out_path``; returns the tasks' visit counts (``VISITS``: per vertex, the visits and the
    start vertices whose walks visit it), one partial row per vertex per task."""
    fs, root = arrow_location(out_path)
    length, seed, p, q, lang, per_node = (
        cfg.walk_length,
        cfg.seed,
        cfg.p,
        cfg.q,
        cfg.lang,
        cfg.walks_per_node,
    )
    chunk_size = max(1, WALKERS_PER_CHUNK // per_node) * per_node  # whole start vertices
    schema = _tokens_schema()

    def walk(batches):
        from pyspark import TaskContext

        graph, ids = load_graph(graph_path)
        n = graph.n_vertices
        starts = [b.column(0).to_numpy() for b in batches]
        v = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
        v = v[graph.degree(v) > 0]
        if len(v) == 0:
            return
        todo = (v[:, None] * per_node + np.arange(per_node)).ravel()
        visits = np.zeros(n, dtype=np.int64)
        docs = np.zeros(n, dtype=np.int64)
        part = TaskContext.get().partitionId()
        fs.create_dir(root, recursive=True)
        # Hidden while being written; a retried task replaces the same final name.
        tmp = f"{root}/.part-{part:05d}-{uuid.uuid4().hex[:8]}.parquet"
        with fs.open_output_stream(tmp) as stream, pq.ParquetWriter(stream, schema) as writer:
            for lo in range(0, len(todo), chunk_size):
                chunk = todo[lo : lo + chunk_size]
                paths = walks(graph, chunk // per_node, chunk, length, seed, p, q)
                writer.write_batch(walk_rows(ids, chunk, paths, per_node, lang))
                seen = paths >= 0
                visited = paths[seen]
                visits += np.bincount(visited, minlength=n)
                start = np.repeat(chunk // per_node, seen.sum(axis=1))
                # A chunk holds whole start vertices: distinct (start, vertex) pairs count
                # each start once per vertex it reaches.
                pairs = np.sort(start * n + visited)  # (np.unique is slower on ints)
                first = np.concatenate([[True], pairs[1:] != pairs[:-1]])
                docs += np.bincount(pairs[first] % n, minlength=n)
        fs.move(tmp, f"{root}/part-{part:05d}.parquet")
        hit = np.flatnonzero(visits)
        yield pa.RecordBatch.from_arrays(
            [pa.array(hit, pa.int32()), pa.array(visits[hit]), pa.array(docs[hit])],
            names=["vertex", "count", "doc_count"],
        )

    return spark.range(0, n_vertices, numPartitions=partitions).mapInArrow(walk, VISITS)


# --- partitioned -------------------------------------------------------------------------


def _local_graph(lists: pa.Array, weights: pa.Array | None) -> Graph:
    """A Graph of a batch's own adjacency rows (row i = local vertex i); its running sums
    equal the whole graph's, row by row (``row_cumulative``)."""
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = pc.list_flatten(lists).to_numpy(zero_copy_only=False)
    cumulative = None
    if weights is not None and weights.null_count < len(weights):
        flat = pc.list_flatten(weights).to_numpy(zero_copy_only=False)
        cumulative = row_cumulative(indptr, flat)
    return Graph(indptr, indices, cumulative)


def _walkers(batch: pa.RecordBatch) -> tuple[np.ndarray, pa.StructArray]:
    """(row of each walker, the walkers' fields) of a batch of grouped rows."""
    lists = batch.column("walkers")
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    return rows, pc.list_flatten(lists)


MOVES = "walk_id long, at int, came_from int, next int"


def _move_first_order(seed: int, step: int):
    """Moves (``MOVES``) of walkers grouped at their vertex: one first-order step."""

    def move(batches):
        for b in batches:
            rows, w = _walkers(b)
            ids = w.field("walk_id").to_numpy()
            graph = _local_graph(b.column("neighbors"), b.column("weights"))
            nxt = first_order_step(graph, rows, uniforms(seed, ids, step))
            at = b.column("vertex").to_numpy()[rows]
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(ids),
                    pa.array(at, pa.int32()),
                    pa.nulls(len(ids), pa.int32()),  # not needed once the walker has moved
                    pa.array(nxt, pa.int32()),
                ],
                names=["walk_id", "at", "came_from", "next"],
            )

    return move


PROPOSED = "walk_id long, at int, came_from int, proposals array<int>"


def _propose(seed: int, step: int, first_attempt: int):
    """node2vec proposals of walkers grouped at their vertex: ``PROPOSALS`` candidates each,
    attempts ``first_attempt ..``, drawn as the replicated walker draws them."""

    def propose(batches):
        for b in batches:
            rows, w = _walkers(b)
            ids = w.field("walk_id").to_numpy()
            graph = _local_graph(b.column("neighbors"), b.column("weights"))
            cand = np.stack(
                [
                    first_order_step(graph, rows, uniforms(seed, ids, step, 2 * a))
                    for a in range(first_attempt, first_attempt + PROPOSALS)
                ],
                axis=1,
            ).astype(np.int32)
            at = b.column("vertex").to_numpy()[rows]
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(ids),
                    pa.array(at, pa.int32()),
                    w.field("came_from"),
                    pa.FixedSizeListArray.from_arrays(pa.array(cand.ravel()), PROPOSALS).cast(
                        pa.list_(pa.int32())
                    ),
                ],
                names=["walk_id", "at", "came_from", "proposals"],
            )

    return propose


def _accept(seed: int, step: int, first_attempt: int, p: float, q: float):
    """node2vec's rejection test of proposals grouped by the vertex the walker came from
    (joined to its neighbours): the first accepted proposal, or ``next`` null."""
    alpha_max = max(1.0 / p, 1.0, 1.0 / q)

    def accept(batches):
        for b in batches:
            rows, w = _walkers(b)
            ids = w.field("walk_id").to_numpy()
            graph = _local_graph(b.column("neighbors"), None)
            t = b.column("came_from").to_numpy()[rows]
            cand = pc.list_flatten(w.field("proposals")).to_numpy().reshape(-1, PROPOSALS)
            nxt = np.full(len(ids), -1, dtype=np.int64)
            for k in range(PROPOSALS):
                open_ = np.flatnonzero(nxt < 0)
                if len(open_) == 0:
                    break
                x = cand[open_, k]
                alpha = np.where(
                    x == t[open_], 1.0 / p, np.where(has_edge(graph, rows[open_], x), 1.0, 1.0 / q)
                )
                u = uniforms(seed, ids[open_], step, 2 * (first_attempt + k) + 1)
                ok = u * alpha_max < alpha
                nxt[open_[ok]] = x[ok]
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(ids),
                    w.field("at"),
                    pa.array(t, pa.int32()),
                    pa.array(nxt, pa.int32(), mask=nxt < 0),
                ],
                names=["walk_id", "at", "came_from", "next"],
            )

    return accept


def partitioned_walks(
    spark, adjacency: DataFrame, cfg, scratch: str, partitions: int, log
) -> DataFrame:
    """Tokens rows as :func:`replicated_walks` gives them, from the adjacency table kept
    partitioned by vertex; ``scratch`` holds the moves of every step."""
    seed, p, q, per_node = cfg.seed, cfg.p, cfg.q, cfg.walks_per_node
    second_order = not (p == 1.0 and q == 1.0)
    adj = (
        adjacency.where(F.size("neighbors") > 0)
        .select("vertex", "neighbors", "weights")
        .repartition(partitions, "vertex")
        .persist()
    )
    came = adj.select(F.col("vertex").alias("came_from"), "neighbors")
    moves = f"{scratch}/moves"
    starts = (
        adj.select("vertex")
        .crossJoin(spark.range(cfg.walks_per_node).withColumnRenamed("id", "r"))
        .select(
            (F.col("vertex").cast("long") * per_node + F.col("r")).alias("walk_id"),
            F.lit(None).cast("int").alias("at"),
            F.lit(None).cast("int").alias("came_from"),
            F.col("vertex").cast("int").alias("next"),
        )
    )
    starts.write.parquet(f"{moves}/step=0/round=0")

    def grouped(walkers: DataFrame, key: str, fields: list[str]) -> DataFrame:
        return walkers.groupBy(key).agg(F.collect_list(F.struct(*fields)).alias("walkers"))

    try:
        for step in range(1, cfg.walk_length):
            if log:
                log(f"partitioned walk: step {step}/{cfg.walk_length - 1}")
            state = (
                spark.read.parquet(f"{moves}/step={step - 1}")
                .where(F.col("next").isNotNull())
                .select("walk_id", F.col("next").alias("vertex"), F.col("at").alias("came_from"))
            )
            if not second_order or step == 1:
                joined = grouped(state, "vertex", ["walk_id"]).join(adj, "vertex")
                out = joined.mapInArrow(_move_first_order(seed, step), MOVES)
                out.write.parquet(f"{moves}/step={step}/round=0")
                continue
            pending, attempt, rnd = state, 0, 0
            while True:
                joined = grouped(pending, "vertex", ["walk_id", "came_from"]).join(adj, "vertex")
                proposed = joined.mapInArrow(_propose(seed, step, attempt), PROPOSED)
                tested = grouped(proposed, "came_from", ["walk_id", "at", "proposals"]).join(
                    came, "came_from"
                )
                target = f"{moves}/step={step}/round={rnd}"
                tested.mapInArrow(_accept(seed, step, attempt, p, q), MOVES).write.parquet(target)
                pending = (
                    spark.read.parquet(target)
                    .where(F.col("next").isNull())
                    .select("walk_id", F.col("at").alias("vertex"), "came_from")
                )
                if pending.limit(1).count() == 0:
                    break
                attempt, rnd = attempt + PROPOSALS, rnd + 1
    finally:
        adj.unpersist()
    ids = adjacency.select(F.col("vertex").alias("next"), "id")
    visited = (
        spark.read.parquet(moves)
        .where(F.col("next").isNotNull())
        .select("walk_id", "step", "next")
        .join(ids, "next")
    )
    walks_ = visited.groupBy("walk_id").agg(
        F.array_sort(F.collect_list(F.struct("step", "id"))).alias("path")
    )
    first = F.col("path")[0]["id"]
    # A start vertex's walks into one task (one file), as the replicated engine writes them.
    return walks_.select(
        first.alias("doc_id"),
        first.alias("title"),
        F.lit(cfg.lang).alias("lang"),
        (F.col("walk_id") % per_node).cast("int").alias("sentence"),
        F.transform("path", lambda x: x["id"]).alias("tokens"),
    ).repartition(partitions, "doc_id")
