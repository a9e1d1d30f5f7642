"""Calibration of a generated Wikipedia-like corpus (bench.make_wiki_corpus) beside real text.

Figures, for the generated corpus (its text files) and the real text (a tokenize output):
the word-frequency curve at a few ranks, words with count >= 5 at several prefix sizes (and
the generator's expectation up to 1B and 4.5B tokens), sentence and document lengths,
distinct co-occurring pairs per token at window 5 (the non-zeros `sparkembed cooccur` would
count, out-of-vocabulary words removed first) on the same number of tokens, and the
Spearman correlation of the planted pairs (OUT/pairs.tsv) with a cheap trainer (PPMI with
context smoothing 0.75, randomized SVD, dimension 100, top 30k words) at prefix sizes.
Writes the section `bench:scale-calibration` of docs/scale.md (`--no-doc` prints it).

    .venv/bin/python -m bench.corpus_calibration --corpus .data/wiki10m --real .data/realtext \\
        [--extra .data/wiki100m]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

from bench import doc as bench_doc
from bench import make_wiki_corpus as mwc

REPO = Path(__file__).resolve().parent.parent
SCALE_DOC = REPO / "docs" / "scale.md"
SCALE_HEADER = """# Scale: Wikipedia-sized corpora

The scale runs (100M, 300M and 1B tokens) use a synthetic corpus that behaves like English
Wikipedia where it matters for the pipeline's cost and for checking quality: a Zipf word
frequency curve and a vocabulary that keeps growing with size (Heaps' law, about 1M words
with count >= 5 at 1B tokens), Wikipedia-like sentence and article lengths, and planted
topic structure whose word pairs (`pairs.tsv`) any trainer should recover.
`bench/make_wiki_corpus.py` writes it, seeded and in parallel, as plain text and as a
multistream `pages-articles` dump; `bench/corpus_calibration.py` measures it against real
text. Each section below is written by its benchmark (run it again to refresh it).
"""
WIKI_DOCS = REPO / ".data" / "enwiki_gensim_docs.pkl"
WS353 = "wordsim353.tsv"
RANKS = (1, 2, 3, 10, 100, 1000, 10000, 30000, 60000)


class Corpus:
    """Flat token ids (0 = most frequent), sentence lengths, document lengths (tokens)."""

    def __init__(self, words: np.ndarray, codes: np.ndarray, sent_lens, doc_lens, chars: float):
        counts = np.bincount(codes, minlength=len(words))
        order = np.lexsort((words, -counts))
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        self.words = words[order]
        self.ids = rank[codes].astype(np.int32)
        self.counts = counts[order]
        self.sent_lens = np.asarray(sent_lens, np.int64)
        self.doc_lens = np.asarray(doc_lens, np.int64)
        self.chars = chars

    @property
    def tokens(self) -> int:
        return len(self.ids)

    def prefix_sentences(self, n_tokens: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, sentence lengths) of the first whole sentences holding >= n_tokens tokens."""
        ends = np.cumsum(self.sent_lens)
        k = min(int(np.searchsorted(ends, n_tokens)) + 1, len(ends))
        return self.ids[: ends[k - 1]], self.sent_lens[:k]


def _encode(flat) -> tuple[np.ndarray, np.ndarray, float]:
    import pyarrow as pa
    import pyarrow.compute as pc

    flat = flat.combine_chunks() if isinstance(flat, pa.ChunkedArray) else flat
    chars = float(pc.mean(pc.utf8_length(flat)).as_py())
    enc = pc.dictionary_encode(flat)
    words = np.array(enc.dictionary.to_pylist(), dtype=object)
    return words, enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), chars


def read_real(folder: Path) -> Corpus:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(folder / "tokens", columns=["doc_id", "tokens"])
    lens = pc.list_value_length(table["tokens"]).to_numpy(zero_copy_only=False)
    docs = pc.dictionary_encode(table["doc_id"]).combine_chunks().indices.to_numpy()
    words, codes, chars = _encode(pc.list_flatten(table["tokens"]))
    return Corpus(words, codes, lens, np.bincount(docs, weights=lens).astype(np.int64), chars)


