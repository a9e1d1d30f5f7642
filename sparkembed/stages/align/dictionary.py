"""Seed dictionaries: ``source<TAB>target`` lines (MUSE's space-separated pairs too),
many-to-many allowed, read on the driver (a dictionary is small beside a vocabulary).

Treatment of lines, each counted: a pair (two non-empty fields) is kept, once; an empty
line is ``empty``; anything else (one field, three, an empty side) is ``malformed`` and
set aside with its line number. A dictionary with no pair is an error naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sparkembed.errors import SparkembedError


@dataclass
class Dictionary:
    pairs: list[tuple[str, str]]  # distinct, in file order
    lines: int = 0
    empty: int = 0
    duplicates: int = 0
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (line number, excerpt)

    def stats(self) -> dict[str, int]:
        return {
            "dictionary_lines": self.lines,
            "dictionary_pairs": len(self.pairs),
            "dictionary_empty": self.empty,
            "dictionary_duplicates": self.duplicates,
            "dictionary_malformed": len(self.malformed),
        }


def parse_pair(line: str) -> tuple[str, str] | None:
    """``(source, target)`` of one line, or None when it is not a pair."""
    fields = line.split("\t") if "\t" in line else line.split()
    if len(fields) != 2:
        return None
    a, b = fields[0].strip(), fields[1].strip()
    return (a, b) if a and b else None


def read_dictionary(path: str | Path) -> Dictionary:
    """The pairs of a dictionary file and what was set aside."""
    p = Path(path)
    if not p.is_file():
        raise SparkembedError(f"dictionary not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = p.read_bytes()[: exc.start].count(b"\n") + 1
        raise SparkembedError(f"{p}: line {line} is not valid UTF-8") from None
    out = Dictionary(pairs=[])
    seen: set[tuple[str, str]] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        out.lines += 1
        line = raw.strip()
        if not line:
            out.empty += 1
            continue
        pair = parse_pair(line)
        if pair is None:
            out.malformed.append((number, line[:200]))
        elif pair in seen:
            out.duplicates += 1
        else:
            seen.add(pair)
            out.pairs.append(pair)
    if not out.pairs:
        why = f"{len(out.malformed)} malformed, {out.empty} empty of {out.lines} lines"
        raise SparkembedError(f"{p}: no source<TAB>target pair in the dictionary ({why})")
    return out


def identical_pairs(shared_tokens) -> Dictionary:
    """The ``identical`` seed: every string present in both vocabularies (numerals, names:
    ``shared_tokens``, most frequent first), paired with itself."""
    pairs = [(t, t) for t in dict.fromkeys(shared_tokens)]
    if not pairs:
        raise SparkembedError("identical seed: the two vocabularies share no token")
    return Dictionary(pairs=pairs, lines=len(pairs))
