"""PPMI + randomized SVD in Spark against a dense numpy reference."""

import numpy as np
import pytest

from sparkembed.config import Config, SvdConfig, TrainConfig, validate
from sparkembed.errors import SparkembedError
from sparkembed.linalg.factors import FactorSpace, to_numpy, write_factor
from sparkembed.linalg.sharded import (
    WIRE_DTYPE,
    ShardedMatrix,
    orthonormal_basis,
    randomized_svd,
    span_basis,
)
from sparkembed.stages.train.ppmi import ppmi_entries
from sparkembed.stages.train.svd import train_svd


def _small_corpus(seed=7, n_words=120, n_topics=6, n_docs=300, doc_len=40, window=3):
    """Topical synthetic corpus -> (counts dense V×V symmetric, harmonic window weights)."""
    rng = np.random.default_rng(seed)
    topic_of = np.arange(n_words) % n_topics
    zipf = 1.0 / np.arange(1, n_words + 1)
    counts = np.zeros((n_words, n_words))
    for _ in range(n_docs):
        t = rng.integers(n_topics)
        p = zipf * np.where(topic_of == t, 8.0, 1.0)
        doc = rng.choice(n_words, size=doc_len, p=p / p.sum())
        for i, w in enumerate(doc):
            for d in range(1, window + 1):
                if i + d < doc_len:
                    c = doc[i + d]
                    counts[w, c] += 1.0 / d
                    counts[c, w] += 1.0 / d
    return counts


def _frames(spark, counts):
    rows, cols = np.nonzero(counts)
    cooc = spark.createDataFrame(
        [(int(r), int(c), float(counts[r, c])) for r, c in zip(rows, cols, strict=True)],
        "row int, col int, count double",
    )
    marg = spark.createDataFrame(
        [(i, float(x)) for i, x in enumerate(counts.sum(axis=1))], "id int, count double"
    )
    vocab = spark.createDataFrame(
        [(i, f"w{i}", int(round(x)), 1) for i, x in enumerate(counts.sum(axis=1))],
        "id int, token string, count long, doc_count long",
    )
    return cooc, marg, vocab


def _dense_ppmi(counts, alpha=0.75, neg=1.0):
    """hyperwords' PPMI: row sums for words, smoothed column sums for contexts."""
    sum_w = counts.sum(axis=1)
    sum_c = counts.sum(axis=0) ** alpha
    with np.errstate(divide="ignore"):
        pmi = np.log(counts * sum_c.sum() / np.outer(sum_w, sum_c)) - np.log(neg)
    return np.where(np.isfinite(pmi) & (pmi > 0), pmi, 0.0)


@pytest.fixture(scope="module")
def corpus(spark):
    counts = _small_corpus()
    # alpha smoothing makes the PPMI matrix non-symmetric even for symmetric counts
    return counts, _frames(spark, counts)


def test_ppmi_matches_dense_reference(spark, corpus):
    counts, (cooc, marg, _vocab) = corpus
    for alpha, neg in [(0.75, 1.0), (1.0, 5.0)]:
        entries, info = ppmi_entries(cooc, marg, counts.shape[0], alpha=alpha, neg=neg)
        got = np.zeros_like(counts)
        for r in entries.collect():
            got[r["row"], r["col"]] = r["value"]
        np.testing.assert_allclose(got, _dense_ppmi(counts, alpha, neg), rtol=1e-12, atol=1e-12)
        assert info.entries_rejected == 0
    assert not np.allclose(_dense_ppmi(counts), _dense_ppmi(counts).T)


def test_ppmi_sets_aside_malformed_entries(spark):
    cooc = spark.createDataFrame(
        [(0, 1, 2.0), (1, 0, 2.0), (0, 0, 0.0), (1, 9, 1.0), (1, 1, float("nan")), (0, 1, None)],
        "row int, col int, count double",
    )
    marg = spark.createDataFrame([(0, 2.0), (1, 2.0)], "id int, count double")
    entries, info = ppmi_entries(cooc, marg, 2, alpha=1.0)
    assert info.entries_in == 6 and info.entries_rejected == 4
    # pmi = log(2 * 4 / (2 * 2)) for both kept entries
    got = sorted((r["row"], r["col"], round(r["value"], 12)) for r in entries.collect())
    assert got == [(0, 1, round(np.log(2.0), 12)), (1, 0, round(np.log(2.0), 12))]


