"""Tokenize's inputs: listing, formats and .bz2 completeness, through Hadoop's FileSystem
or the local one (same answers)."""

from __future__ import annotations

import bz2

import pytest

from sparkembed.errors import SparkembedError
from sparkembed.stages.tokenize.inputs import (
    InputFile,
    check_bz2_complete,
    check_inputs_exist,
    list_inputs,
)


@pytest.fixture(params=["local", "hadoop"])
def session(request):
    """A SparkSession (Hadoop's FileSystem) or None (the local filesystem)."""
    return request.getfixturevalue("spark") if request.param == "hadoop" else None


def test_list_inputs_finds_files_under_directories_and_globs(session, tmp_path):
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    (tmp_path / "dir" / "a.txt").write_bytes(b"abc")
    (tmp_path / "dir" / "sub" / "p.xml.bz2").write_bytes(b"BZh")
    (tmp_path / "dir" / "_SUCCESS").write_bytes(b"")
    (tmp_path / "dir" / "sub" / ".a.txt.crc").write_bytes(b"c")
    (tmp_path / "b.jsonl").write_bytes(b"{}\n")
    root = f"file:{tmp_path}"
    found = list_inputs(session, [str(tmp_path / "dir"), f"{tmp_path}/*.jsonl"], "auto")
    assert found == [
        InputFile(f"{root}/b.jsonl", 3, "jsonl"),
        InputFile(f"{root}/dir/a.txt", 3, "text"),
        InputFile(f"{root}/dir/sub/p.xml.bz2", 3, "wiki"),
    ]
    # A file named twice is listed once; a format given applies to every file.
    twice = [str(tmp_path / "b.jsonl"), f"{root}/b.jsonl"]
    assert list_inputs(session, twice, "text") == [InputFile(f"{root}/b.jsonl", 3, "text")]
    with pytest.raises(SparkembedError, match="input not found: .*nope"):
        list_inputs(session, [f"{root}/nope*"], "auto")
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / "_SUCCESS").write_bytes(b"")
    with pytest.raises(SparkembedError, match="no input files in"):
        list_inputs(session, [str(tmp_path / "hidden")], "auto")


def test_check_inputs_exist_before_spark(tmp_path):
    with pytest.raises(SparkembedError, match="no input given"):
        check_inputs_exist([])
    with pytest.raises(SparkembedError, match="input not found"):
        check_inputs_exist([str(tmp_path / "*.txt")])
    (tmp_path / "a:b.txt").write_bytes(b"x")
    with pytest.raises(SparkembedError, match="which Hadoop paths cannot hold"):
        check_inputs_exist([str(tmp_path / "a:b.txt")])
    check_inputs_exist(["hdfs://nowhere/x"])  # not local: Hadoop answers later


def test_check_bz2_complete_reads_the_first_and_last_bytes(session, tmp_path):
    data = bz2.compress(b"some text " * 1000)
    for name, content in [("ok.bz2", data), ("cut.bz2", data[:-20]), ("no.bz2", b"x" + data)]:
        (tmp_path / name).write_bytes(content)

    def check(name):
        path = tmp_path / name
        check_bz2_complete(session, InputFile(f"file:{path}", path.stat().st_size, "text"))

    check("ok.bz2")
    with pytest.raises(SparkembedError, match="truncated or corrupt bzip2 file .*cut.bz2"):
        check("cut.bz2")
    with pytest.raises(SparkembedError, match="not a bzip2 file: .*no.bz2"):
        check("no.bz2")


@pytest.mark.parametrize("name", ["corpus.txt.xz", "corpus.zip", "dump.tar.gz", "c.7z"])
def test_compressions_without_a_reader_are_refused_by_name(tmp_path, name):
    """A .xz corpus once gave 0 documents and 404 lines rejected as invalid UTF-8, a .zip
    one document of garbage, both with exit 0."""
    f = tmp_path / name
    f.write_bytes(b"\xfd7zXZ\x00 not text")
    with pytest.raises(SparkembedError, match=rf"^(file:)?{f}: \.\w+ files cannot be read"):
        list_inputs(None, [str(f)], "auto")
