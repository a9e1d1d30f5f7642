"""cooccur: exact equality with a brute-force pure-Python counter on hand-made corpora."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from fractions import Fraction

import numpy as np
import pyarrow.parquet as pq
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from bench.reference import cooccurrence_counts_jvm
from sparkembed.config import Config, CooccurConfig, validate
from sparkembed.errors import SparkembedError
from sparkembed.stages.cooccur.counts import cooccurrence_counts, marginals
from sparkembed.stages.cooccur.kernel import shard_count
from sparkembed.tables import publish
from sparkembed.vocabulary.subsample import uniform_from_hash

# Hand-made corpus: a sentence shorter than the window, repeated words, one-token
# sentences, OOV words in the middle ("zzz", "qq"), an empty sentence, a null token and a
# null sentence, and one sentence longer than twice the window.
SENTENCES = [
    ["the", "cat", "sat", "on", "the", "mat"],
    ["the", "the", "the"],
    ["dog"],
    ["cat", "zzz", "dog", "qq", "qq", "the", "cat"],
    [],
    ["zzz"],
    ["a", "dog", "and", "a", "cat", "and", "the", "dog", "on", "a", "mat", "sat", "the", "end"],
    ["mat", None, "sat"],
    None,
    ["on", "on", "zzz", "on"],
]
# Ids by frequency as tokenize makes them; "zzz", "qq" and "end" are out of vocabulary.
VOCAB = ["the", "cat", "dog", "on", "a", "mat", "sat", "and"]

TOKENS_SCHEMA = "doc_id string, title string, lang string, sentence int, tokens array<string>"
VOCAB_SCHEMA = "id int, token string, count long, doc_count long"


def tokens_df(spark, sentences=SENTENCES, partitions=2):
    rows = [(f"d{i // 3}", f"Doc {i // 3}", "en", i % 3, s) for i, s in enumerate(sentences)]
    return spark.createDataFrame(rows, TOKENS_SCHEMA).repartition(partitions)


def vocab_df(spark, vocab=VOCAB, sentences=SENTENCES):
    freq = defaultdict(int)
    for s in sentences:
        for t in s or []:
            freq[t] += 1
    rows = [(i, t, max(freq[t], 1), 1) for i, t in enumerate(vocab)]
    return spark.createDataFrame(rows, VOCAB_SCHEMA)


def murmur3_int(value: int, seed: int = 42) -> int:
    """Spark's hash() of one int (Murmur3_x86_32.hashInt), to check shards independently."""

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & 0xFFFFFFFF

    k1 = (value & 0xFFFFFFFF) * 0xCC9E2D51 & 0xFFFFFFFF
    k1 = rotl(k1, 15) * 0x1B873593 & 0xFFFFFFFF
    h1 = rotl(seed ^ k1, 13)
    h1 = (h1 * 5 + 0xE6546B64) & 0xFFFFFFFF
    h1 ^= 4
    h1 ^= h1 >> 16
    h1 = h1 * 0x85EBCA6B & 0xFFFFFFFF
    h1 ^= h1 >> 13
    h1 = h1 * 0xC2B2AE35 & 0xFFFFFFFF
    h1 ^= h1 >> 16
    return h1 - (1 << 32) if h1 >= 1 << 31 else h1


def reference_counts(sentences, vocab, cfg: CooccurConfig, dropped=frozenset()):
    """Every pair by brute force, summed exactly as fractions.

    ``dropped``: (sentence index, position) of tokens removed by subsampling.
    """
    index = {t: i for i, t in enumerate(vocab)}
    counts = defaultdict(Fraction)
    for si, s in enumerate(sentences):
        kept = [
            (pos, index[t])
            for pos, t in enumerate(s or [])
            if t in index and (si, pos) not in dropped
        ]
        if not cfg.keep_positions:
            kept = [(k, wid) for k, (_, wid) in enumerate(kept)]
        for i, (pi, a) in enumerate(kept):
            for j, (pj, b) in enumerate(kept):
                d = abs(pj - pi)
                if i == j or d > cfg.window or (not cfg.symmetric and j < i):
                    continue
                counts[(a, b)] += Fraction(1, d) if cfg.weighting == "harmonic" else 1
    return counts


