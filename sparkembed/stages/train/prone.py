"""The ProNE trainer (Zhang et al., IJCAI 2019): DIR/graph, DIR/vocab -> vectors.

The steps of ProNE's code (THUDM/ProNE, and nodevectors' port), each on the sharded matrix
of ``sparkembed.linalg.sharded`` so that the factors stay in block files the executors
read and write and the driver holds ``width x width`` matrices only:

1. Factorisation. With A the adjacency (edge weights, 1 when unweighted; a directed
   graph's out-edges), d_i = sum_j A_ij, C = D^-1 A and n_j = (sum_i C_ij)^exponent
   normalised to sum 1: the sparse matrix F_ij = log C_ij - log(A_ij n_j) on A's
   non-zeros (the row-normalised adjacency shifted by its negative-sampling term). Its
   randomized SVD gives ``a``: the rows of U S^1/2, each scaled to unit length.
2. Propagation. With Â = I + A, P = D̂^-1 Â and M = (1 - mu) I - P (the normalised
   Laplacian minus mu I), the band-pass filter's Chebyshev expansion in M:
   T_0 = a, T_1 = M²a / 2 - a, T_i+1 = M² T_i - 2 T_i - T_i-1, conv = I_0(theta) T_0
   + sum_{0 < i < step} (-1)^i 2 I_i(theta) T_i (I_i: modified Bessel functions). Each
   product with M is one pass of the sharded Â over the factor (P's row scaling is done
   by the task that holds the row); the terms are combined row by row in the same pass.
3. The vectors: Â (a - conv), then the rows of U S^1/2 of its thin SVD (from its Gram
   matrix, no tall SVD), each scaled to unit length. ``step`` 1: ``a`` itself.

Two engines, chosen once per run (``prone.engine``): ``sharded`` as above, for graphs of
any size; ``one-task`` the same steps in scipy inside one Spark task (the graph's CSR
matrix and the factors in that task's memory, about 100 bytes an edge), for graphs up to
``prone.one_task_max_edges`` out-edges, where a Spark pass costs more than the arithmetic.

Vertices are the graph table's ``vertex`` numbers; the vectors are keyed by the
vocabulary's ids through the vertex ids (``id`` = ``token``).
"""

from __future__ import annotations

import numpy as np

from sparkembed.config import ProneConfig, TrainConfig
from sparkembed.errors import SparkembedError
from sparkembed.linalg.factors import (
    FACTOR_DTYPE,
    Factor,
    FactorSpace,
    aligned_rows,
    task_partition,
    vector_rows,
    write_block,
)
from sparkembed.linalg.sharded import (
    ShardedMatrix,
    column_signs,
    partition_units,
    randomized_svd,
)
from sparkembed.linalg.topk import unit_rows as unit_rows_of
from sparkembed.stages.train.result import TrainResult, log, vector_frame


def _edge_weights():
    """A graph row's weights, 1 for each neighbour when it has none."""
    from pyspark.sql import functions as F

    return F.coalesce(F.col("weights"), F.expr("array_repeat(1.0D, size(neighbors))")).cast(
        "array<double>"
    )


def adjacency_entries(graph):
    """``row, col, value, degree`` of the graph table's out-edges with a positive weight
    (value: the weight, 1 when the graph is unweighted; degree: the sum of the row's
    values, from the vertex's own row of the table: no shuffle)."""
    from pyspark.sql import functions as F

    rows = graph.select("vertex", "neighbors", _edge_weights().alias("w")).withColumn(
        "degree", F.expr("aggregate(filter(w, x -> x > 0), 0D, (acc, x) -> acc + x)")
    )
    exploded = rows.select("vertex", "w", "degree", F.posexplode("neighbors").alias("pos", "col"))
    entries = exploded.select(
        F.col("vertex").alias("row"),
        "col",
        F.expr("element_at(w, pos + 1)").cast("double").alias("value"),
        "degree",
    )
    return entries.where(F.col("value") > 0)