def _svd_arrays(spark, matrix, k, **kw):
    space = FactorSpace(spark)
    try:
        svd = randomized_svd(matrix, k, space, **kw)
        return to_numpy(svd.u), svd.s, to_numpy(svd.v)
    finally:
        space.close()


@pytest.fixture
def space(spark):
    space = FactorSpace(spark)
    yield space
    space.close()


def test_randomized_svd_agrees_with_dense_svd(spark, corpus, space):
    counts, (cooc, marg, _vocab) = corpus
    ppmi = _dense_ppmi(counts)
    u_ref, s_ref, vt_ref = np.linalg.svd(ppmi)
    k = 8
    entries, _ = ppmi_entries(cooc, marg, counts.shape[0])
    matrix = ShardedMatrix.cache(entries, *counts.shape, partitions=3, space=space)
    try:
        u, s, v = _svd_arrays(spark, matrix, k, oversample=30, power_iters=4, seed=1)
    finally:
        matrix.unpersist()
    np.testing.assert_allclose(s, s_ref[:k], rtol=1e-4)
    # same subspace, component by component (up to sign)
    for j in range(k):
        assert abs(u[:, j] @ u_ref[:, j]) > 0.999
        assert abs(v[:, j] @ vt_ref[j]) > 0.999
    assert matrix.passes == 2 + 2 * 4  # A·Z and Aᵀ·Y per power iteration, A·Z and Aᵀ·Q


def test_randomized_svd_of_a_matrix_of_lower_rank_than_its_width(spark, space):
    """Rows without entries make the matrix's rank lower than the sketch's width: the
    bases drop the empty directions and the triplets are still the dense SVD's."""
    rng = np.random.default_rng(11)
    dense = np.zeros((40, 40))
    dense[:25] = rng.random((25, 40)) * (rng.random((25, 40)) < 0.3)
    rows, cols = np.nonzero(dense)
    entries = spark.createDataFrame(
        [(int(r), int(c), float(dense[r, c])) for r, c in zip(rows, cols, strict=True)],
        "row int, col int, value double",
    )
    matrix = ShardedMatrix.cache(entries, 40, 40, partitions=2, space=space)
    try:
        u, s, v = _svd_arrays(spark, matrix, 5, oversample=35, power_iters=2, seed=2)
    finally:
        matrix.unpersist()
    u_ref, s_ref, vt_ref = np.linalg.svd(dense)
    np.testing.assert_allclose(s, s_ref[:5], rtol=1e-4)
    np.testing.assert_allclose(np.abs(np.sum(u * u_ref[:, :5], axis=0)), 1.0, atol=1e-4)
    np.testing.assert_allclose(np.abs(np.sum(v * vt_ref[:5].T, axis=0)), 1.0, atol=1e-4)


