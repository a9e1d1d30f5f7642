"""Split reading of .bz2 wiki dumps: bzip2 blocks decoded with Python's ``bz2`` (C libbz2).

bzip2 blocks start with the 48-bit magic 0x314159265359 at any bit offset; a stream ends
with 0x177245385090 and a 32-bit combined CRC. A block is decoded on its own by wrapping it
as a one-block stream: ``BZh9`` + the block's bits + end-of-stream magic + the block's CRC
(a one-block stream's combined CRC is its block CRC). This is how lbzip2 and
indexed_bzip2 find blocks; nothing here is copied from them.

Ownership (makes byte-range splits exact):

- a range ``[start, end)`` owns the blocks whose magic starts in it;
- a page belongs to the range whose owned text contains the first byte of its ``<page>``;
- to finish its last page a range decodes the following blocks until the page ends.

A page ends at its ``</page>`` (excluded from the record), or at the next ``<page>`` when
``</page>`` is missing. A page longer than ``limit`` bytes is cut to ``limit`` bytes (the
caller rejects it) and the rest is skipped without being kept.

A magic match inside compressed data (about one per 2**47 bits) does not decode: it is
joined with the next block. A block that never decodes is an error (``Bz2ReadError``).
"""

from __future__ import annotations

import bz2
from collections.abc import Callable, Iterator

BLOCK_MAGIC = 0x314159265359
EOS_MAGIC = 0x177245385090
_MASK48 = (1 << 48) - 1
BLOCK, EOS = 0, 1
# A level-9 block holds 900k bytes before its first RLE; compressed, even random data stays
# well under 2 MB. Beyond that a candidate end is not this block's end.
MAX_BLOCK_BYTES = 2 * 1024 * 1024
MAX_JOIN = 16  # candidates tried as a block's end (false magic matches in between)
SCAN_CHUNK = 4 * 1024 * 1024
_HEADER = int.from_bytes(b"BZh9", "big")  # level 9 accepts blocks of any level
PAGE_OPEN, PAGE_CLOSE = b"<page>", b"</page>"

ReadAt = Callable[[int, int], bytes]  # (offset, length) -> bytes (shorter at end of file)


class Bz2ReadError(Exception):
    """A .bz2 file that cannot be decoded (corrupt block, missing end of stream)."""


def _patterns() -> list[tuple[bytes, int, int, int]]:
    """(searched bytes, bytes before them, bit shift, kind) for each magic and bit shift."""
    out = []
    for magic, kind in ((BLOCK_MAGIC, BLOCK), (EOS_MAGIC, EOS)):
        out.append((magic.to_bytes(6, "big"), 0, 0, kind))
        for shift in range(1, 8):
            # The magic starting `shift` bits into a byte covers 7 bytes; the middle 5
            # are fully determined by it.
            seven = (magic << (8 - shift)).to_bytes(7, "big")
            out.append((seven[1:6], 1, shift, kind))
    return out


_PATTERNS = _patterns()


def find_magics(buf: bytes, lo: int, hi: int) -> list[tuple[int, int]]:
    """Sorted (bit offset in ``buf``, kind) of magics starting in bytes ``[lo, hi)`` of ``buf``.

    ``buf`` must extend 7 bytes past ``hi`` (or to the end of the file) to verify a match.
    """
    found = []
    n = len(buf)
    for pat, before, shift, kind in _PATTERNS:
        magic = BLOCK_MAGIC if kind == BLOCK else EOS_MAGIC
        i = buf.find(pat, lo + before)
        while i != -1:
            first = i - before
            if first >= hi:
                break
            if shift == 0:
                found.append((first * 8, kind))
            elif first + 7 <= n:
                word = int.from_bytes(buf[first : first + 7], "big")
                if (word >> (8 - shift)) & _MASK48 == magic:
                    found.append((first * 8 + shift, kind))
            i = buf.find(pat, i + 1)
    found.sort()
    return found