def factorisation_entries(adjacency, exponent: float):
    """``row, col, value`` of F (step 1 of the module's docstring) on A's non-zeros
    (``adjacency``: ``adjacency_entries``)."""
    from pyspark.sql import functions as F

    normalised = adjacency.withColumn("c", F.col("value") / F.col("degree"))
    columns = normalised.groupBy("col").agg(F.pow(F.sum("c"), F.lit(exponent)).alias("negative"))
    total = columns.agg(F.sum("negative")).first()[0] or 1.0
    return normalised.join(columns, "col").select(
        "row",
        "col",
        (F.log("c") - F.log(F.col("value") * F.col("negative") / F.lit(total))).alias("value"),
    )


def chebyshev_coefficients(step: int, theta: float) -> np.ndarray:
    """c_i of conv = sum_i c_i T_i, i < step: I_0(theta), then (-1)^i 2 I_i(theta)."""
    from scipy.special import iv

    i = np.arange(step)
    return np.where(i == 0, 1.0, 2.0 * (-1.0) ** i) * iv(i, theta)


def _rows_of(factor: Factor, partition: int, ids: np.ndarray) -> np.ndarray:
    """In a task: ``factor``'s rows of ``ids`` from its block ``partition`` (zero where
    the block has no row), float64."""
    other_ids, other = factor.block(partition)
    return aligned_rows(ids, other_ids, other).astype(np.float64)


def propagation_pass(
    matrix: ShardedMatrix,
    x: Factor,
    out: str,
    *,
    scale: float,
    normalised: bool = True,
    terms: tuple[tuple[Factor, float], ...] = (),
    minus: Factor | None = None,
    side: tuple[str, float, tuple[tuple[Factor, float], ...]] | None = None,
) -> np.ndarray:
    """One pass of ``matrix`` (Â) over the whole ``x`` (minus the whole ``minus``): each
    task's rows of ``scale · P (x - minus)`` (P: Â's rows over their sums; Â itself
    without ``normalised``) plus ``coef ·`` the same rows of each of ``terms``, written to
    ``out``. ``side = (folder, e, side_terms)`` also writes ``e · out + sum coef · rows``
    of ``side_terms`` to ``folder``. Returns the Gram matrix of the rows written to ``out``.
    Factors here carry no pending transform."""
    for f in (x, minus, *(t for t, _ in terms), *(t for t, _ in (side[2] if side else ()))):
        if f is not None and f.transform is not None:
            raise ValueError("propagation_pass takes factors without a pending transform")

    def prepare(rows):
        if minus is None:
            return rows
        return (rows.astype(np.float64) - minus.stored_rows()).astype(FACTOR_DTYPE)

    def block_fn(m, fixed):
        rows = (m @ fixed).astype(np.float64)
        if normalised:
            sums = np.asarray(m.sum(axis=1), np.float64).ravel()
            rows /= np.where(sums == 0, 1.0, sums)[:, None]
        return rows, None

    def finish(ids, rows, _stats):
        p = task_partition()
        total = scale * rows
        for factor, coef in terms:
            total += coef * _rows_of(factor, p, ids)
        if side is not None and len(ids):
            folder, e, side_terms = side
            extra = e * total
            for factor, coef in side_terms:
                extra += coef * _rows_of(factor, p, ids)
            write_block(folder, p, ids, extra.astype(FACTOR_DTYPE))
        return total.astype(FACTOR_DTYPE), np.append((total.T @ total).ravel(), len(ids))

    stats = matrix.factor_pass(matrix.by_row, x, block_fn, finish, out, prepare=prepare)
    w = x.width
    return stats[: w * w].reshape(w, w)


def unit_rows(spark, factor: Factor, parts: int, out: str) -> Factor:
    """``factor``'s rows (its transform applied), each scaled to unit length (zero rows
    stay zero), as block files in ``out``: one light job, each task its own block."""
    shipped = factor.shipped(spark)

    def run(batches):
        import pyarrow as pa

        for b in batches:
            for p in b.column(0).to_pylist():
                ids, rows = shipped.block(p)
                if len(ids):
                    wide = rows.astype(np.float64)
                    norms = np.linalg.norm(wide, axis=1)
                    wide /= np.where(norms == 0, 1.0, norms)[:, None]
                    write_block(out, p, ids, wide.astype(FACTOR_DTYPE))
                yield pa.RecordBatch.from_pydict({"partition": pa.array([p], pa.int32())})

    partition_units(spark, parts).mapInArrow(run, "partition int").collect()
    if shipped.shipped_transform is not None:
        shipped.shipped_transform.destroy()
    return Factor(factor.n, factor.width, folder=out)


