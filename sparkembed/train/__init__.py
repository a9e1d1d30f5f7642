"""Trainers: DIR tables in, a ``token, vector, count`` DataFrame out.

``word2vec``: Spark MLlib's skip-gram on ``DIR/tokens``.
``svd``: positive PMI of ``DIR/cooccurrence`` (context smoothing, optional shift), then a
truncated SVD computed in Spark (randomized, or MLlib's ``computeSVD``).
"""

from sparkembed.train.ppmi import ppmi_entries
from sparkembed.train.svd import randomized_svd, train_svd
from sparkembed.train.word2vec import train_word2vec

__all__ = ["ppmi_entries", "randomized_svd", "train_svd", "train_word2vec"]
