"""Seeded, parallel generator of a Wikipedia-like corpus of any size (100M, 300M, 1B tokens).

Writes, under OUT:

  text/part-NNNNN.txt   a document per line, sentences ending in ". " (the plain-text
                        format of `sparkembed tokenize --format text`, text_unit "line");
                        files of about --file-mb MB, cut between documents
  dump/enwiki-synthetic-pages-articles-multistream.xml.bz2
                        the same documents as a MediaWiki pages-articles dump (namespace 0,
                        a little wiki markup that the tokenizer's cleaner removes), multistream
                        as Wikipedia's: the <siteinfo> header, then --pages-per-stream pages
                        per bz2 stream, then </mediawiki>, each its own stream
  dump/enwiki-synthetic-pages-articles-multistream-index.txt.bz2
                        "offset:page_id:title" per page, offset = the byte where the page's
                        stream starts (give tokenize the .xml.bz2 file, not the folder: the
                        index's name also says pages-articles)
  pairs.tsv             word1<TAB>word2<TAB>score (wordsim353's format) of planted relatedness
  corpus.json           parameters, seed, version and counts (byte-identical across runs)
  run.json              seconds, processes, load average: the only file that differs per run

The model. Word ids are frequency ranks of a double power law (Zipf exponent 1 with a
flattened head, p(r) ~ 1/(r + 1) up to rank ZIPF_BREAK, then exponent ZIPF_TAIL), fitted
so that the expected number of words with count >= 5 is 64k at 9.6M tokens (the project's
real text) and 1.0M at 1B (English Wikipedia: ~2.5M at 4.5B; the model gives 2.43M).
A word's string is a function of its id only: a sequence of syllables (consonant, vowel,
optional final consonant: a string splits into syllables one way only), 1 syllable for the
200 most frequent words, 2 up to rank 4,000, 3 beyond, so no two ids share a string. The HEAD most frequent words are
function words, drawn from the global head. Every other word has one of N_CLASSES latent
classes, grouped in N_SUPER super-topics; classes are given to ranks at random, so that
frequency and class are independent. A document draws two super-topics and SLOTS classes
from them with Dirichlet weights; each sentence draws one of its document's classes; a
content word comes from the sentence's class, from the document's mixture or from the
background (all classes), then from that class's words in proportion to their global
frequency. Class draws average to the classes' frequency mass, so the overall word
frequencies are exactly the Zipf model's. Words of one class co-occur more than words of
one super-topic, which co-occur more than unrelated words: pairs.tsv scores pairs so.

`sparkembed tokenize` of the text files and of the dump give the same tokens, sentence by
sentence (checked on 300k tokens: 551 documents, 13,631 sentences, 300,129 tokens each).

Determinism: chunks of --chunk-docs documents, chunk i drawn from
SeedSequence([seed, stream, i]) alone; the number of chunks depends on --tokens only.
Same seed, size and chunk/stream/file settings -> the same bytes whatever --processes.
Workers draw, format and bz2-compress their chunks; the parent writes them in order.

    .venv/bin/python -m bench.make_wiki_corpus --tokens 100M --output .data/wiki100m \\
        --seed 42 --processes 2
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import json
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

VERSION = "1"

# Frequency model (ranks 0..VOCAB-1): density 1/(x + ZIPF_B) up to ZIPF_BREAK, then
# continued with exponent ZIPF_TAIL; p(r) is the mass of [r, r + 1).
ZIPF_B = 1.0
ZIPF_BREAK = 11519.0
ZIPF_TAIL = 1.6928
HEAD = 100  # function words: ranks below HEAD, no class
N_SUPER = 20
CLASSES_PER_SUPER = 25
N_CLASSES = N_SUPER * CLASSES_PER_SUPER
EXACT_END = 65536  # ranks HEAD..EXACT_END-1: classes by a table, exact per-class sampling
N_BLOCKS = (2**23 - EXACT_END) // N_CLASSES  # beyond: blocks of N_CLASSES ranks, one per class
VOCAB = EXACT_END + N_BLOCKS * N_CLASSES

# Documents and sentences.
DOC_MEDIAN = 360.0  # tokens; lognormal, mean ~600 (Wikipedia articles: 500-700, heavy tail)
DOC_SIGMA = 1.0
MIN_DOC_TOKENS = 50  # tokenize's min_article_tokens: shorter pages would be skipped
SENT_MIN, SENT_SHAPE, SENT_SCALE, SENT_MAX = 3, 3.0, 6.5, 200  # 3 + gamma: mean ~22
SENT_MEAN = SENT_MIN + SENT_SHAPE * SENT_SCALE

# Topic structure.
SLOTS = 6  # classes per document
FIRST_SUPER = 0.7  # share of a document's slots from its first super-topic
ALPHA = 0.4  # Dirichlet weight of the slots
P_SENTENCE, P_DOCUMENT = 0.5, 0.2  # content word from the sentence's class / the document's
# (the rest, 0.3, from the background: any class, by mass)

# Word strings: syllables consonant + vowel (+ coda), frequent ones first.
ONSETS = "bcdfghklmnprstvw"
VOWELS = "aeiou"
CODAS = ("", "n", "r", "s", "l", "m", "t", "k")

# Pieces of text shared by every chunk (index = piece id).
FIXED = [
    b"",  # 0 empty
    b" ",  # 1
    b", ",  # 2
    b". ",  # 3
    b".\n",  # 4 end of a document in the text files
    b".\n\n",  # 5 end of a paragraph
    b"\n== ",  # 6
    b" ==\n",  # 7
    b"[[",  # 8
    b"|",  # 9
    b"]]",  # 10
    b"'''",  # 11
    b".&lt;ref&gt;{{cite web |title=Source |url=https://example.org/ref}}&lt;/ref&gt; ",  # 12
    b"{{Short description|Synthetic article}}\n'''",  # 13..15: page starts, bold opener
    b"{{Use dmy dates|date=January 2026}}\n{{Infobox topic\n| name = Synthetic\n"
    b"| image = Example.png\n}}\n'''",
    b"{{About|the subject|other uses|Synthetic (disambiguation)}}\n'''",
]
(EMPTY, SP, COMMA, DOT, DOT_NL, PARA, HEAD_OPEN, HEAD_CLOSE) = range(8)
LINK_OPEN, PIPE, LINK_CLOSE, BOLD, REF, PAGE_START = 8, 9, 10, 11, 12, 13
N_PAGE_STARTS = 3

SITEINFO = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xsi:schemaLocation="http://www.mediawiki.org/xml/export-0.10/ \
http://www.mediawiki.org/xml/export-0.10.xsd" version="0.10" xml:lang="en">
  <siteinfo>
    <sitename>Wikipedia</sitename>
    <dbname>enwiki</dbname>
    <base>https://en.wikipedia.org/wiki/Main_Page</base>
    <generator>MediaWiki 1.27.0-wmf.22</generator>
    <case>first-letter</case>
    <namespaces>
      <namespace key="-2" case="first-letter">Media</namespace>
      <namespace key="-1" case="first-letter">Special</namespace>
      <namespace key="0" case="first-letter" />
      <namespace key="1" case="first-letter">Talk</namespace>
      <namespace key="10" case="first-letter">Template</namespace>
      <namespace key="14" case="first-letter">Category</namespace>
    </namespaces>
  </siteinfo>
"""
PAGE = """  <page>
    <title>{title}</title>
    <ns>0</ns>
    <id>{id}</id>
    <revision>
      <id>{rev}</id>
      <timestamp>{ts}</timestamp>
      <contributor>
        <username>Synthetic</username>
        <id>1</id>
      </contributor>
      <model>wikitext</model>
      <format>text/x-wiki</format>
      <text bytes="{n}" xml:space="preserve">"""
