"""Synthetic corpus for benchmarks and scale tests: DIR/tokens and DIR/vocab of any size.

Sentences are sampled from the unigram and bigram statistics of a real tokens table: each
next token follows the bigram distribution of the previous one (with probability
``--backoff`` it is drawn from the unigram distribution instead, and always when the
previous token was never followed by anything). Sentence lengths are drawn from the
source's sentence lengths. Same source + seed + size -> the same files.

Sources, in order of preference:
  --source DIR        a tokenize output (DIR/tokens), e.g. of the Wikipedia sample
  (default)           gensim's WikiCorpus on the English sample in gensim's test data;
                      it has no sentence split, so articles are cut into pseudo-sentences
                      with lengths from a gamma distribution (mean 22 tokens)

    .venv/bin/python -m bench.make_corpus --tokens 10M --output .data/synth10m
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".data"
ENWIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"

TOKENS_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("title", pa.string()),
        ("lang", pa.string()),
        ("sentence", pa.int32()),
        ("tokens", pa.list_(pa.string())),
    ]
)
VOCAB_SCHEMA = pa.schema(
    [("id", pa.int32()), ("token", pa.string()), ("count", pa.int64()), ("doc_count", pa.int64())]
)


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 10**3, "M": 10**6, "G": 10**9}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def gensim_sentences(seed: int) -> list[list[str]]:
    """The English Wikipedia sample through gensim's WikiCorpus, cut into pseudo-sentences."""
    cache = CACHE / "enwiki_gensim_docs.pkl"
    if cache.exists():
        docs = pickle.loads(cache.read_bytes())
    else:
        import gensim.test.utils as gtu
        from gensim.corpora.wikicorpus import WikiCorpus

        wiki = WikiCorpus(str(Path(gtu.__file__).parent / "test_data" / ENWIKI), dictionary={})
        wiki.metadata = True
        docs = [(pid, title, toks) for toks, (pid, title) in wiki.get_texts()]
        CACHE.mkdir(exist_ok=True)
        cache.write_bytes(pickle.dumps(docs))
    rng = np.random.default_rng(seed)
    sentences = []
    for _, _, toks in docs:
        i = 0
        while i < len(toks):
            n = max(1, int(rng.gamma(2.0, 11.0)))
            sentences.append(toks[i : i + n])
            i += n
    return sentences


def table_sentences(source: Path) -> list[list[str]]:
    table = pq.read_table(source / "tokens", columns=["tokens"])
    return [s for s in table.column("tokens").to_pylist() if s]


