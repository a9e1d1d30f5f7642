"""Acceptance on gensim's shortened English dump: tokenize -> cooccur -> train -> export,
scored with gensim's evaluate_word_pairs on WS353 (dim 100, min count 5, window 5)."""

import pytest
from gensim.models import KeyedVectors

from sparkembed.cli import main
from sparkembed.tables import read_metadata

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(spark, enwiki_sample, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("enwiki") / "work")
    assert main(["tokenize", str(enwiki_sample), "--output", root, "--min-count", "5", "-q"]) == 0
    assert main(["cooccur", root, "--window", "5", "-q"]) == 0
    return root


def _ws353(root, method, gensim_data, tmp_path):
    out = f"{root}/vectors_{method}"
    # word2vec with its defaults: on a corpus this small they resolve to subsample 1e-3 and
    # 1 partition (docs/train.md), so the vectors are the same from run to run
    argv = ["train", root, "--method", method, "--dim", "100", "--output", out, "-q"]
    assert main(argv) == 0
    exported = tmp_path / f"{method}.bin"
    assert main(["export", out, "--output", str(exported), "--binary", "-q"]) == 0
    kv = KeyedVectors.load_word2vec_format(str(exported), binary=True)
    assert kv.vector_size == 100 and len(kv) > 8000
    pearson, spearman, oov = kv.evaluate_word_pairs(str(gensim_data / "wordsim353.tsv"))
    print(f"{method}: WS353 Spearman {spearman[0]:.4f}, OOV {oov:.1f}%")
    return spearman[0]


def test_svd_ws353_on_the_sample(workdir, gensim_data, tmp_path):
    assert _ws353(workdir, "svd", gensim_data, tmp_path) >= 0.45  # measured 0.49


def test_word2vec_ws353_on_the_sample(spark, workdir, gensim_data, tmp_path):
    assert _ws353(workdir, "word2vec", gensim_data, tmp_path) >= 0.42  # measured 0.457
    meta = read_metadata(spark, f"{workdir}/vectors_word2vec")
    assert meta["resolved"] == {"word2vec": {"subsample": 1e-3, "num_partitions": 1}}
