"""train --method sgns: skip-gram with negative sampling on buckets of the vocabulary,
against a plain pair-at-a-time numpy reference."""

import dataclasses
import re

import numpy as np
import pytest
from pyspark.sql import functions as F
from reference import sgns_alias_table, sgns_block, sgns_dot, sgns_one_bucket, sgns_sigmoid

from sparkembed.config import SgnsConfig, TrainConfig
from sparkembed.jvm.udfs import sgns_block_function
from sparkembed.stages.train.sgns import Buckets, train_sgns
from sparkembed.vocabulary.subsample import row_hash_column

# Two topics of five words each plus two words shared by both: sentences from one topic.
TOPICS = [["cat", "dog", "fur", "paw", "pet"], ["sun", "moon", "star", "sky", "orbit"]]
SHARED = ["the", "and"]


def _corpus(n_sentences=60, seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sentences):
        topic = TOPICS[s % 2]
        length = int(rng.integers(3, 9))
        words = [
            SHARED[int(rng.integers(2))] if rng.random() < 0.25 else topic[int(rng.integers(5))]
            for _ in range(length)
        ]
        rows.append((f"d{s // 4}", s % 4, words))
    return rows


def _frames(spark, rows):
    tokens = spark.createDataFrame(
        [(d, "", "en", s, t) for d, s, t in rows],
        "doc_id string, title string, lang string, sentence int, tokens array<string>",
    )
    counts = {}
    for _, _, t in rows:
        for w in t:
            counts[w] = counts.get(w, 0) + 1
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    vocab = spark.createDataFrame(
        [(i, w, counts[w], 1) for i, w in enumerate(ranked)],
        "id int, token string, count long, doc_count long",
    )
    return tokens, vocab, ranked, [counts[w] for w in ranked]


def _vectors(result):
    rows = result.vectors.orderBy("count", ascending=False).collect()
    return {r["token"]: np.array(r["vector"], np.float64) for r in rows}


CFG = SgnsConfig(window=3, negative=3, epochs=2, sample=0.0, min_count=1, partitions=1)


@pytest.mark.parametrize("sample", [0.0, 0.05])
def test_one_bucket_equals_plain_reference(spark, tmp_path, sample):
    rows = _corpus()
    tokens, vocab, ranked, counts = _frames(spark, rows)
    # dim 11: one vector of 8 lanes and 3 floats after it in the kernel's dot products.
    train, cfg = TrainConfig(dim=11, seed=11), dataclasses.replace(CFG, sample=sample)
    result = train_sgns(tokens, vocab, train, cfg, scratch=str(tmp_path), quiet=True)
    got = _vectors(result)
    hashes = {
        (r["doc_id"], r["sentence"]): r["h"]
        for r in tokens.select("doc_id", "sentence", row_hash_column(11).alias("h")).collect()
    }
    index = {w: i for i, w in enumerate(ranked)}
    expected = sgns_one_bucket(
        [[index[w] for w in t] for _, _, t in rows],
        [hashes[(d, s)] for d, s, _ in rows],
        counts,
        dim=11,
        window=3,
        negative=3,
        epochs=2,
        alpha=cfg.alpha,
        min_alpha=cfg.min_alpha,
        sample=sample,
        ns_exponent=0.75,
        seed=11,
    )
    assert sorted(got) == sorted(ranked)
    for w, i in index.items():
        np.testing.assert_allclose(got[w], expected[i], atol=1e-6, rtol=0)
    assert result.counts["partitions"] == 1
    assert result.extra["pairs_per_epoch"][0] > 0


@pytest.mark.parametrize("dim", [3, 8, 37, 300])
def test_dot_products_are_the_same_on_vector_and_scalar_paths(spark, dim):
    # The kernel sums in a fixed order of 8 lanes, so both paths and the reference agree
    # to the bit, whatever the machine's vector width.
    rng = np.random.default_rng(dim)
    a, b = rng.normal(0, 1, (2, dim)).astype(np.float32)
    gateway = spark.sparkContext._gateway
    ja, jb = gateway.new_array(gateway.jvm.float, dim), gateway.new_array(gateway.jvm.float, dim)
    for k in range(dim):
        ja[k], jb[k] = float(a[k]), float(b[k])
    block = gateway.jvm.sparkembed.SgnsBlock
    lanes = gateway.new_array(gateway.jvm.float, 8)
    scalar = block.dotScalar(ja, jb, dim, lanes)
    vector = block.dotVector(ja, jb, dim, lanes)
    # py4j passes a Java float as its shortest decimal, which is exact as a float32
    assert np.float32(scalar) == np.float32(vector) == np.float32(sgns_dot(a, b))


