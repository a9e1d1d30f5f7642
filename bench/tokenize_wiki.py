"""Benchmark: `sparkembed tokenize` vs gensim WikiCorpus (2 processes) vs plain bzcat.

Builds a >= 100 MB .bz2 dump in .data/bench/ by repeating the pages of gensim's shortened
English sample with new page ids (once; reused afterwards), runs each contender once and
writes the figures to docs/benchmarks.md (section "tokenize").

    .venv/bin/python -m bench.tokenize_wiki [--min-mb 100]
"""

from __future__ import annotations

import argparse
import bz2
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.doc import load_average, machine, write_section

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
PAGE_ID = re.compile(rb"(<page>.*?<id>)(\d+)(</id>)", re.S)


def sample_path() -> Path:
    import gensim.test.utils as gtu

    return Path(gtu.__file__).parent / "test_data" / SAMPLE


def _renumber(pages: bytes, offset: int) -> bytes:
    return PAGE_ID.sub(
        lambda m: m.group(1) + str(offset + int(m.group(2))).encode() + m.group(3), pages
    )


def build_dump(target: Path, min_mb: int) -> tuple[int, int]:
    """Repeat the sample's pages with fresh ids until the .bz2 is at least ``min_mb`` MB."""
    text = bz2.decompress(sample_path().read_bytes())
    first = text.index(b"<page>")
    last = text.rindex(b"</page>") + len(b"</page>")
    header, pages, footer = text[:first], text[first:last], text[last:]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    comp = bz2.BZ2Compressor(9)
    written, copies = 0, 0
    with open(tmp, "wb") as out:
        written += out.write(comp.compress(header))
        while written < min_mb * 1024 * 1024:
            copies += 1
            body = _renumber(pages, copies * 100_000_000)  # copy number in the high digits
            written += out.write(comp.compress(body + b"\n"))
        written += out.write(comp.compress(footer) + comp.flush())
    tmp.rename(target)
    return copies, target.stat().st_size


def time_ours(dump: Path, out: Path) -> tuple[float, dict, str]:
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sparkembed",
            "tokenize",
            str(dump),
            "--output",
            str(out),
            "--set",
            'spark.master="local[2]"',
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"sparkembed tokenize failed:\n{proc.stderr[-3000:]}")
    meta = json.loads((out / "tokens" / "_sparkembed.json").read_text())
    summary = proc.stdout.strip().splitlines()[-1]
    print(summary)
    return seconds, meta["counts"], summary


def time_gensim(dump: Path) -> tuple[float, int, int]:
    from gensim.corpora.wikicorpus import WikiCorpus

    t0 = time.perf_counter()
    corpus = WikiCorpus(str(dump), processes=2, dictionary={})
    tokens = articles = 0
    for text in corpus.get_texts():
        tokens += len(text)
        articles += 1
    return time.perf_counter() - t0, tokens, articles


def time_bzcat(dump: Path) -> float:
    t0 = time.perf_counter()
    with open(dump, "rb") as f:
        subprocess.run(["bzcat"], stdin=f, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-mb", type=int, default=100)
    args = ap.parse_args()
    dump = ROOT / ".data" / "bench" / f"enwiki-bench-{args.min_mb}mb.xml.bz2"
    if not dump.exists():
        print(f"building {dump} ...", flush=True)
        copies, size = build_dump(dump, args.min_mb)
        print(f"  {copies} copies of the sample, {size / 1e6:.1f} MB", flush=True)
    size_mb = dump.stat().st_size / 1e6
    load_before = load_average()
    print("bzcat ...", flush=True)
    bzcat_s = time_bzcat(dump)
    print(f"  {bzcat_s:.1f}s", flush=True)
    print("sparkembed tokenize (local[2]) ...", flush=True)
    ours_s, counts, summary = time_ours(dump, ROOT / ".data" / "bench" / "out")
    print(f"  {ours_s:.1f}s", flush=True)
    print("gensim WikiCorpus (processes=2) ...", flush=True)
    gensim_s, g_tokens, g_articles = time_gensim(dump)
    print(f"  {gensim_s:.1f}s", flush=True)
    md = f"""## tokenize

One run each on a {size_mb:.0f} MB `.bz2` dump (gensim's shortened English sample, pages
repeated with new ids; `bench/tokenize_wiki.py`), {machine()}.
1-minute load average {load_before} before the run, {load_average()} after (2 cores).

| | seconds | articles | tokens | time vs gensim | time vs bzcat |
|---|---:|---:|---:|---:|---:|
| `sparkembed tokenize` (local[2], incl. JVM start, vocab, writes) | {ours_s:.1f} | {int(counts["documents"]):,} | {int(counts["tokens"]):,} | {ours_s / gensim_s:.2f}x | {ours_s / bzcat_s:.1f}x |
| gensim `WikiCorpus` (processes=2) | {gensim_s:.1f} | {g_articles:,} | {g_tokens:,} | 1.00x | {gensim_s / bzcat_s:.1f}x |
| `bzcat > /dev/null` (1 core) | {bzcat_s:.1f} | | | {bzcat_s / gensim_s:.2f}x | 1.0x |

Target: sparkembed ≤ 0.5x gensim's time: {"met" if ours_s <= 0.5 * gensim_s else "NOT met"}.
Our summary line (steps: read = decompress + parse + clean, cached; tokens = tokenise +
write; vocab = counts from the written table):
`{summary}`

How it runs (docs/tokenize.md): the dump is cut into byte ranges decoded by libbz2 in
the tasks (bzip2 blocks found by their magic), each page is parsed and cleaned by the
Java engine (`.jars/sparkembed-udfs.jar`, one pass per page), tokenised by it, written,
and the vocabulary and table counts come from one pyarrow pass over the written files.
"""
    print(md)
    write_section("tokenize", md)


if __name__ == "__main__":
    main()
