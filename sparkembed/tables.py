"""Table I/O shared by every stage: atomic publish, metadata, fingerprints.

Every table directory is written to a staging directory next to its final place, gets
``_sparkembed.json`` there, and is then renamed into place; a failed job leaves the
previous table (or nothing) where the output should be, never a half-written one.
Paths go through Hadoop's FileSystem API so the same code works on HDFS and S3A.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import uuid
from typing import Any

from sparkembed import __version__
from sparkembed.errors import SparkembedError

METADATA_FILE = "_sparkembed.json"


def _fs_and_path(spark, path: str):
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(str(path))
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs, hpath, jvm


def path_exists(spark, path: str) -> bool:
    fs, hpath, _ = _fs_and_path(spark, path)
    return bool(fs.exists(hpath))


def write_text(spark, path: str, text: str) -> None:
    fs, hpath, _ = _fs_and_path(spark, path)
    out = fs.create(hpath, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


def read_text(spark, path: str) -> str:
    fs, hpath, jvm = _fs_and_path(spark, path)
    stream = fs.open(hpath)
    try:
        reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, "UTF-8"))
        lines = []
        line = reader.readLine()
        while line is not None:
            lines.append(line)
            line = reader.readLine()
        return "\n".join(lines)
    finally:
        stream.close()


def fingerprint(spark, path: str) -> dict[str, Any]:
    """Size, file count and a hash of names, sizes and mtimes of everything under ``path``."""
    fs, hpath, _ = _fs_and_path(spark, path)
    if not fs.exists(hpath):
        raise SparkembedError(f"input not found: {path}")
    files = fs.listFiles(hpath, True)
    digest = hashlib.sha256()
    total, count = 0, 0
    entries = []
    while files.hasNext():
        st = files.next()
        entries.append((str(st.getPath()), int(st.getLen()), int(st.getModificationTime())))
    for name, size, mtime in sorted(entries):
        digest.update(f"{name}\0{size}\0{mtime}\n".encode())
        total += size
        count += 1
    return {"path": str(path), "files": count, "bytes": total, "sha256": digest.hexdigest()[:16]}


def publish(
    df,
    path: str,
    *,
    stage: str,
    params: dict[str, Any] | None = None,
    counts: dict[str, Any] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    partition_by: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    sort_within_partitions: list[str] | None = None,
) -> dict[str, Any]:
    """Write ``df`` as Parquet at ``path`` atomically, with ``_sparkembed.json``.

    ``counts`` values that are callables are evaluated after the write, so that they can
    read the written table instead of recomputing ``df``.
    """
    writer = df
    if sort_within_partitions:
        writer = writer.sortWithinPartitions(*sort_within_partitions)
    w = writer.write.mode("overwrite")
    if partition_by:
        w = w.partitionBy(*partition_by)
    return publish_with(
        df.sparkSession,
        path,
        w.parquet,
        schema=df.schema,
        stage=stage,
        params=params,
        counts=counts,
        inputs=inputs,
        partition_by=partition_by,
        extra=extra,
    )


def publish_with(
    spark,
    path: str,
    write,
    *,
    schema,
    stage: str,
    params: dict[str, Any] | None = None,
    counts: dict[str, Any] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    partition_by: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Atomic publish of a table written by ``write(staging_path)``; see ``publish``.

    ``write`` must leave a complete Parquet table with ``_SUCCESS`` at the staging path
    (Spark's writer does; stages that write their files themselves must too). ``schema``
    (a Spark StructType) is recorded in the metadata.
    """
    fs, final, jvm = _fs_and_path(spark, path)
    parent = final.getParent()
    name = final.getName()
    token = uuid.uuid4().hex[:12]
    # Staging lives in a hidden folder beside the table, under a visible name: Spark
    # ignores a root path whose own name starts with "." or "_" when reading it back.
    staging_root = jvm.org.apache.hadoop.fs.Path(parent, ".sparkembed-staging")
    staging = jvm.org.apache.hadoop.fs.Path(staging_root, f"{name}-{token}")
    try:
        fs.mkdirs(parent)
        write(str(staging.toString()))
        resolved = {
            k: (v(str(staging.toString())) if callable(v) else v) for k, v in (counts or {}).items()
        }
        meta = {
            "stage": stage,
            "sparkembed_version": __version__,
            "spark_version": spark.version,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "params": params or {},
            "counts": resolved,
            "inputs": inputs or [],
            "schema": json.loads(schema.json()),
            "partition_by": partition_by or [],
        }
        meta.update(extra or {})
        write_text(spark, f"{staging.toString()}/{METADATA_FILE}", json.dumps(meta, indent=2))
        # Swap: old table aside, new one in, old one removed. Renames are atomic on HDFS
        # and local disks; the window where neither exists is two renames long.
        old = jvm.org.apache.hadoop.fs.Path(staging_root, f"{name}-{token}.old")
        had_old = fs.exists(final)
        if had_old and not fs.rename(final, old):
            raise SparkembedError(f"could not move the previous table aside: {path}")
        if not fs.rename(staging, final):
            if had_old:
                fs.rename(old, final)
            raise SparkembedError(f"could not publish the new table at {path}")
        if had_old:
            fs.delete(old, True)
        return meta
    except BaseException:
        if fs.exists(staging):
            fs.delete(staging, True)
        raise
    finally:
        if fs.exists(staging_root) and len(fs.listStatus(staging_root)) == 0:
            fs.delete(staging_root, False)


def read_metadata(spark, path: str) -> dict[str, Any]:
    meta_path = f"{str(path).rstrip('/')}/{METADATA_FILE}"
    if not path_exists(spark, meta_path):
        raise SparkembedError(f"not a sparkembed table (no {METADATA_FILE}): {path}")
    return json.loads(read_text(spark, meta_path))


def read_table(spark, path: str, stage: str | None = None):
    """Read a published table, checking it is complete (``_SUCCESS``) and of ``stage``."""
    if not path_exists(spark, path):
        raise SparkembedError(f"table not found: {path}")
    if not path_exists(spark, f"{str(path).rstrip('/')}/_SUCCESS"):
        raise SparkembedError(f"table is incomplete (no _SUCCESS): {path}")
    if stage is not None:
        meta = read_metadata(spark, path)
        if meta.get("stage") != stage:
            raise SparkembedError(f"{path} is a '{meta.get('stage')}' table, expected '{stage}'")
    return spark.read.parquet(str(path))