def expected_df(spark, counts, cfg: CooccurConfig):
    rows = [
        (a, b, float(c), murmur3_int(a) % shard_count(cfg, None))
        for (a, b), c in sorted(counts.items())
    ]
    return spark.createDataFrame(rows, "row int, col int, count double, shard int")


def assert_counts(actual, expected):
    assert_df_equality(
        actual.orderBy("row", "col"), expected.orderBy("row", "col"), ignore_nullable=True
    )


CASES = [
    CooccurConfig(window=2, weighting="harmonic", shards=3),
    CooccurConfig(window=2, weighting="uniform", shards=3),
    CooccurConfig(window=5, weighting="harmonic", shards=4),
    CooccurConfig(window=20, weighting="harmonic", shards=2),  # longer than every sentence
    CooccurConfig(window=3, weighting="harmonic", symmetric=False, shards=3),
    CooccurConfig(window=3, weighting="uniform", symmetric=False, shards=1),
    CooccurConfig(window=3, weighting="harmonic", keep_positions=True, shards=3),
    CooccurConfig(window=2, weighting="uniform", symmetric=False, keep_positions=True),
    CooccurConfig(window=1, weighting="uniform", shards=5),
]


@pytest.mark.parametrize(
    "cfg",
    CASES,
    ids=lambda c: (
        f"w{c.window}-{c.weighting}-"
        f"{'sym' if c.symmetric else 'asym'}{'-keep' if c.keep_positions else ''}"
    ),
)
def test_counts_equal_brute_force_reference(spark, cfg):
    actual = cooccurrence_counts(tokens_df(spark), vocab_df(spark), cfg)
    expected = expected_df(spark, reference_counts(SENTENCES, VOCAB, cfg), cfg)
    assert_counts(actual, expected)


def test_reference_sanity():
    # "the cat sat" with window 2, harmonic, symmetric: hand-computed.
    cfg = CooccurConfig(window=2)
    got = reference_counts([["the", "cat", "sat"]], ["the", "cat", "sat"], cfg)
    assert got == {
        (0, 1): 1,
        (1, 0): 1,
        (1, 2): 1,
        (2, 1): 1,
        (0, 2): Fraction(1, 2),
        (2, 0): Fraction(1, 2),
    }


def test_window_beyond_exact_scale_uses_float_sums(spark):
    # lcm(1..25) is too big for exact integer sums; counts still equal the reference
    # to floating precision.
    cfg = CooccurConfig(window=25)
    actual = cooccurrence_counts(tokens_df(spark), vocab_df(spark), cfg).collect()
    ref = reference_counts(SENTENCES, VOCAB, cfg)
    got = {(r.row, r.col): r["count"] for r in actual}
    assert got.keys() == ref.keys()
    for key, value in ref.items():
        assert got[key] == pytest.approx(float(value), rel=1e-12)


@pytest.mark.parametrize("symmetric", [True, False])
def test_uniform_total_is_closed_form_number_of_pairs(spark, symmetric):
    cfg = CooccurConfig(window=3, weighting="uniform", symmetric=symmetric)
    index = set(VOCAB)
    pairs = 0
    for s in SENTENCES:
        n = sum(1 for t in s or [] if t in index)
        pairs += sum(n - d for d in range(1, min(cfg.window, n - 1) + 1))
    total = cooccurrence_counts(tokens_df(spark), vocab_df(spark), cfg).agg(F.sum("count"))
    assert total.first()[0] == pairs * (2 if symmetric else 1)
    assert pairs == 58  # fixed by the corpus above: the test cannot pass vacuously


