"""word2vec's input: vocabulary filter, frequent-word subsampling, long-sentence pieces;
MLlib's vectors repeatable for a seed and partition count whatever the input's layout."""

import numpy as np
import pytest
from pyspark.sql import functions as F

import sparkembed.stages.train.word2vec as w2v
from sparkembed.config import TrainConfig, Word2VecConfig
from sparkembed.errors import SparkembedError
from sparkembed.stages.train.word2vec import (
    auto_partitions,
    auto_subsample,
    check_model_size,
    resolve_auto,
    train_word2vec,
    training_sentences,
)
from sparkembed.vocabulary.subsample import keep_probability, uniform_from_hash

SCHEMA = "doc_id string, title string, lang string, sentence int, tokens array<string>"


def test_keep_probability_rules():
    counts = np.array([1000, 100, 10, 1])  # shares 0.9001, 0.09, 0.009, 0.0009
    f = counts / counts.sum()
    t = 1e-3
    got = keep_probability(counts, t, "word2vec")
    want = np.minimum(1, (np.sqrt(f / t) + 1) * t / f)  # word2vec.c, gensim's sample
    np.testing.assert_allclose(got, want)
    assert got[0] == pytest.approx(0.0344, abs=1e-4) and got[3] == 1.0
    np.testing.assert_allclose(
        keep_probability(counts, t, "hyperwords"), np.minimum(1, np.sqrt(t / f))
    )
    with pytest.raises(ValueError, match="rule must be one of"):
        keep_probability(counts, t, "gensim")


def _corpus(rng, n_docs=60):
    words = ["the"] * 30 + ["of"] * 12 + [f"w{i}" for i in range(40)]
    rows = []
    for d in range(n_docs):
        for s in range(int(rng.integers(1, 4))):
            n = int(rng.integers(0, 25))
            rows.append((f"doc{d:03d}", "", "en", s, [str(x) for x in rng.choice(words, n)]))
    rows.append(("long", "", "en", 0, ["w1", "the", "w2"] * 9))  # 27 tokens
    rows.append(("oov", "", "en", 0, ["rare", "unseen"]))
    return rows


def _vocab(spark, rows, min_count):
    from collections import Counter

    c = Counter(t for r in rows for t in r[4])
    ranked = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
    vocab = spark.createDataFrame(
        [(i, t, n, n) for i, (t, n) in enumerate(ranked)],
        "id int, token string, count long, doc_count long",
    )
    return vocab, {t: n for t, n in ranked if n >= min_count}


def _kept(df):
    return {(r.doc_id, r.sentence, r.piece): list(r.tokens) for r in df.collect()}


