"""GloVe by alternating least squares in Spark, against a dense numpy optimiser."""

import numpy as np
import pytest
from reference import glove_optimum_dense
from test_svd import _frames, _publish_shards

from sparkembed.config import Config, GloveConfig, TrainConfig, validate
from sparkembed.errors import SparkembedError
from sparkembed.stages.train.glove import train_glove
from sparkembed.stages.train.weighted_lsq import FixedSide, glove_weights, solve_rows


def _planted_counts(n=60, dim=4, seed=5):
    """Symmetric counts drawn from GloVe's own model (log x = u_i·u_j + b_i + b_j + noise)
    on a sparsity pattern with rows of 1 to n non-zeros."""
    rng = np.random.default_rng(seed)
    u = rng.normal(0, 0.6, (n, dim))
    b = rng.normal(1.0, 0.7, n)
    logx = u @ u.T + b[:, None] + b[None, :] + rng.normal(0, 0.1, (n, n))
    logx = (logx + logx.T) / 2
    # row i keeps about (i + 1) / n of its cells: rare rows (few cells) to dense ones
    keep_p = np.linspace(0.02, 1.0, n)
    keep = rng.random((n, n)) < np.minimum(keep_p[:, None], keep_p[None, :]) ** 0.5
    keep = keep | keep.T
    keep[np.arange(n), np.arange(n)] |= ~keep.any(axis=1)
    return np.where(keep, np.exp(logx), 0.0)


@pytest.fixture(scope="module")
def planted(spark):
    counts = _planted_counts()
    return counts, _frames(spark, counts)


def _vectors(result):
    rows = sorted(result.vectors.collect(), key=lambda r: int(r["token"][1:]))
    return [r["token"] for r in rows], np.array([r["vector"] for r in rows])


def test_row_solves_equal_dense_weighted_ridge_regressions():
    """Each row's vector and bias solve its weighted ridge regression exactly: the dual
    (few non-zeros) and the primal (many) paths both, bias unpenalised."""
    rng = np.random.default_rng(0)
    n, d, ridge = 300, 10, 0.7
    fixed = rng.standard_normal((n, d)).astype(np.float32)
    fixed_bias = rng.standard_normal(n)
    sizes = np.concatenate([rng.integers(1, 12, 40), rng.integers(12, 200, 10)])
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    indices = np.concatenate([np.sort(rng.choice(n, s, replace=False)) for s in sizes])
    logx = rng.normal(1, 1.5, len(indices)).astype(np.float32)
    side = FixedSide(np.hstack([fixed, fixed_bias[:, None]]).astype(np.float32))
    fixed_bias = side.bias  # as float32 values, as a trainer keeps them
    theta, cost = solve_rows(indptr, indices, logx, side, x_max=10, alpha=0.75, ridge=ridge)
    expected_cost = 0.0
    for i in range(len(sizes)):
        cols = indices[indptr[i] : indptr[i + 1]]
        a = np.hstack([fixed[cols].astype(float), np.ones((len(cols), 1))])
        f = glove_weights(logx[indptr[i] : indptr[i + 1]], 10, 0.75)
        y = logx[indptr[i] : indptr[i + 1]] - fixed_bias[cols]
        penalty = np.diag([ridge] * d + [0.0])
        t = np.linalg.solve(a.T @ (f[:, None] * a) + penalty, a.T @ (f * y))
        np.testing.assert_allclose(theta[i], t, rtol=1e-5, atol=1e-5)
        r = a @ theta[i] - y
        expected_cost += f @ (r * r) + ridge * theta[i, :d] @ theta[i, :d]
    assert theta.dtype == np.float64 and np.all(theta == theta.astype(np.float32))
    np.testing.assert_allclose(cost, expected_cost, rtol=1e-6)  # residuals by float32 GEMV


def test_glove_cost_falls_every_iteration_to_the_dense_optimum(spark, planted, tmp_path):
    counts, (cooc, _marg, vocab) = planted
    _publish_shards(spark, cooc, tmp_path / "cooc")
    cfg = GloveConfig(iterations=25, ridge=0.5)
    result = train_glove(cooc, vocab, TrainConfig(dim=4, seed=1), cfg, quiet=True,
                         cooc_path=str(tmp_path / "cooc"), symmetric=True)  # fmt: skip
    costs = result.extra["cost"]
    assert len(costs) == 25
    assert all(b < a for a, b in zip(costs, costs[1:], strict=False)), costs
    optimum = glove_optimum_dense(counts, 4, cfg.x_max, cfg.alpha, cfg.ridge)
    assert costs[-1] <= optimum * 1.01, (costs[-1], optimum)
    assert costs[-1] >= optimum * 0.99, (costs[-1], optimum)  # the reference is no straw man
    assert costs[0] > optimum * 1.05  # and the iterations did the work
    c = result.counts
    assert c["cooccurrence_entries"] == c["cooccurrence_nonzeros"] == int((counts > 0).sum())
    assert c["vectors"] == counts.shape[0] and c["spark_passes"] == 2 * 25


