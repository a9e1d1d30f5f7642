"""The real Wikipedia sample against gensim's WikiCorpus (the reference cleaner)."""

from __future__ import annotations

import collections

import pytest
from pyspark.sql import functions as F

from sparkembed.config import TokenizeConfig
from sparkembed.stages.tokenize.readers import read_records, split_records
from sparkembed.stages.tokenize.tokens import tokenize_documents
from sparkembed.vocabulary import build_vocab

MARKUP = (
    "ref nbsp http https www thumb px cite br div span url jpg png html colspan rowspan "
    "wikitable".split()
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def gensim_reference(enwiki_sample):
    """gensim's tokens of the sample at its defaults: (token count, articles, top 1000)."""
    from gensim.corpora.wikicorpus import WikiCorpus

    corpus = WikiCorpus(str(enwiki_sample), processes=1, dictionary={})
    counts: collections.Counter = collections.Counter()
    articles = 0
    for tokens in corpus.get_texts():
        counts.update(tokens)
        articles += 1
    return sum(counts.values()), articles, [w for w, _ in counts.most_common(1000)]


@pytest.fixture(scope="session")
def ours(spark, enwiki_sample):
    cfg = TokenizeConfig()
    records = read_records(spark, [str(enwiki_sample)], cfg).persist()
    documents, rejected = split_records(records)
    tokens = tokenize_documents(documents, cfg).persist()
    n_tokens = tokens.select(F.sum(F.size("tokens"))).first()[0]
    n_docs = tokens.select("doc_id").distinct().count()
    top = [
        r.token
        for r in build_vocab(tokens, cfg.min_count, cfg.max_vocab)
        .where("id < 1000")
        .orderBy("id")
        .collect()
    ]
    statuses = {
        (r.status, r.reason): r["count"]
        for r in records.groupBy("status", "reason").count().collect()
    }
    result = n_tokens, n_docs, top, statuses, rejected.count()
    tokens.unpersist()
    records.unpersist()
    return result


def test_token_count_within_15_percent_of_gensim(gensim_reference, ours):
    g_tokens, g_articles, _ = gensim_reference
    n_tokens, n_docs, *_ = ours
    assert (g_tokens, g_articles) == (452_944, 106)  # gensim 4.4 at its defaults
    assert n_docs == g_articles
    assert abs(n_tokens - g_tokens) / g_tokens <= 0.15, (n_tokens, g_tokens)


def test_top_1000_overlap_and_no_markup(gensim_reference, ours):
    _, _, g_top = gensim_reference
    top = ours[2]
    assert len(top) == 1000
    overlap = len(set(top) & set(g_top)) / 1000
    assert overlap >= 0.85, overlap
    assert [w for w in top if w in MARKUP] == []
    # Be cleaner than the reference: gensim's own top 1000 keeps image-markup words.
    assert {"jpg", "px"} <= set(g_top)


def test_pages_accounted_for(ours):
    statuses, n_rejected = ours[3], ours[4]
    # 206 pages: 106 articles, 99 redirects, 1 page of namespace 4; nothing rejected.
    assert statuses == {
        ("document", None): 106,
        ("skipped", "redirect"): 99,
        ("skipped", "namespace 4"): 1,
    }
    assert n_rejected == 0