def test_negatives_are_drawn_in_proportion_to_the_weights(spark):
    # The alias table built by the kernel equals the reference's, and the share of the
    # 32-bit draws each word receives is its weight's share, to rounding.
    weights = (1.0 / np.arange(1, 201)) ** 0.75 * 1000
    gateway = spark.sparkContext._gateway
    jw = gateway.new_array(gateway.jvm.double, len(weights))
    for i, x in enumerate(weights):
        jw[i] = float(x)
    table = sgns_alias_table(weights)
    got = list(gateway.jvm.sparkembed.SgnsBlock.aliasTable(jw))
    assert got == [(alias << 32) | threshold for threshold, alias in table]
    mass = np.zeros(len(weights))
    for slot, (threshold, alias) in enumerate(table):
        mass[slot] += threshold / 2.0**32
        mass[alias] += 1.0 - threshold / 2.0**32
    np.testing.assert_allclose(mass / len(weights), weights / weights.sum(), rtol=0, atol=1e-9)


def test_sigmoid_is_word2vecs_table(spark):
    block = spark.sparkContext._gateway.jvm.sparkembed.SgnsBlock
    for f in [-7.0, -6.0, -5.99, -1.0, -0.006, 0.0, 0.0059, 0.5, 3.21, 5.999, 6.0, 40.0]:
        got = block.sigmoid(f)
        assert got == pytest.approx(sgns_sigmoid(f), abs=1e-15)
        # within half a bin's slope of the true sigmoid, and the limits beyond +-6
        assert got == pytest.approx(1 / (1 + np.exp(-f)), abs=0.0016 if abs(f) < 6 else 0.0025)


@pytest.mark.parametrize("part", [None, "0/2"])
def test_block_update_equals_reference(spark, tmp_path, part):
    # One task of a round, through the registered UDF: two word rows, three context rows;
    # the whole block, or the first of two slices of it (its first two pairs). The block is
    # two pieces of packed pairs, as two pair tasks write them; the order is their merge.
    rng = np.random.default_rng(0)
    dim = 13
    w = rng.normal(0, 0.3, (2, dim)).astype(np.float32)
    c = rng.normal(0, 0.3, (3, dim)).astype(np.float32)
    before = w.copy()
    pairs = np.array([[0, 1], [1, 2], [0, 0], [1, 1]], np.int32)
    weights = np.array([5.0, 1.0, 2.0]) ** 0.75
    bits = 2
    # Order keys a quarter of the packed range apart: slice 0 of 2, values below 2^62,
    # holds the first two pairs.
    packed = [(rank << 61) | (i << bits) | o for rank, (i, o) in enumerate(pairs.tolist())]
    (tmp_path / "b").mkdir()
    for name, data in [
        ("w.f32", w),
        ("c.f32", c),
        ("b/00000-0000.pairs", np.array(packed[0::2], "<i8")),
        ("b/00001-0000.pairs", np.array(packed[1::2], "<i8")),
        ("b/.00001-0000.pairs.tmp", np.array(packed[1::2], "<i8")),  # a writer's temporary
        ("b.weights", weights),
    ]:
        (tmp_path / name).write_bytes(data.tobytes())
    spec = {
        "dim": dim,
        "n_words": 2,
        "n_contexts": 3,
        "words": f"file://{tmp_path}/w.f32",
        "contexts": f"file://{tmp_path}/c.f32",
        "word_ids": "",
        "init_seed": 0,
        "pairs": f"file://{tmp_path}/b",
        "block_pairs": len(pairs),
        "index_bits": bits,
        "weights": f"file://{tmp_path}/b.weights",
        "negative": 4,
        "alpha_from": 0.5,
        "alpha_to": 0.1,
        "seed": -7,
        "words_out": f"file://{tmp_path}/w2.f32",
        "contexts_out": f"file://{tmp_path}/c2.f32",
        "done": f"file://{tmp_path}/w2.done",
    }
    if part is not None:
        spec["slice"] = part
    text = "\n".join(f"{k}={v}" for k, v in spec.items())
    name = sgns_block_function(spark)
    stats = spark.createDataFrame([(text,)], "spec string").select(F.expr(f"{name}(spec)"))
    m, loss, sampled, seconds = stats.collect()[0][0]
    table = sgns_alias_table(weights)
    trained = pairs if part is None else pairs[:2]
    expected_loss = sgns_block(w, c, trained.tolist(), table, 4, 0.5, 0.1, -7)
    assert m == len(trained) and sampled == 1
    assert loss == pytest.approx(expected_loss, rel=1e-9)
    got_w = np.frombuffer((tmp_path / "w2.f32").read_bytes(), np.float32).reshape(2, dim)
    got_c = np.frombuffer((tmp_path / "c2.f32").read_bytes(), np.float32).reshape(3, dim)
    np.testing.assert_allclose(got_w, w, atol=1e-7, rtol=0)
    np.testing.assert_allclose(got_c, c, atol=1e-7, rtol=0)
    assert np.abs(got_w - before).max() > 1e-3
    # What it read is gone (each bucket file has one reader; the pairs stay for the next
    # slice); a retry of the task returns the numbers of the done file without its inputs,
    # and leaves the buckets as they are.
    assert not any((tmp_path / f).exists() for f in ("w.f32", "c.f32"))
    assert (tmp_path / "b").exists() == (part is not None)
    assert (tmp_path / "b.weights").exists()
    assert list(stats.collect()[0][0]) == [m, loss, sampled, seconds]
    assert np.array_equal(
        np.frombuffer((tmp_path / "w2.f32").read_bytes(), np.float32), got_w.ravel()
    )