def test_training_sentences_subsample_and_split(spark):
    rng = np.random.default_rng(11)
    rows = _corpus(rng) + [("rare", "", "en", 0, ["rare"])]
    vocab, words = _vocab(spark, rows, min_count=3)
    assert "rare" not in words and "unseen" not in words
    cfg = Word2VecConfig(min_count=3, subsample=0.01, max_sentence_length=10)
    tokens = spark.createDataFrame(rows, SCHEMA)
    layouts = [tokens.coalesce(1), tokens.repartition(5, "sentence"), tokens.repartition(3)]
    results = [training_sentences(t, vocab, cfg, seed=7) for t in layouts]
    kept = [_kept(df) for df, _ in results]
    for df, _ in results:
        df.unpersist()
    assert kept[0] == kept[1] == kept[2]  # the draws do not depend on the partitioning
    counts = results[0][1]

    # The same draws by hand: Spark's xxhash64 of (doc_id, sentence, seed), then the
    # position's uniform against word2vec's keep probability.
    hashes = {
        (r.doc_id, r.sentence): r.h
        for r in tokens.select(
            "doc_id", "sentence", F.xxhash64("doc_id", "sentence", F.lit(7)).alias("h")
        ).collect()
    }
    names = list(words)
    prob = dict(
        zip(
            names,
            keep_probability(np.array([words[w] for w in names]), 0.01, "word2vec"),
            strict=True,
        )
    )
    want, in_vocab, split = {}, 0, 0
    for doc, _t, _l, s, toks in rows:
        h = np.array([hashes[(doc, s)]], np.int64)
        keep = []
        for pos, t in enumerate(toks):
            if t not in words:
                continue
            in_vocab += 1
            if uniform_from_hash(h, np.array([pos]))[0] < prob[t]:
                keep.append(t)
        if len(keep) > 10:  # pieces of near-equal length, longer first
            k = -(-len(keep) // 10)
            sizes = [len(keep) // k + (i < len(keep) % k) for i in range(k)]
            starts = np.cumsum([0] + sizes)
            for i in range(k):
                want[(doc, s, i)] = keep[starts[i] : starts[i + 1]]
            split += 1
        elif keep:
            want[(doc, s, 0)] = keep
    assert kept[0] == want
    assert counts.tokens == sum(len(r[4]) for r in rows)
    assert counts.in_vocab == in_vocab == sum(words.values())
    assert counts.kept == sum(len(v) for v in want.values()) < in_vocab * 0.8  # "the" thinned
    assert counts.split == split >= 1
    assert max(len(v) for v in want.values()) <= 10


def test_training_sentences_without_subsampling_keep_every_vocabulary_token(spark):
    rows = _corpus(np.random.default_rng(2))
    vocab, words = _vocab(spark, rows, min_count=2)
    tokens = spark.createDataFrame(rows, SCHEMA)
    df, counts = training_sentences(tokens, vocab, Word2VecConfig(min_count=2, subsample=0), 1)
    got = _kept(df)
    df.unpersist()
    want = {(d, s, 0): [t for t in toks if t in words] for d, _t, _l, s, toks in rows}
    assert got == {k: v for k, v in want.items() if v}
    assert counts.kept == counts.in_vocab == sum(words.values()) and counts.split == 0


def test_word2vec_on_one_partition_repeats_whatever_the_layout(spark):
    rows = _corpus(np.random.default_rng(5), n_docs=150)
    vocab, _ = _vocab(spark, rows, min_count=5)
    tokens = spark.createDataFrame(rows, SCHEMA)
    cfg = Word2VecConfig(min_count=5, max_iter=2, num_partitions=1, subsample=0.01)

    def vectors(df, seed=3):
        res = train_word2vec(df, vocab, TrainConfig(dim=8, seed=seed), cfg, quiet=True)
        return {r.token: list(r.vector) for r in res.vectors.collect()}, res.counts

    a, counts = vectors(tokens.coalesce(1))
    b, _ = vectors(tokens.repartition(4))
    assert a == b and len(a) == 42  # "the", "of", w0..w39
    c, _ = vectors(tokens.repartition(3), seed=4)
    assert c.keys() == a.keys() and c != a
    assert counts["subsampled_tokens"] == counts["in_vocab_tokens"] - counts["kept_tokens"] > 0
    assert counts["partitions"] == 1


def test_word2vec_default_partitions_use_every_task_slot_and_learn(spark, monkeypatch):
    """0 partitions on a corpus large enough for several: one per task slot (2 here);
    topics still separate."""
    monkeypatch.setattr(w2v, "TOKENS_PER_PARTITION", 1_000)  # 4,800 tokens: enough for 4
    sents = [
        [f"{'ab'[i % 2]}{j}" for j in np.random.default_rng(i).integers(0, 8, 12)]
        for i in range(400)
    ]
    tokens = spark.createDataFrame([(str(i), "", "en", 0, s) for i, s in enumerate(sents)], SCHEMA)
    vocab, _ = _vocab(spark, [(None, None, None, None, s) for s in sents], min_count=1)
    cfg = Word2VecConfig(min_count=1, max_iter=3, subsample=0)
    res = train_word2vec(tokens, vocab, TrainConfig(dim=10, seed=5), cfg, quiet=True)
    assert res.counts["partitions"] == spark.sparkContext.defaultParallelism == 2
    unit = {r.token: np.array(r.vector) / r.norm for r in res.vectors.collect()}
    assert len(unit) == 16
    same = np.mean([unit[f"a{i}"] @ unit[f"a{j}"] for i in range(8) for j in range(i)])
    cross = np.mean([unit[f"a{i}"] @ unit[f"b{j}"] for i in range(8) for j in range(8)])
    assert same > cross + 0.3


def test_model_size_error_names_the_largest_dim():
    check_model_size(21_474_836, 100, 5)  # 2,147,483,600 < 2^31 - 1
    with pytest.raises(SparkembedError, match=r"the largest dim for this vocabulary is 99\b"):
        check_model_size(21_474_837, 100, 5)
    with pytest.raises(SparkembedError, match="largest dim for this vocabulary is 2,147"):
        check_model_size(1_000_000, 5000, 5)


def test_what_mllib_collects_must_be_allowed_by_max_result_size():
    # 491,091 words x 300: MLlib's iteration returned 1154 MiB, above Spark's default 1g.
    collected = w2v.collected_bytes(491_091, 300)
    assert 1154 << 20 <= collected < 1.05 * (1154 << 20)
    with pytest.raises(SparkembedError, match=r"above spark.driver.maxResultSize \(1.00 GiB\)"):
        check_model_size(491_091, 300, 5, max_result=1 << 30)
    check_model_size(491_091, 300, 5, max_result=6 << 30)
    check_model_size(491_091, 300, 5, max_result=0)  # 0: no limit


def test_model_that_does_not_fit_the_driver_is_refused_naming_the_limit():
    gib = 2**30
    per_word = w2v.MODEL_BYTES_PER_WORD_DIM * 100 + w2v.MODEL_BYTES_PER_WORD
    assert w2v.model_driver_bytes(1_000_000, 100) == 1_000_000 * per_word
    assert w2v.largest_vocabulary(100, 4 * gib) == (4 * gib - w2v.DRIVER_HEAP_OTHER) // per_word
    assert 500_000 < w2v.largest_vocabulary(100, 4 * gib) < 600_000
    # measured: 160,000 words of dim 100 did not train in a 1 GiB heap
    assert w2v.largest_vocabulary(100, gib) < 160_000
    fits = w2v.largest_vocabulary(100, 4 * gib)
    check_model_size(fits, 100, 5, driver_heap=4 * gib)
    with pytest.raises(SparkembedError, match=rf"at most {fits:,} words of dim 100 fit"):
        check_model_size(fits + 1, 100, 5, driver_heap=4 * gib)
    # MLlib's own limit comes first, whatever the driver's memory
    with pytest.raises(SparkembedError, match=r"2\^31 - 1"):
        check_model_size(21_474_837, 100, 5, driver_heap=1 << 50)


def test_vocabulary_size_from_the_vocab_metadata():
    meta = {"stage": "tokenize", "params": {"tokenize": {"min_count": 5}}, "counts": {"vocab": 7}}
    assert w2v.vocabulary_size(meta, 5) == 7
    assert w2v.vocabulary_size(meta, 3) == 7  # every word of the table is seen 5+ times
    assert w2v.vocabulary_size(meta, 6) is None  # some of them fewer than 6: count them
    assert w2v.vocabulary_size(None, 1) is None
    assert w2v.vocabulary_size({"counts": {"vocab": 3}}, 1) == 3


def test_learned_vectors_are_mllibs_own_without_a_driver_built_frame(spark):
    """The vectors read out through ``transform`` (no frame built on the driver) are
    ``getVectors``' floats; a vocabulary word MLlib never saw is left out, as there."""
    from pyspark.ml.feature import Word2Vec
    from pyspark.ml.functions import vector_to_array

    rows = _corpus(np.random.default_rng(7), n_docs=60)
    vocab, _ = _vocab(spark, rows, min_count=5)
    never = spark.createDataFrame([(10_000, "never", 99, 1)], vocab.schema)
    tokens = spark.createDataFrame(rows, SCHEMA).select("tokens").coalesce(1)
    model = Word2Vec(vectorSize=6, minCount=5, seed=1, maxIter=1, inputCol="tokens")
    model = model.setOutputCol("embedding").fit(tokens)
    got = w2v.learned_vectors(model, vocab.unionByName(never), 5).collect()
    want = model.getVectors().select("word", vector_to_array("vector", "float32").alias("v"))
    want = {r.word: list(r.v) for r in want.collect()}
    assert {r.token: list(r.vector) for r in got} == want
    assert "never" not in want and len(want) > 10


def test_auto_threshold_and_partitions_follow_the_corpus_size():
    """t: the smallest of 1e-5, 1e-4, 1e-3 with t * N >= 50 (1e-3 below that); partitions:
    one per task slot, at least 2M tokens each (docs/train.md)."""
    sizes = [4_800, 399_135, 499_999, 500_000, 2_120_000, 4_999_999, 5_000_000, 9_329_690,
             102_600_000]  # fmt: skip
    assert [auto_subsample(n) for n in sizes] == [1e-3] * 3 + [1e-4] * 3 + [1e-5] * 3
    assert [auto_partitions(n, 2) for n in sizes] == [1] * 5 + [2] * 4
    assert [auto_partitions(n, 16) for n in sizes] == [1, 1, 1, 1, 1, 2, 2, 4, 16]
    small = resolve_auto(Word2VecConfig(), 399_135, 2)
    assert (small.subsample, small.num_partitions) == (1e-3, 1)
    large = resolve_auto(Word2VecConfig(window=3), 102_600_000, 8)
    assert (large.subsample, large.num_partitions, large.window) == (1e-5, 8, 3)
    # values the user sets are kept, whatever the corpus
    for t, parts in ((1e-5, 2), (0.0, 1), (1e-2, 7)):
        given = Word2VecConfig(subsample=t, num_partitions=parts)
        assert resolve_auto(given, 399_135, 2) == given
    with pytest.raises(SparkembedError, match="must be -1 \\(auto\\), 0 \\(off\\) or > 0"):
        resolve_auto(Word2VecConfig(subsample=-0.5), 399_135, 2)