PAGE_END = """</text>
      <sha1>{sha1}</sha1>
    </revision>
  </page>
"""
DUMP_NAME = "enwiki-synthetic-pages-articles-multistream.xml.bz2"
INDEX_NAME = "enwiki-synthetic-pages-articles-multistream-index.txt.bz2"


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


# ---------------------------------------------------------------- frequency model


def zipf_cdf(x) -> np.ndarray:
    """Unnormalised mass of [0, x) under the double power law."""
    x = np.asarray(x, dtype=np.float64)
    head = np.log((np.minimum(x, ZIPF_BREAK) + ZIPF_B) / ZIPF_B)
    s = (np.maximum(x, ZIPF_BREAK) + ZIPF_B) / (ZIPF_BREAK + ZIPF_B)
    return head + (1.0 - s ** (1.0 - ZIPF_TAIL)) / (ZIPF_TAIL - 1.0)


def zipf_probabilities(lo: int = 0, hi: int = VOCAB) -> np.ndarray:
    """p(r) for ranks lo..hi-1 (normalised over the whole vocabulary)."""
    return np.diff(zipf_cdf(np.arange(lo, hi + 1))) / zipf_cdf(VOCAB)


def expected_types(n_tokens: float, min_count: int = 5, p: np.ndarray | None = None) -> float:
    """Expected number of words with count >= min_count in n_tokens tokens (Poisson:
    P(X >= k) is the regularised lower incomplete gamma function P(k, lambda))."""
    from scipy import special

    p = zipf_probabilities() if p is None else p
    return float(special.gammainc(min_count, n_tokens * p).sum())


