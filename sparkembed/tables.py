"""Table I/O shared by every stage: commits, metadata, fingerprints, ownership.

A stage's outputs are written to staging directories beside their final places (same
filesystem, so a rename moves them), each with ``_sparkembed.json``; then a journal naming
every (staging, final) pair is written, and the renames follow. The journal is the commit
point: a run killed before it leaves the previous tables untouched (its staging is cleaned
by the next run), a run killed after it is rolled forward by the next run. So a stage's
outputs become visible together or not at all.

Every table's metadata records a ``fingerprint`` (fixed when it is written, kept by copies)
and the fingerprints of the tables it was built from: readers use them to refuse tables
that were not built from each other, ``sparkembed run`` to decide what is up to date.
Paths go through Hadoop's FileSystem API when a SparkSession is given (HDFS, S3A), through
the local filesystem otherwise (stages that run without Spark).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sparkembed import __version__
from sparkembed.errors import SparkembedError

METADATA_FILE = "_sparkembed.json"
STAGING_DIR = ".sparkembed-staging"
# A staging folder of another machine (whose process we cannot check) is stale after this.
FOREIGN_STAGING_SECONDS = 24 * 3600


# --- filesystems -------------------------------------------------------------------------


class _LocalFS:
    def exists(self, path: str) -> bool:
        return os.path.lexists(_local(path))

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(_local(path))

    def mkdirs(self, path: str) -> None:
        os.makedirs(_local(path), exist_ok=True)

    def rename(self, src: str, dst: str) -> bool:
        try:
            os.rename(_local(src), _local(dst))
            return True
        except OSError:
            return False

    def delete(self, path: str) -> None:
        p = _local(path)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        elif os.path.lexists(p):
            os.unlink(p)

    def list(self, path: str) -> list[tuple[str, bool, int]]:
        """(name, is_dir, modification time in ms) of the entries of a directory."""
        p = _local(path)
        if not os.path.isdir(p):
            return []
        out = []
        for e in os.scandir(p):
            out.append((e.name, e.is_dir(), int(e.stat(follow_symlinks=False).st_mtime * 1000)))
        return out

    def files(self, path: str) -> list[tuple[str, int, int]]:
        """(path relative to ``path``, size, mtime ms) of every file below it."""
        root = _local(path)
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

    def write_text(self, path: str, text: str) -> None:
        Path(_local(path)).write_text(text, encoding="utf-8")

    def read_text(self, path: str) -> str:
        return Path(_local(path)).read_text(encoding="utf-8")


class _HadoopFS:
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


def _local(path: str) -> str:
    return path[len("file:") :] if str(path).startswith("file:") else str(path)


def filesystem(spark=None):
    """Hadoop's FileSystem through ``spark``, else the local one."""
    return _HadoopFS(spark) if spark is not None else _LocalFS()


def _join(parent: str, name: str) -> str:
    return f"{str(parent).rstrip('/')}/{name}"


def _parent(path: str) -> str:
    path = str(path).rstrip("/")
    head, _, _ = path.rpartition("/")
    return head or ("/" if path.startswith("/") else ".")