def spectral_rows(gram: np.ndarray, dim: int) -> np.ndarray:
    """The transform T with ``y T`` = U S^1/2 of the thin SVD of a tall ``y`` whose Gram
    matrix is ``gram`` (U = y V S^-1, so T = V S^-1/2), singular values descending;
    directions with a zero singular value get a zero column."""
    lam, vec = np.linalg.eigh((gram + gram.T) / 2)
    lam, vec = lam[::-1][:dim], vec[:, ::-1][:, :dim]
    s = np.sqrt(np.clip(lam, 0.0, None))
    scale = np.divide(1.0, np.sqrt(s), out=np.zeros_like(s), where=s > 1e-12 * max(s.max(), 1e-300))
    return vec * scale


def train_prone(
    graph,
    vocab,
    train: TrainConfig,
    cfg: ProneConfig,
    *,
    scratch: str | None = None,
    quiet: bool = False,
) -> TrainResult:
    """ProNE vectors of the graph's vertices. graph: ``vertex int, id string, neighbors
    array<int>, weights array<double>`` (the walks stage's); vocab: ``id int, token
    string, count long, ...`` with the vertices' ids as tokens."""
    from pyspark.sql import functions as F

    spark = graph.sparkSession
    dim = train.dim
    top, edges = graph.agg(F.max("vertex"), F.sum(F.size("neighbors"))).first()
    n = int(top if top is not None else -1) + 1
    if n == 0:
        raise SparkembedError("prone: the graph has no vertices")
    if dim > n:
        raise SparkembedError(f"train.dim {dim} exceeds the graph's {n:,} vertices")
    engine = cfg.engine
    if engine == "auto":
        engine = "one-task" if (edges or 0) <= cfg.one_task_max_edges else "sharded"
    if engine == "one-task":
        return _train_in_one_task(graph, vocab, n, train, cfg, quiet)
    parts = cfg.partitions or max(2, spark.sparkContext.defaultParallelism)
    space = FactorSpace(spark, scratch)
    matrices: list[ShardedMatrix] = []
    # Both are read by more than one job (the negatives' total, the matrix's two caches;
    # the propagation matrix): computed once.
    adjacency = adjacency_entries(graph).persist()
    entries = factorisation_entries(adjacency, cfg.exponent).persist()
    try:
        factorisation = ShardedMatrix.cache(entries, n, n, parts, space)
        entries.unpersist()
        matrices.append(factorisation)
        if factorisation.nnz == 0:
            raise SparkembedError("prone: the graph has no edges with a positive weight")
        log(f"prone: {n:,} vertices, {factorisation.nnz:,} edges; randomized SVD, k={dim}", quiet)
        svd = randomized_svd(
            factorisation,
            dim,
            space,
            cfg.oversample,
            cfg.power_iters,
            train.seed,
            log=lambda m: log(m, quiet),
        )
        a = unit_rows(spark, svd.u.then(np.diag(np.sqrt(svd.s))), parts, space.new("a"))
        passes = factorisation.passes
        factorisation.unpersist()
        matrices.remove(factorisation)
        if cfg.step == 1:
            vectors = vector_rows(spark, parts, [a])
        else:
            with_loops = adjacency.select("row", "col", "value").unionByName(
                graph.select(
                    F.col("vertex").alias("row"),
                    F.col("vertex").alias("col"),
                    F.lit(1.0).alias("value"),
                )
            )
            propagation = ShardedMatrix.cache(with_loops, n, n, parts, space, transposed=False)
            adjacency.unpersist()
            matrices.append(propagation)
            mm, gram = propagate(propagation, a, cfg, space)
            passes += propagation.passes
            t = spectral_rows(gram, dim)
            signs = column_signs(spark, mm.then(t), parts)
            vectors = vector_rows(spark, parts, [mm.then(t * signs)], unit=True)
            log(f"prone: {propagation.passes} propagation passes", quiet)
        mapping = graph.select("vertex", F.col("id").alias("token")).join(
            vocab.select("id", "token"), "token"
        )
        rows = vectors.withColumnRenamed("id", "vertex").join(mapping, "vertex")
        out = vector_frame(vocab, rows.select("id", "vector", "norm"))
        if scratch is None:
            out = out.persist()
            out.count()
            space.close()
    except BaseException:
        space.close()
        raise
    finally:
        entries.unpersist()
        adjacency.unpersist()
        for m in matrices:
            m.unpersist()
    counts = {"vertices": n, "edges": factorisation.nnz, "spark_passes": passes}
    extra = {"engine": "sharded", "factorisation_singular_values": [float(x) for x in svd.s]}
    return TrainResult(out, counts, extra)


