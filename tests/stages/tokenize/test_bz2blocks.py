"""Split .bz2 reading: block finder/decoder, page ownership, and the Spark reader."""

from __future__ import annotations

import bz2
import dataclasses
import random
import re

import pytest
from chispa import assert_df_equality

from sparkembed.config import TokenizeConfig, load_config
from sparkembed.errors import ConfigError, SparkembedError
from sparkembed.stages.tokenize import bz2blocks
from sparkembed.stages.tokenize.bz2blocks import (
    BlockReader,
    Bz2ReadError,
    find_magics,
    owned_blocks,
    range_pages,
)
from sparkembed.stages.tokenize.readers import read_errors_as_sparkembed, read_records
from sparkembed.stages.tokenize.tokens import tokenize_documents

MB = 1024 * 1024


def _xml(seed: int, n_pages: int) -> bytes:
    """A dump-like text of pages from a few bytes to ~300 KB (longer than a level-1 block)."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzéü"
    words = ["".join(rng.choices(alphabet, k=rng.randint(2, 9))) for _ in range(3000)]
    pages = []
    for i in range(n_pages):
        n = 40_000 if i % 50 == 7 else rng.choice([0, 3, 60, 600, 3000])
        body = " ".join(rng.choices(words, k=n))
        pages.append(f"  <page>\n    <title>T{i}</title>\n    <id>{i}</id>\n<text>{body}</text>\n")
        pages.append("  </page>\n")
    return ("<mediawiki>\n" + "".join(pages) + "</mediawiki>\n").encode()


XML = _xml(1, 400)
SINGLE = bz2.compress(XML, 1)  # one stream, ~100 KB blocks
# pbzip2-style: several streams back to back, each with its own header.
MULTI = b"".join(bz2.compress(XML[i : i + 250_000], 1) for i in range(0, len(XML), 250_000))
PAGES = [m.group(0)[: -len(b"</page>")] for m in re.finditer(rb"<page>.*?</page>", XML, re.S)]


def _reader(data: bytes) -> BlockReader:
    return BlockReader(lambda off, n: data[off : off + n], len(data), "mem.bz2")


def _cuts(data: bytes, seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    cuts = sorted(set(rng.sample(range(1, len(data)), rng.randint(1, 25))))
    bounds = [0, *cuts, len(data)]
    return list(zip(bounds, bounds[1:], strict=False))


def test_data_has_many_blocks_and_streams():
    assert len(XML) > 3 * MB
    assert sum(k == bz2blocks.BLOCK for _, k in find_magics(SINGLE, 0, len(SINGLE))) > 20
    assert sum(k == bz2blocks.EOS for _, k in find_magics(MULTI, 0, len(MULTI))) > 10
    assert bz2.decompress(MULTI) == XML


@pytest.mark.parametrize("name", ["single", "multi"])
@pytest.mark.parametrize("seed", range(5))
def test_owned_blocks_and_pages_of_random_ranges_add_up(name, seed):
    data = SINGLE if name == "single" else MULTI
    ranges = _cuts(data, seed)
    text = b"".join(b"".join(owned_blocks(_reader(data), a, b)) for a, b in ranges)
    assert text == bz2.decompress(data)
    pages = [p for a, b in ranges for p in range_pages(_reader(data), a, b, 64 * MB)]
    assert pages == PAGES


def test_false_magic_is_joined_with_its_block(monkeypatch):
    # A fake block magic 4001 bits into every real block: decoding from it fails, the
    # block it sits in decodes joined over it, and a range starting right at it looks
    # back and skips it.
    real = find_magics(SINGLE, 0, len(SINGLE))
    starts = [p for p, k in real if k == bz2blocks.BLOCK]
    fakes = [p + 4001 for p in starts if p + 4001 + 48 < len(SINGLE) * 8 - 80]

    def with_fakes(buf, lo, hi):
        base = SINGLE.index(bytes(buf[:4096])) * 8  # where the reader's window starts
        found = find_magics(buf, lo, hi)
        mine = [(f - base, bz2blocks.BLOCK) for f in fakes if lo * 8 <= f - base < hi * 8]
        return sorted(found + mine)

    monkeypatch.setattr(bz2blocks, "find_magics", with_fakes)
    fake_bytes = [f // 8 for f in fakes[1:8]]  # ranges that start at a fake
    bounds = [0, *fake_bytes, len(SINGLE)]
    for ranges in (list(zip(bounds, bounds[1:], strict=False)), _cuts(SINGLE, 99)):
        for a, b in ranges:
            owned = sum(a * 8 <= p < b * 8 for p in starts)
            assert len(list(owned_blocks(_reader(SINGLE), a, b))) == owned
        text = b"".join(b"".join(owned_blocks(_reader(SINGLE), a, b)) for a, b in ranges)
        assert text == XML
        pages = [p for a, b in ranges for p in range_pages(_reader(SINGLE), a, b, 64 * MB)]
        assert pages == PAGES


def test_corrupt_and_truncated_blocks_raise():
    corrupt = bytearray(SINGLE)
    corrupt[len(corrupt) // 2] ^= 0xFF
    with pytest.raises(Bz2ReadError, match="corrupt bzip2 block at byte"):
        list(range_pages(_reader(bytes(corrupt)), 0, len(corrupt), MB))
    cut = SINGLE[: len(SINGLE) // 2]
    with pytest.raises(Bz2ReadError, match="truncated bzip2 data"):
        list(range_pages(_reader(cut), 0, len(cut), MB))


def test_long_page_is_cut_to_the_limit_and_the_rest_skipped():
    limit = 50_000
    pages = [p for a, b in _cuts(SINGLE, 7) for p in range_pages(_reader(SINGLE), a, b, limit)]
    assert pages == [p[:limit] for p in PAGES]
    assert sum(len(p) == limit for p in pages) >= 8


def test_page_without_end_tag_ends_at_the_next_page():
    xml = b"<mediawiki><page>one<text>a</text><page>two</page>\n<page>three"
    data = bz2.compress(xml)
    assert list(range_pages(_reader(data), 0, len(data), MB)) == [
        b"<page>one<text>a</text>",
        b"<page>two",
        b"<page>three",
    ]


# --- through Spark -----------------------------------------------------------------------


def _records(spark, path, **changes):
    cfg = dataclasses.replace(TokenizeConfig(), **changes)
    return read_records(spark, [str(path)], cfg), cfg


def test_sample_same_records_and_tokens_as_hadoop_reader(spark, enwiki_sample):
    ours, cfg = _records(spark, enwiki_sample, bz2_decoder="python", split_mb=1)
    hadoop, _ = _records(spark, enwiki_sample, bz2_decoder="hadoop")
    assert ours.rdd.getNumPartitions() == 2  # 1.7 MB in 1 MB ranges
    ours, hadoop = ours.persist(), hadoop.persist()
    try:
        assert_df_equality(ours, hadoop, ignore_row_order=True, ignore_nullable=True)
        docs, hdocs = (
            r.where("status = 'document'").select("source", "doc_id", "title", "text", "format")
            for r in (ours, hadoop)
        )
        tokens = tokenize_documents(docs, cfg).persist()
        assert tokens.count() > 20000
        assert_df_equality(
            tokens, tokenize_documents(hdocs, cfg), ignore_row_order=True, ignore_nullable=True
        )
        tokens.unpersist()
    finally:
        ours.unpersist()
        hadoop.unpersist()


def test_multi_stream_dump_split_in_many_tasks(spark, tmp_path, enwiki_sample):
    text = bz2.decompress(enwiki_sample.read_bytes())
    path = tmp_path / "multi.xml.bz2"
    path.write_bytes(
        b"".join(bz2.compress(text[i : i + 300_000], 1) for i in range(0, len(text), 300_000))
    )
    ours, _ = _records(spark, path, bz2_decoder="python", split_mb=1)
    hadoop, _ = _records(spark, path, bz2_decoder="hadoop")
    assert ours.rdd.getNumPartitions() == -(-path.stat().st_size // MB) >= 2
    assert ours.where("status = 'document'").count() == 106
    assert_df_equality(ours, hadoop, ignore_row_order=True, ignore_nullable=True)


def test_corrupt_block_in_a_task_is_one_clear_error(spark, tmp_path):
    data = bytearray(SINGLE)
    data[len(data) // 3] ^= 0x55
    path = tmp_path / "broken.xml.bz2"
    path.write_bytes(bytes(data))
    records, _ = _records(spark, path, split_mb=1)
    with pytest.raises(SparkembedError, match=r"cannot read .*broken\.xml\.bz2: corrupt bzip2"):
        with read_errors_as_sparkembed():
            records.count()


def test_unknown_decoder_is_an_error():
    # Refused with the config (config.validate), before anything is read.
    with pytest.raises(ConfigError, match="bz2_decoder must be one of"):
        load_config(None, ["tokenize.bz2_decoder='java'"])


def test_page_over_max_record_mb_is_rejected_and_the_next_pages_kept(spark, tmp_path):
    def page(pid: int, text: str) -> str:
        return (
            f"  <page>\n    <title>P{pid}</title>\n    <ns>0</ns>\n    <id>{pid}</id>\n"
            f"    <revision><text>{text}</text></revision>\n  </page>\n"
        )

    words = " ".join(f"w{i}" for i in range(400_000))  # ~2.7 MB
    xml = "<mediawiki>\n" + page(1, "short one") + page(2, words) + page(3, "after it")
    path = tmp_path / "long.xml.bz2"
    path.write_bytes(bz2.compress((xml + "</mediawiki>\n").encode(), 1))
    records, _ = _records(spark, path, max_record_mb=1, split_mb=1)
    rows = sorted((r.doc_id, r.status, r.reason) for r in records.collect())
    assert rows == [
        ("1", "document", None),
        ("2", "rejected", "page longer than max_record_mb=1 (cut by the reader)"),
        ("3", "document", None),
    ]