def _name(path: str) -> str:
    return str(path).rstrip("/").rpartition("/")[2]


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies below it."""
    p, f = _normal(path), _normal(folder)
    return p == f or p.startswith(f.rstrip("/") + "/")


def _normal(path: str) -> str:
    p = _local(str(path))
    return os.path.abspath(p) if "://" not in p else p.rstrip("/")


# --- metadata and fingerprints -----------------------------------------------------------


def path_exists(spark, path: str) -> bool:
    return filesystem(spark).exists(path)


def read_metadata(spark, path: str) -> dict[str, Any]:
    meta_path = _join(path, METADATA_FILE)
    fs = filesystem(spark)
    if not fs.exists(meta_path):
        raise SparkembedError(f"not a sparkembed table (no {METADATA_FILE}): {path}")
    try:
        return json.loads(fs.read_text(meta_path))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SparkembedError(f"{meta_path}: not valid JSON ({exc})") from None


def table_metadata(spark, path: str) -> dict[str, Any] | None:
    """The metadata of a complete sparkembed table at ``path``, else None."""
    fs = filesystem(spark)
    if not (fs.exists(_join(path, METADATA_FILE)) and fs.exists(_join(path, "_SUCCESS"))):
        return None
    try:
        return read_metadata(spark, path)
    except SparkembedError:
        return None


def fingerprint(spark, path: str) -> dict[str, Any]:
    """What identifies an input: a sparkembed table's recorded fingerprint (copies keep it),
    else a hash of the relative names, sizes and times of the files under ``path``."""
    meta = table_metadata(spark, path)
    if meta is not None and meta.get("fingerprint"):
        return {
            "path": str(path),
            "table": meta.get("table", ""),
            "fingerprint": meta["fingerprint"],
        }
    fs = filesystem(spark)
    if not fs.exists(path):
        raise SparkembedError(f"input not found: {path}")
    digest = hashlib.sha256()
    total = count = 0
    for name, size, mtime in sorted(fs.files(path)):
        digest.update(f"{name}\0{size}\0{mtime}\n".encode())
        total += size
        count += 1
    return {
        "path": str(path),
        "files": count,
        "bytes": total,
        "fingerprint": digest.hexdigest()[:16],
    }


def _new_fingerprint(run_id: str, table: str, fs, staging: str) -> str:
    digest = hashlib.sha256(f"{run_id}\0{table}\n".encode())
    for name, size, _mtime in sorted(fs.files(staging)):
        digest.update(f"{name}\0{size}\n".encode())
    return digest.hexdigest()[:16]


def check_built_together(spark, paths: dict[str, str]) -> None:
    """Refuse tables that were not built from each other: every two sparkembed tables read
    together come from one stage run, or one was built from the other. Tables without
    sparkembed metadata (written by other tools) are not checked."""
    metas = {role: table_metadata(spark, p) for role, p in paths.items()}
    known = [(r, m) for r, m in metas.items() if m is not None]
    for i, (ra, a) in enumerate(known):
        for rb, b in known[i + 1 :]:
            if a.get("run_id") and a.get("run_id") == b.get("run_id"):
                continue
            if _built_from(a, b) or _built_from(b, a):
                continue
            raise SparkembedError(
                f"{paths[ra]} and {paths[rb]} were not built from each other "
                f"({ra} of run {a.get('run_id', '?')} from {_sources(a)}, {rb} of run "
                f"{b.get('run_id', '?')} from {_sources(b)}): rerun the stage that makes {ra}"
            )


def _built_from(a: dict, b: dict) -> bool:
    return any(i.get("fingerprint") == b.get("fingerprint") for i in a.get("inputs", []))


def _sources(meta: dict) -> str:
    names = [
        f"{_name(i.get('path', '?'))} {i.get('fingerprint', '?')}" for i in meta.get("inputs", [])
    ]
    return ", ".join(names) or "no inputs"


def describe(spark, path: str) -> str:
    """What is at ``path``, in a few words, for errors."""
    fs = filesystem(spark)
    meta = table_metadata(spark, path)
    if meta is not None:
        return f"a '{meta.get('table', meta.get('stage'))}' table of stage {meta.get('stage')}"
    if not fs.is_dir(path):
        return "a file"
    entries = sorted(n for n, _d, _m in fs.list(path))
    tables = [n for n in entries if fs.exists(_join(_join(path, n), METADATA_FILE))]
    if tables:
        return f"a work directory ({', '.join(tables)})"
    if not entries:
        return "an empty directory"
    shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
    return f"a directory of {len(entries)} entries that sparkembed did not write ({shown})"


def check_output(
    spark,
    path: str,
    *,
    stage: str,
    table: str,
    inputs: list[str],
    overwrite: bool = False,
    flag: str = "--overwrite",
) -> None:
    """A stage may replace only a table it wrote before, and never one of its inputs."""
    for source in inputs:
        if inside(source, path):
            raise SparkembedError(
                f"output {path} would replace this stage's input {source}: choose another output"
            )
    fs = filesystem(spark)
    if not fs.exists(path) or overwrite:
        return
    meta = table_metadata(spark, path)
    if meta is not None and meta.get("stage") == stage and meta.get("table", table) == table:
        return
    if meta is None and fs.is_dir(path) and not fs.list(path):
        return  # an empty folder holds nothing to lose
    raise SparkembedError(
        f"output {path} holds {describe(spark, path)}, not a '{table}' table of {stage}: "
        f"choose another output, or pass {flag} to replace it"
    )


def check_writable(path: str) -> None:
    """Fail in one line, before any Spark job, when a local output cannot be created."""
    p = _local(str(path))
    if "://" in p:
        return
    probe = os.path.abspath(p)
    while not os.path.lexists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if os.path.lexists(probe) and not os.path.isdir(probe) and probe != os.path.abspath(p):
        raise SparkembedError(f"cannot write {path}: {probe} is a file, not a directory")
    target = probe if os.path.isdir(probe) else os.path.dirname(probe)
    if not os.access(target, os.W_OK | os.X_OK):
        raise SparkembedError(f"cannot write {path}: no write permission in {target}")
    try:  # root passes os.access everywhere; a read-only filesystem still refuses
        fd, name = tempfile.mkstemp(prefix=".sparkembed-probe-", dir=target)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise SparkembedError(f"cannot write {path}: {exc.strerror} ({target})") from None


# --- commits ---------------------------------------------------------------------------


class Commit:
    """The outputs of one stage run, made visible together (see the module docstring).

    ``with Commit(spark, stage, params, inputs) as c: c.write_df("tokens", path, df)`` — on
    leaving the block without an exception every output is published; on an exception
    none is, and the staging is removed.
    """

    def __init__(
        self,
        spark,
        stage: str,
        params: dict[str, Any] | None = None,
        inputs: list[dict[str, Any]] | None = None,
        engine: str = "",
    ):
        self.spark = spark
        self.engine = engine  # how the tables were computed (recorded, not compared)
        self.fs = filesystem(spark)
        self.stage = stage
        self.params = params or {}
        self.inputs = inputs or []
        self.run_id = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self.pending: list[tuple[str, str, dict]] = []  # (staging, final, metadata)
        self.metadata: dict[str, dict] = {}
        self.roots: set[str] = set()  # staging folders this run has used
        self.scratches: list[str] = []  # working folders, removed when the run ends

    def __enter__(self) -> Commit:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def _staging(self, final: str) -> str:
        root = _join(_parent(final), STAGING_DIR)
        recover(self.spark, _parent(final), keep=self.run_id)
        self.fs.mkdirs(root)
        self.roots.add(root)
        owner = _join(root, f"{self.run_id}.owner")
        if not self.fs.exists(owner):
            self.fs.write_text(
                owner, json.dumps({"host": socket.gethostname(), "pid": os.getpid()})
            )
        # A visible name inside the hidden folder: Spark ignores a root path whose own name
        # starts with "." or "_" when reading it back (counts read the staging table).
        return _join(root, f"{self.run_id}-{_name(final)}")

    def write_with(
        self,
        table: str,
        path: str,
        write: Callable[[str], dict[str, Any] | None],
        *,
        schema=None,
        counts: dict[str, Any] | None = None,
        partition_by: list[str] | None = None,
        extra: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Stage the table that ``write(staging_path)`` writes (it must leave ``_SUCCESS``, as
        Spark's writer does). The counts recorded are ``counts`` and whatever dict ``write``
        returns (a writer that learns its counts while writing returns them); counts known
        only after reading the staged table are added with :meth:`add_counts`. Callable
        ``counts`` values get the staging path after the write. Returns the table's
        metadata."""
        staging = self._staging(path)
        try:
            returned = write(staging)
            if not self.fs.exists(_join(staging, "_SUCCESS")):
                self.fs.write_text(_join(staging, "_SUCCESS"), "")
            resolved = {k: (v(staging) if callable(v) else v) for k, v in (counts or {}).items()}
            resolved.update(returned or {})
            meta = {
                "stage": self.stage,
                "table": table,
                "run_id": self.run_id,
                "fingerprint": _new_fingerprint(self.run_id, table, self.fs, staging),
                "sparkembed_version": __version__,
                "spark_version": getattr(self.spark, "version", None),
                "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "params": self.params if params is None else params,
                "counts": resolved,
                "inputs": self.inputs,
                "engine": self.engine or None,
                "schema": json.loads(schema.json()) if schema is not None else None,
                "partition_by": partition_by or [],
            }
            meta.update(extra or {})
            self.fs.write_text(_join(staging, METADATA_FILE), json.dumps(meta, indent=2))
        except BaseException:
            self.fs.delete(staging)
            raise
        self.pending.append((staging, str(path), meta))
        self.metadata[table] = meta
        return meta

    def scratch(self, beside: str, name: str) -> str:
        """A working folder for this run in the staging folder beside ``beside`` (an output
        path): never published, removed on commit or abort, and by the next run's recovery
        when this process dies."""
        path = f"{self._staging(beside)}.{name}"
        self.scratches.append(path)
        return path

    def staged(self, table: str) -> str:
        """Where a table written earlier in this commit is staged (to read it back)."""
        for staging, _final, meta in self.pending:
            if meta["table"] == table:
                return staging
        raise KeyError(table)

    def write_df(
        self,
        table: str,
        path: str,
        df,
        *,
        partition_by: list[str] | None = None,
        sort_within_partitions: list[str] | None = None,
        **kw,
    ) -> dict[str, Any]:
        """Stage ``df`` as Parquet; see ``write_with``."""
        writer = df.sortWithinPartitions(*sort_within_partitions) if sort_within_partitions else df
        w = writer.write.mode("overwrite")
        if partition_by:
            w = w.partitionBy(*partition_by)
        return self.write_with(
            table, path, w.parquet, schema=df.schema, partition_by=partition_by, **kw
        )

    def add_counts(self, table: str, counts: dict[str, Any]) -> dict[str, Any]:
        """Add ``counts`` to a staged table's metadata (counts read from the staged table
        itself, after :meth:`write_with`). Returns the table's metadata."""
        for staging, _final, meta in self.pending:
            if meta["table"] == table:
                meta["counts"].update(counts)
                self.fs.write_text(_join(staging, METADATA_FILE), json.dumps(meta, indent=2))
                return meta
        raise KeyError(f"no staged table {table}")

    def commit(self) -> None:
        if not self.pending:
            return
        first_root = _join(_parent(self.pending[0][1]), STAGING_DIR)
        journal = _join(first_root, f"{self.run_id}.commit")
        entries = [{"staging": s, "final": f, "old": f"{s}.old"} for s, f, _m in self.pending]
        tmp = f"{journal}.tmp"
        self.fs.write_text(tmp, json.dumps(entries))
        if not self.fs.rename(tmp, journal):
            self.abort()
            raise SparkembedError(f"could not write the commit journal {journal}")
        _roll_forward(self.fs, journal, entries)
        self.pending = []
        self._forget_owner()

    def abort(self) -> None:
        for staging, _final, _meta in self.pending:
            self.fs.delete(staging)
        self.pending = []
        self._forget_owner()

    def _forget_owner(self) -> None:
        for path in self.scratches:
            self.fs.delete(path)
        self.scratches = []
        for root in sorted(self.roots):
            self.fs.delete(_join(root, f"{self.run_id}.owner"))
            if self.fs.exists(root) and not self.fs.list(root):
                self.fs.delete(root)


