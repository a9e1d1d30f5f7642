"""Spark MLlib Word2Vec (skip-gram, hierarchical softmax) on ``DIR/tokens``.

Before MLlib sees the sentences, :func:`training_sentences` keeps the vocabulary's words,
subsamples frequent ones (word2vec's rule, a counter-based draw per token) and splits
sentences longer than MLlib's ``maxSentenceLength`` into even pieces, so nothing is cut
without notice. The subsampling threshold and the partition count left to sparkembed
(``word2vec.subsample = -1``, ``word2vec.num_partitions = 0``) are chosen from the corpus'
size first (:func:`resolve_auto`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from sparkembed.config import TrainConfig, Word2VecConfig
from sparkembed.errors import SparkembedError
from sparkembed.session import memory_bytes, task_slots
from sparkembed.stages.train.result import TrainResult, log
from sparkembed.vectors.table import vector_table_frame
from sparkembed.vocabulary.lookup import TokenIds
from sparkembed.vocabulary.subsample import keep_probability, kept, positions, row_hash_column

INT_MAX = 2**31 - 1
# A word seen c > t * N times in an N-token corpus keeps about sqrt(c * t * N) + t * N of
# its occurrences: below t * N = 50 the frequent words keep too few to learn from. The run
# warns about such a t, and the automatic t is the smallest of AUTO_THRESHOLDS that avoids it.
SMALL_THRESHOLD_COUNT = 50
# From word2vec's and gensim's default, 1e-3 (a larger t gains nothing on small corpora),
# down to 1e-5, which keeps a large corpus' training pass to about a third of its tokens.
AUTO_THRESHOLDS = (1e-5, 1e-4, 1e-3)
AUTO_SUBSAMPLE = -1.0  # word2vec.subsample's "choose from the corpus' size"
# MLlib averages the partitions' weights (and within one executor the tasks race on one
# copy of them): on a small corpus every extra partition costs quality, so the automatic
# count gives each partition at least this many tokens.
TOKENS_PER_PARTITION = 2_000_000

SENTENCE_SCHEMA = (
    "doc_id string, sentence int, piece int, tokens array<string>, "
    "tokens_in long, in_vocab long, split boolean"
)


# MLlib's Word2Vec holds its whole model on the driver (Word2Vec.scala, ``fit``): the
# vocabulary, collected (each word with two code arrays of 40 ints for the hierarchical
# softmax) and a hash from word to index, both broadcast; syn0 and syn1, vocab x dim floats
# each, in one JVM array each (hence vocab x dim < 2^31); in every iteration a broadcast of
# both (a serialised copy of each in the driver's block store) and the partitions'
# updated rows, collected (up to both matrices again): six copies of a float per word and
# dimension on a cluster's driver. In local mode the tasks run in the driver's JVM too, and
# their copies of the updated rows (sliced out, combined map-side before the shuffle) come
# on top: twelve. Measured (docs/train.md): dim 100, the peak heap grew by 6.6 kB per word
# from 40,000 to 160,000 words, and 160,000 words failed in a 1 GiB heap. Bytes per word:
MODEL_BYTES_PER_WORD_DIM = 48  # twelve floats per dimension
MODEL_BYTES_PER_WORD = 2_000  # the word, its code arrays, hash entry, broadcasts, row headers
# Of the driver's heap, what Spark and the session use besides the model (Spark reserves
# 300 MB; the rest is the scheduler's and the block store's own).
DRIVER_HEAP_OTHER = 512 << 20


# Each iteration MLlib sums the partitions' changed rows of syn0 and syn1 by word and
# collects them: up to 2 x vocabulary x dim floats, about 2.7% more once serialised (1154
# MiB for 491,091 words x 300).
RESULT_OVERHEAD = 1.05


def collected_bytes(vocab_size: int, dim: int) -> int:
    """What MLlib's word2vec returns to the driver each iteration, at most (estimate)."""
    return int(2 * vocab_size * dim * 4 * RESULT_OVERHEAD)


def max_result_bytes(spark) -> int:
    """spark.driver.maxResultSize of the running session, in bytes (0: no limit)."""
    return memory_bytes(spark.sparkContext.getConf().get("spark.driver.maxResultSize", "1g"))