class BigramModel:
    """Unigram and bigram distributions as lists of occurrences: an O(1) draw is one index.

    Drawing a uniform position in the list of every token that followed ``w`` in the source
    is an exact draw from the bigram distribution of ``w`` (likewise for the unigram).
    """

    def __init__(self, sentences: list[list[str]], backoff: float):
        words, flat = np.unique(np.array([t for s in sentences for t in s]), return_inverse=True)
        lengths = np.array([len(s) for s in sentences])
        self.words = words
        self.lengths = lengths
        self.backoff = backoff
        self.flat = flat.astype(np.int32)
        ends = np.cumsum(lengths)
        follows = np.ones(len(flat), bool)
        follows[ends - 1] = False  # the last token of a sentence has no successor
        src = flat[follows]
        dst = flat[np.flatnonzero(follows) + 1]
        order = np.argsort(src, kind="stable")
        self.successors = dst[order].astype(np.int32)
        self.row_total = np.bincount(src, minlength=len(words))
        self.row_start = np.concatenate([[0], np.cumsum(self.row_total)[:-1]])

    def unigram(self, rng, k: int) -> np.ndarray:
        return self.flat[rng.integers(0, len(self.flat), k)]

    def step(self, rng, prev: np.ndarray) -> np.ndarray:
        total = self.row_total[prev]
        offset = (rng.random(len(prev)) * total).astype(np.int64)
        nxt = self.successors[np.minimum(self.row_start[prev] + offset, len(self.successors) - 1)]
        fresh = (rng.random(len(prev)) < self.backoff) | (total == 0)
        nxt[fresh] = self.unigram(rng, int(fresh.sum()))
        return nxt

    def stream(self, rng, n_tokens: int, chains: int = 16384) -> np.ndarray:
        """``n_tokens`` word indices: ``chains`` Markov chains run side by side, concatenated."""
        steps = -(-n_tokens // chains)
        out = np.empty((steps, chains), dtype=np.int32)
        cur = self.unigram(rng, chains)
        for t in range(steps):
            out[t] = cur
            cur = self.step(rng, cur)
        return out.T.ravel()[:n_tokens]


def write_corpus(model: BigramModel, output: Path, n_tokens: int, seed: int, args) -> dict:
    rng = np.random.default_rng(seed)
    tokens_dir = output / "tokens"
    tokens_dir.mkdir(parents=True, exist_ok=True)
    for old in tokens_dir.glob("*.parquet"):
        old.unlink()
    words = pa.array(model.words)
    counts = np.zeros(len(model.words), np.int64)
    doc_counts = np.zeros(len(model.words), np.int64)
    chunk = args.chunk_tokens
    per_file = args.file_tokens
    written, doc_base, rows, file_no = 0, 0, 0, 0
    writer, in_file = None, 0
    while written < n_tokens:
        want = min(chunk, n_tokens - written)
        lengths = rng.choice(model.lengths, size=want // 8 + 16)
        ends = np.cumsum(lengths)
        k = int(np.searchsorted(ends, want)) + 1
        lengths = lengths[:k]
        lengths[-1] -= ends[k - 1] - want  # the last sentence ends exactly at the chunk end
        lengths = lengths[lengths > 0]
        ids = model.stream(rng, want)
        n_sent = len(lengths)
        sent_doc = np.arange(n_sent) // args.sentences_per_doc
        sentence_no = (np.arange(n_sent) % args.sentences_per_doc).astype(np.int32)
        tok_doc = np.repeat(sent_doc, lengths)
        counts += np.bincount(ids, minlength=len(counts))
        # distinct (doc, word) pairs; np.sort + diff, numpy 2.4's hash-based unique is slower
        pairs = np.sort(tok_doc.astype(np.int64) * len(counts) + ids)
        pairs = pairs[np.concatenate([[True], pairs[1:] != pairs[:-1]])]
        doc_counts += np.bincount(pairs % len(counts), minlength=len(counts))
        n_docs = int(sent_doc[-1]) + 1
        doc_names = pa.array([f"synth-{seed}-{doc_base + d:09d}" for d in range(n_docs)])
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        batch = pa.record_batch(
            [
                doc_names.take(pa.array(sent_doc)),
                pa.array([f"Synthetic {doc_base + d}" for d in range(n_docs)]).take(
                    pa.array(sent_doc)
                ),
                pa.array(np.full(n_sent, "en", dtype=object), pa.string()),
                pa.array(sentence_no),
                pa.ListArray.from_arrays(pa.array(offsets), words.take(pa.array(ids))),
            ],
            schema=TOKENS_SCHEMA,
        )
        if writer is None:
            path = tokens_dir / f"part-{file_no:05d}.parquet"
            writer = pq.ParquetWriter(path, TOKENS_SCHEMA, compression="snappy")
        writer.write_batch(batch, row_group_size=len(batch))
        in_file += want
        if in_file >= per_file:
            writer.close()
            writer, in_file, file_no = None, 0, file_no + 1
        written += want
        rows += n_sent
        doc_base += n_docs
        print(f"[make_corpus] {written:,} tokens", file=sys.stderr, flush=True)
    if writer is not None:
        writer.close()
    (tokens_dir / "_SUCCESS").write_text("")

    keep = np.flatnonzero(counts >= args.min_count)
    order = keep[np.lexsort((model.words[keep], -counts[keep]))]
    vocab = pa.table(
        [
            pa.array(np.arange(len(order), dtype=np.int32)),
            words.take(pa.array(order)),
            pa.array(counts[order]),
            pa.array(doc_counts[order]),
        ],
        schema=VOCAB_SCHEMA,
    )
    vocab_dir = output / "vocab"
    vocab_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(vocab, vocab_dir / "part-00000.parquet")
    (vocab_dir / "_SUCCESS").write_text("")
    stats = {"tokens": written, "sentences": rows, "docs": doc_base, "vocab": len(order)}
    params = {
        "synthetic": True,
        "seed": seed,
        "backoff": args.backoff,
        "min_count": args.min_count,
        "source": str(args.source or f"gensim WikiCorpus {ENWIKI}"),
    }
    # One run id for both tables, as sparkembed tokenize commits them: stages read them together.
    run_id = f"make-corpus-{seed}-{written}"
    for name in ("tokens", "vocab"):
        meta = {
            "stage": "tokenize",
            "table": name,
            "run_id": run_id,
            "fingerprint": hashlib.sha256(f"{run_id}\0{name}".encode()).hexdigest()[:16],
            "params": {"tokenize": params},
            "inputs": [],
            "counts": stats,
            "generator": "make_corpus",
        }
        (output / name / "_sparkembed.json").write_text(json.dumps(meta, indent=2))
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tokens", default="10M", help="corpus size in tokens: 1M, 10M, 100M")
    ap.add_argument("--output", required=True, help="work directory (use .data/ or work/)")
    ap.add_argument("--source", type=Path, help="a tokenize output DIR to take statistics from")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--backoff", type=float, default=0.1, help="chance of a unigram draw")
    ap.add_argument("--min-count", type=int, default=5, help="vocab keeps words this frequent")
    ap.add_argument("--sentences-per-doc", type=int, default=40)
    ap.add_argument("--chunk-tokens", type=int, default=2_000_000, help="tokens per row group")
    ap.add_argument("--file-tokens", type=int, default=10_000_000, help="tokens per file")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    sentences = table_sentences(args.source) if args.source else gensim_sentences(args.seed)
    model = BigramModel(sentences, args.backoff)
    stats = write_corpus(model, Path(args.output), parse_size(args.tokens), args.seed, args)
    secs = time.perf_counter() - t0
    print(
        f"make_corpus: {stats['tokens']:,} tokens, {stats['sentences']:,} sentences, "
        f"{stats['docs']:,} docs, vocab {stats['vocab']:,} | total {secs:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