def _roll_forward(fs, journal: str, entries: list[dict]) -> None:
    """Finish a commit: every staged table into place (the previous one moved aside, then
    removed). Safe to repeat after a kill at any point."""
    for e in entries:
        if fs.exists(e["staging"]):
            if fs.exists(e["final"]) and not fs.exists(e["old"]):
                if not fs.rename(e["final"], e["old"]):
                    raise SparkembedError(f"could not move the previous table aside: {e['final']}")
            fs.mkdirs(_parent(e["final"]))
            if not fs.rename(e["staging"], e["final"]):
                raise SparkembedError(f"could not publish the new table at {e['final']}")
    for e in entries:
        fs.delete(e["old"])
    fs.delete(journal)


def recover(spark, parent: str, keep: str | None = None) -> None:
    """Finish the commits and remove the staging that killed runs left under ``parent``."""
    fs = filesystem(spark)
    root = _join(parent, STAGING_DIR)
    if not fs.exists(root):
        return
    listing = fs.list(root)
    for name, _is_dir, _mtime in listing:
        if name.endswith(".commit"):
            journal = _join(root, name)
            try:
                entries = json.loads(fs.read_text(journal))
            except (ValueError, OSError):
                continue
            _roll_forward(fs, journal, entries)
            # A journal is a run's last act: once rolled forward, that run is over.
            fs.delete(_join(root, name[: -len(".commit")] + ".owner"))
    listing = fs.list(root)
    owners = {n[: -len(".owner")]: m for n, _d, m in listing if n.endswith(".owner")}
    now = time.time() * 1000
    live = {
        run
        for run, mtime in owners.items()
        if run == keep or _alive(fs, _join(root, f"{run}.owner"), now - mtime)
    }
    for name, _is_dir, mtime in listing:
        run = name.split("-", 2)
        run_id = "-".join(run[:2]) if len(run) >= 2 else name
        if name.endswith((".commit", ".commit.tmp")):
            if name.endswith(".tmp") and run_id not in live:
                fs.delete(_join(root, name))
            continue
        if name.endswith(".owner"):
            run_id = name[: -len(".owner")]
        if run_id in live:
            continue
        if run_id not in owners and now - mtime < FOREIGN_STAGING_SECONDS * 1000:
            continue  # no owner file yet: a run starting this very moment
        fs.delete(_join(root, name))
    if fs.exists(root) and not fs.list(root):
        fs.delete(root)


