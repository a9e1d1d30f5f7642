"""Spark MLlib Word2Vec (skip-gram, hierarchical softmax) on ``DIR/tokens``."""

from __future__ import annotations

import sys

from sparkembed.config import TrainConfig, Word2VecConfig
from sparkembed.errors import SparkembedError
from sparkembed.stages.train.result import TrainResult
from sparkembed.vectors.table import vector_table_frame

INT_MAX = 2**31 - 1


def check_model_size(vocab_size: int, dim: int, min_count: int) -> None:
    """MLlib keeps the model in one JVM array: ``vocab_size * dim`` must fit in an int."""
    if vocab_size * dim >= INT_MAX:
        raise SparkembedError(
            f"word2vec model too large: vocabulary {vocab_size:,} x dim {dim} = "
            f"{vocab_size * dim:,} >= 2^31 - 1 (MLlib's limit); raise word2vec.min_count "
            f"(now {min_count}) or lower train.dim, or use --method svd"
        )


def train_word2vec(
    tokens, vocab, train: TrainConfig, cfg: Word2VecConfig, *, quiet: bool = False
) -> TrainResult:
    """Fit MLlib Word2Vec on ``tokens.tokens``; counts of the result come from ``vocab``."""
    from pyspark.ml.feature import Word2Vec
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    dim, seed = train.dim, train.seed
    window, min_count, max_iter = cfg.window, cfg.min_count, cfg.max_iter
    num_partitions = cfg.num_partitions
    if dim < 1 or window < 1 or max_iter < 1 or num_partitions < 1:
        raise SparkembedError(
            "train.dim, word2vec.window, word2vec.max_iter and word2vec.num_partitions must be >= 1"
        )
    # MLlib counts its own vocabulary over the sentences; the tokens' counts equal those in
    # DIR/vocab (same corpus), so the check can use DIR/vocab without a pass over the corpus.
    vocab_size = vocab.where(F.col("count") >= min_count).count()
    check_model_size(vocab_size, dim, min_count)
    if not quiet:
        print(
            f"[train] word2vec: vocabulary {vocab_size:,} x dim {dim}; numPartitions "
            f"{num_partitions}: each partition trains on its share of the sentences from the "
            "same weights and the results are averaged after every iteration, so more "
            "partitions run faster but learn less per iteration (keep max_iter <= "
            "num_partitions small, or use 1 partition for the best vectors)",
            file=sys.stderr,
            flush=True,
        )
    # MLlib numbers its vocabulary by count in the order a reduceByKey returns it (ties by
    # partition layout) and deals sentences out by a shuffle: fed one partition in corpus
    # order, both are the same whatever the tokens' partitioning, cores or executors.
    sentences = (
        tokens.where(F.size("tokens") > 0)
        .orderBy("doc_id", "sentence")
        .select("tokens")
        .coalesce(1)
    )
    model = Word2Vec(
        vectorSize=dim,
        minCount=min_count,
        numPartitions=num_partitions,
        stepSize=cfg.step_size,
        maxIter=max_iter,
        seed=seed,
        inputCol="tokens",
        outputCol="embedding",
        windowSize=window,
        maxSentenceLength=cfg.max_sentence_length,
    ).fit(sentences)
    learned = model.getVectors().select(
        F.col("word").alias("token"), vector_to_array("vector").alias("vector")
    )
    learned = learned.persist()
    n_learned = learned.count()
    out = learned.join(vocab.select("token", "count"), "token")
    n_out = out.count()
    if n_out < n_learned and not quiet:
        # MLlib counts its own vocabulary; DIR/vocab may be cut by max_vocab.
        print(
            f"[train] word2vec: {n_learned - n_out:,} learned tokens are not in DIR/vocab "
            "(left out of the table)",
            file=sys.stderr,
        )
    counts = {"vocab_size": vocab_size, "learned": n_learned, "not_in_vocab": n_learned - n_out}
    return TrainResult(vector_table_frame(out).drop("lang"), counts)
