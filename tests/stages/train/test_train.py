"""sparkembed train: both methods end to end on small hand-made tables."""

import dataclasses

import numpy as np
import pytest
from helpers import publish_together, publish_workdir
from test_svd import _small_corpus

from sparkembed.cli import main
from sparkembed.config import Config, TrainConfig, Word2VecConfig
from sparkembed.errors import SparkembedError
from sparkembed.stages.train.stage import METHODS
from sparkembed.stages.train.word2vec import check_model_size, train_word2vec
from sparkembed.tables import publish, read_metadata
from sparkembed.vectors.table import load_vectors


def _publish_svd_inputs(spark, root, counts):
    rows, cols = np.nonzero(counts)
    cooc = spark.createDataFrame(
        [
            (int(r), int(c), float(counts[r, c]), int(r) % 3)
            for r, c in zip(rows, cols, strict=True)
        ],
        "row int, col int, count double, shard int",
    )
    sums = counts.sum(axis=1)
    marg = spark.createDataFrame(
        [(i, float(x)) for i, x in enumerate(sums)], "id int, count double"
    )
    vocab = spark.createDataFrame(
        [(i, f"w{i}", int(round(x)), 1) for i, x in enumerate(sums)],
        "id int, token string, count long, doc_count long",
    )
    tokens = spark.createDataFrame(
        [("d", "t", "xx", 0, ["w0"])],
        "doc_id string, title string, lang string, sentence int, tokens array<string>",
    )
    publish_together(spark, "tokenize", {f"{root}/tokens": tokens, f"{root}/vocab": vocab},
                     params={"tokenize": {"lang": "xx"}})  # fmt: skip
    publish_together(spark, "cooccur", {f"{root}/cooccurrence": (cooc, ["shard"]),
                     f"{root}/marginals": marg}, built_from=[f"{root}/vocab", f"{root}/tokens"])  # fmt: skip


def test_every_method_choice_has_its_inputs_trainer_and_section():
    choices = next(f for f in dataclasses.fields(TrainConfig) if f.name == "method")
    assert sorted(METHODS) == sorted(choices.metadata["choices"])
    sections = {f.name for f in dataclasses.fields(Config)}
    assert all(method in sections and m.inputs for method, m in METHODS.items())


def test_train_svd_cli_publishes_a_vector_table(spark, tmp_path, capsys):
    counts = _small_corpus(n_words=60, n_docs=120)
    root = str(tmp_path / "work")
    _publish_svd_inputs(spark, root, counts)
    argv = ["train", root, "--method", "svd", "--dim", "6", "-q",
            "--set", "svd.power_iters=3", "--set", "svd.oversample=20"]  # fmt: skip
    assert main(argv) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("train: method svd, dim 6, vectors 60, lang xx |")
    vs = load_vectors(f"{root}/vectors")
    assert vs.vectors.shape == (60, 6) and vs.langs == ["xx"] * 60
    assert vs.tokens[0] == f"w{int(np.argmax(counts.sum(axis=1)))}"
    # the norms the trainer computed in numpy are the stored vectors' norms
    stored = {r["token"]: r["norm"] for r in spark.read.parquet(f"{root}/vectors").collect()}
    np.testing.assert_allclose(
        [stored[t] for t in vs.tokens], np.linalg.norm(vs.vectors, axis=1), rtol=1e-6
    )
    meta = read_metadata(spark, f"{root}/vectors")
    assert meta["dim"] == 6 and meta["method"] == "svd" and meta["engine"] == "svd"
    assert meta["params"]["svd"] == {
        "alpha": 0.75, "neg": 1.0, "eig": 0.5, "add_context": True, "oversample": 20,
        "power_iters": 3, "partitions": 0,
    }  # fmt: skip
    assert meta["params"]["train"] == {"method": "svd", "dim": 6, "seed": 42}
    assert [i["path"].rsplit("/", 1)[1] for i in meta["inputs"]] == [
        "cooccurrence", "marginals", "vocab"
    ]  # fmt: skip
    assert all(len(i["fingerprint"]) == 16 for i in meta["inputs"])
    c = meta["counts"]
    assert c["vectors"] == 60 and c["vocab_size"] == 60 and c["cooccurrence_rejected"] == 0
    assert c["cooccurrence_entries"] == int((counts > 0).sum())
    assert c["spark_passes"] == 2 + 2 * 3  # A·Z and Aᵀ·Y per power iteration, A·Z and Aᵀ·Q
    assert len(meta["singular_values"]) == 6
    assert np.all(np.diff(meta["singular_values"]) <= 0) and meta["singular_values"][-1] > 0


