"""Small UTF-8 text inputs read on the driver (evaluation lists, seed dictionaries, token
lists), with one-line errors naming the file and line."""

from __future__ import annotations

from pathlib import Path

from sparkembed.errors import SparkembedError


def read_lines(path: str | Path, what: str = "file") -> tuple[Path, list[tuple[int, str]]]:
    """(path, [(1-based line number, text), ...]) of a UTF-8 file, split on '\\n' only.

    Lines keep their end ('\\n', and '\\r' of CRLF files), like the binary line reads of
    gensim; the numbers are those an editor shows. A byte that is not UTF-8 raises
    SparkembedError ``FILE: line N is not valid UTF-8 (byte 0xNN)``.
    """
    p = Path(path)
    if not p.is_file():
        raise SparkembedError(f"{what} not found: {p}")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SparkembedError(f"{p}: cannot read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_no = data.count(b"\n", 0, exc.start) + 1
        raise SparkembedError(
            f"{p}: line {line_no} is not valid UTF-8 (byte 0x{data[exc.start]:02x})"
        ) from None
    lines = text.split("\n")
    numbered = [(n, line + "\n") for n, line in enumerate(lines[:-1], 1)]
    if lines[-1]:
        numbered.append((len(lines), lines[-1]))
    return p, numbered
