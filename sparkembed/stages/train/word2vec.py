"""Spark MLlib Word2Vec (skip-gram, hierarchical softmax) on ``DIR/tokens``.

Before MLlib sees the sentences, :func:`training_sentences` keeps the vocabulary's words,
subsamples frequent ones (word2vec's rule, a counter-based draw per token) and splits
sentences longer than MLlib's ``maxSentenceLength`` into even pieces, so nothing is cut
without notice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sparkembed.config import TrainConfig, Word2VecConfig
from sparkembed.errors import SparkembedError
from sparkembed.session import task_slots
from sparkembed.stages.train.result import TrainResult, log
from sparkembed.vectors.table import vector_table_frame
from sparkembed.vocabulary.subsample import keep_probability, kept, positions, row_hash_column

INT_MAX = 2**31 - 1
# Below t * N = 50 subsampling thins nearly every word (the 437k-token sample: WS353 0.04 at
# t = 1e-5, t * N = 4; 0.42 at t = 1e-3): the run warns.
SMALL_THRESHOLD_COUNT = 50

SENTENCE_SCHEMA = (
    "doc_id string, sentence int, piece int, tokens array<string>, "
    "tokens_in long, in_vocab long, split boolean"
)


def check_model_size(vocab_size: int, dim: int, min_count: int) -> None:
    """MLlib keeps the model in one JVM array: ``vocab_size * dim`` must fit in an int."""
    if vocab_size * dim >= INT_MAX:
        largest = (INT_MAX - 1) // max(vocab_size, 1)
        raise SparkembedError(
            f"word2vec model too large: vocabulary {vocab_size:,} x dim {dim} = "
            f"{vocab_size * dim:,} >= 2^31 - 1 (MLlib's limit); the largest dim for this "
            f"vocabulary is {largest:,}: lower train.dim, raise word2vec.min_count "
            f"(now {min_count}), or use --method svd"
        )


def _small_corpus_threshold(tokens: int) -> float:
    """The smallest power of ten t with t * tokens >= 100."""
    t = 1e-5
    while t * tokens < 100 and t < 1e-2:
        t *= 10
    return t


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

        vocab, keep_prob = vocab_bc.value, keep_bc.value if keep_bc is not None else None
        for batch in batches:
            lists = batch.column(2)
            n = len(lists)
            lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy().astype(np.int64)
            flat = lists.flatten()
            ids = pc.fill_null(pc.index_in(flat, value_set=vocab), -1).to_numpy()
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
    """Fit MLlib Word2Vec on ``tokens.tokens``; counts of the result come from ``vocab``."""
    from pyspark.ml.feature import Word2Vec
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    dim, seed = train.dim, train.seed
    window, min_count, max_iter = cfg.window, cfg.min_count, cfg.max_iter
    num_partitions = cfg.num_partitions or task_slots(tokens.sparkSession)
    # The model's size from the vocabulary table alone, before any pass over the corpus.
    words = vocabulary_words(vocab, min_count)
    vocab_size = words.num_rows
    check_model_size(vocab_size, dim, min_count)
    sentences, counts = training_sentences(tokens, vocab, cfg, seed, words=words)
    kept_share = counts.kept / counts.in_vocab if counts.in_vocab else 0.0
    log(
        f"word2vec: vocabulary {vocab_size:,} x dim {dim}; {counts.in_vocab:,} of "
        f"{counts.tokens:,} tokens in the vocabulary, {counts.kept:,} kept "
        f"({kept_share:.0%}; subsample {cfg.subsample:g}); {counts.split:,} sentences longer "
        f"than {cfg.max_sentence_length:,} tokens split into pieces",
        quiet,
    )
    if 0 < cfg.subsample * counts.in_vocab < SMALL_THRESHOLD_COUNT:
        log(
            f"word2vec: warning: subsample {cfg.subsample:g} thins every word seen more than "
            f"{cfg.subsample * counts.in_vocab:.0f} times in this corpus of "
            f"{counts.in_vocab:,} tokens; for a corpus this small set word2vec.subsample to "
            f"{_small_corpus_threshold(counts.in_vocab):.0e} or more (docs/train.md)",
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
    learned = model.getVectors().select(
        F.col("word").alias("token"), vector_to_array("vector").alias("vector")
    )
    out = learned.join(vocab.select("token", "count"), "token")
    result_counts = {"vocab_size": vocab_size, "partitions": num_partitions, **counts.as_dict()}
    return TrainResult(vector_table_frame(out).drop("lang"), result_counts)