def test_train_glove_cli_publishes_a_vector_table(spark, tmp_path, capsys):
    counts = _small_corpus(n_words=60, n_docs=120)
    root = str(tmp_path / "work")
    _publish_svd_inputs(spark, root, counts)
    argv = ["train", root, "--method", "glove", "--dim", "6", "--set", "glove.iterations=3",
            "--set", "glove.x_max=5"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().startswith("train: method glove, dim 6, vectors 60, lang xx |")
    progress = [line for line in captured.err.splitlines() if "GloVe iteration" in line]
    assert [line.split(":")[0] for line in progress] == [
        f"[train] GloVe iteration {i}/3" for i in (1, 2, 3)
    ]
    vs = load_vectors(f"{root}/vectors")
    assert vs.vectors.shape == (60, 6) and vs.langs == ["xx"] * 60
    assert np.all(np.isfinite(vs.vectors)) and np.all(np.linalg.norm(vs.vectors, axis=1) > 0)
    meta = read_metadata(spark, f"{root}/vectors")
    assert meta["dim"] == 6 and meta["method"] == "glove"
    assert meta["params"]["glove"] == {
        "x_max": 5.0, "alpha": 0.75, "iterations": 3, "ridge": 1.0, "add_context": True,
        "partitions": 0,
    }  # fmt: skip
    assert [i["path"].rsplit("/", 1)[1] for i in meta["inputs"]] == ["cooccurrence", "vocab"]
    c = meta["counts"]
    assert c["vectors"] == 60 and c["cooccurrence_entries"] == int((counts > 0).sum())
    assert c["spark_passes"] == 2 * 3
    assert len(meta["cost"]) == 3 and meta["cost"][0] > meta["cost"][1] > meta["cost"][2] > 0


def _sentences(n=400, seed=3):
    """Two topics whose words only co-occur within their topic."""
    rng = np.random.default_rng(seed)
    topics = [[f"a{i}" for i in range(8)], [f"b{i}" for i in range(8)]]
    return [list(rng.choice(topics[i % 2], size=12)) for i in range(n)]


@pytest.fixture(scope="module")
def w2v_tables(spark):
    sents = _sentences()
    tokens = spark.createDataFrame(
        [(str(i), "", "en", 0, s) for i, s in enumerate(sents)],
        "doc_id string, title string, lang string, sentence int, tokens array<string>",
    )
    flat = [t for s in sents for t in s]
    vocab_rows = sorted({t: flat.count(t) for t in flat}.items(), key=lambda kv: (-kv[1], kv[0]))
    vocab = spark.createDataFrame(
        [(i, t, c, c) for i, (t, c) in enumerate(vocab_rows)],
        "id int, token string, count long, doc_count long",
    )
    return tokens, vocab, dict(vocab_rows)


def test_word2vec_learns_topics_and_is_repeatable(w2v_tables):
    tokens, vocab, counts = w2v_tables
    w2v = Word2VecConfig(max_iter=3, num_partitions=1, subsample=0)  # 1: bit-repeatable
    runs = [
        train_word2vec(tokens, vocab, TrainConfig(dim=10, seed=5), w2v, quiet=True)
        for _ in range(2)
    ]
    got = [{r["token"]: (r["vector"], r["count"]) for r in res.vectors.collect()} for res in runs]
    assert got[0] == got[1]  # same seed, same partitioning -> same vectors
    assert {t: c for t, (_v, c) in got[0].items()} == counts
    unit = {t: np.array(v) / np.linalg.norm(v) for t, (v, _c) in got[0].items()}
    same = np.mean([unit[f"a{i}"] @ unit[f"a{j}"] for i in range(8) for j in range(i)])
    cross = np.mean([unit[f"a{i}"] @ unit[f"b{j}"] for i in range(8) for j in range(8)])
    assert same > cross + 0.3


def test_word2vec_cli_and_metadata(spark, w2v_tables, tmp_path, capsys):
    tokens, vocab, counts = w2v_tables
    root = str(tmp_path / "work")
    publish_workdir(spark, root, tokens=tokens, vocab=vocab)
    out = str(tmp_path / "vec")
    argv = ["train", root, "--method", "word2vec", "--dim", "5", "--output", out, "-q",
            "--set", "word2vec.max_iter=1", "--set", "word2vec.subsample=0"]  # fmt: skip
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("train: method word2vec, dim 5, vectors 16, lang en")
    meta = read_metadata(spark, out)
    assert meta["method"] == "word2vec" and meta["dim"] == 5
    assert meta["params"]["word2vec"]["max_iter"] == 1
    assert meta["counts"]["corpus_tokens"] == sum(counts.values()) == 4800
    assert meta["counts"]["vocab_size"] == 16
    assert load_vectors(out).vectors.shape == (16, 5)


def test_word2vec_model_size_limit(w2v_tables):
    check_model_size(21_000_000, 100, 5)  # 2.1e9 < 2^31 - 1
    with pytest.raises(
        SparkembedError,
        match="largest dim for this vocabulary is 99: lower train.dim, raise word2vec.min_count",
    ):
        check_model_size(21_474_837, 100, 5)
    tokens, vocab, _ = w2v_tables
    with pytest.raises(SparkembedError, match="vocabulary 16 x dim 134217728 = 2,147,483,648"):
        train_word2vec(tokens, vocab, TrainConfig(dim=2**27, seed=1), Word2VecConfig(), quiet=True)


def test_train_missing_input_is_one_line_error(tmp_path, capsys):
    assert main(["train", str(tmp_path), "--method", "svd", "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "table not found" in err[0] and "vocab" in err[0]


def test_corpus_language_from_tokenize_metadata_or_a_scan(spark, tmp_path):
    """A table ``sparkembed tokenize`` wrote names its one language in its parameters (no
    pass over the corpus); any other table is scanned: one language, or "mul"."""
    from sparkembed.stages.train.stage import _lang

    schema = "doc_id string, title string, lang string, sentence int, tokens array<string>"
    one = spark.createDataFrame([("d", "t", "bg", 0, ["a"])], schema)
    publish(one, str(tmp_path / "tok"), stage="tokenize", params={"tokenize": {"lang": "bg"}})
    assert _lang(spark, str(tmp_path / "tok")) == "bg"
    mixed = spark.createDataFrame([("d", "t", "en", 0, ["a"]), ("e", "t", "fr", 0, ["b"])], schema)
    mixed.write.parquet(str(tmp_path / "plain"))  # no _sparkembed.json: scanned
    assert _lang(spark, str(tmp_path / "plain")) == "mul"
    one.write.parquet(str(tmp_path / "plain-bg"))
    assert _lang(spark, str(tmp_path / "plain-bg")) == "bg"
    publish(mixed, str(tmp_path / "other"), stage="synthetic", params={"lang": "en"})
    assert _lang(spark, str(tmp_path / "other")) == "mul"  # not tokenize's: scanned


def test_word2vec_auto_settings_follow_the_corpus_and_are_recorded(
    spark, w2v_tables, tmp_path, capsys, monkeypatch
):
    """Left to sparkembed (subsample -1, num_partitions 0), the threshold and the partition
    count are chosen from the vocabulary's token count, printed, and recorded beside the
    parameters asked for; values the user sets are kept."""
    import sparkembed.stages.train.word2vec as w2v

    tokens, vocab, counts = w2v_tables
    root = str(tmp_path / "work")
    publish_workdir(spark, root, tokens=tokens, vocab=vocab)

    def train(name, *options):
        out = str(tmp_path / name)
        argv = ["train", root, "--method", "word2vec", "--dim", "5", "--output", out,
                "--set", "word2vec.max_iter=1", *options]  # fmt: skip
        assert main(argv) == 0
        return read_metadata(spark, out), capsys.readouterr()

    # 4,800 tokens: a small corpus, so word2vec's 1e-3 and one partition
    meta, out = train("auto")
    assert "[train] word2vec: for 4,800 vocabulary tokens (auto" in out.err
    assert "subsample 0.001, partitions 1" in out.err
    assert out.out.startswith("train: method word2vec, dim 5, vectors 16, lang en")
    assert meta["params"]["word2vec"]["subsample"] == -1.0
    assert meta["params"]["word2vec"]["num_partitions"] == 0
    assert meta["resolved"] == {"word2vec": {"subsample": 1e-3, "num_partitions": 1}}
    assert meta["counts"]["partitions"] == 1
    kept_auto = meta["counts"]["kept_tokens"]
    assert 0 < kept_auto < 0.3 * sum(counts.values())  # 16 words of share 1/16: p = 0.14

    # the partition count follows the corpus' size: here 2,400 tokens are enough for one
    monkeypatch.setattr(w2v, "TOKENS_PER_PARTITION", 2_400)
    meta, out = train("auto-more")
    assert "subsample 0.001, partitions 2" in out.err
    assert meta["resolved"] == {"word2vec": {"subsample": 1e-3, "num_partitions": 2}}
    assert meta["counts"]["partitions"] == 2

    # set values are used as given, and nothing is chosen
    meta, out = train(
        "explicit", "--set", "word2vec.subsample=1e-4", "--set", "word2vec.num_partitions=1"
    )
    assert "(auto" not in out.err and "subsample 0.0001)" in out.err
    assert meta["params"]["word2vec"]["subsample"] == 1e-4
    assert meta["resolved"] == {"word2vec": {"subsample": 1e-4, "num_partitions": 1}}
    assert 0 < meta["counts"]["kept_tokens"] < kept_auto
    meta, _ = train("off", "--set", "word2vec.subsample=0")  # partitions still auto: 2
    assert meta["resolved"] == {"word2vec": {"subsample": 0.0, "num_partitions": 2}}
    assert meta["counts"]["kept_tokens"] == sum(counts.values())


def test_word2vec_subsample_below_zero_other_than_auto_is_refused(tmp_path, capsys):
    argv = ["train", str(tmp_path), "--method", "word2vec", "--set", "word2vec.subsample=-0.5"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith("word2vec.subsample must be -1 (auto), 0 (off) or > 0, got -0.5")


def test_vector_frame_never_broadcasts_the_vectors(spark):
    # Rows made from a few bucket numbers look tiny to the planner: a broadcast join
    # would collect every vector on the driver (7.2M words x 300 did not fit 6 GB).
    from pyspark.sql import functions as F

    from sparkembed.stages.train.result import vector_frame

    rows = spark.range(0, 2, 1, 2).select(
        F.col("id").cast("int").alias("id"),
        F.array(F.col("id").cast("float")).alias("vector"),
        F.lit(1.0).cast("float").alias("norm"),
    )
    vocab = spark.createDataFrame([(1, "b", 3), (0, "a", 5)], "id int, token string, count long")
    frame = vector_frame(vocab, rows)
    assert [(r["token"], r["vector"], r["count"]) for r in frame.collect()] == [
        ("a", [0.0], 5),
        ("b", [1.0], 3),
    ]
    plan = frame._jdf.queryExecution().executedPlan().toString()
    assert "SortMergeJoin" in plan and "BroadcastHashJoin" not in plan, plan
