"""Tokenize's inputs, on the driver and without a Spark job: the files under the input
paths (files, directories, globs) with their formats, the completeness of .bz2 files, the
columns of Parquet files, and the split sizes the scans use.

Files are found through the shared filesystem layer (``sparkembed.tables.storage``):
Hadoop's FileSystem with a SparkSession (HDFS, S3A, ``file:``), the local one without.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession
from pyspark.sql.pandas.types import from_arrow_type
from pyspark.sql.types import BinaryType, StringType

from sparkembed.errors import SparkembedError
from sparkembed.session import task_slots
from sparkembed.tables.storage import FileStatus, base_name, filesystem

MB = 1024 * 1024
COMPRESSED_SUFFIXES = (".bz2", ".gz", ".zst", ".lz4", ".snappy", ".deflate")
# Compressions and archives Hadoop's text reader has no codec for: read as text they are
# bytes of garbage, so they are refused by name.
UNREADABLE_SUFFIXES = (".xz", ".lzma", ".zip", ".7z", ".rar", ".z", ".lzo", ".br", ".tar", ".tgz")
_BZ2_EOS = 0x177245385090  # bzip2 end-of-stream magic (48 bits, not byte-aligned)
# Bytes read from a Parquet file's end to find its footer: most footers fit in one read.
_PARQUET_TAIL = 64 * 1024


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


def parquet_columns(spark: SparkSession | None, f: InputFile) -> pa.Schema | None:
    """The columns of Parquet file ``f`` from its footer (one or two reads of its end), as
    Arrow types; None for an encrypted footer, which only Spark (with its keys) can read."""
    fs = filesystem(spark)
    tail = fs.read_range(f.path, max(0, f.size - _PARQUET_TAIL), min(f.size, _PARQUET_TAIL))
    if len(tail) >= 8 and tail[-4:] == b"PARE":
        return None
    if len(tail) < 12 or tail[-4:] != b"PAR1":
        raise SparkembedError(f"{f.path}: not a Parquet file (no footer)")
    footer = int.from_bytes(tail[-8:-4], "little") + 8
    if footer + 4 > f.size:
        raise SparkembedError(f"{f.path}: not a Parquet file (footer longer than the file)")
    if footer > len(tail):
        tail = fs.read_range(f.path, f.size - footer, footer)
    try:
        # The footer alone, behind the leading magic the reader expects: no data is read.
        meta = pq.read_metadata(pa.BufferReader(b"PAR1" + tail[-footer:]))
        return meta.schema.to_arrow_schema()
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SparkembedError(f"{f.path}: unreadable Parquet footer ({first})") from None


def _spark_type_name(t: pa.DataType) -> str:
    try:
        return from_arrow_type(t).simpleString()
    except Exception:  # an Arrow type Spark has no name for: Arrow's own
        return str(t)


def check_parquet_columns(
    spark: SparkSession | None, f: InputFile, text_column: str, others: list[str]
) -> None:
    """Parquet file ``f`` has the column ``text_column`` holding strings (or bytes, read as
    UTF-8 as Spark's ``binaryAsString`` does), and the columns ``others``.

    Spark takes a folder's schema from one file and casts what it reads: a text column of
    numbers would be tokenised into nothing, and counted nowhere. Every file's footer is
    checked on the driver instead, before any job.
    """
    schema = parquet_columns(spark, f)
    if schema is None:
        return
    for name in [text_column, *others]:
        if schema.get_field_index(name) < 0:
            raise SparkembedError(
                f"{f.path}: no column '{name}' (columns: {', '.join(schema.names)})"
            )
    t = schema.field(text_column).type
    if pa.types.is_dictionary(t):
        t = t.value_type
    try:
        text_like = isinstance(from_arrow_type(t), (StringType, BinaryType))
    except Exception:  # a type Spark cannot read as a column at all
        text_like = False
    if not text_like:
        raise SparkembedError(
            f"{f.path}: column '{text_column}' is {_spark_type_name(t)}, expected string"
        )


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