def test_jvm_counter_matches(spark):
    for cfg in [
        CooccurConfig(window=3, shards=3),
        CooccurConfig(window=2, symmetric=False, weighting="uniform"),
    ]:
        expected = expected_df(spark, reference_counts(SENTENCES, VOCAB, cfg), cfg)
        assert_counts(cooccurrence_counts_jvm(tokens_df(spark), vocab_df(spark), cfg), expected)


def test_deterministic_across_partitionings(spark):
    cfg = CooccurConfig(window=4, subsample=0.05, shards=3)
    one = cooccurrence_counts(tokens_df(spark, partitions=1), vocab_df(spark), cfg)
    four = cooccurrence_counts(tokens_df(spark, partitions=4), vocab_df(spark), cfg)
    assert_counts(one, four)


def test_subsampling_matches_reference(spark):
    cfg = CooccurConfig(window=3, subsample=0.05, seed=7, shards=2)
    vocab = vocab_df(spark)
    counts = {r.token: r["count"] for r in vocab.collect()}
    total = sum(counts.values())
    # The same per-token decision as the stage: a hash of (seed, doc_id, sentence, position).
    hashes = (
        tokens_df(spark, partitions=1)
        .select("doc_id", "sentence", F.xxhash64("doc_id", "sentence", F.lit(7)).alias("h"))
        .collect()
    )
    row_hash = {(r.doc_id, r.sentence): r.h for r in hashes}
    import numpy as np

    dropped = set()
    for si, s in enumerate(SENTENCES):
        h = row_hash[(f"d{si // 3}", si % 3)]
        for pos, t in enumerate(s or []):
            if t in counts:
                keep = min(1.0, (cfg.subsample / (counts[t] / total)) ** 0.5)
                u = uniform_from_hash(np.array([h], np.int64), np.array([pos]))[0]
                if u >= keep:
                    dropped.add((si, pos))
    assert 3 <= len(dropped) <= 25  # "the" (freq 0.17) is mostly dropped, others rarely
    expected = expected_df(spark, reference_counts(SENTENCES, VOCAB, cfg, dropped), cfg)
    assert_counts(cooccurrence_counts(tokens_df(spark), vocab, cfg), expected)


def test_marginals_are_exact_row_sums(spark):
    cfg = CooccurConfig(window=5)
    counts = cooccurrence_counts(tokens_df(spark), vocab_df(spark), cfg)
    ref = reference_counts(SENTENCES, VOCAB, cfg)
    sums = defaultdict(Fraction)
    for (a, _), c in ref.items():
        sums[a] += c
    expected = spark.createDataFrame(
        [(a, float(c)) for a, c in sorted(sums.items())], "id int, count double"
    )
    assert_df_equality(marginals(counts, cfg), expected, ignore_nullable=True)


def test_published_shards_are_partitioned_and_sorted(spark, tmp_path):
    cfg = CooccurConfig(window=5, shards=4)
    vocab = [f"w{i}" for i in range(40)]
    sentences = [[vocab[(i * 7 + j * j) % 40] for j in range(i % 13)] for i in range(300)]
    counts = cooccurrence_counts(
        tokens_df(spark, sentences, partitions=3), vocab_df(spark, vocab, sentences), cfg
    )
    out = tmp_path / "cooccurrence"
    publish(counts, str(out), stage="cooccur", partition_by=["shard"])
    shard_dirs = sorted(out.glob("shard=*"))
    assert [d.name for d in shard_dirs] == [f"shard={i}" for i in range(4)]
    seen = []
    for d in shard_dirs:
        shard = int(d.name.split("=")[1])
        files = sorted(d.glob("*.parquet"))
        assert len(files) == 1  # one task wrote each shard
        t = pq.read_table(files[0])
        rows, cols = t.column("row").to_pylist(), t.column("col").to_pylist()
        keys = list(zip(rows, cols, strict=True))
        assert keys == sorted(keys)
        assert {murmur3_int(r) % 4 for r in rows} == {shard}
        seen += keys
    assert sorted(seen) == sorted(reference_counts(sentences, vocab, cfg))