def model_driver_bytes(vocab_size: int, dim: int) -> int:
    """The driver memory MLlib needs to train ``vocab_size`` words of ``dim`` (estimate)."""
    return vocab_size * (MODEL_BYTES_PER_WORD_DIM * dim + MODEL_BYTES_PER_WORD)


def largest_vocabulary(dim: int, driver_heap: int) -> int:
    """The most words of ``dim`` MLlib can train on a driver of ``driver_heap`` bytes."""
    fits = (driver_heap - DRIVER_HEAP_OTHER) // (
        MODEL_BYTES_PER_WORD_DIM * dim + MODEL_BYTES_PER_WORD
    )
    return max(0, min(fits, (INT_MAX - 1) // dim))


def driver_heap_bytes(spark) -> int:
    """The running driver JVM's largest heap (``spark.driver_memory`` for a local session,
    ``--driver-memory`` under spark-submit)."""
    return int(spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory())


def check_model_size(
    vocab_size: int,
    dim: int,
    min_count: int,
    driver_heap: int | None = None,
    max_result: int | None = None,
) -> None:
    """Before MLlib starts: ``vocab_size * dim`` must fit in a JVM array (MLlib refuses it
    otherwise, after a pass over the corpus); with ``driver_heap`` (bytes) the model must
    fit the driver (:func:`model_driver_bytes`), and with ``max_result`` (bytes, 0: no
    limit) what each iteration collects must be allowed (:func:`collected_bytes`)."""
    if vocab_size * dim >= INT_MAX:
        largest = (INT_MAX - 1) // max(vocab_size, 1)
        raise SparkembedError(
            f"word2vec model too large: vocabulary {vocab_size:,} x dim {dim} = "
            f"{vocab_size * dim:,} >= 2^31 - 1 (MLlib's limit); the largest dim for this "
            f"vocabulary is {largest:,}: lower train.dim, raise word2vec.min_count "
            f"(now {min_count}), or use --method svd"
        )
    collected = collected_bytes(vocab_size, dim)
    if max_result and collected > max_result:
        raise SparkembedError(
            f"word2vec: each iteration MLlib collects the changed rows of both weight "
            f"matrices on the driver, up to {collected / 2**30:.2f} GiB for vocabulary "
            f"{vocab_size:,} x dim {dim}, above spark.driver.maxResultSize "
            f"({max_result / 2**30:.2f} GiB): raise it ([spark] conf, or --conf under "
            f"spark-submit; local sessions get half of spark.driver_memory), raise "
            f"word2vec.min_count (now {min_count}) or lower train.dim"
        )
    if driver_heap is None:
        return
    needed = model_driver_bytes(vocab_size, dim)
    if needed > driver_heap - DRIVER_HEAP_OTHER:
        raise SparkembedError(
            f"word2vec model too large for the driver: MLlib keeps it there, about "
            f"{MODEL_BYTES_PER_WORD_DIM} x dim + {MODEL_BYTES_PER_WORD:,} bytes per word, "
            f"{needed / 2**30:.1f} GiB for vocabulary {vocab_size:,} x dim {dim}, and the "
            f"driver's heap is {driver_heap / 2**30:.1f} GiB; at most "
            f"{largest_vocabulary(dim, driver_heap):,} words of dim {dim} fit: raise "
            f"spark.driver_memory (--driver-memory under spark-submit), raise "
            f"word2vec.min_count (now {min_count}), lower train.dim, or use --method svd "
            "(docs/train.md)"
        )


def auto_subsample(tokens: int) -> float:
    """The subsampling threshold for a corpus of ``tokens`` (vocabulary) tokens: the
    smallest of :data:`AUTO_THRESHOLDS` with t * tokens >= :data:`SMALL_THRESHOLD_COUNT`,
    else the largest."""
    fits = (t for t in AUTO_THRESHOLDS if t * tokens >= SMALL_THRESHOLD_COUNT)
    return next(fits, AUTO_THRESHOLDS[-1])


def auto_partitions(tokens: int, slots: int) -> int:
    """One partition per task slot, but at least :data:`TOKENS_PER_PARTITION` tokens each."""
    return max(1, min(slots, tokens // TOKENS_PER_PARTITION))


def vocabulary_size(meta: dict | None, min_count: int) -> int | None:
    """The number of words of ``min_count`` or more from the vocab table's metadata (its
    ``counts``), without a Spark job; None when the metadata cannot say (no metadata, or
    a vocabulary cut at a lower count than ``min_count``)."""
    size = ((meta or {}).get("counts") or {}).get("vocab")
    stage = (meta or {}).get("stage")
    params = (meta or {}).get("params") or {}
    cut = (params.get(stage) or {}).get("min_count", 1) if isinstance(stage, str) else 1
    if not isinstance(size, int) or not isinstance(cut, int) or cut < min_count:
        return None
    return size


def check_auto(cfg: Word2VecConfig) -> None:
    """The one negative ``subsample`` is -1 (auto); the config's range check allows [-1, 0)."""
    if cfg.subsample < 0 and cfg.subsample != AUTO_SUBSAMPLE:
        raise SparkembedError(
            f"word2vec.subsample must be -1 (auto), 0 (off) or > 0, got {cfg.subsample:g}"
        )


def resolve_auto(cfg: Word2VecConfig, tokens: int, slots: int) -> Word2VecConfig:
    """``cfg`` with an automatic ``subsample`` (-1) and ``num_partitions`` (0) chosen for
    a corpus of ``tokens`` vocabulary tokens on ``slots`` task slots; values set by the
    user are kept."""
    check_auto(cfg)
    subsample = auto_subsample(tokens) if cfg.subsample == AUTO_SUBSAMPLE else cfg.subsample
    partitions = cfg.num_partitions or auto_partitions(tokens, slots)
    return replace(cfg, subsample=subsample, num_partitions=partitions)


@dataclass
class SentenceCounts:
    tokens: int  # all tokens of the corpus
    in_vocab: int  # tokens of the vocabulary's words (count >= min_count)
    kept: int  # after subsampling: what MLlib trains on
    split: int  # sentences longer than max_sentence_length, split into pieces

    def as_dict(self) -> dict[str, int]:
        return {
            "corpus_tokens_read": self.tokens,
            "in_vocab_tokens": self.in_vocab,
            "kept_tokens": self.kept,
            "subsampled_tokens": self.in_vocab - self.kept,
            "long_sentences_split": self.split,
        }


def _pieces(lengths: np.ndarray, max_len: int):
    """Sentences of ``lengths`` tokens cut into pieces of at most ``max_len``: per sentence
    its number of pieces (at least 1); per piece its sentence, its index in the sentence
    and its length (a sentence of n > max_len tokens: ceil(n / max_len) near-equal ones)."""
    n_pieces = np.maximum(1, -(-lengths // max_len))
    of, index = positions(n_pieces)
    base, extra = np.divmod(lengths[of], n_pieces[of])
    return n_pieces, of, index, base + (index < extra)


def _sentence_batches(vocab_bc, keep_bc, max_len: int):
    def run(batches: Iterator) -> Iterator:
        import pyarrow as pa
        import pyarrow.compute as pc

        token_ids = TokenIds(vocab_bc.value)
        keep_prob = keep_bc.value if keep_bc is not None else None
        for batch in batches:
            lists = batch.column(2)
            n = len(lists)
            lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy().astype(np.int64)
            flat = lists.flatten()
            ids = token_ids(flat)
            sentence, position = positions(lengths)
            in_vocab = np.bincount(sentence[ids >= 0], minlength=n)
            if keep_prob is None:
                keep = ids >= 0
            else:
                keep = kept(ids, sentence, position, batch.column(3).to_numpy(), keep_prob)
            kept_tokens = flat.filter(pa.array(keep))
            n_pieces, of, piece, sizes = _pieces(np.bincount(sentence[keep], minlength=n), max_len)
            first = piece == 0
            offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int32)
            take = pa.array(of)
            yield pa.RecordBatch.from_arrays(
                [
                    batch.column(0).take(take),
                    batch.column(1).take(take),
                    pa.array(piece.astype(np.int32)),
                    pa.ListArray.from_arrays(pa.array(offsets), kept_tokens),
                    pa.array(np.where(first, lengths[of], 0)),
                    pa.array(np.where(first, in_vocab[of], 0)),
                    pa.array(first & (n_pieces[of] > 1)),
                ],
                names=["doc_id", "sentence", "piece", "tokens", "tokens_in", "in_vocab", "split"],
            )

    return run


def vocabulary_words(vocab, min_count: int):
    """``token, count`` of the words seen at least ``min_count`` times, on the driver
    (vocabulary-sized)."""
    from pyspark.sql import functions as F

    return vocab.where(F.col("count") >= min_count).select("token", "count").toArrow()


def training_sentences(tokens, vocab, cfg: Word2VecConfig, seed: int, words=None):
    """The sentences MLlib trains on, and their :class:`SentenceCounts`.

    tokens: ``doc_id string, sentence int, tokens array<string>, ...``; vocab: ``token
    string, count long, ...``. Out: ``doc_id string, sentence int, piece int, tokens
    array<string>``, non-empty, persisted (the caller unpersists): the tokens of words with
    count >= ``min_count``; with ``subsample`` t > 0 each occurrence of a word of corpus
    share f kept with probability min(1, (sqrt(f/t) + 1) t/f), drawn from (seed, doc_id,
    sentence, position), so the kept tokens do not depend on the partitioning; a sentence
    longer than ``max_sentence_length`` split into near-equal pieces. ``words``: the
    :func:`vocabulary_words` of ``vocab`` when the caller has them already.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if cfg.subsample < 0:
        raise ValueError("training_sentences: resolve word2vec.subsample first (resolve_auto)")
    if words is None:
        words = vocabulary_words(vocab, cfg.min_count)
    sc = tokens.sparkSession.sparkContext
    vocab_bc = sc.broadcast(words.column("token").combine_chunks())
    keep_bc = None
    if cfg.subsample > 0:
        counts = words.column("count").to_numpy()
        keep_bc = sc.broadcast(keep_probability(counts, cfg.subsample, "word2vec"))
    prepared = tokens.select(
        "doc_id", "sentence", "tokens", row_hash_column(seed).alias("row_hash")
    ).mapInArrow(_sentence_batches(vocab_bc, keep_bc, cfg.max_sentence_length), SENTENCE_SCHEMA)
    prepared = prepared.persist(StorageLevel.MEMORY_AND_DISK)
    row = prepared.agg(
        F.sum("tokens_in").alias("tokens"),
        F.sum("in_vocab").alias("in_vocab"),
        F.sum(F.size("tokens")).alias("kept"),
        F.count_if("split").alias("split"),
    ).collect()[0]
    counts = SentenceCounts(*(int(row[k] or 0) for k in ("tokens", "in_vocab", "kept", "split")))
    return prepared.where(F.size("tokens") > 0).drop("tokens_in", "in_vocab", "split"), counts


def train_word2vec(
    tokens, vocab, train: TrainConfig, cfg: Word2VecConfig, *, quiet: bool = False
) -> TrainResult:
    """Fit MLlib Word2Vec on ``tokens.tokens``; counts of the result come from ``vocab``.

    Automatic settings (:func:`resolve_auto`) are chosen from the vocabulary's token count,
    known before any pass over the corpus; the values used are the result's
    ``extra["resolved"]``, recorded in the vector table's metadata.
    """
    from pyspark.ml.feature import Word2Vec

    dim, seed = train.dim, train.seed
    # The model's size from the vocabulary table alone, before any pass over the corpus.
    words = vocabulary_words(vocab, cfg.min_count)
    vocab_size = words.num_rows
    spark = tokens.sparkSession
    check_model_size(
        vocab_size, dim, cfg.min_count, driver_heap_bytes(spark), max_result_bytes(spark)
    )
    vocab_tokens = int(words.column("count").to_numpy().sum())
    asked = cfg
    cfg = resolve_auto(cfg, vocab_tokens, task_slots(tokens.sparkSession))
    window, max_iter = cfg.window, cfg.max_iter
    num_partitions = cfg.num_partitions
    auto = [
        f"{name} {value:g}"
        for name, value, chosen in (
            ("subsample", cfg.subsample, asked.subsample == AUTO_SUBSAMPLE),
            ("partitions", num_partitions, asked.num_partitions == 0),
        )
        if chosen
    ]
    if auto:
        log(
            f"word2vec: for {vocab_tokens:,} vocabulary tokens (auto, docs/train.md): "
            + ", ".join(auto),
            quiet,
        )
    sentences, counts = training_sentences(tokens, vocab, cfg, seed, words=words)
    kept_share = counts.kept / counts.in_vocab if counts.in_vocab else 0.0
    log(
        f"word2vec: vocabulary {vocab_size:,} x dim {dim}; {counts.in_vocab:,} of "
        f"{counts.tokens:,} tokens in the vocabulary, {counts.kept:,} kept "
        f"({kept_share:.0%}; subsample {cfg.subsample:g}); {counts.split:,} sentences longer "
        f"than {cfg.max_sentence_length:,} tokens split into pieces",
        quiet,
    )
    suggested = auto_subsample(vocab_tokens)
    if 0 < cfg.subsample * vocab_tokens < SMALL_THRESHOLD_COUNT and cfg.subsample < suggested:
        log(
            f"word2vec: warning: subsample {cfg.subsample:g} thins every word seen more than "
            f"{cfg.subsample * vocab_tokens:.0f} times in this corpus of "
            f"{vocab_tokens:,} tokens; for a corpus this small set word2vec.subsample to "
            f"{suggested:.0e}, or -1 to have it chosen (docs/train.md)",
            quiet,
        )
    log(
        f"word2vec: {max_iter} iteration{'s' if max_iter > 1 else ''} on {num_partitions} "
        f"partition{'s' if num_partitions > 1 else ''}"
        + (
            "; tasks in one executor share the weights as word2vec's threads do, so the "
            "vectors vary from run to run (num_partitions = 1: repeatable; docs/train.md)"
            if num_partitions > 1
            else ""
        ),
        quiet,
    )
    # MLlib numbers its vocabulary by count in the order a reduceByKey returns it (ties by
    # partition layout) and deals sentences out by a shuffle: fed one partition in corpus
    # order, both are the same whatever the tokens' partitioning, cores or executors. With
    # several partitions the tasks of an executor share the weights, so the order buys no
    # repeatability, and the sort and single-task reads are skipped.
    if num_partitions == 1:
        ordered = sentences.orderBy("doc_id", "sentence", "piece").select("tokens").coalesce(1)
    else:
        ordered = sentences.select("tokens")
    try:
        model = Word2Vec(
            vectorSize=dim,
            minCount=1,  # the sentences hold only words with count >= min_count
            numPartitions=num_partitions,
            stepSize=cfg.step_size,
            maxIter=max_iter,
            seed=seed,
            inputCol="tokens",
            outputCol="embedding",
            windowSize=window,
            maxSentenceLength=cfg.max_sentence_length,
        ).fit(ordered)
    finally:
        sentences.unpersist()
    result_counts = {"vocab_size": vocab_size, "partitions": num_partitions, **counts.as_dict()}
    resolved = {"word2vec": {"subsample": cfg.subsample, "num_partitions": num_partitions}}
    return TrainResult(
        learned_vectors(model, vocab, cfg.min_count), result_counts, extra={"resolved": resolved}
    )


def learned_vectors(model, vocab, min_count: int):
    """The vector frame (``token, vector, count, norm``) of the words ``model`` learned.

    Not ``model.getVectors()``: MLlib builds that frame on the driver from the model's
    map, and its rows (vocabulary x dim floats) would travel inside the tasks that write
    it. Here the vocabulary's words come from the vocab table, each as a sentence of one
    word, and the model's ``transform`` (which broadcasts the model, as training did) gives
    each the average of its one vector: the same floats. A word of the vocabulary that
    MLlib never saw (every occurrence subsampled away) gets the zero vector from
    ``transform`` and is left out, as ``getVectors`` leaves it out; a learned vector is
    never all zeros (MLlib starts each at random).
    """
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    words = vocab.where(F.col("count") >= min_count).select(
        "token", "count", F.array("token").alias(model.getInputCol())
    )
    embedded = model.transform(words).select(
        "token", vector_to_array(model.getOutputCol()).alias("vector"), "count"
    )
    frame = vector_table_frame(embedded).drop("lang")
    return frame.where(F.col("norm") > 0)
