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
from sparkembed.textfiles import read_lines


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


def _add_pair(d: Dictionary, seen: set, pair: tuple[str, str]) -> None:
    """Keep ``pair`` once; a repeat is counted as a duplicate."""
    if pair in seen:
        d.duplicates += 1
    else:
        seen.add(pair)
        d.pairs.append(pair)


def parse_pair(line: str) -> tuple[str, str] | None:
    """``(source, target)`` of one line, or None when it is not a pair."""
    fields = line.split("\t") if "\t" in line else line.split()
    if len(fields) != 2:
        return None
    a, b = fields[0].strip(), fields[1].strip()
    return (a, b) if a and b else None


def read_dictionary(path: str | Path) -> Dictionary:
    """The pairs of a dictionary file and what was set aside."""
    p, lines = read_lines(path, "dictionary")
    out = Dictionary(pairs=[])
    seen: set[tuple[str, str]] = set()
    for number, raw in lines:
        out.lines += 1
        line = raw.strip()
        if not line:
            out.empty += 1
            continue
        pair = parse_pair(line)
        if pair is None:
            out.malformed.append((number, line[:200]))
        else:
            _add_pair(out, seen, pair)
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


# --- FreeDict (dictd format) -----------------------------------------------------------
#
# A dictd dictionary is an index (``headword<TAB>offset<TAB>length``, numbers in dictd's
# base64) and a dictzip file (gzip-compatible) of entries. A FreeDict entry reads
# ``headword /pronunciation/`` then one line per sense, optionally numbered (``2. ``),
# with comma- or semicolon-separated translations.

_B64 = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}


def dictd_number(text: str) -> int:
    """An offset or length of a dictd index (base64 digits, most significant first)."""
    n = 0
    for ch in text:
        n = n * 64 + _B64[ch]
    return n


def _single_word(text: str) -> str | None:
    word = text.strip().lower()
    return word if word and not any(c.isspace() for c in word) else None


def freedict_entry_pairs(entry: str) -> list[tuple[str, str]]:
    """The single-word (headword, translation) pairs of one FreeDict entry's text."""
    lines = [x for x in entry.splitlines() if x.strip()]
    if not lines:
        return []
    head = _single_word(lines[0].split(" /", 1)[0])
    if head is None:
        return []
    pairs = []
    for line in lines[1:]:
        sense = line.strip()
        number, _, rest = sense.partition(". ")
        if number.isdigit():
            sense = rest
        for part in sense.replace(";", ",").split(","):
            word = _single_word(part)
            if word is not None:
                pairs.append((head, word))
    return pairs


def read_freedict(index_path: str | Path) -> Dictionary:
    """The single-word pairs of a FreeDict dictionary given its ``.index`` (the ``.dict.dz``
    or ``.dict`` beside it), headwords and translations lowercased, in index order."""
    import gzip

    index = Path(index_path)
    if index.suffix != ".index" or not index.is_file():
        raise SparkembedError(f"not a dictd index: {index} (expected NAME.index)")
    data_path = next(
        (p for p in (index.with_suffix(".dict.dz"), index.with_suffix(".dict")) if p.is_file()),
        None,
    )
    if data_path is None:
        raise SparkembedError(f"{index}: no {index.stem}.dict.dz or .dict beside it")
    data = gzip.open(data_path).read() if data_path.suffix == ".dz" else data_path.read_bytes()
    out = Dictionary(pairs=[])
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(index.read_text(encoding="utf-8").splitlines(), start=1):
        out.lines += 1
        fields = line.split("\t")
        if len(fields) != 3:
            out.malformed.append((number, line[:200]))
            continue
        if fields[0].startswith("00database"):
            continue  # the dictionary's own description
        start, length = dictd_number(fields[1]), dictd_number(fields[2])
        entry = data[start : start + length].decode("utf-8", errors="replace")
        for pair in freedict_entry_pairs(entry):
            _add_pair(out, seen, pair)
    if not out.pairs:
        raise SparkembedError(f"{index}: no single-word pairs")
    return out


def write_tsv(d: Dictionary, path: str | Path, reverse: bool = False) -> None:
    """The pairs as ``source<TAB>target`` lines (``reverse``: target first)."""
    rows = [(b, a) if reverse else (a, b) for a, b in d.pairs]
    Path(path).write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