def _train_in_one_task(graph, vocab, n: int, train: TrainConfig, cfg: ProneConfig, quiet):
    """The ``one-task`` engine: the graph's rows into one task, ``prone_vectors`` there."""
    from pyspark.sql import functions as F

    log(f"prone: {n:,} vertices in one task", quiet)
    dim, seed = train.dim, train.seed

    def run(batches):
        import pyarrow as pa
        import pyarrow.compute as pc

        rows, cols, values = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
        for b in batches:
            lengths = pc.list_value_length(b.column(1)).to_numpy()
            rows.append(np.repeat(b.column(0).to_numpy(), lengths))
            cols.append(b.column(1).flatten().to_numpy())
            values.append(b.column(2).flatten().to_numpy())
        vectors = prone_vectors(
            np.concatenate(rows), np.concatenate(cols), np.concatenate(values), n, dim, cfg, seed
        )
        norms = np.linalg.norm(vectors, axis=1)
        keep = np.flatnonzero(norms > 0)  # a vertex without out-edges: no vector
        x = vectors[keep].astype(np.float32)
        offsets = np.arange(0, x.size + 1, dim, dtype=np.int32)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(keep.astype(np.int32)),
                pa.ListArray.from_arrays(pa.array(offsets), pa.array(x.ravel())),
                pa.array(np.linalg.norm(x.astype(np.float64), axis=1).astype(np.float32)),
            ],
            ["vertex", "vector", "norm"],
        )

    source = graph.select("vertex", "neighbors", _edge_weights().alias("w")).coalesce(1)
    rows = source.mapInArrow(run, "vertex int, vector array<float>, norm float")
    mapping = graph.select("vertex", F.col("id").alias("token")).join(
        vocab.select("id", "token"), "token"
    )
    out = vector_frame(vocab, rows.join(mapping, "vertex").select("id", "vector", "norm"))
    return TrainResult(out, {"vertices": n, "spark_passes": 0}, {"engine": "one-task"})


def _signs(x: np.ndarray) -> np.ndarray:
    """``column_signs``'s rule: the sign of each column's largest-|x| entry (lowest row)."""
    at = np.argmax(np.abs(x), axis=0)
    s = np.sign(x[at, np.arange(x.shape[1])])
    return np.where(s == 0, 1.0, s)