def test_same_vectors_whatever_the_input_partitioning(spark, monkeypatch):
    # One pair task writing one piece per block, then three tasks each writing several
    # (a piece every few sentences): the blocks' merged order is the same.
    from sparkembed.stages.train import sgns

    rows = _corpus(80, seed=5)
    tokens, vocab, _, _ = _frames(spark, rows)
    cfg = dataclasses.replace(CFG, partitions=3, sample=0.1, sweeps=2)
    train = TrainConfig(dim=6, seed=2)
    runs = [_vectors(train_sgns(tokens.repartition(1), vocab, train, cfg, quiet=True))]
    monkeypatch.setattr(sgns, "CHUNK_TOKENS", 40)
    monkeypatch.setattr(sgns, "PIECE_PAIRS", 100)
    monkeypatch.setattr(sgns, "VECTOR_BATCH_FLOATS", 3 * train.dim)  # the output in batches
    batch = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(batch)
    spark.conf.set(batch, "5")
    try:
        result = train_sgns(tokens.repartition(3, "doc_id"), vocab, train, cfg, quiet=True)
    finally:
        spark.conf.set(batch, before)
    runs.append(_vectors(result))
    assert result.extra["pieces_per_epoch"][0] > 3 * 3 * 3, result.extra
    assert runs[0].keys() == runs[1].keys()
    for w in runs[0]:
        assert np.array_equal(runs[0][w], runs[1][w]), w


def test_default_sweeps_are_twice_the_buckets_up_to_eight():
    from sparkembed.stages.train.sgns import sweeps_for

    assert [sweeps_for(SgnsConfig(), k) for k in (1, 2, 3, 4, 8, 16)] == [1, 4, 6, 8, 8, 16]
    assert sweeps_for(SgnsConfig(sweeps=3), 8) == 3


def test_buckets_partition_the_vocabulary():
    b = Buckets.deal(1000, 7, seed=4)
    assert b.sizes.sum() == 1000 and (b.sizes > 100).all()
    for k in range(7):
        ids = b.ids(k)
        assert (b.of[ids] == k).all()
        assert b.local[ids].tolist() == list(range(len(ids)))


def test_topics_separate(spark):
    # The words of one topic end up nearer each other than the other topic's words.
    rows = _corpus(400, seed=7)
    tokens, vocab, _, _ = _frames(spark, rows)
    cfg = dataclasses.replace(CFG, epochs=10, partitions=2, negative=5)
    # No scratch folder: the trainer's own temporary one, removed once the vectors are kept.
    vec = _vectors(train_sgns(tokens, vocab, TrainConfig(dim=10, seed=1), cfg, quiet=True))

    def cos(a, b):
        return float(vec[a] @ vec[b] / np.linalg.norm(vec[a]) / np.linalg.norm(vec[b]))

    within = np.mean([cos(a, b) for t in TOPICS for a in t for b in t if a < b])
    across = np.mean([cos(a, b) for a in TOPICS[0] for b in TOPICS[1]])
    assert within > across + 0.3, (within, across)


def test_a_bucket_too_large_for_one_java_array_is_refused(spark, monkeypatch):
    # The bound is 2^31 floats a bucket; lowered here so that a tiny corpus meets it.
    from sparkembed.errors import SparkembedError
    from sparkembed.stages.train import sgns

    monkeypatch.setattr(sgns, "MAX_BUCKET_FLOATS", 20)
    tokens, vocab, ranked, _ = _frames(spark, _corpus())
    train = TrainConfig(dim=4, seed=1)
    with pytest.raises(SparkembedError, match=r"largest, 12 words, does not fit") as error:
        train_sgns(tokens, vocab, train, CFG, quiet=True)
    # The K it names is one that fits.
    k = int(re.search(r"sgns.partitions to (\d+) or more", str(error.value))[1])
    assert 3 <= k <= 12 and len(ranked) == 12
    cfg = dataclasses.replace(CFG, partitions=k, epochs=1)
    assert train_sgns(tokens, vocab, train, cfg, quiet=True).counts["partitions"] == k