def read_generated(folder: Path) -> Corpus:
    """The text files: a document per line, sentences end in ". ", commas dropped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lines = []
    for f in sorted((folder / "text").glob("part-*.txt")):
        lines += f.read_text().splitlines()
    docs = pc.utf8_lower(pc.replace_substring(pa.array(lines), ",", ""))
    docs = pc.utf8_rtrim(docs, characters=".")
    sents = pc.split_pattern(docs, ". ")
    per_doc = pc.list_value_length(sents).to_numpy(zero_copy_only=False)
    toks = pc.split_pattern(pc.list_flatten(sents), " ")
    sent_lens = pc.list_value_length(toks).to_numpy(zero_copy_only=False)
    doc_lens = np.add.reduceat(sent_lens, np.cumsum(per_doc) - per_doc)
    words, codes, chars = _encode(pc.list_flatten(toks))
    return Corpus(words, codes, sent_lens, doc_lens, chars)


def types_at(corpus: Corpus, n_tokens: int, min_count: int = 5) -> int:
    ids, _ = corpus.prefix_sentences(n_tokens)
    return int((np.bincount(ids) >= min_count).sum())


def window_keys(ids: np.ndarray, sent_lens: np.ndarray, window: int, n_words: int):
    """Distinct unordered pairs {a, b} at distance 1..window in a sentence, with their
    harmonic weights: (keys a * n_words + b with a <= b, weights). Out-of-vocabulary ids
    (>= n_words) are removed first, as cooccur does."""
    sent = np.repeat(np.arange(len(sent_lens)), sent_lens)
    keep = ids < n_words
    ids, sent = ids[keep].astype(np.int64), sent[keep]
    keys, weights = [], []
    for d in range(1, window + 1):
        same = sent[d:] == sent[:-d]
        a, b = ids[:-d][same], ids[d:][same]
        k, c = np.unique(np.minimum(a, b) * n_words + np.maximum(a, b), return_counts=True)
        keys.append(k)
        weights.append(c / d)
    keys, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    return keys, np.bincount(inverse, weights=np.concatenate(weights))


def cooccurrence_nonzeros(ids: np.ndarray, sent_lens: np.ndarray, window: int = 5) -> int:
    """Non-zero cells of the symmetric window co-occurrence matrix over words with count >= 5
    in this sample (both directions: a pair of two different words counts twice)."""
    n_words = int((np.bincount(ids) >= 5).sum())
    keys, _ = window_keys(ids, sent_lens, window, n_words)
    diagonal = int((keys // n_words == keys % n_words).sum())
    return 2 * len(keys) - diagonal


def ppmi_svd(ids: np.ndarray, sent_lens: np.ndarray, top: int = 30000, dim: int = 100):
    """Unit word vectors of the ``top`` most frequent ids: PPMI (window 5, 1/d weights,
    context counts ** 0.75) factored by randomized SVD, U * sqrt(S)."""
    import scipy.sparse as sp
    from sklearn.utils.extmath import randomized_svd

    n = min(top, int((np.bincount(ids) >= 5).sum()))
    keys, w = window_keys(ids, sent_lens, 5, n)
    a, b = keys // n, keys % n
    m = sp.coo_matrix((w, (a, b)), shape=(n, n)).tocsr()
    m = (m + m.T).tocoo()
    row = np.asarray(m.sum(axis=1)).ravel()
    ctx = row**0.75
    ctx /= ctx.sum()
    pmi = np.log(m.data / (row[m.row] * ctx[m.col]))
    pos = pmi > 0
    ppmi = sp.csr_matrix((pmi[pos], (m.row[pos], m.col[pos])), shape=(n, n))
    u, s, _ = randomized_svd(ppmi, dim, n_iter=4, random_state=0)
    vec = u * np.sqrt(s)
    return vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)


def read_scored_pairs(path: Path) -> list[tuple[str, str, float]]:
    out = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        w1, w2, score = line.split("\t")[:3]
        out.append((w1.lower(), w2.lower(), float(score)))
    return out


def spearman(vectors: np.ndarray, words: np.ndarray, pairs) -> tuple[float, int]:
    from scipy import stats

    index = {w: i for i, w in enumerate(words[: len(vectors)].tolist())}
    got = [(index[a], index[b], s) for a, b, s in pairs if a in index and b in index]
    if len(got) < 3:
        return float("nan"), len(got)
    i, j, s = (np.array(x) for x in zip(*got, strict=True))
    cos = (vectors[i] * vectors[j]).sum(axis=1)
    return float(stats.spearmanr(cos, s).statistic), len(got)


def slope(counts: np.ndarray, lo: int, hi: int) -> float:
    """Zipf exponent: minus the slope of log count on log rank over ranks lo..hi."""
    r = np.arange(lo, min(hi, len(counts)) + 1)
    c = counts[r - 1]
    ok = c > 0
    return float(-np.polyfit(np.log(r[ok]), np.log(c[ok]), 1)[0])


def quantiles(x: np.ndarray) -> str:
    q = np.percentile(x, [10, 50, 90, 99])
    return f"{x.mean():.1f} | " + " | ".join(f"{v:.0f}" for v in q)


def calibrate(corpus_dir: Path, real_dir: Path, extras: list[Path], sizes: list[int]) -> str:
    t0 = time.perf_counter()
    meta = json.loads((corpus_dir / "corpus.json").read_text())
    run = json.loads((corpus_dir / "run.json").read_text())
    real = read_real(real_dir)
    gen = read_generated(corpus_dir)
    n_real = real.tokens
    p = mwc.zipf_probabilities()
    print(f"[calibration] read {gen.tokens:,} + {n_real:,} tokens", file=sys.stderr, flush=True)

    lines = [
        f"Generated corpus `{corpus_dir.name}` (seed {meta['seed']}, generator version "
        f"{meta['version']}: {gen.tokens:,} tokens, {len(gen.sent_lens):,} sentences, "
        f"{len(gen.doc_lens):,} documents) beside the real text `{real_dir.name}` "
        f"({n_real:,} tokens, {len(real.sent_lens):,} sentences, {len(real.doc_lens):,} "
        "documents: Debian text packages, a tokenize output). Both tokenized the same way "
        "(lowercase letters, 2-15 characters).",
        "",
        "**Word frequency** (count per million tokens at rank; generated and real on "
        f"their first {n_real / 1e6:.2f}M tokens; model = the generator's p(r)):",
        "",
        "| rank | " + " | ".join(str(r) for r in RANKS) + " |",
        "|---" * (len(RANKS) + 1) + "|",
    ]
    g_ids, g_sents = gen.prefix_sentences(n_real)
    g_counts = np.sort(np.bincount(g_ids))[::-1]
    scale_g, scale_r = 1e6 / len(g_ids), 1e6 / n_real
    for name, vals in (
        ("real", [real.counts[r - 1] * scale_r if r <= len(real.counts) else 0 for r in RANKS]),
        ("generated", [g_counts[r - 1] * scale_g if r <= len(g_counts) else 0 for r in RANKS]),
        ("model", [p[r - 1] * 1e6 for r in RANKS]),
    ):
        lines.append(f"| {name} | " + " | ".join(f"{v:,.1f}" for v in vals) + " |")
    lines += [
        "",
        "Zipf exponent (fitted slope of log count on log rank): ranks 10-1,000 real "
        f"{slope(real.counts, 10, 1000):.2f}, generated {slope(g_counts, 10, 1000):.2f}; "
        f"1,000-10,000 real {slope(real.counts, 1000, 10000):.2f}, generated "
        f"{slope(g_counts, 1000, 10000):.2f}; 10,000-50,000 real "
        f"{slope(real.counts, 10000, 50000):.2f}, generated {slope(g_counts, 10000, 50000):.2f}. "
        f"Mean token length (characters, running text): real {real.chars:.2f}, "
        f"generated {gen.chars:.2f}.",
        "",
        "**Vocabulary growth**: words with count >= 5 in the first N tokens "
        "(expected = the generator's model, sum over words of P(Poisson(N p) >= 5)):",
        "",
        "| N | real | generated | expected |",
        "|---|---|---|---|",
    ]
    for n in (1_000_000, 3_000_000, n_real):
        lines.append(
            f"| {n / 1e6:.2f}M | {types_at(real, n):,} | {types_at(gen, n):,} | "
            f"{mwc.expected_types(n, p=p):,.0f} |"
        )
    if gen.tokens > 1.05 * n_real:
        lines.append(
            f"| {gen.tokens / 1e6:.2f}M | | {types_at(gen, gen.tokens):,} | "
            f"{mwc.expected_types(gen.tokens, p=p):,.0f} |"
        )
    extra_runs = []
    for ex in extras:
        em = json.loads((ex / "corpus.json").read_text())
        c = em["counts"]
        lines.append(
            f"| {c['tokens'] / 1e6:.0f}M (`{ex.name}`) | | {c['types_min5']:,} | "
            f"{mwc.expected_types(c['tokens'], p=p):,.0f} |"
        )
        if (ex / "run.json").exists():
            extra_runs.append((ex.name, c, json.loads((ex / "run.json").read_text())))
    for n, label in ((3e8, "300M"), (1e9, "1B"), (4.5e9, "4.5B")):
        ref = " (English Wikipedia: ~2.5M)" if label == "4.5B" else ""
        lines.append(f"| {label} | | | {mwc.expected_types(n, p=p):,.0f}{ref} |")

    wiki_docs = ""
    if WIKI_DOCS.exists():
        docs = pickle.loads(WIKI_DOCS.read_bytes())
        wl = np.array([len(toks) for *_, toks in docs])
        wiki_docs = (
            f"| Wikipedia sample, its first {len(wl)} articles, long ones (gensim) | "
            f"{quantiles(wl)} |"
        )
    lines += [
        "",
        "**Lengths** in tokens (mean and percentiles):",
        "",
        "| | mean | p10 | p50 | p90 | p99 |",
        "|---|---|---|---|---|---|",
        f"| sentences, real | {quantiles(real.sent_lens)} |",
        f"| sentences, generated | {quantiles(gen.sent_lens)} |",
        f"| documents, real (dictionary entries, manual pages) | {quantiles(real.doc_lens)} |",
    ]
    if wiki_docs:
        lines.append(wiki_docs)
    lines.append(f"| documents, generated | {quantiles(gen.doc_lens)} |")

    t1 = time.perf_counter()
    r_ids, r_sents = real.ids, real.sent_lens
    nz_r = cooccurrence_nonzeros(r_ids, r_sents)
    nz_g = cooccurrence_nonzeros(g_ids, g_sents)
    print(f"[calibration] co-occurrence {time.perf_counter() - t1:.1f}s", file=sys.stderr)
    lines += [
        "",
        f"**Co-occurrence** at window 5 on {n_real / 1e6:.2f}M tokens (words with count >= 5, "
        "out-of-vocabulary words removed first, both directions): real "
        f"{nz_r:,} non-zeros ({nz_r / n_real:.2f} per token), generated {nz_g:,} "
        f"({nz_g / len(g_ids):.2f} per token), ratio {nz_g / len(g_ids) / (nz_r / n_real):.2f}.",
    ]

    pairs = read_scored_pairs(corpus_dir / "pairs.tsv")
    t2 = time.perf_counter()
    rows = []
    for n in sorted({*(s for s in sizes if s < gen.tokens), gen.tokens}):
        ids, sl = gen.prefix_sentences(n)
        rho, used = spearman(ppmi_svd(ids, sl), gen.words, pairs)
        rows.append(f"| generated, {len(ids) / 1e6:.1f}M tokens | pairs.tsv | {rho:.3f} | {used} |")
        print(f"[calibration] spearman at {n:,}: {rho:.3f}", file=sys.stderr, flush=True)
    import gensim.test.utils as gtu

    ws = Path(gtu.__file__).parent / "test_data" / WS353
    rho, used = spearman(ppmi_svd(r_ids, r_sents), real.words, read_scored_pairs(ws))
    rows.append(f"| real, {n_real / 1e6:.1f}M tokens | WordSim-353 | {rho:.3f} | {used} |")
    kinds = {}
    for _, _, s in pairs:
        k = "same class" if s >= 7 else "same super-topic" if s >= 3.5 else "unrelated"
        kinds[k] = kinds.get(k, 0) + 1
    lines += [
        "",
        "**Planted structure**: Spearman of cosine with the pairs' scores, PPMI + "
        "randomized SVD (dimension 100, top 30k words, window 5); pairs: "
        + ", ".join(f"{v} {k}" for k, v in kinds.items())
        + f" ({time.perf_counter() - t2:.0f}s):",
        "",
        "| corpus | pairs | Spearman | pairs found |",
        "|---|---|---|---|",
        *rows,
    ]

    rate, per_token = [], []
    for name, c, r in [(corpus_dir.name, meta["counts"], run), *extra_runs]:
        cpu = ""
        if r.get("cpu_seconds"):
            per_token.append(r["cpu_seconds"] / c["tokens"])
            cpu = f", {r['cpu_seconds']:.0f} CPU-s"
        rate.append(
            f"`{name}`: {c['tokens']:,} tokens in {r['seconds']:.0f}s{cpu} "
            f"({r['tokens_per_second']:,} tokens/s, {r['processes']} processes, dump "
            f"{'on' if r['dump'] else 'off'}, load average {r['load_average'][0]})"
        )
    estimate = ""
    if per_token:
        cpu_1b = max(per_token) * 1e9
        estimate = (
            f" From CPU time, 1B tokens need about {cpu_1b:,.0f} CPU-s: "
            f"{cpu_1b / 2 / 60:.0f} min on 2 free cores (the workers scale with cores; "
            "the parent only writes)."
        )
    lines += [
        "",
        "**Generation** (text files, dump and index): " + "; ".join(rate) + "." + estimate,
        "",
        f"Machine: {bench_doc.machine()}; load average {bench_doc.load_average()} when this "
        f"section was written (calibration {time.perf_counter() - t0:.0f}s). "
        + bench_doc.versions(["numpy", "scipy", "scikit-learn", "pyarrow"])
        + ".",
        "",
        "Reproduce: `.venv/bin/python -m bench.make_wiki_corpus --tokens 10M --output "
        f".data/{corpus_dir.name} --seed {meta['seed']} --processes 2`, then "
        f"`.venv/bin/python -m bench.corpus_calibration --corpus .data/{corpus_dir.name} "
        f"--real .data/{real_dir.name}"
        + "".join(f" --extra .data/{e.name}" for e in extras)
        + "`.",
    ]
    return "## Calibration of the synthetic corpus\n\n" + "\n".join(lines)


def write_doc(markdown: str, doc: Path = SCALE_DOC) -> None:
    """The section between its markers; the title and intro first if the doc lacks them."""
    if not doc.exists():
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(SCALE_HEADER)
    text = doc.read_text()
    title, intro = SCALE_HEADER.split("\n", 1)
    if intro.strip() not in text:
        rest = text.split("\n", 1)[1] if text.startswith(title + "\n") else text
        doc.write_text(SCALE_HEADER + "\n" + rest.lstrip("\n"))
    bench_doc.write_section("scale-calibration", markdown, doc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True, help="a make_wiki_corpus output")
    ap.add_argument("--real", type=Path, required=True, help="a tokenize output of real text")
    ap.add_argument("--extra", type=Path, nargs="*", default=[], help="larger generated corpora")
    ap.add_argument("--sizes", default="1M,3M", help="prefix sizes for the planted-pairs Spearman")
    ap.add_argument("--no-doc", action="store_true", help="print the section instead")
    args = ap.parse_args(argv)
    sizes = [mwc.parse_size(s) for s in args.sizes.split(",") if s]
    markdown = calibrate(args.corpus, args.real, args.extra, sizes)
    if args.no_doc:
        print(markdown)
    else:
        write_doc(markdown)
        print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
