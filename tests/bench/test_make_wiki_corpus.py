"""bench.make_wiki_corpus: same bytes whatever the process count, a dump whose multistream
index points at stream starts and whose pages give the text files' tokens once cleaned,
and planted pairs made of words of the corpus."""

from __future__ import annotations

import bz2
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from bench import make_wiki_corpus as mwc

TOKENS = 50_000
OPTS = dict(chunk_docs=20, pages_per_stream=10, file_mb=0.1)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    one = tmp_path_factory.mktemp("p1")
    two = tmp_path_factory.mktemp("p2")
    mwc.generate(one, TOKENS, seed=7, processes=1, **OPTS)
    mwc.generate(two, TOKENS, seed=7, processes=2, **OPTS)
    return one, two


def _files(root):
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "run.json"
    }


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]{2,15}", text.lower())


def _clean(wiki: str) -> str:
    """The tokenizer's cleaning, for the markup the generator writes."""
    text = re.sub(r"(?is)<ref\b[^>]*>.*?</ref\s*>", " ", wiki)
    for _ in range(5):
        text = re.sub(r"\{\{[^{}]*\}\}", " ", text)
    text = re.sub(r"\[\[\s*(?i:category)\s*:[^\[\]]*\]\]", "", text)
    text = re.sub(r"\[\[[^\[\]|]*\|([^\[\]]*)\]\]", r"\1", text)
    text = re.sub(r"\[\[([^\[\]|]*)\]\]", r"\1", text)
    text = re.sub(r"(?m)^=+\s*(.*?)\s*=+\s*$", r"\1", text)
    return re.sub(r"'{2,}", "", text)


def test_same_bytes_whatever_the_process_count(corpora):
    one, two = corpora
    a, b = _files(one), _files(two)
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []
    meta = json.loads(a["corpus.json"])
    assert meta["seed"] == 7 and meta["version"] == mwc.VERSION
    assert TOKENS <= meta["counts"]["tokens"] < TOKENS + 5000
    assert meta["counts"]["chunks"] >= 3  # several chunks, so two workers really shared them
    assert len(meta["files"]["text"]) >= 2  # file_mb 0.1: cut between chunks
    # the text files hold exactly the counted tokens, sentences and documents
    lines = [ln for f in meta["files"]["text"] for ln in a[f"text/{f}"].decode().splitlines()]
    assert len(lines) == meta["counts"]["documents"]
    assert sum(len(_tokens(ln)) for ln in lines) == meta["counts"]["tokens"]
    assert sum(ln.count(". ") + 1 for ln in lines) == meta["counts"]["sentences"]
    assert min(len(_tokens(ln)) for ln in lines) >= mwc.MIN_DOC_TOKENS
    # another seed, another corpus
    assert (
        mwc.format_chunk(mwc.Model(8), 0, 20, 20, {"dump": False})["text"]
        != a[f"text/{meta['files']['text'][0]}"][:100]
    )


def test_multistream_dump_parses_and_matches_the_text(corpora):
    root = corpora[0]
    dump = (root / "dump" / mwc.DUMP_NAME).read_bytes()
    index = bz2.decompress((root / "dump" / mwc.INDEX_NAME).read_bytes()).decode().splitlines()
    meta = json.loads((root / "corpus.json").read_text())
    n_docs = meta["counts"]["documents"]
    assert len(index) == n_docs
    # every stream decodes alone from its offset: the header, pages, the closing tag
    offsets = sorted({int(line.split(":")[0]) for line in index})
    first = bz2.BZ2Decompressor()
    assert first.decompress(dump).decode().startswith("<mediawiki")
    assert first.eof and len(dump) - len(first.unused_data) == offsets[0]
    pages_per_offset = {}
    for line in index:
        off, pid, title = line.split(":", 2)
        pages_per_offset.setdefault(int(off), []).append((pid, title))
    for off in offsets:
        d = bz2.BZ2Decompressor()
        xml = d.decompress(dump[off:]).decode()
        assert d.eof
        pages = ET.fromstring(f"<r>{xml}</r>").findall("page")
        assert [(p.findtext("id"), p.findtext("title")) for p in pages] == pages_per_offset[off]
        assert len(pages) <= OPTS["pages_per_stream"]
    last = bz2.BZ2Decompressor()
    end = last.decompress(dump[offsets[-1] :])
    assert last.unused_data and bz2.decompress(last.unused_data) == b"</mediawiki>\n"
    assert end.endswith(b"</page>\n")
    # the whole file is one MediaWiki document; namespace 0 pages with wiki markup
    ns = "{http://www.mediawiki.org/xml/export-0.10/}"
    tree = ET.fromstring(bz2.decompress(dump))
    pages = tree.findall(f"{ns}page")
    assert len(pages) == n_docs
    assert {p.findtext(f"{ns}ns") for p in pages} == {"0"}
    assert len({p.findtext(f"{ns}title") for p in pages}) == n_docs
    texts = [p.find(f"{ns}revision/{ns}text").text for p in pages]
    joined = "".join(texts)
    for markup in ("[[", "|", "'''", "{{", "<ref>", "[[Category:"):
        assert markup in joined
    assert re.search(r"(?m)^== \w+( \w+)* ==$", joined)
    text = "".join((root / "text" / f).read_text() for f in meta["files"]["text"]).splitlines()
    for wiki, line in zip(texts, text, strict=True):
        assert _tokens(_clean(wiki)) == _tokens(line)


def test_pairs_are_words_of_the_corpus(corpora):
    root = corpora[0]
    meta = json.loads((root / "corpus.json").read_text())
    words = set()
    for f in meta["files"]["text"]:
        words.update(_tokens((root / "text" / f).read_text()))
    rows = [
        ln.split("\t")
        for ln in (root / "pairs.tsv").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    assert len(rows) == meta["counts"]["pairs"] >= 30
    assert all(len(r) == 3 and 0 <= float(r[2]) <= 10 for r in rows)
    assert {w for r in rows for w in r[:2]} <= words


def test_word_strings_are_distinct_and_short_when_frequent():
    words = mwc.word_strings(np.arange(100_000))
    assert len(set(words)) == len(words)
    assert all(re.fullmatch(r"[a-z]{2,15}", w) for w in words[::997])
    lens = np.array([len(w) for w in words])
    assert lens[:80].max() == 2 and lens[:200].max() == 3
    assert lens[200:4000].min() >= 4 and lens[4000:].min() >= 6
    # a word's string depends on its id only
    assert mwc.word_strings([5, 12345]) == [words[5], words[12345]]


def test_model_matches_the_calibration_targets():
    p = mwc.zipf_probabilities()
    assert p.sum() == pytest.approx(1.0)
    assert np.all(np.diff(p[:100_000]) < 0)  # decreasing (to float precision beyond)
    assert mwc.expected_types(9.58e6, p=p) == pytest.approx(64_194, rel=0.02)
    assert mwc.expected_types(1e9, p=p) == pytest.approx(1.0e6, rel=0.05)
    # classes: class mass summed over the classes is the content mass; every class has words
    m = mwc.Model(42)
    assert m.class_mass.sum() + m.p_head_total == pytest.approx(1.0)
    ranks = m.words_of_classes(np.random.default_rng(0), np.repeat(np.arange(500), 40))
    assert np.array_equal(m.rank_class(ranks), np.repeat(np.arange(500), 40))
    assert ranks.max() >= mwc.EXACT_END  # tail words too, still of the class drawn