def test_glove_same_vectors_from_files_or_frames_and_any_partitioning(spark, planted, tmp_path):
    """Each row's solve sees only its own cells: the file path (3 shards) and the Spark path
    with 1 or 4 partitions give identical vectors and costs."""
    counts, (cooc, _marg, vocab) = planted
    _publish_shards(spark, cooc, tmp_path / "cooc", order="shuffled")
    train = TrainConfig(dim=4, seed=2)
    runs = [
        train_glove(cooc, vocab, train,
                    GloveConfig(iterations=3), quiet=True, cooc_path=str(tmp_path / "cooc"),
                    symmetric=True),
        train_glove(cooc, vocab, train, GloveConfig(iterations=3, partitions=1), quiet=True),
        train_glove(cooc, vocab, train, GloveConfig(iterations=3, partitions=4), quiet=True),
    ]  # fmt: skip
    tokens, first = _vectors(runs[0])
    assert tokens == [f"w{i}" for i in range(counts.shape[0])]
    for other in runs[1:]:
        np.testing.assert_array_equal(_vectors(other)[1], first)
        # the same row costs, summed in another grouping
        np.testing.assert_allclose(other.extra["cost"], runs[0].extra["cost"], rtol=1e-12)
    again = train_glove(cooc, vocab, TrainConfig(dim=4, seed=3), GloveConfig(iterations=3),
                        quiet=True)  # fmt: skip
    assert not np.allclose(_vectors(again)[1], first)  # the seed matters


def test_glove_word_vectors_only_and_their_fit(spark, planted):
    """add_context = false gives W alone; W + C and W differ; W·Cᵀ + biases fit log x
    where the weights are high (the vectors reproduce the planted structure)."""
    counts, (cooc, _marg, vocab) = planted
    train = TrainConfig(dim=4, seed=1)
    both = _vectors(train_glove(cooc, vocab, train, GloveConfig(iterations=8), quiet=True))[1]
    words = _vectors(
        train_glove(cooc, vocab, train, GloveConfig(iterations=8, add_context=False), quiet=True)
    )[1]
    assert both.shape == words.shape == (counts.shape[0], 4)
    assert not np.allclose(both, words)
    # symmetric counts: W and C end up close, so W + C is about 2 W
    cos = (
        np.sum(both * words, axis=1) / np.linalg.norm(both, axis=1) / np.linalg.norm(words, axis=1)
    )
    assert np.median(cos) > 0.9


def test_glove_rejects_bad_settings_and_sets_aside_bad_cells(spark):
    """Malformed cells are counted and left out; a word seen with one distinct context
    ("d") is fitted by its bias alone and gets no vector; bad settings are one error."""
    good = [(0, 1, 2.0), (1, 0, 2.0), (0, 2, 3.0), (2, 0, 3.0), (1, 2, 1.0), (2, 1, 1.0),
            (3, 0, 1.0), (0, 3, 1.0)]  # fmt: skip
    bad = [(0, 0, 0.0), (1, 9, 1.0), (1, 1, float("nan")), (0, 1, None)]
    cooc = spark.createDataFrame(good + bad, "row int, col int, count double")
    vocab = spark.createDataFrame(
        [(i, t, 5, 1) for i, t in enumerate("abcd")],
        "id int, token string, count long, doc_count long",
    )
    result = train_glove(cooc, vocab, TrainConfig(dim=1), GloveConfig(iterations=2), quiet=True)
    c = result.counts
    assert (c["cooccurrence_entries"], c["cooccurrence_rejected"]) == (12, 4)
    assert (c["vectors"], c["zero_vectors"], c["tokens_without_counts"]) == (3, 1, 0)
    assert sorted(r["token"] for r in result.vectors.collect()) == ["a", "b", "c"]
    with pytest.raises(SparkembedError, match="exceeds the vocabulary size"):
        train_glove(cooc, vocab, TrainConfig(dim=5), GloveConfig(), quiet=True)
    # Ranges are the config's to check (config.validate runs before any stage).
    with pytest.raises(SparkembedError, match="glove.x_max must be > 0"):
        validate(Config(glove=GloveConfig(x_max=0)))
