"""The filesystem layer of tables: the local and the Hadoop implementation answer alike."""

from __future__ import annotations

import pytest

from sparkembed.tables.storage import FileStatus, filesystem


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a.txt").write_bytes(b"0123456789")
    (tmp_path / "d" / "sub" / "b.txt").write_bytes(b"xyz")
    (tmp_path / "d" / "sub" / ".hidden").write_bytes(b"h")
    (tmp_path / "c.txt").write_bytes(b"")
    return tmp_path


@pytest.fixture(params=["local", "hadoop"])
def fs(request):
    return filesystem(request.getfixturevalue("spark") if request.param == "hadoop" else None)


def test_glob_matches_files_and_directories_with_sizes(fs, tree):
    root = f"file:{tree}"
    assert fs.glob(f"{tree}/*") == [
        FileStatus(f"{root}/c.txt", 0, False),
        FileStatus(f"{root}/d", 0, True),
    ]
    assert fs.glob(f"{tree}/d/a.txt") == [FileStatus(f"{root}/d/a.txt", 10, False)]
    assert fs.glob(f"{root}/d/*.txt") == [FileStatus(f"{root}/d/a.txt", 10, False)]
    assert fs.glob(f"{tree}/d/sub/*") == [  # hidden names match too, as in Hadoop
        FileStatus(f"{root}/d/sub/.hidden", 1, False),
        FileStatus(f"{root}/d/sub/b.txt", 3, False),
    ]
    assert fs.glob(f"{tree}/nothing*") == []
    assert fs.glob(f"{tree}/missing.txt") == []


def test_list_files_walks_a_directory(fs, tree):
    root = f"file:{tree}"
    assert fs.list_files(f"{tree}/d") == [
        FileStatus(f"{root}/d/a.txt", 10, False),
        FileStatus(f"{root}/d/sub/.hidden", 1, False),
        FileStatus(f"{root}/d/sub/b.txt", 3, False),
    ]
    assert fs.list_files(f"{root}/c.txt") == [FileStatus(f"{root}/c.txt", 0, False)]


def test_read_range_reads_bytes_at_an_offset(fs, tree):
    path = f"{tree}/d/a.txt"
    assert fs.read_range(path, 0, 3) == b"012"
    assert fs.read_range(path, 6, 4) == b"6789"
    assert fs.read_range(f"file:{path}", 8, 10) == b"89"  # fewer where the file ends
    assert fs.read_range(path, 10, 5) == b""