def decode_block(buf: bytes, base: int, p: int, q: int) -> bytes | None:
    """Decode the block whose bits are ``[p, q)`` (file bit offsets; ``buf`` starts at byte
    ``base``); None when these bits are not one valid block."""
    nbits = q - p
    if nbits < 80 + 8:
        return None
    b0, b1 = p // 8 - base, (q + 7) // 8 - base
    chunk = int.from_bytes(buf[b0:b1], "big")
    bits = (chunk >> ((b1 - b0) * 8 - (q - (p // 8) * 8))) & ((1 << nbits) - 1)
    crc = (bits >> (nbits - 80)) & 0xFFFFFFFF
    total = 32 + nbits + 48 + 32
    pad = -total % 8
    stream = ((((_HEADER << nbits) | bits) << 48 | EOS_MAGIC) << 32 | crc) << pad
    try:
        return bz2.decompress(stream.to_bytes((total + pad) // 8, "big"))
    except (OSError, ValueError, EOFError):
        return None


class BlockReader:
    """Real bzip2 blocks of a file in order, from the first block magic at or after a byte.

    Holds a window of the compressed file from the current block on (never the whole file).
    """

    def __init__(self, read_at: ReadAt, size: int, name: str = "") -> None:
        self.read_at, self.size, self.name = read_at, size, name
        self.buf, self.base = b"", 0  # buf holds file bytes [base, base + len(buf))
        self.cands: list[tuple[int, int]] = []  # magics found, not yet passed
        self.scanned = 0  # every magic starting before this byte is in cands (or passed)

    def _ensure(self, hi: int) -> None:
        hi = min(hi, self.size)
        have = self.base + len(self.buf)
        if hi > have:
            self.buf = self.buf + self.read_at(have, max(hi - have, SCAN_CHUNK // 4))
            if self.base + len(self.buf) < hi:
                raise Bz2ReadError(f"cannot read {self.name}: file shorter than listed")

    def _drop_before(self, byte: int) -> None:
        if byte - self.base > SCAN_CHUNK:
            self.buf = self.buf[byte - self.base :]
            self.base = byte

    def _candidate(self, i: int) -> tuple[int, int] | None:
        while len(self.cands) <= i and self.scanned < self.size:
            hi = min(self.size, self.scanned + SCAN_CHUNK)
            self._ensure(hi + 7)
            found = find_magics(self.buf, self.scanned - self.base, hi - self.base)
            self.cands.extend((b + self.base * 8, k) for b, k in found)
            self.scanned = hi
        return self.cands[i] if i < len(self.cands) else None

    def _decode_from(self, i: int) -> tuple[int, bytes] | None:
        """(index of the end candidate, text) of a block starting at candidate i, or None."""
        p = self.cands[i][0]
        for j in range(i + 1, i + 1 + MAX_JOIN):
            c = self._candidate(j)
            if c is None:
                raise Bz2ReadError(
                    f"cannot read {self.name}: truncated bzip2 data (no end-of-stream marker)"
                )
            q = c[0]
            if (q - p) // 8 > MAX_BLOCK_BYTES:
                return None
            self._ensure((q + 7) // 8)
            text = decode_block(self.buf, self.base, p, q)
            if text is not None:
                return j, text
        return None

    def blocks(
        self, start: int, stop_bit: int | None = None, lenient: bool = False
    ) -> Iterator[tuple[int, int, bytes]]:
        """(first bit, end bit, text) of each block from the first magic at byte >= start.

        Stops before the first block when it starts at or after ``stop_bit``. The first
        magic that does not decode is a false match when an earlier block spans it;
        ``lenient`` skips it without looking back (used for that look-back itself).
        """
        self.buf, self.base, self.cands = b"", start, []
        self.scanned = start
        i, first = 0, True
        while True:
            c = self._candidate(i)
            if c is None:
                return
            p, kind = c
            if kind == EOS:
                i += 1
                continue
            if first and stop_bit is not None and p >= stop_bit:
                return
            got = self._decode_from(i)
            if got is None:
                if first and (lenient or self._spanned_by_earlier_block(p)):
                    i += 1
                    continue
                raise Bz2ReadError(f"cannot read {self.name}: corrupt bzip2 block at byte {p // 8}")
            j, text = got
            q = self.cands[j][0]
            yield p, q, text
            first = False
            self.cands = self.cands[j:]
            i = 0
            self._drop_before(q // 8)

    def _spanned_by_earlier_block(self, p: int) -> bool:
        lo = max(0, p // 8 - MAX_BLOCK_BYTES)
        if lo >= p // 8:
            return False
        other = BlockReader(self.read_at, self.size, self.name)
        try:
            for b_start, b_end, _ in other.blocks(lo, lenient=True):
                if b_start >= p:
                    return False
                if b_end > p:
                    return True
        except Bz2ReadError:
            return False
        return False


def range_pages(reader: BlockReader, start: int, end: int, limit: int) -> Iterator[bytes]:
    """Pages owned by the byte range ``[start, end)`` (see the module docstring), in order."""
    end_bit = end * 8
    buf = bytearray()
    owned_len = 0  # buf[:owned_len] is text of owned blocks
    cur = -1  # start in buf of the page in flight, -1: none
    skipping = False  # the page in flight was cut: its text is not kept
    pos = 0  # search position in buf
    for p, _q, text in reader.blocks(start, stop_bit=end_bit):
        owned = p < end_bit
        buf += text
        if owned:
            owned_len = len(buf)
        while True:
            if cur < 0 and not skipping:
                k = buf.find(PAGE_OPEN, pos, owned_len + len(PAGE_OPEN) - 1)
                if k < 0 or k >= owned_len:
                    break
                cur, pos = k, k + len(PAGE_OPEN)
            k_close = buf.find(PAGE_CLOSE, pos)
            k_open = buf.find(PAGE_OPEN, pos)
            ends = [k for k in (k_close, k_open) if k >= 0]
            if not ends:
                if not skipping and len(buf) - cur >= limit:
                    yield bytes(buf[cur : cur + limit])
                    skipping, cur = True, -1
                pos = max(pos, len(buf) - len(PAGE_CLOSE) + 1)
                break
            e = min(ends)
            if not skipping:
                yield bytes(buf[cur : min(e, cur + limit)])
            skipping, cur = False, -1
            pos = e + len(PAGE_CLOSE) if e == k_close else e
        # Keep from the page in flight (or the search position) on.
        keep = cur if cur >= 0 else max(0, min(pos, len(buf) - len(PAGE_CLOSE) + 1))
        if keep > 0:
            del buf[:keep]
            owned_len = max(0, owned_len - keep)
            pos -= keep
            cur = cur - keep if cur >= 0 else -1
        if not owned and cur < 0:
            return  # the last page is done (or cut), or none was in flight
    if cur >= 0 and not skipping:
        yield bytes(buf[cur:])  # a page cut off by the end of the file


def owned_blocks(reader: BlockReader, start: int, end: int) -> Iterator[bytes]:
    """Text of the blocks whose magic starts in bytes ``[start, end)``, in order."""
    for p, _q, text in reader.blocks(start, stop_bit=end * 8):
        if p >= end * 8:
            return
        yield text


def open_range_reader(uri: str, size: int):
    """(BlockReader, file) over ``uri`` through pyarrow's filesystems."""
    from pyarrow import fs as pafs

    filesystem, path = pafs.FileSystem.from_uri(uri)
    handle = filesystem.open_input_file(path)
    return BlockReader(lambda off, n: handle.read_at(n, off), size, uri), handle


def arrow_can_open(uri: str) -> bool:
    """True when pyarrow has a filesystem for ``uri`` and sees the file there."""
    try:
        from pyarrow import fs as pafs

        filesystem, path = pafs.FileSystem.from_uri(uri)
        return filesystem.get_file_info(path).type == pafs.FileType.File
    except Exception:  # no filesystem for the scheme, or no libhdfs / credentials
        return False


def pages_in_arrow(batches, limit: int, batch_bytes: int = 8 * 1024 * 1024):
    """mapInArrow body: rows (path, source, size, start, end) → (source, value) pages."""
    import pyarrow as pa

    schema = pa.schema([("source", pa.string()), ("value", pa.binary())])
    for batch in batches:
        cols = batch.to_pydict()
        for path, source, size, start, end in zip(
            cols["path"], cols["source"], cols["size"], cols["start"], cols["end"], strict=True
        ):
            reader, handle = open_range_reader(path, size)
            reader.name = source
            values: list[bytes] = []
            held = 0
            try:
                for page in range_pages(reader, start, end, limit):
                    values.append(page)
                    held += len(page)
                    if held >= batch_bytes:
                        yield pa.record_batch([[source] * len(values), values], schema=schema)
                        values, held = [], 0
            finally:
                handle.close()
            if values:
                yield pa.record_batch([[source] * len(values), values], schema=schema)
