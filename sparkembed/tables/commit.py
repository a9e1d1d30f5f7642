"""Commits: a stage's outputs made visible together or not at all, and the recovery of
the commits that killed runs left behind.

A stage's outputs are written to staging directories beside their final places (same
filesystem, so a rename moves them), each with ``_sparkembed.json``; then a journal naming
every (staging, final) pair is written, and the renames follow. The journal is the commit
point: a run killed before it leaves the previous tables untouched (its staging is cleaned
by the next run), a run killed after it is rolled forward by the next run.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from sparkembed import __version__
from sparkembed.errors import SparkembedError, write_failure
from sparkembed.tables.metadata import METADATA_FILE, new_fingerprint, table_metadata
from sparkembed.tables.storage import base_name, filesystem, join_path, parent_path

STAGING_DIR = ".sparkembed-staging"
# A staging folder of another machine (whose process we cannot check) is stale after this.
FOREIGN_STAGING_SECONDS = 24 * 3600


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
        root = join_path(parent_path(final), STAGING_DIR)
        recover(self.spark, parent_path(final), keep=self.run_id)
        self.fs.mkdirs(root)
        self.roots.add(root)
        owner = join_path(root, f"{self.run_id}.owner")
        if not self.fs.exists(owner):
            self.fs.write_text(
                owner, json.dumps({"host": socket.gethostname(), "pid": os.getpid()})
            )
        # A visible name inside the hidden folder: Spark ignores a root path whose own name
        # starts with "." or "_" when reading it back (counts read the staging table).
        return join_path(root, f"{self.run_id}-{base_name(final)}")

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
        only after reading the staged table are added with :meth:`add_counts`. Returns the
        table's metadata."""
        staging = self._staging(path)
        try:
            returned = write(staging)
            if not self.fs.exists(join_path(staging, "_SUCCESS")):
                self.fs.write_text(join_path(staging, "_SUCCESS"), "")
            resolved = {**(counts or {}), **(returned or {})}
            meta = {
                "stage": self.stage,
                "table": table,
                "run_id": self.run_id,
                "fingerprint": new_fingerprint(self.run_id, table, self.fs, staging),
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
            self.fs.write_text(join_path(staging, METADATA_FILE), json.dumps(meta, indent=2))
        except BaseException as exc:
            _wait_for_running_tasks(self.spark)
            self.fs.delete(staging)
            reason = write_failure(exc)
            if reason is not None:
                # Arrow's and Hadoop's messages rarely name the file: name the table.
                raise SparkembedError(
                    f"{reason} while writing the {table} table {path} "
                    f"(staged in {parent_path(staging)}, now removed)"
                ) from exc
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
                self.fs.write_text(join_path(staging, METADATA_FILE), json.dumps(meta, indent=2))
                return meta
        raise KeyError(f"no staged table {table}")

    def commit(self) -> None:
        if not self.pending:
            return
        first_root = join_path(parent_path(self.pending[0][1]), STAGING_DIR)
        journal = join_path(first_root, f"{self.run_id}.commit")
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
        _wait_for_running_tasks(self.spark)
        for staging, _final, _meta in self.pending:
            self.fs.delete(staging)
        self.pending = []
        self._forget_owner()

    def _forget_owner(self) -> None:
        for path in self.scratches:
            self.fs.delete(path)
        self.scratches = []
        for root in sorted(self.roots):
            self.fs.delete(join_path(root, f"{self.run_id}.owner"))
            if self.fs.exists(root) and not self.fs.list(root):
                self.fs.delete(root)


def _wait_for_running_tasks(spark, timeout: float = 30.0) -> None:
    """Wait (bounded) until no task runs: the tasks of a failed or cancelled job stop at
    their own pace, and until they do they may still write into the staging."""
    if spark is None:
        return
    try:
        tracker = spark.sparkContext._jsc.sc().statusTracker()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(info.numRunningTasks() for info in tracker.getExecutorInfos()) == 0:
                return
            time.sleep(0.2)
    except Exception:  # noqa: BLE001 - no JVM to ask (gone, or never started): nothing runs
        return


def _roll_forward(fs, journal: str, entries: list[dict]) -> None:
    """Finish a commit: every staged table into place (the previous one moved aside, then
    removed). Safe to repeat after a kill at any point."""
    for e in entries:
        if fs.exists(e["staging"]):
            if fs.exists(e["final"]) and not fs.exists(e["old"]):
                if not fs.rename(e["final"], e["old"]):
                    raise SparkembedError(f"could not move the previous table aside: {e['final']}")
            fs.mkdirs(parent_path(e["final"]))
            if not fs.rename(e["staging"], e["final"]):
                raise SparkembedError(f"could not publish the new table at {e['final']}")
    for e in entries:
        fs.delete(e["old"])
    fs.delete(journal)


def recover(spark, parent: str, keep: str | None = None) -> None:
    """Finish the commits and remove the staging that killed runs left under ``parent``."""
    fs = filesystem(spark)
    root = join_path(parent, STAGING_DIR)
    if not fs.exists(root):
        return
    listing = fs.list(root)
    for name, _is_dir, _mtime in listing:
        if name.endswith(".commit"):
            journal = join_path(root, name)
            try:
                entries = json.loads(fs.read_text(journal))
            except (ValueError, OSError):
                continue
            _roll_forward(fs, journal, entries)
            # A journal is a run's last act: once rolled forward, that run is over.
            fs.delete(join_path(root, name[: -len(".commit")] + ".owner"))
    listing = fs.list(root)
    owners = {n[: -len(".owner")]: m for n, _d, m in listing if n.endswith(".owner")}
    now = time.time() * 1000
    live = {
        run
        for run, mtime in owners.items()
        if run == keep or _alive(fs, join_path(root, f"{run}.owner"), now - mtime)
    }
    for name, _is_dir, _mtime in listing:
        run = name.split("-", 2)
        run_id = "-".join(run[:2]) if len(run) >= 2 else name
        if name.endswith((".commit", ".commit.tmp")):
            if name.endswith(".tmp") and run_id not in live:
                fs.delete(join_path(root, name))
            continue
        if name.endswith(".owner"):
            run_id = name[: -len(".owner")]
        # A run writes its owner file before anything else and removes it last: what has
        # no live owner belongs to a run that is over, whatever it left.
        if run_id in live:
            continue
        fs.delete(join_path(root, name))
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


# --- one-table helpers (here because reading a table first finishes killed commits) ------


def publish(df, path: str, *, stage: str, table: str | None = None, **kw) -> dict[str, Any]:
    """Write ``df`` as one committed table (``Commit`` with a single output)."""
    params, inputs = kw.pop("params", None), kw.pop("inputs", None)
    with Commit(df.sparkSession, stage, params, inputs) as c:
        return c.write_df(table or base_name(path), path, df, **kw)


def read_table(spark, path: str, stage: str | None = None, table: str | None = None):
    """Read a complete table (``_SUCCESS``); with ``table``, check its contract (columns and
    types, sparkembed.schemas) and, for sparkembed tables, that it is that table."""
    fs = filesystem(spark)
    if not fs.exists(path):
        raise SparkembedError(f"table not found: {path}")
    recover(spark, parent_path(path))
    if not fs.exists(join_path(path, "_SUCCESS")):
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
