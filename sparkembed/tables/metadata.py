"""Table metadata (``_sparkembed.json``), fingerprints, and the checks a stage makes on
its inputs and outputs before it runs.

Every table's metadata records a ``fingerprint`` (fixed when it is written, kept by copies)
and the fingerprints of the tables it was built from: readers use them to refuse tables
that were not built from each other, ``sparkembed run`` to decide what is up to date.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Any

from sparkembed.errors import SparkembedError
from sparkembed.tables.storage import base_name, filesystem, inside, join_path, local_path

METADATA_FILE = "_sparkembed.json"


def read_metadata(spark, path: str) -> dict[str, Any]:
    meta_path = join_path(path, METADATA_FILE)
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
    if not (fs.exists(join_path(path, METADATA_FILE)) and fs.exists(join_path(path, "_SUCCESS"))):
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


def new_fingerprint(run_id: str, table: str, fs, staging: str) -> str:
    """The fingerprint of a table being written: its run, its name and its files."""
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
        f"{base_name(i.get('path', '?'))} {i.get('fingerprint', '?')}"
        for i in meta.get("inputs", [])
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
    tables = [n for n in entries if fs.exists(join_path(join_path(path, n), METADATA_FILE))]
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
    overwrite: bool = False,
    hint: str = "choose another output, or pass --overwrite to replace it",
) -> None:
    """A stage may replace only a table it wrote before, complete or not (that it never
    writes over its inputs is :func:`check_apart`'s); ``hint`` ends the refusal."""
    fs = filesystem(spark)
    if not fs.exists(path) or overwrite:
        return
    meta = table_metadata(spark, path)
    if meta is None and fs.exists(join_path(path, METADATA_FILE)):
        # No _SUCCESS (a copy cut short, a file lost): the metadata still says who wrote it.
        try:
            meta = read_metadata(spark, path)
        except SparkembedError:
            meta = None
    if meta is not None and meta.get("stage") == stage and meta.get("table", table) == table:
        return
    if meta is None and fs.is_dir(path) and not fs.list(path):
        return  # an empty folder holds nothing to lose
    raise SparkembedError(
        f"output {path} holds {describe(spark, path)}, not a '{table}' table of {stage}: {hint}"
    )


def check_apart(outputs: dict[str, str], inputs: dict[str, str]) -> None:
    """No output equal to, inside, or holding an input (a table or a corpus path): a stage
    never writes into, over or around what it reads. Paths only: no filesystem call."""
    for table, out in outputs.items():
        for role, source in inputs.items():
            if inside(source, out):
                raise SparkembedError(
                    f"output {table} at {out} would hold this stage's input {role} at "
                    f"{source}: choose another output"
                )
            if inside(out, source):
                raise SparkembedError(
                    f"output {table} at {out} lies inside this stage's input {role} at "
                    f"{source}: choose an output outside it"
                )


def check_writable(path: str) -> None:
    """Fail in one line, before any Spark job, when a local output cannot be created."""
    p = local_path(str(path))
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
