"""Tokenize's inputs, on the driver and without a Spark job: the files under the input
paths (files, directories, globs) with their formats, the completeness of .bz2 files, and
the split sizes the scans use.

Files are found through the shared filesystem layer (``sparkembed.tables.storage``):
Hadoop's FileSystem with a SparkSession (HDFS, S3A, ``file:``), the local one without.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

from sparkembed.errors import SparkembedError
from sparkembed.session import task_slots
from sparkembed.tables.storage import FileStatus, base_name, filesystem

MB = 1024 * 1024
COMPRESSED_SUFFIXES = (".bz2", ".gz", ".zst", ".lz4", ".snappy", ".deflate")
# Compressions and archives Hadoop's text reader has no codec for: read as text they are
# bytes of garbage, so they are refused by name.
UNREADABLE_SUFFIXES = (".xz", ".lzma", ".zip", ".7z", ".rar", ".z", ".lzo", ".br", ".tar", ".tgz")
_BZ2_EOS = 0x177245385090  # bzip2 end-of-stream magic (48 bits, not byte-aligned)


@dataclass(frozen=True)
class InputFile:
    path: str  # fully qualified (file:/..., hdfs://...)
    size: int
    format: str


def _is_local(path: str) -> bool:
    return "://" not in path and not path.startswith("file:")


def check_inputs_exist(inputs: list[str]) -> None:
    """Fail fast, before Spark starts, on a local input path or glob that matches nothing."""
    if not inputs:
        raise SparkembedError("no input given")
    local = filesystem()
    for item in inputs:
        if _is_local(item) and not local.glob(item):
            raise SparkembedError(f"input not found: {item}")
        if _is_local(item) and ":" in item:
            # Hadoop reads a colon in a relative path as a URI scheme and fails deep inside.
            raise SparkembedError(
                f"input name has a ':', which Hadoop paths cannot hold: {item} "
                "(rename or link it under a name without ':', or give its file:/// URI)"
            )


def is_compressed(path: str) -> bool:
    return path.lower().endswith(COMPRESSED_SUFFIXES)


def detect_format(path: str) -> str:
    """Format from a file name: *.xml[.bz2|.gz] → wiki, *.json[l] → jsonl, *.parquet, else text."""
    name = base_name(path).lower()
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith(".xml") or "pages-articles" in name:
        return "wiki"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    return "text"


def list_inputs(spark: SparkSession | None, inputs: list[str], fmt: str) -> list[InputFile]:
    """Every file under the inputs (files, directories, globs), through Hadoop's FileSystem
    (the local one without ``spark``). Hidden files in directories (``_SUCCESS``, ``.crc``)
    are left out."""
    check_inputs_exist(inputs)
    fs = filesystem(spark)
    files: list[InputFile] = []
    for item in inputs:
        matches = fs.glob(item)
        if not matches:
            raise SparkembedError(f"input not found: {item}")
        for st in matches:
            if st.is_dir:
                files.extend(
                    _input_file(f, fmt)
                    for f in fs.list_files(st.path)
                    if not base_name(f.path).startswith(("_", "."))
                )
            else:
                files.append(_input_file(st, fmt))
    if not files:
        raise SparkembedError(f"no input files in: {', '.join(inputs)}")
    return sorted(set(files), key=lambda f: f.path)


def _input_file(status: FileStatus, fmt: str) -> InputFile:
    name = base_name(status.path).lower()
    unreadable = [s for s in UNREADABLE_SUFFIXES if name.endswith(s)]
    unreadable += [".tar"] if ".tar." in name else []
    if unreadable:
        raise SparkembedError(
            f"{status.path}: {unreadable[0]} files cannot be read (tokenize reads plain files "
            f"and {', '.join(COMPRESSED_SUFFIXES)}): unpack or recompress it first"
        )
    return InputFile(status.path, status.size, detect_format(status.path) if fmt == "auto" else fmt)


def check_bz2_complete(spark: SparkSession | None, f: InputFile) -> None:
    """A .bz2 file must start with 'BZh' and end with bzip2's end-of-stream marker.

    Reading a truncated file fails deep inside a task; this catches it up front from the
    file's first and last bytes.
    """
    fs = filesystem(spark)
    tail_len = min(f.size, 16)
    head = fs.read_range(f.path, 0, min(f.size, 3))
    tail = fs.read_range(f.path, f.size - tail_len, tail_len)
    if head != b"BZh":
        raise SparkembedError(f"not a bzip2 file: {f.path}")
    # The 48-bit marker is followed by a 32-bit CRC and 0-7 padding bits.
    bits = int.from_bytes(tail, "big")
    total = 8 * len(tail)
    for pad in range(8):
        shift = 32 + pad
        if total - shift < 48:
            break
        if (bits >> shift) & ((1 << 48) - 1) == _BZ2_EOS:
            return
    raise SparkembedError(f"truncated or corrupt bzip2 file (no end-of-stream marker): {f.path}")


def even_split_bytes(spark: SparkSession, total_bytes: int, split_mb: int) -> int:
    """Split size for ``total_bytes`` of input: at most ``split_mb``, and even, so that the
    last wave of tasks keeps every slot busy (a 50 MB file on 2 cores: 2 x 25 MB; 505 MB:
    8 x 63 MB, not 7 x 64 + 57 MB on one core)."""
    slots = task_slots(spark)
    waves = max(1, -(-total_bytes // (slots * split_mb * MB)))
    return max(1, min(split_mb * MB, -(-total_bytes // (slots * waves))))


def file_split_bytes(spark: SparkSession, files: list[InputFile], split_mb: int) -> int:
    """even_split_bytes for Spark's file sources, never under the cost Spark gives opening a
    file (``spark.sql.files.openCostInBytes``, 4 MB): smaller splits are not worth a task,
    and Spark would not cut finer anyway."""
    try:  # Spark's own parse of the setting ("4MB", "8m", bytes)
        open_cost = int(spark._jsparkSession.sessionState().conf().filesOpenCostInBytes())
    except Exception:  # pragma: no cover - no JVM gateway (Spark Connect)
        open_cost = 4 * MB
    even = even_split_bytes(spark, sum(f.size for f in files), split_mb)
    return min(split_mb * MB, max(even, open_cost))