def _tail_ranks(u: np.ndarray) -> np.ndarray:
    """Inverse CDF of the model restricted to [EXACT_END, VOCAB): u in [0, 1) -> ranks."""
    e = 1.0 - ZIPF_TAIL
    s0 = ((EXACT_END + ZIPF_B) / (ZIPF_BREAK + ZIPF_B)) ** e
    s1 = ((VOCAB + ZIPF_B) / (ZIPF_BREAK + ZIPF_B)) ** e
    x = (s0 + u * (s1 - s0)) ** (1.0 / e) * (ZIPF_BREAK + ZIPF_B) - ZIPF_B
    return np.clip(np.floor(x).astype(np.int64), EXACT_END, VOCAB - 1)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 (wrapping arithmetic)."""
    x = x.astype(np.uint64)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


# ---------------------------------------------------------------- word strings


def _syllables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bytes pool, starts, lengths) of the syllables, open (CV) ones first."""
    rng = np.random.default_rng(20261207)  # fixed: word strings never depend on the seed
    open_ = [o + v for o in ONSETS for v in VOWELS]
    closed = [o + v + c for o in ONSETS for v in VOWELS for c in CODAS if c]
    syl = [open_[i] for i in rng.permutation(len(open_))]
    syl += [closed[i] for i in rng.permutation(len(closed))]
    lens = np.array([len(s) for s in syl], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    return np.frombuffer("".join(syl).encode(), dtype=np.uint8), starts, lens


SYL_POOL, SYL_STARTS, SYL_LENS = _syllables()
N_SYL = len(SYL_LENS)
MAX_SYLLABLES = 4
_SCRAMBLE = 2654435761  # odd and not a multiple of 5: coprime to 640**k
# Ids per word length: 200 words of one syllable, 3,800 of two, then three syllables (as
# English, frequent words are short, rare ones long); ids below _LEN_ENDS[k-1]: k syllables.
_LEN_ENDS = np.cumsum([200, 3800, N_SYL**3, N_SYL**4])


def gather(pool: np.ndarray, starts: np.ndarray, lens: np.ndarray, ids: np.ndarray):
    """Concatenate pieces ``ids`` of a byte pool: (uint8 bytes, offsets of each piece)."""
    piece_lens = lens[ids]
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(piece_lens, out=offsets[1:])
    total = int(offsets[-1])
    src = np.repeat(starts[ids] - offsets[:-1], piece_lens)
    src += np.arange(total, dtype=np.int64)
    return pool[src], offsets


def word_pieces(ranks: np.ndarray):
    """(bytes pool, starts, lengths) of the strings of word ids ``ranks``."""
    ranks = np.asarray(ranks, dtype=np.int64)
    n_syl = np.searchsorted(_LEN_ENDS, ranks, side="right") + 1
    base = np.concatenate([[0], _LEN_ENDS])[n_syl - 1]
    rest = ranks - base
    # scramble the 2- and 3-syllable classes (an affine bijection mod N_SYL**k, of which
    # the first ids are used: still one-to-one), so that neighbouring ids do not share
    # syllables; single syllables keep their order (open ones, the shortest, first);
    # 4-syllable ids (beyond 262M) are left in order
    for k in range(2, MAX_SYLLABLES):
        m = N_SYL**k
        sel = n_syl == k
        rest[sel] = (rest[sel] * (_SCRAMBLE % m) + 12345) % m
    digits = np.full((len(ranks), MAX_SYLLABLES), -1, dtype=np.int64)
    for k in range(MAX_SYLLABLES):
        have = n_syl > k
        digits[have, k] = rest[have] % N_SYL
        rest = rest // N_SYL
    flat = digits.ravel()
    pool, _ = gather(SYL_POOL, SYL_STARTS, SYL_LENS, flat[flat >= 0])
    lens = np.where(digits >= 0, SYL_LENS[np.maximum(digits, 0)], 0).sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    return pool, starts, lens


def word_strings(ranks) -> list[str]:
    pool, starts, lens = word_pieces(np.asarray(ranks))
    data = pool.tobytes().decode()
    return [data[s : s + n] for s, n in zip(starts.tolist(), lens.tolist(), strict=True)]


def titles(page_ids: np.ndarray) -> list[str]:
    """Page titles: capitalised strings of ids beyond the vocabulary (unique per page)."""
    return [w.capitalize() for w in word_strings(VOCAB + np.asarray(page_ids, dtype=np.int64))]


# ---------------------------------------------------------------- topic model


class Model:
    """Everything a chunk is drawn from: the frequency model and the planted classes."""

    def __init__(self, seed: int):
        self.seed = seed
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
        n_exact = EXACT_END - HEAD
        self.exact_class = rng.permutation(np.arange(n_exact) % N_CLASSES)  # rank HEAD + i
        self.rot_key = np.uint64(int(rng.integers(0, 2**63)))
        p_head = zipf_probabilities(0, HEAD)
        p_exact = zipf_probabilities(HEAD, EXACT_END)
        z = zipf_cdf(VOCAB)
        tail = float((zipf_cdf(VOCAB) - zipf_cdf(EXACT_END)) / z)
        self.p_head_total = float(p_head.sum())
        self.head_cum = np.cumsum(p_head) / p_head.sum()
        order = np.argsort(self.exact_class, kind="stable")
        self.exact_ranks = HEAD + order
        self.exact_cum = np.cumsum(p_exact[order])
        self.class_exact = np.bincount(self.exact_class, weights=p_exact, minlength=N_CLASSES)
        self.class_mass = self.class_exact + tail / N_CLASSES
        self.class_first = np.searchsorted(self.exact_class[order], np.arange(N_CLASSES))
        self.class_last = np.append(self.class_first[1:], n_exact) - 1
        self.class_cum0 = np.concatenate([[0.0], np.cumsum(self.class_exact)[:-1]])
        pi = self.class_mass / self.class_mass.sum()
        self.pi_cum = np.cumsum(pi)
        self.super_mass = pi.reshape(N_SUPER, CLASSES_PER_SUPER).sum(axis=1)
        self.super_cum = np.cumsum(self.super_mass)
        self.super_cum0 = np.concatenate([[0.0], self.super_cum[:-1]])

    # classes
    def rank_class(self, ranks: np.ndarray) -> np.ndarray:
        """The class of content word ids (HEAD <= rank < VOCAB)."""
        ranks = np.asarray(ranks, dtype=np.int64)
        out = np.empty(len(ranks), dtype=np.int64)
        ex = ranks < EXACT_END
        out[ex] = self.exact_class[ranks[ex] - HEAD]
        r = ranks[~ex] - EXACT_END
        out[~ex] = (r % N_CLASSES + self._rot(r // N_CLASSES)) % N_CLASSES
        return out

    def _rot(self, block: np.ndarray) -> np.ndarray:
        return (_mix64(block.astype(np.uint64) ^ self.rot_key) % np.uint64(N_CLASSES)).astype(
            np.int64
        )

    def classes_in_super(self, rng, supers: np.ndarray) -> np.ndarray:
        u = self.super_cum0[supers] + rng.random(supers.shape) * self.super_mass[supers]
        c = np.searchsorted(self.pi_cum, u, side="right")
        lo = supers * CLASSES_PER_SUPER
        return np.clip(c, lo, lo + CLASSES_PER_SUPER - 1)

    def background_classes(self, rng, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.pi_cum, rng.random(n), side="right"), N_CLASSES - 1)

    def words_of_classes(self, rng, classes: np.ndarray) -> np.ndarray:
        """One word id per class, in proportion to the words' global frequency."""
        u = rng.random(len(classes)) * self.class_mass[classes]
        ranks = np.empty(len(classes), dtype=np.int64)
        ex = u < self.class_exact[classes]
        c = classes[ex]
        i = np.searchsorted(self.exact_cum, self.class_cum0[c] + u[ex], side="right")
        ranks[ex] = self.exact_ranks[np.clip(i, self.class_first[c], self.class_last[c])]
        c = classes[~ex]
        r = _tail_ranks(rng.random(len(c))) - EXACT_END
        block = r // N_CLASSES
        ranks[~ex] = EXACT_END + block * N_CLASSES + (c - self._rot(block)) % N_CLASSES
        return ranks

    def function_words(self, rng, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.head_cum, rng.random(n), side="right"), HEAD - 1)


def layout(seed: int, chunk: int, n_docs: int):
    """Sentence lengths of a chunk's documents: (sentences per doc, tokens per sentence)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1, chunk]))
    target = np.exp(rng.normal(np.log(DOC_MEDIAN), DOC_SIGMA, n_docs))
    n_sent = np.maximum(2, np.rint(target / SENT_MEAN)).astype(np.int64)
    lens = SENT_MIN + np.floor(rng.gamma(SENT_SHAPE, SENT_SCALE, int(n_sent.sum())))
    lens = np.minimum(lens, SENT_MAX).astype(np.int64)
    ends = np.cumsum(n_sent)
    doc_tokens = np.add.reduceat(lens, ends - n_sent)
    short = doc_tokens < MIN_DOC_TOKENS
    lens[ends[short] - 1] += MIN_DOC_TOKENS - doc_tokens[short]
    return n_sent, lens


def draw_chunk(model: Model, chunk: int, n_docs_full: int, n_docs: int):
    """Word ids of a chunk's first n_docs documents, with their sentence structure."""
    n_sent, lens = layout(model.seed, chunk, n_docs_full)
    n_sent = n_sent[:n_docs]
    lens = lens[: int(n_sent.sum())]
    rng = np.random.default_rng(np.random.SeedSequence([model.seed, 2, chunk]))
    d, s, t = n_docs, len(lens), int(lens.sum())
    sent_doc = np.repeat(np.arange(d), n_sent)
    tok_sent = np.repeat(np.arange(s), lens)
    # documents: two super-topics, SLOTS classes from them, Dirichlet weights
    supers = np.minimum(np.searchsorted(model.super_cum, rng.random((d, 2)), "right"), N_SUPER - 1)
    second = rng.random((d, SLOTS)) >= FIRST_SUPER
    slot_class = model.classes_in_super(rng, np.where(second, supers[:, 1:2], supers[:, 0:1]))
    theta = rng.gamma(ALPHA, 1.0, (d, SLOTS)) + 1e-12
    theta_cum = np.cumsum(theta / theta.sum(axis=1, keepdims=True), axis=1)

    def pick_slots(docs: np.ndarray) -> np.ndarray:
        u = rng.random(len(docs))
        slot = np.minimum((u[:, None] > theta_cum[docs]).sum(axis=1), SLOTS - 1)
        return slot_class[docs, slot]

    sent_class = pick_slots(sent_doc)
    # tokens: function word, or content word of the sentence's / document's / any class
    ids = np.empty(t, dtype=np.int64)
    u = rng.random(t)
    func = u < model.p_head_total
    ids[func] = model.function_words(rng, int(func.sum()))
    content = np.flatnonzero(~func)
    mode = rng.random(len(content))
    classes = sent_class[tok_sent[content]]
    by_doc = (mode >= P_SENTENCE) & (mode < P_SENTENCE + P_DOCUMENT)
    classes[by_doc] = pick_slots(sent_doc[tok_sent[content[by_doc]]])
    bg = mode >= P_SENTENCE + P_DOCUMENT
    classes[bg] = model.background_classes(rng, int(bg.sum()))
    ids[content] = model.words_of_classes(rng, classes)
    return ids, n_sent, lens, supers[:, 0], rng


# ---------------------------------------------------------------- formatting


def _pieces(ids: np.ndarray, extra: list[bytes]):
    """Piece table of a chunk: FIXED, then ``extra``, then the chunk's words.
    Returns (pool, starts, lens, piece id of each token, word ranks, their counts)."""
    uniq, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    wpool, wstarts, wlens = word_pieces(uniq)
    fixed = FIXED + extra
    fixed_pool = np.frombuffer(b"".join(fixed), dtype=np.uint8)
    flens = np.array([len(p) for p in fixed], dtype=np.int64)
    fstarts = np.concatenate([[0], np.cumsum(flens)[:-1]])
    pool = np.concatenate([fixed_pool, wpool])
    starts = np.concatenate([fstarts, wstarts + len(fixed_pool)])
    lens = np.concatenate([flens, wlens])
    return pool, starts, lens, len(fixed) + inverse, uniq, counts


def _capitalise(data: np.ndarray, positions: np.ndarray) -> None:
    data[positions] -= 32  # a-z -> A-Z (word strings are lowercase ASCII)


def format_chunk(model: Model, chunk: int, n_docs_full: int, n_docs: int, opts: dict):
    """A chunk's text lines, and (when asked) its dump streams; plus counts."""
    ids, n_sent, lens, first_super, rng = draw_chunk(model, chunk, n_docs_full, n_docs)
    t, s = len(ids), len(lens)
    sent_end = np.cumsum(lens) - 1
    sent_start = sent_end - lens + 1
    doc_sent_end = np.cumsum(n_sent) - 1
    doc_sent_start = doc_sent_end - n_sent + 1
    doc_tok_start = sent_start[doc_sent_start]
    doc_tok_end = sent_end[doc_sent_end]
    categories = [
        f".\n\n[[Category:{w.capitalize()} topics]]\n".encode()
        for w in word_strings(VOCAB + 10**9 + np.arange(N_SUPER))
    ]
    pool, starts, plens, word, uniq, counts = _pieces(ids, categories)
    category0 = len(FIXED)

    # plain text: word, separator
    sep = np.full(t, SP, dtype=np.int64)
    sep[rng.random(t) < 0.06] = COMMA
    sep[sent_end] = DOT
    sep[doc_tok_end] = DOT_NL
    text, off = gather(pool, starts, plens, np.stack([word, sep], axis=1).ravel())
    _capitalise(text, off[2 * sent_start])
    out = {"text": text.tobytes(), "tokens": t, "sentences": s, "docs": n_docs}
    out["ranks"], out["counts"] = uniq, counts
    if not opts["dump"]:
        return out

    # wiki text: page start, heading open, [[, target, |, word, ]] or ''', separator
    slots = np.zeros((t, 8), dtype=np.int64)
    slots[:, 5] = word
    first_of_doc = np.zeros(t, bool)
    first_of_doc[doc_tok_start] = True
    heading_sent = (lens <= 6) & (rng.random(s) < 0.8)
    heading_sent[doc_sent_start] = False
    heading_sent[doc_sent_end] = False
    heading_tok = np.repeat(heading_sent, lens)
    wsep = np.where(heading_tok, SP, sep)
    ends = sent_end[~heading_sent]
    wsep[ends] = np.where(rng.random(len(ends)) < 0.15, PARA, DOT)
    wsep[ends[rng.random(len(ends)) < 0.04]] = REF
    wsep[sent_end[heading_sent]] = HEAD_CLOSE
    slots[sent_start[heading_sent], 1] = HEAD_OPEN
    wsep[doc_tok_end] = category0 + first_super
    slots[:, 7] = wsep
    slots[doc_tok_start, 0] = PAGE_START + rng.integers(0, N_PAGE_STARTS, n_docs)
    slots[doc_tok_start, 6] = BOLD
    linkable = (ids >= HEAD) & ~first_of_doc & ~heading_tok
    link = np.flatnonzero(linkable & (rng.random(t) < 0.08))
    slots[link, 2] = LINK_OPEN
    slots[link, 6] = LINK_CLOSE
    piped = link[rng.random(len(link)) < 0.5]
    slots[piped, 3] = word[rng.integers(0, t, len(piped))]
    slots[piped, 4] = PIPE
    wiki, woff = gather(pool, starts, plens, slots.ravel())
    _capitalise(wiki, woff[8 * sent_start + 5])
    doc_bytes = woff[np.append(8 * doc_tok_start, 8 * t)]
    page0 = chunk * opts["chunk_docs"] + 1
    page_ids = np.arange(page0, page0 + n_docs)
    names = titles(page_ids)
    data = wiki.tobytes()
    streams, index = [], []
    per = opts["pages_per_stream"]
    for k in range(0, n_docs, per):
        parts = []
        for j in range(k, min(k + per, n_docs)):
            body = data[doc_bytes[j] : doc_bytes[j + 1]]
            pid = int(page_ids[j])
            stamp = time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_600_000_000 + (pid * 7919) % 150_000_000)
            )
            parts.append(
                PAGE.format(
                    title=names[j], id=pid, rev=500_000_000 + pid, ts=stamp, n=len(body)
                ).encode()
            )
            parts.append(body)
            parts.append(PAGE_END.format(sha1=_base36_sha1(body)).encode())
        streams.append(bz2.compress(b"".join(parts), 9))
        index.append([(int(page_ids[j]), names[j]) for j in range(k, min(k + per, n_docs))])
    out["streams"], out["index"] = streams, index
    return out


