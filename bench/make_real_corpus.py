"""A real-text English corpus of about 10M tokens for benchmarks, from installable data only.

No internet here, and no large English text on PyPI; Debian has some, installed by
bench/setup_data.sh:

  gcide, wn, foldoc, jargon, devil   dictd dictionaries (Webster 1913 + GCIDE, WordNet 3.0
                                     glosses and examples, computing, hacker slang, Bierce)
  kjv, web                           King James and World English Bibles (SWORD, mod2imp)
  enwiki                             gensim's shortened English Wikipedia dump (106 articles)

Each dictionary entry and each Bible chapter becomes one line (one document) of a text
file. Markup that is not prose is removed: pronunciations ``\\Ab*do"men\\``, bracketed
etymologies and source tags ``[L. ...]``, ``[1913 Webster]``, WordNet's ``[syn: ...]`` and
``[ant: ...]`` lists (a thesaurus, not text), and ``{}`` around cross-references. Then
``sparkembed tokenize`` reads the text files and the dump in one run into DIR/tokens and
DIR/vocab (min count 5), which bench/train.py takes as ``--corpus``.

    bash bench/setup_data.sh
    .venv/bin/python -m bench.make_real_corpus --output .data/realtext

``--text-only`` writes OUTPUT/text and stops: scripts/demo.sh tokenizes it in its pipeline.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import subprocess
import sys
from pathlib import Path

from sparkembed.stages.align.dictionary import dictd_number

REPO = Path(__file__).resolve().parent.parent
DICTD = Path("/usr/share/dictd")
DICTIONARIES = ("gcide", "wn", "foldoc", "jargon", "devil")
BIBLES = {"kjv": "engKJV2006eb", "web": "engWEB2015eb"}
ENWIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"

PRONUNCIATION = re.compile(r"\\[^\\\n]{0,80}\\")
BRACKETS = re.compile(r"\[[^\[\]]*\]")
SPACE = re.compile(r"\s+")


def dictionary_entries(name: str):
    """The entries of a dictd dictionary, in file order, each once."""

    data = gzip.decompress((DICTD / f"{name}.dict.dz").read_bytes())
    spans = set()
    for line in (DICTD / f"{name}.index").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and not parts[0].startswith("00"):
            spans.add((dictd_number(parts[1]), dictd_number(parts[2])))
    for offset, length in sorted(spans):
        yield data[offset : offset + length].decode("utf-8", errors="replace")


def clean_entry(text: str) -> str:
    text = PRONUNCIATION.sub(" ", text)
    while True:  # nested brackets: innermost first
        stripped = BRACKETS.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    text = text.replace("{", "").replace("}", "")
    return SPACE.sub(" ", text).strip()


def bible_verses(module: str):
    """(reference, text) of every verse of a SWORD Bible, through ``mod2imp -s`` (markup
    stripped): ``("Genesis 1:1", "In the beginning...")``; headings and chapter or book
    introductions (verse 0) are left out."""
    out = subprocess.run(["mod2imp", module, "-s"], capture_output=True, text=True, check=True)
    ref, lines = None, []
    for line in out.stdout.splitlines():
        if line.startswith("$$$"):
            if ref is not None and lines:
                yield ref, " ".join(lines)
            ref, lines = line[3:].strip(), []
            chapter, _, verse = ref.rpartition(" ")[2].partition(":")
            if ref.startswith("[") or verse in ("", "0") or chapter == "0":
                ref = None
        elif ref is not None and line.strip():
            lines.append(line.strip())
    if ref is not None and lines:
        yield ref, " ".join(lines)


def bible_chapters(module: str):
    """Chapters of a SWORD Bible as plain text, through ``mod2imp -s`` (markup stripped)."""
    out = subprocess.run(["mod2imp", module, "-s"], capture_output=True, text=True, check=True)
    chapter, verses = None, []
    for line in out.stdout.splitlines():
        if line.startswith("$$$"):
            ref = line[3:].strip()
            key = ref.rsplit(":", 1)[0] if ":" in ref else ref
            if key != chapter:
                if verses:
                    yield " ".join(verses)
                chapter, verses = key, []
        elif line.strip():
            verses.append(line.strip())
    if verses:
        yield " ".join(verses)


def main() -> int:
    import gensim.test.utils as gtu

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", default=str(REPO / ".data/realtext"))
    ap.add_argument("--force", action="store_true", help="rebuild the text files and tables")
    ap.add_argument(
        "--text-only", action="store_true", help="write OUTPUT/text only (scripts/demo.sh)"
    )
    args = ap.parse_args()
    out = Path(args.output)
    src = out / "text"
    src.mkdir(parents=True, exist_ok=True)
    missing = [d for d in DICTIONARIES if not (DICTD / f"{d}.dict.dz").exists()]
    if missing or shutil.which("mod2imp") is None:
        sys.exit("missing Debian data: run  bash bench/setup_data.sh")
    for name in (*DICTIONARIES, *BIBLES):
        path = src / f"{name}.txt"
        if path.exists() and not args.force:
            continue
        docs = bible_chapters(BIBLES[name]) if name in BIBLES else dictionary_entries(name)
        lines = [t for t in (clean_entry(d) for d in docs) if t]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        words = sum(len(t.split()) for t in lines)
        print(f"[make_real_corpus] {name}: {len(lines):,} documents, {words:,} words", flush=True)
    if args.text_only:
        return 0
    if (out / "tokens" / "_SUCCESS").exists() and (out / "vocab").is_dir() and not args.force:
        print(f"[make_real_corpus] {out}/tokens and vocab exist (--force rebuilds them)")
        return 0
    dump = Path(gtu.__file__).parent / "test_data" / ENWIKI
    inputs = [str(p) for p in sorted(src.glob("*.txt"))] + [str(dump)]
    cmd = [sys.executable, "-m", "sparkembed", "tokenize", *inputs, "--output", str(out)]
    cmd += ["--min-count", "5", "--lang", "en"]
    return subprocess.run(cmd, cwd=REPO).returncode


if __name__ == "__main__":
    sys.exit(main())