def _alive(fs, owner_path: str, age_ms: float) -> bool:
    try:
        owner = json.loads(fs.read_text(owner_path))
    except (ValueError, OSError):
        return False
    if owner.get("host") != socket.gethostname():
        return age_ms < FOREIGN_STAGING_SECONDS * 1000  # another machine: only age tells
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, KeyError, ValueError):
        return True
    return True


# --- one-table helpers -----------------------------------------------------------------


def publish(df, path: str, *, stage: str, table: str | None = None, **kw) -> dict[str, Any]:
    """Write ``df`` as one committed table (``Commit`` with a single output)."""
    params, inputs = kw.pop("params", None), kw.pop("inputs", None)
    with Commit(df.sparkSession, stage, params, inputs) as c:
        return c.write_df(table or _name(path), path, df, **kw)


def read_table(spark, path: str, stage: str | None = None, table: str | None = None):
    """Read a complete table (``_SUCCESS``); with ``table``, check its contract (columns and
    types, sparkembed.schemas) and, for sparkembed tables, that it is that table."""
    fs = filesystem(spark)
    if not fs.exists(path):
        raise SparkembedError(f"table not found: {path}")
    recover(spark, _parent(path))
    if not fs.exists(_join(path, "_SUCCESS")):
        raise SparkembedError(f"table is incomplete (no _SUCCESS): {path}")
    meta = table_metadata(spark, path)
    if stage is not None:
        if meta is None or meta.get("stage") != stage:
            found = meta.get("stage") if meta else "no sparkembed metadata"
            raise SparkembedError(f"{path} is a '{found}' table, expected '{stage}'")
    if table is not None and meta is not None and meta.get("table", table) != table:
        raise SparkembedError(f"{path} is a '{meta.get('table')}' table, expected '{table}'")
    df = spark.read.parquet(str(path))
    if table is not None:
        from sparkembed.schemas import check_columns

        check_columns(df, table, path)
    return df