def _base36_sha1(data: bytes) -> str:
    n = int.from_bytes(hashlib.sha1(data).digest(), "big")
    digits = []
    while n:
        n, r = divmod(n, 36)
        digits.append("0123456789abcdefghijklmnopqrstuvwxyz"[r])
    return "".join(reversed(digits)).rjust(31, "0")


# ---------------------------------------------------------------- pairs


def planted_pairs(model: Model, n_tokens: int, n_pairs: int = 350):
    """Word pairs scored by planted relatedness: same class 7-10, same super-topic 3.5-6.5,
    unrelated 0-3. Words are content words expected >= 20 times in n_tokens tokens (at
    most rank 3000: the same pairs for every size from ~1M tokens up)."""
    rng = np.random.default_rng(np.random.SeedSequence([model.seed, 3]))
    p = zipf_probabilities(0, 3000)
    top = int(np.searchsorted(-p * n_tokens, -20.0, side="right"))
    cand = np.arange(HEAD, max(HEAD, min(top, 3000)))
    if len(cand) < 4:
        return []
    cls = model.rank_class(cand)
    sup = cls // CLASSES_PER_SUPER
    pairs, seen = [], set()
    kinds = ["class", "super", "none"]
    for i in range(n_pairs * 20):
        if len(pairs) >= n_pairs:
            break
        kind = kinds[i % 3]
        a = int(rng.integers(len(cand)))
        if kind == "class":
            pool = np.flatnonzero(cls == cls[a])
        elif kind == "super":
            pool = np.flatnonzero((sup == sup[a]) & (cls != cls[a]))
        else:
            pool = np.flatnonzero(sup != sup[a])
        pool = pool[pool != a]
        if len(pool) == 0:
            continue
        b = int(pool[rng.integers(len(pool))])
        key = (min(a, b), max(a, b))
        if key in seen:
            continue
        seen.add(key)
        lo, hi = {"class": (7.0, 10.0), "super": (3.5, 6.5), "none": (0.0, 3.0)}[kind]
        pairs.append((int(cand[a]), int(cand[b]), round(float(rng.uniform(lo, hi)), 2), kind))
    return pairs