def test_bad_inputs_raise_clear_errors(spark):
    tokens = tokens_df(spark)
    # The config's own checks (config.validate) run before any stage.
    with pytest.raises(SparkembedError, match="weighting"):
        validate(Config(cooccur=CooccurConfig(weighting="linear")))
    with pytest.raises(SparkembedError, match="window"):
        validate(Config(cooccur=CooccurConfig(window=0)))
    gap = vocab_df(spark).where("id != 3")
    with pytest.raises(SparkembedError, match="vocab ids must be 0..6"):
        cooccurrence_counts(tokens, gap, CooccurConfig())
    with pytest.raises(SparkembedError, match="no column 'tokens'"):
        cooccurrence_counts(tokens.drop("tokens"), vocab_df(spark), CooccurConfig())
    dup = vocab_df(spark).withColumn(
        "token", F.when(F.col("id") == 1, "the").otherwise(F.col("token"))
    )
    with pytest.raises(SparkembedError, match="repeated token"):
        cooccurrence_counts(tokens, dup, CooccurConfig())


def test_config_cases_differ():
    # The parametrised cases really exercise different settings.
    assert len({dataclasses.astuple(c) for c in CASES}) == len(CASES)


@pytest.mark.parametrize("dense_cells", [0, 20])
def test_sparse_path_and_small_buffers_match_reference(spark, monkeypatch, dense_cells):
    # The hand-made vocabulary fits the dense block whole; shrink the block (0: every pair
    # goes the sorted-runs way; 20: a mix) and every buffer so that merging, flushing
    # partial sums early and splitting batches all run.
    from sparkembed.stages.cooccur import kernel

    monkeypatch.setattr(kernel, "DENSE_CELLS_MIN", dense_cells)
    monkeypatch.setattr(kernel, "DENSE_CELLS_MAX", dense_cells)
    monkeypatch.setattr(kernel, "CHUNK_TOKENS", 7)
    monkeypatch.setattr(kernel, "MERGE_ENTRIES", 12)
    monkeypatch.setattr(kernel, "FLUSH_ENTRIES", 5)
    monkeypatch.setattr(kernel, "EMIT_ROWS", 4)
    for cfg in [
        CooccurConfig(window=3, shards=3),
        CooccurConfig(window=2, weighting="uniform", symmetric=False, keep_positions=True),
    ]:
        actual = cooccurrence_counts(tokens_df(spark), vocab_df(spark), cfg)
        expected = expected_df(spark, reference_counts(SENTENCES, VOCAB, cfg), cfg)
        assert_counts(actual, expected)


def test_numpy_shard_function_matches_spark_hash(spark):
    # The map side routes partial sums by a numpy copy of Spark's murmur3 hash(): it must
    # agree with Spark's on every id, and each route must land in its own partition.
    from sparkembed.partitioning import shard_of_ids, shard_routes

    ids = list(range(0, 5000)) + [2**31 - 1, 123_456_789]
    df = spark.createDataFrame([(i,) for i in ids], "id int")
    for shards in [1, 3, 16]:
        got = df.select("id", F.pmod(F.hash("id"), F.lit(shards)).alias("s")).collect()
        spark_shard = {r["id"]: r["s"] for r in got}
        numpy_shard = shard_of_ids(np.array(ids), shards)
        assert [spark_shard[i] for i in ids] == numpy_shard.tolist()
        assert numpy_shard.tolist()[:3] == [murmur3_int(i) % shards for i in ids[:3]]
        routes = shard_routes(shards)
        assert shard_of_ids(routes, shards).tolist() == list(range(shards))
        parts = (
            spark.createDataFrame([(int(r),) for r in routes], "route int")
            .repartition(shards, "route")
            .select("route", F.spark_partition_id().alias("p"))
            .collect()
        )
        assert sorted((r["p"], r["route"]) for r in parts) == list(enumerate(routes.tolist()))