def test_products_by_factor_column_slices_give_the_same_triplets(
    spark, corpus, monkeypatch, tmp_path, space
):
    """A factor of few rows is multiplied in column slices (cache-sized); same results.
    Products read the factor from block files, apply its pending transform, and write
    their rows as block files: the same numbers as the dense products."""
    import sparkembed.linalg.sharded as svd_module

    counts, (cooc, marg, _vocab) = corpus
    n = counts.shape[0]
    entries, _ = ppmi_entries(cooc, marg, n)
    matrix = ShardedMatrix.cache(entries, n, n, partitions=3, space=space)
    try:
        assert svd_module.slice_width(n, 38) == 38  # 120 rows: the whole factor fits
        u1, s1, v1 = _svd_arrays(spark, matrix, 8, oversample=30, power_iters=2, seed=1)
        monkeypatch.setattr(svd_module, "FACTOR_SLICE_BYTES", n * 4 * 32)
        assert svd_module.slice_width(n, 38) == 32  # slices of 32 and 6 columns
        z = np.random.default_rng(0).standard_normal((n, 38)).astype(WIRE_DTYPE)
        t = np.random.default_rng(1).standard_normal((38, 38))
        dense = np.zeros((n, n))
        for r in entries.collect():
            dense[r["row"], r["col"]] = r["value"]
        factor = write_factor(str(tmp_path / "z"), z, parts=2).then(t)
        az, gram, rows = matrix.product(factor, str(tmp_path / "az"))
        np.testing.assert_allclose(to_numpy(az), dense @ z @ t, rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(gram, to_numpy(az).T @ to_numpy(az), rtol=1e-6)
        assert rows == int((dense != 0).any(axis=1).sum())
        atz, _, _ = matrix.product(factor, str(tmp_path / "atz"), transposed=True)
        np.testing.assert_allclose(to_numpy(atz), dense.T @ z @ t, rtol=1e-4, atol=1e-3)
        u2, s2, v2 = _svd_arrays(spark, matrix, 8, oversample=30, power_iters=2, seed=1)
    finally:
        matrix.unpersist()
    np.testing.assert_allclose(s2, s1, rtol=1e-5)
    np.testing.assert_allclose(np.abs(np.sum(u1 * u2, axis=0)), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.abs(np.sum(v1 * v2, axis=0)), 1.0, atol=1e-5)


def test_bases_by_cholesky_qr_and_by_eigenvectors_for_deficient_factors(spark, tmp_path):
    """Cholesky QR where the factor is well conditioned; where its Gram matrix would
    lose the small directions (a rank-deficient factor), the Gram matrix's eigenvectors:
    fewer columns, still orthonormal, still spanning the factor."""
    rng = np.random.default_rng(3)
    y = rng.standard_normal((500, 20)).astype(WIRE_DTYPE)
    factor = write_factor(str(tmp_path / "y"), y, parts=3)
    gram = y.astype(np.float64).T @ y
    q, r = orthonormal_basis(spark, factor, gram, 3)
    qn = to_numpy(q)
    np.testing.assert_allclose(qn.T @ qn, np.eye(20), atol=1e-5)
    np.testing.assert_allclose(qn @ r, y, atol=1e-4)
    np.testing.assert_allclose(np.triu(r), r, atol=1e-12)
    deficient = np.hstack([y[:, :10], y[:, :10] @ rng.standard_normal((10, 10))])
    deficient = deficient.astype(WIRE_DTYPE)
    factor = write_factor(str(tmp_path / "d"), deficient, parts=3)
    gram = deficient.astype(np.float64).T @ deficient
    q, r = orthonormal_basis(spark, factor, gram, 3)
    qn = to_numpy(q)
    assert qn.shape == (500, 10)
    np.testing.assert_allclose(qn.T @ qn, np.eye(10), atol=1e-5)
    np.testing.assert_allclose(qn @ r, deficient, atol=1e-3)
    basis = to_numpy(span_basis(factor, gram))  # spans the columns of the factor
    coef = np.linalg.lstsq(basis, deficient, rcond=None)[0]
    np.testing.assert_allclose(basis @ coef, deficient, atol=1e-3)


def _neighbours(w, topn=5):
    unit = w / np.linalg.norm(w, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1)[:, :topn]


@pytest.mark.parametrize("eig,add_context", [(0.5, False), (0.0, True)])
def test_train_svd_vectors_match_reference(spark, corpus, eig, add_context):
    counts, (cooc, marg, vocab) = corpus
    k = 8
    svd = SvdConfig(eig=eig, add_context=add_context, oversample=30, power_iters=8)
    result = train_svd(cooc, marg, vocab, TrainConfig(dim=k, seed=3), svd, quiet=True)
    u_ref, s_ref, vt_ref = np.linalg.svd(_dense_ppmi(counts))
    np.testing.assert_allclose(result.extra["singular_values"], s_ref[:k], rtol=1e-4)
    ref = u_ref[:, :k] * s_ref[:k] ** eig
    if add_context:
        ref = ref + vt_ref[:k].T * s_ref[:k] ** eig
    rows = sorted(result.vectors.collect(), key=lambda r: int(r["token"][1:]))
    got = np.array([r["vector"] for r in rows])
    assert [r["token"] for r in rows] == [f"w{i}" for i in range(counts.shape[0])]
    assert [r["count"] for r in rows] == [int(round(x)) for x in counts.sum(axis=1)]
    # cosine neighbours do not depend on the signs of the components
    assert (_neighbours(got) == _neighbours(ref)).mean() > 0.98
    if not add_context:  # U·S^eig up to a sign per column; factors are float32
        np.testing.assert_allclose(np.abs(got), np.abs(ref), rtol=1e-3, atol=1e-4)
    assert result.counts["ppmi_nonzeros"] == int((_dense_ppmi(counts) > 0).sum())


def test_bad_svd_settings_are_rejected():
    # Ranges are the config's to check (config.validate runs before any stage).
    with pytest.raises(SparkembedError, match="svd.eig"):
        validate(Config(svd=SvdConfig(eig=-1)))


def _publish_shards(spark, cooc, path, shards=3, order="sorted"):
    """Shard files as cooccur writes them: sorted by (row, col) within each file, or (for
    tables written by other tools) in a random order."""
    from pyspark.sql import functions as F

    from sparkembed.tables import publish

    sharded = cooc.withColumn("shard", F.pmod(F.hash("row"), F.lit(shards))).repartition(
        shards, "row"
    )
    publish(
        sharded.sortWithinPartitions("row", "col"),
        str(path),
        stage="cooccur",
        partition_by=["shard"],
    )
    if order == "shuffled":
        import pyarrow.parquet as pq

        for i, f in enumerate(sorted(path.rglob("*.parquet"))):
            t = pq.read_table(f)
            pq.write_table(t.take(np.random.default_rng(i).permutation(t.num_rows)), f)


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_ppmi_blocks_from_files_equal_dense_ppmi_and_transpose(
    spark, corpus, tmp_path, order, space
):
    import pyarrow.parquet as pq

    from sparkembed.linalg.sharded import iter_blocks
    from sparkembed.stages.train.ppmi import ppmi_matrix_from_files

    counts, (cooc, marg, _vocab) = corpus
    _publish_shards(spark, cooc, tmp_path / "cooc", order=order)
    rows = [
        pq.read_table(f).column("row").to_numpy() for f in (tmp_path / "cooc").rglob("*.parquet")
    ]
    assert any((np.diff(r) < 0).any() for r in rows) == (order == "shuffled")
    n = counts.shape[0]
    matrix, info = ppmi_matrix_from_files(spark, str(tmp_path / "cooc"), marg, n, 0.75, 5.0, space)
    dense = {0: np.zeros((n, n)), 1: np.zeros((n, n))}
    for kind, files in enumerate([matrix.by_row, matrix.by_col]):
        for p in range(files.parts):
            for ids, m in iter_blocks(files, p, n):
                dense[kind][ids] += m.toarray()
    matrix.unpersist()
    ref = _dense_ppmi(counts, 0.75, 5.0)
    # values are stored as float32 (WIRE_DTYPE)
    np.testing.assert_allclose(dense[0], ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dense[1], ref.T, rtol=1e-6, atol=1e-6)
    assert ((dense[0] > 0) == (ref > 0)).all() and ((dense[1] > 0) == (ref.T > 0)).all()
    assert info.entries_in == int((counts > 0).sum()) and info.entries_rejected == 0
    assert matrix.nnz == int((ref > 0).sum())


def test_train_svd_from_files_equals_dataframe_path(spark, corpus, tmp_path):
    counts, (cooc, marg, vocab) = corpus
    _publish_shards(spark, cooc, tmp_path / "cooc")
    settings = dict(train=TrainConfig(dim=6, seed=5), cfg=SvdConfig(oversample=20, power_iters=3))
    frames = train_svd(cooc, marg, vocab, quiet=True, **settings)
    files = train_svd(
        cooc, marg, vocab, quiet=True, cooc_path=str(tmp_path / "cooc"), symmetric=True, **settings
    )
    np.testing.assert_allclose(
        files.extra["singular_values"], frames.extra["singular_values"], rtol=1e-6
    )
    got = {r["token"]: r["vector"] for r in files.vectors.collect()}
    ref = {r["token"]: r["vector"] for r in frames.vectors.collect()}
    assert got.keys() == ref.keys() and len(got) == counts.shape[0]
    np.testing.assert_allclose(
        np.array([got[t] for t in sorted(got)]), np.array([ref[t] for t in sorted(ref)]), atol=1e-5
    )
    assert files.counts["ppmi_nonzeros"] == frames.counts["ppmi_nonzeros"]