def prone_vectors(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n: int, dim: int,
    cfg: ProneConfig, seed: int,
) -> np.ndarray:  # fmt: skip
    """ProNE (the module's steps 1-3) of the out-edges (rows -> cols, weights ``values``)
    of ``n`` vertices in scipy: n x dim vectors, unit rows (zero for a vertex without
    out-edges). The randomized SVD is the sharded one's in numpy (Y = F (FᵀF)^q Ω
    with a new basis after each product), the final SVD from the product's Gram matrix."""
    import scipy.sparse as sp

    keep = values > 0
    a = sp.csr_matrix((values[keep], (rows[keep], cols[keep])), shape=(n, n))
    a.sum_duplicates()
    entries = a.tocoo()
    degree = np.asarray(a.sum(axis=1)).ravel()
    c = entries.data / degree[entries.row]
    column_sums = np.bincount(entries.col, weights=c, minlength=n)
    negative = np.where(column_sums > 0, column_sums, 0.0) ** cfg.exponent
    negative /= negative[column_sums > 0].sum() or 1.0
    f = sp.csr_matrix(
        (np.log(c) - np.log(entries.data * negative[entries.col]), (entries.row, entries.col)),
        shape=(n, n),
    )
    width = min(dim + cfg.oversample, n)
    z = np.random.default_rng(seed).standard_normal((n, width))
    for _ in range(cfg.power_iters):
        z = np.linalg.qr(f.T @ np.linalg.qr(f @ z)[0])[0]
    q = np.linalg.qr(f @ z)[0]
    u_b, s, _ = np.linalg.svd((f.T @ q).T, full_matrices=False)
    s = s[:dim]
    u = q @ u_b[:, :dim]
    # A vertex without out-edges has a zero row of F, so of U; Householder QR of a
    # rank-deficient Y can leave noise there (the sharded engine's Cholesky QR cannot).
    u[degree == 0] = 0.0
    u *= _signs(u)
    vectors = unit_rows_of(u * np.sqrt(s))
    if cfg.step == 1:
        return vectors
    hat = (a + sp.identity(n, format="csr")).tocsr()
    sums = np.asarray(hat.sum(axis=1)).ravel()
    p = sp.diags(1.0 / np.where(sums == 0, 1.0, sums)) @ hat
    keep_share = 1.0 - cfg.mu

    def m(x):  # ((1 - mu) I - P) x
        return keep_share * x - p @ x

    coef = chebyshev_coefficients(cfg.step, cfg.theta)
    before = vectors
    current = 0.5 * m(m(vectors)) - vectors
    conv = coef[0] * vectors + coef[1] * current
    for i in range(2, cfg.step):
        before, current = current, m(m(current)) - 2.0 * current - before
        conv += coef[i] * current
    mm = hat @ (vectors - conv)
    y = mm @ spectral_rows(mm.T @ mm, dim)
    return unit_rows_of(y * _signs(y))


def propagate(matrix: ShardedMatrix, a: Factor, cfg: ProneConfig, space: FactorSpace):
    """Step 2 and the product of step 3: (Â (a - conv) as a Factor, its Gram matrix)."""
    c = chebyshev_coefficients(cfg.step, cfg.theta)
    keep = 1.0 - cfg.mu

    def factor(folder: str) -> Factor:
        return Factor(a.n, a.width, folder=folder)

    # T_1 = (M (M a)) / 2 - a; conv = c_0 a + c_1 T_1
    half = space.new("m-a")
    propagation_pass(matrix, a, half, scale=-1.0, terms=((a, keep),))
    t1, conv = space.new("t1"), space.new("conv1")
    propagation_pass(
        matrix,
        factor(half),
        t1,
        scale=-0.5,
        terms=((factor(half), 0.5 * keep), (a, -1.0)),
        side=(conv, c[1], ((a, c[0]),)),
    )
    space.drop(half)
    before, current = a, factor(t1)
    for i in range(2, cfg.step):
        # T_i = M (M T_i-1) - 2 T_i-1 - T_i-2; conv += c_i T_i
        m_t = space.new(f"m-t{i - 1}")
        propagation_pass(matrix, current, m_t, scale=-1.0, terms=((current, keep),))
        t_i, conv_i = space.new(f"t{i}"), space.new(f"conv{i}")
        propagation_pass(
            matrix,
            factor(m_t),
            t_i,
            scale=-1.0,
            terms=((factor(m_t), keep), (current, -2.0), (before, -1.0)),
            side=(conv_i, c[i], ((factor(conv), 1.0),)),
        )
        space.drop(m_t)
        space.drop(conv)
        if before is not a:
            space.drop(before.folder)
        before, current, conv = current, factor(t_i), conv_i
    if before is not a:
        space.drop(before.folder)
    space.drop(current.folder)
    mm = space.new("vectors")
    gram = propagation_pass(matrix, a, mm, scale=1.0, normalised=False, minus=factor(conv))
    space.drop(conv)
    return factor(mm), gram