@pytest.mark.parametrize(
    ("vocab_size", "sort_keys", "big_counts", "key_bytes"),
    [
        (1_000, False, False, 4),  # keys < 2**32: wrapping uint32 deltas, even unsorted
        (200_000, True, False, 4),  # sorted chunk, small deltas: uint32, uint64 sum
        (200_000, False, False, 8),  # unsorted (a mirrored half) with wide keys: int64
        (1_000, True, True, 4),  # counts beyond int32 stay int64
    ],
)
def test_packed_partial_sums_round_trip(vocab_size, sort_keys, big_counts, key_bytes):
    """pack_by_shard narrows keys and counts only where unpack restores them exactly."""
    from sparkembed.stages.cooccur.kernel import Params, pack_by_shard, unpack

    p = dataclasses.replace(Params.from_config(CooccurConfig(shards=3), vocab_size), emit_rows=500)
    rng = np.random.default_rng(7)
    rows = rng.integers(0, vocab_size, 5_000).astype(np.int64)
    cols = rng.integers(0, vocab_size, 5_000).astype(np.int64)
    keys = rows * vocab_size + cols
    if sort_keys:
        order = np.argsort(keys)
        keys, rows = keys[order], rows[order]
    weights = rng.integers(1, 60, len(keys)).astype(np.int64)
    if big_counts:
        weights[::7] += np.int64(2**40)
    packed = list(pack_by_shard(p, keys, rows, weights))
    assert {b.column("key_bytes")[0].as_py() for b in packed} == {key_bytes}
    assert {b.column("count_bytes")[0].as_py() for b in packed} == {8 if big_counts else 4}
    got_keys, got_weights = unpack(iter(packed), vocab_size, np.int64)
    assert got_keys.dtype == np.int64 and got_weights.dtype == np.int64
    expected = sorted(zip(keys.tolist(), weights.tolist(), strict=True))
    assert sorted(zip(got_keys.tolist(), got_weights.tolist(), strict=True)) == expected
    for batch in packed:  # each packed row holds entries of the shard it is routed to
        one = unpack(iter([batch]), vocab_size, np.int64)[0]
        route = batch.column("route")[0].as_py()
        assert set(p.shard_of[one // vocab_size].tolist()) == {list(p.routes).index(route)}


@pytest.mark.parametrize("big", [False, True])
def test_sum_by_key_packed_sort_matches_plain_sums(big):
    """Keys and integer weights sorted as one int64, or (too wide: big) by argsort."""
    from sparkembed.stages.cooccur.kernel import pack_key_weight, sum_by_key

    rng = np.random.default_rng(3)
    keys = rng.integers(0, 2**40 if big else 5_000, 20_000).astype(np.int64)
    weights = rng.integers(0, 2**30, len(keys)).astype(np.int64)
    assert (pack_key_weight(keys, weights) is None) == big
    distinct, sums = sum_by_key(keys, weights)
    expected = defaultdict(int)
    for k, w in zip(keys.tolist(), weights.tolist(), strict=True):
        expected[k] += w
    assert distinct.tolist() == sorted(expected)
    assert sums.tolist() == [expected[k] for k in sorted(expected)]


def test_shard_count_follows_tokens_times_window_unless_set():
    """0 (the default) sizes the shards by the input: at least 16, one per 31.25M token x
    window positions; an explicit count is kept."""
    cfg = CooccurConfig()
    assert cfg.shards == 0
    assert shard_count(cfg, None) == 16
    assert shard_count(cfg, 437_000) == 16  # the Wikipedia sample
    assert shard_count(cfg, 100_000_000) == 16
    assert shard_count(cfg, 1_000_000_000) == 160
    assert shard_count(CooccurConfig(window=10), 1_000_000_000) == 320
    assert shard_count(cfg, 4_500_000_000) == 720
    assert shard_count(CooccurConfig(shards=4), 1_000_000_000) == 4
