"""Every module of bench/ imports, so that a refactor that breaks a benchmark fails here;
importing one runs nothing (no output, no Spark) and needs none of the bench-only extras."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(f"bench.{p.stem}" for p in (REPO / "bench").glob("*.py"))
# The "bench" extra beyond what the tests install: a benchmark imports these when it runs.
BENCH_ONLY = ("pecanpy", "numba_progress", "psutil")

# In a fresh interpreter, as a benchmark starts: the extras blocked even where installed.
PROBE = """
import contextlib, importlib, io, json, sys, traceback

blocked = set(sys.argv[1].split(","))


class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"bench-only extra imported: {name}", name=name)


sys.meta_path.insert(0, Blocked())
report = {"failed": {}, "printed": {}}
for name in sys.argv[2:]:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            importlib.import_module(name)
    except BaseException:  # SystemExit too: a module that runs on import
        report["failed"][name] = traceback.format_exc(limit=-3)
    if out.getvalue():
        report["printed"][name] = out.getvalue()[-500:]
from pyspark.sql import SparkSession

report["spark"] = SparkSession.getActiveSession() is not None
print(json.dumps(report))
"""


def test_bench_modules_are_found():
    assert {"bench.doc", "bench.runner", "bench.reference", "bench.make_corpus"} <= set(MODULES)
    assert len(MODULES) >= 15


def test_every_bench_module_imports_without_running():
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(BENCH_ONLY), *MODULES],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}, "\n".join(f"{k}:\n{v}" for k, v in report["failed"].items())
    assert report["printed"] == {}, report["printed"]
    assert report["spark"] is False, "importing a bench module started Spark"
