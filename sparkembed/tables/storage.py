"""The filesystem layer of tables: Hadoop's FileSystem API through a SparkSession (HDFS,
S3A, ``file:``), the local filesystem otherwise (stages that run without Spark).

Both implementations answer the same calls with the same values, so the code above them
never asks which one it has.
"""

from __future__ import annotations

import glob as _glob
import os
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileStatus:
    """One entry found by ``glob`` or ``list_files``."""

    path: str  # fully qualified: file:/..., hdfs://...
    size: int  # 0 for a directory
    is_dir: bool


class LocalFS:
    def exists(self, path: str) -> bool:
        return os.path.lexists(local_path(path))

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(local_path(path))

    def mkdirs(self, path: str) -> None:
        os.makedirs(local_path(path), exist_ok=True)

    def rename(self, src: str, dst: str) -> bool:
        try:
            os.rename(local_path(src), local_path(dst))
            return True
        except OSError:
            return False

    def delete(self, path: str) -> None:
        p = local_path(path)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        elif os.path.lexists(p):
            os.unlink(p)

    def list(self, path: str) -> list[tuple[str, bool, int]]:
        """(name, is_dir, modification time in ms) of the entries of a directory."""
        p = local_path(path)
        if not os.path.isdir(p):
            return []
        out = []
        for e in os.scandir(p):
            out.append((e.name, e.is_dir(), int(e.stat(follow_symlinks=False).st_mtime * 1000)))
        return out

    def files(self, path: str) -> list[tuple[str, int, int]]:
        """(path relative to ``path``, size, mtime ms) of every file below it."""
        root = local_path(path)
        if os.path.isfile(root):
            st = os.stat(root)
            return [("", st.st_size, int(st.st_mtime * 1000))]
        out = []
        for d, _dirs, names in os.walk(root):
            for n in names:
                full = os.path.join(d, n)
                st = os.stat(full)
                out.append((os.path.relpath(full, root), st.st_size, int(st.st_mtime * 1000)))
        return out

    def glob(self, pattern: str) -> list[FileStatus]:
        """Files and directories matching ``pattern`` (``*``, ``?``, ``[...]``; Hadoop also
        knows ``{a,b}``), sorted; a path without wildcards matches itself if it exists."""
        out = []
        for p in sorted(_glob.glob(local_path(pattern), include_hidden=True)):
            full = os.path.abspath(p)
            is_dir = os.path.isdir(full)
            out.append(FileStatus(_qualified(full), 0 if is_dir else os.path.getsize(full), is_dir))
        return out

    def list_files(self, path: str) -> list[FileStatus]:
        """Every file below the directory ``path`` (recursively; a file: itself), sorted."""
        root = os.path.abspath(local_path(path))
        if os.path.isfile(root):
            return [FileStatus(_qualified(root), os.path.getsize(root), False)]
        out = []
        for d, _dirs, names in os.walk(root):
            for n in names:
                full = os.path.join(d, n)
                out.append(FileStatus(_qualified(full), os.path.getsize(full), False))
        return sorted(out, key=lambda f: f.path)

    def read_range(self, path: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer where the file ends first)."""
        with open(local_path(path), "rb") as f:
            f.seek(offset)
            return f.read(max(0, length))

    def write_text(self, path: str, text: str) -> None:
        Path(local_path(path)).write_text(text, encoding="utf-8")

    def read_text(self, path: str) -> str:
        return Path(local_path(path)).read_text(encoding="utf-8")


class HadoopFS:
    def __init__(self, spark):
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()

    def _p(self, path: str):
        hpath = self._jvm.org.apache.hadoop.fs.Path(str(path))
        return hpath.getFileSystem(self._conf), hpath

    def exists(self, path: str) -> bool:
        fs, p = self._p(path)
        return bool(fs.exists(p))

    def is_dir(self, path: str) -> bool:
        fs, p = self._p(path)
        return bool(fs.exists(p) and fs.getFileStatus(p).isDirectory())

    def mkdirs(self, path: str) -> None:
        fs, p = self._p(path)
        fs.mkdirs(p)

    def rename(self, src: str, dst: str) -> bool:
        fs, s = self._p(src)
        return bool(fs.rename(s, self._p(dst)[1]))

    def delete(self, path: str) -> None:
        fs, p = self._p(path)
        if fs.exists(p):
            fs.delete(p, True)

    def list(self, path: str) -> list[tuple[str, bool, int]]:
        fs, p = self._p(path)
        if not fs.exists(p):
            return []
        return [
            (st.getPath().getName(), bool(st.isDirectory()), int(st.getModificationTime()))
            for st in fs.listStatus(p)
        ]

    def files(self, path: str) -> list[tuple[str, int, int]]:
        fs, p = self._p(path)
        root = str(fs.makeQualified(p).toString()).rstrip("/")
        it = fs.listFiles(p, True)
        out = []
        while it.hasNext():
            st = it.next()
            full = str(st.getPath().toString())
            out.append(
                (full[len(root) :].lstrip("/"), int(st.getLen()), int(st.getModificationTime()))
            )
        return out

    def glob(self, pattern: str) -> list[FileStatus]:
        fs, p = self._p(pattern)
        statuses = fs.globStatus(p)  # null when nothing matches
        return sorted((_status(st) for st in statuses or []), key=lambda f: f.path)

    def list_files(self, path: str) -> list[FileStatus]:
        fs, p = self._p(path)
        it = fs.listFiles(p, True)
        out = []
        while it.hasNext():
            out.append(_status(it.next()))
        return sorted(out, key=lambda f: f.path)

    def read_range(self, path: str, offset: int, length: int) -> bytes:
        fs, p = self._p(path)
        length = max(0, min(length, int(fs.getFileStatus(p).getLen()) - offset))
        stream = fs.open(p)
        try:
            stream.seek(offset)
            # One call that returns the bytes (a Java byte[] comes back as Python bytes;
            # one filled in place could only be read back a byte per Py4J call).
            return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream, length))
        finally:
            stream.close()

    def write_text(self, path: str, text: str) -> None:
        fs, p = self._p(path)
        out = fs.create(p, True)
        try:
            out.write(bytearray(text.encode("utf-8")))
        finally:
            out.close()

    def read_text(self, path: str) -> str:
        fs, p = self._p(path)
        stream = fs.open(p)
        try:
            # One call for the whole file: a line at a time is one Py4J round trip per
            # line, seconds for the metadata of an aligned table (its d x d map).
            data = self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
            return bytes(data).decode("utf-8")
        finally:
            stream.close()


def _status(st) -> FileStatus:
    """A FileStatus from Hadoop's."""
    is_dir = bool(st.isDirectory())
    return FileStatus(str(st.getPath().toString()), 0 if is_dir else int(st.getLen()), is_dir)


def _qualified(local: str) -> str:
    """An absolute local path written as Hadoop qualifies it (``file:/abs/path``)."""
    return f"file:{local}"


def filesystem(spark=None):
    """Hadoop's FileSystem through ``spark``, else the local one."""
    return HadoopFS(spark) if spark is not None else LocalFS()


def local_path(path: str) -> str:
    """``path`` without a ``file:`` scheme (what the os module takes)."""
    return path[len("file:") :] if str(path).startswith("file:") else str(path)


def join_path(parent: str, name: str) -> str:
    return f"{str(parent).rstrip('/')}/{name}"


def parent_path(path: str) -> str:
    path = str(path).rstrip("/")
    head, _, _ = path.rpartition("/")
    return head or ("/" if path.startswith("/") else ".")


def base_name(path: str) -> str:
    return str(path).rstrip("/").rpartition("/")[2]


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies below it."""
    p, f = _normal(path), _normal(folder)
    return p == f or p.startswith(f.rstrip("/") + "/")


def _normal(path: str) -> str:
    p = local_path(str(path))
    return os.path.abspath(p) if "://" not in p else p.rstrip("/")


def path_exists(spark, path: str) -> bool:
    return filesystem(spark).exists(path)