def write_pairs(path: Path, model: Model, n_tokens: int) -> int:
    pairs = planted_pairs(model, n_tokens)
    words = word_strings([a for a, *_ in pairs] + [b for _, b, *_ in pairs])
    n = len(pairs)
    lines = [
        "# Planted word relatedness of a synthetic corpus (bench.make_wiki_corpus)",
        "# same class 7-10, same super-topic 3.5-6.5, unrelated 0-3",
        "# Word 1\tWord 2\tScore",
    ]
    lines += [f"{words[i]}\t{words[n + i]}\t{pairs[i][2]:.2f}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return n


# ---------------------------------------------------------------- driver

_MODEL: Model | None = None


def _init(seed: int) -> None:
    global _MODEL
    _MODEL = Model(seed)


def _work(task):
    chunk, n_full, n_docs, opts = task
    return format_chunk(_MODEL, chunk, n_full, n_docs, opts)


def plan(seed: int, n_tokens: int, chunk_docs: int) -> list[tuple[int, int]]:
    """(chunk, documents kept) until n_tokens tokens: the last chunk stops at the document
    that reaches n_tokens."""
    chunks, total, i = [], 0, 0
    while total < n_tokens:
        n_sent, lens = layout(seed, i, chunk_docs)
        doc_tokens = np.add.reduceat(lens, np.cumsum(n_sent) - n_sent)
        cum = total + np.cumsum(doc_tokens)
        if cum[-1] >= n_tokens:
            keep = int(np.searchsorted(cum, n_tokens)) + 1
            chunks.append((i, keep))
            break
        chunks.append((i, chunk_docs))
        total, i = int(cum[-1]), i + 1
    return chunks


def generate(output: Path, n_tokens: int, seed: int = 42, processes: int = 1, **kw) -> dict:
    opts = {
        "dump": kw.get("dump", True),
        "chunk_docs": kw.get("chunk_docs", 2000),
        "pages_per_stream": kw.get("pages_per_stream", 100),
    }
    file_bytes = int(kw.get("file_mb", 128) * 2**20)
    if opts["chunk_docs"] % opts["pages_per_stream"]:
        raise SystemExit("make_wiki_corpus: --chunk-docs must be a multiple of --pages-per-stream")
    t0 = time.perf_counter()
    output = Path(output)
    text_dir, dump_dir = output / "text", output / "dump"
    text_dir.mkdir(parents=True, exist_ok=True)
    for old in text_dir.glob("part-*.txt"):
        old.unlink()
    chunks = plan(seed, n_tokens, opts["chunk_docs"])
    tasks = [(c, opts["chunk_docs"], n, opts) for c, n in chunks]
    totals = {"tokens": 0, "sentences": 0, "documents": 0}
    counts = np.zeros(0, dtype=np.int64)
    files, file_no, fh = [], 0, None
    dump = index = None
    offset = 0
    if opts["dump"]:
        dump_dir.mkdir(parents=True, exist_ok=True)
        dump = open(dump_dir / DUMP_NAME, "wb")
        index = bz2.BZ2File(dump_dir / INDEX_NAME, "wb")
        offset = dump.write(bz2.compress(SITEINFO.encode(), 9))
    if processes > 1:
        pool = multiprocessing.get_context("fork").Pool(processes, _init, (seed,))
        results = pool.imap(_work, tasks, chunksize=1)
    else:
        pool = None
        _init(seed)
        results = map(_work, tasks)
    try:
        for k, res in enumerate(results):
            if fh is None:
                path = text_dir / f"part-{file_no:05d}.txt"
                fh = open(path, "wb")
                files.append(path.name)
            fh.write(res["text"])
            if fh.tell() >= file_bytes:
                fh.close()
                fh, file_no = None, file_no + 1
            totals["tokens"] += res["tokens"]
            totals["sentences"] += res["sentences"]
            totals["documents"] += res["docs"]
            top = int(res["ranks"][-1]) + 1
            if top > len(counts):
                counts = np.concatenate([counts, np.zeros(top - len(counts), np.int64)])
            counts[res["ranks"]] += res["counts"]
            if dump is not None:
                lines = []
                for stream, pages in zip(res["streams"], res["index"], strict=True):
                    lines += [f"{offset}:{pid}:{title}\n" for pid, title in pages]
                    offset += dump.write(stream)
                index.write("".join(lines).encode())
            print(
                f"[make_wiki_corpus] chunk {k + 1}/{len(tasks)}: {totals['tokens']:,} tokens, "
                f"{time.perf_counter() - t0:.1f}s",
                file=sys.stderr,
                flush=True,
            )
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        if fh is not None:
            fh.close()
    if dump is not None:
        dump.write(bz2.compress(b"</mediawiki>\n", 9))
        dump.close()
        index.close()
    model = Model(seed)
    n_pairs = write_pairs(output / "pairs.tsv", model, totals["tokens"])
    seconds = time.perf_counter() - t0
    summary = {
        "generator": "bench.make_wiki_corpus",
        "version": VERSION,
        "seed": seed,
        "requested_tokens": n_tokens,
        "counts": {
            **totals,
            "chunks": len(tasks),
            "types": int((counts > 0).sum()),
            "types_min5": int((counts >= 5).sum()),
            "pairs": n_pairs,
        },
        "files": {"text": files, "dump": [DUMP_NAME, INDEX_NAME] if opts["dump"] else []},
        "params": {
            **{k: v for k, v in opts.items()},
            "file_mb": kw.get("file_mb", 128),
            "zipf": {"b": ZIPF_B, "break": ZIPF_BREAK, "tail": ZIPF_TAIL, "vocab": VOCAB},
            "head_words": HEAD,
            "super_topics": N_SUPER,
            "classes": N_CLASSES,
            "slots": SLOTS,
            "first_super": FIRST_SUPER,
            "alpha": ALPHA,
            "p_sentence": P_SENTENCE,
            "p_document": P_DOCUMENT,
            "doc_median": DOC_MEDIAN,
            "doc_sigma": DOC_SIGMA,
            "min_doc_tokens": MIN_DOC_TOKENS,
            "sentence": {"min": SENT_MIN, "shape": SENT_SHAPE, "scale": SENT_SCALE},
        },
    }
    (output / "corpus.json").write_text(json.dumps(summary, indent=2) + "\n")
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    run = {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(sum(u.ru_utime + u.ru_stime for u in usage), 1),
        "tokens_per_second": round(totals["tokens"] / seconds),
        "processes": processes,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "dump": opts["dump"],
    }
    (output / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    return {**summary, "run": run}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tokens", default="10M", help="corpus size in tokens: 10M, 100M, 1B")
    ap.add_argument("--output", required=True, help="output folder (use .data/)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--dump", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--chunk-docs", type=int, default=2000, help="documents per chunk")
    ap.add_argument("--pages-per-stream", type=int, default=100)
    ap.add_argument("--file-mb", type=float, default=128, help="text file size (MB)")
    args = ap.parse_args(argv)
    res = generate(
        Path(args.output),
        parse_size(args.tokens),
        args.seed,
        args.processes,
        dump=args.dump,
        chunk_docs=args.chunk_docs,
        pages_per_stream=args.pages_per_stream,
        file_mb=args.file_mb,
    )
    c, r = res["counts"], res["run"]
    print(
        f"make_wiki_corpus: {c['tokens']:,} tokens, {c['sentences']:,} sentences, "
        f"{c['documents']:,} documents, {c['types_min5']:,} words with count >= 5, "
        f"{c['pairs']} pairs | {r['seconds']}s, {r['tokens_per_second']:,} tokens/s "
        f"on {r['processes']} processes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
