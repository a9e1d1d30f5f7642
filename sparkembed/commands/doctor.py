"""What the environment has: Java, Spark, the executors' Python, GraphFrames JAR, UDF JAR,
class archive, BLAS."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sparkembed.config import SparkConfig
from sparkembed.session import (
    NATIVE_BLAS_PROPERTY,
    class_archive_path,
    find_jars,
    get_spark,
    jars_dir,
    under_spark_submit,
)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True
    fix: str = ""


def java_version() -> str | None:
    java = shutil.which("java")
    if not java:
        return None
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    first = (out.stderr or out.stdout).splitlines()
    return first[0] if first else "unknown"


def check_graphframes(spark) -> tuple[bool, str]:
    """Load a GraphFrame and run one algorithm (triangle count) on a known graph."""
    try:
        from graphframes import GraphFrame

        v = spark.createDataFrame([("a",), ("b",), ("c",), ("d",)], ["id"])
        e = spark.createDataFrame([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], ["src", "dst"])
        counts = {r["id"]: r["count"] for r in GraphFrame(v, e).triangleCount().collect()}
        if counts != {"a": 1, "b": 1, "c": 1, "d": 0}:
            return False, f"triangleCount gave {counts}"
        return True, "GraphFrame.triangleCount ran"
    except Exception as exc:  # the JVM raises many kinds; any means "not usable"
        text = str(exc).strip()
        if "loadClass" in text or "ClassNotFound" in text:
            return False, "GraphFrames classes not on the JVM classpath (no JAR on spark.jars)"
        first = text.splitlines()[0] if text else type(exc).__name__
        return False, first[:200]


def class_archive_mapped(spark, archive: Path) -> bool:
    """Whether the session's JVM (local mode, Linux) has ``archive`` mapped."""
    proc = getattr(spark.sparkContext._gateway, "proc", None)
    try:
        maps = Path(f"/proc/{proc.pid}/maps").read_text()
    except (AttributeError, OSError):
        return False
    return str(archive.resolve()) in maps


def check_class_archive(spark, cfg: SparkConfig) -> Check:
    """The JVM class-data archive setup builds (see sparkembed.jvm.class_archive)."""
    fix = "scripts/setup.sh (python -m sparkembed.jvm.class_archive)"
    if under_spark_submit():
        detail = "not used under spark-submit (add -XX:SharedArchiveFile to its driver options)"
        return Check("classes", True, detail, required=False)
    archive = class_archive_path(cfg)
    if archive is None:
        return Check("classes", True, "class archive off", required=False)
    if not archive.is_file():
        return Check("classes", False, f"no class archive at {archive}", required=False, fix=fix)
    mapped = class_archive_mapped(spark, archive)
    state = "mapped by the JVM" if mapped else "present but not mapped by the JVM"
    return Check("classes", mapped, f"{archive.name} {state}", required=False, fix=fix)


def blas_implementation(spark) -> str:
    jvm = spark.sparkContext._jvm
    return str(jvm.dev.ludovic.netlib.blas.BLAS.getInstance().getClass().getName())


EXECUTOR_MODULES = ("numpy", "scipy", "pyarrow")


def _probe_executor(_rows):
    """Runs on an executor: which Python, which environment, which of our modules."""
    import importlib
    import socket
    import sys

    info = {"host": socket.gethostname(), "prefix": sys.prefix, "python": platform.python_version()}
    for name in (*EXECUTOR_MODULES, "sparkembed"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            info[name] = None
            continue
        info[name] = module.__version__
        if name == "sparkembed":
            info["sparkembed_from"] = os.path.abspath(Path(module.__file__).parent.parent)
    yield info


def executor_environments(spark) -> list[dict]:
    """One small task per task slot, each reporting its executor's Python environment."""
    from sparkembed.session import task_slots

    slots = max(task_slots(spark), 1)
    rdd = spark.sparkContext.parallelize(range(slots), slots)
    seen = {}
    for info in rdd.mapPartitions(_probe_executor).collect():
        seen[tuple(sorted(info.items()))] = info
    return list(seen.values())


def check_executors(spark) -> Check:
    """numpy, scipy and pyarrow in the executors' Python, and sparkembed importable there
    (spark-submit: --archives with the packed environment, --py-files with the zip)."""
    fix = (
        "scripts/package.sh; spark-submit --archives dist/sparkembed-env.tar.gz#env "
        "--conf spark.pyspark.python=./env/bin/python --py-files dist/sparkembed.zip"
    )
    try:
        envs = executor_environments(spark)
    except Exception as exc:  # a worker that cannot start Python fails the job
        first = str(exc).strip().splitlines()
        return Check("executors", False, first[0][:200] if first else type(exc).__name__, fix=fix)
    missing = sorted({m for e in envs for m in (*EXECUTOR_MODULES, "sparkembed") if not e[m]})
    parts = []
    for e in envs:
        mods = ", ".join(f"{m} {e[m]}" for m in EXECUTOR_MODULES if e[m])
        where = e.get("sparkembed_from", "not importable")
        parts.append(f"python {e['python']} in {e['prefix']} ({mods}; sparkembed from {where})")
    detail = "; ".join(sorted(set(parts)))
    if missing:
        detail = f"missing on executors: {', '.join(missing)}; " + detail
    return Check("executors", not missing, detail, fix=fix)


def run_checks(cfg: SparkConfig) -> list[Check]:
    checks = [
        Check("python", True, f"{platform.python_version()} ({platform.python_implementation()})")
    ]
    jv = java_version()
    checks.append(
        Check(
            "java", jv is not None, jv or "not found", fix="apt-get install openjdk-17-jdk-headless"
        )
    )
    if jv is None:
        return checks
    import pyspark

    spark = get_spark(cfg)
    checks.append(
        Check(
            "spark",
            True,
            f"{spark.version} (pyspark {pyspark.__version__}, master {spark.sparkContext.master})",
        )
    )
    jars = find_jars(cfg)
    gf_ok, gf_detail = check_graphframes(spark)
    if under_spark_submit():
        jar_list = spark.sparkContext.getConf().get("spark.jars", "") or "spark.jars is empty"
    else:
        jar_list = ", ".join(j.name for j in jars) or f"no JARs in {jars_dir(cfg)}"
    checks.append(
        Check(
            "graphframes",
            gf_ok,
            f"{gf_detail} [{jar_list}]",
            # Only the walks stage needs it, and it is not yet built.
            required=False,
            fix="scripts/setup.sh (fetches io.graphframes JARs with mvn into .jars/)",
        )
    )
    from sparkembed.jvm.udfs import JAR_NAME, java_udfs_loaded

    udfs_ok = java_udfs_loaded(spark)
    checks.append(
        Check(
            "udfs",
            udfs_ok,
            f"{JAR_NAME} {'loaded' if udfs_ok else 'not loaded'} "
            f"(tokenize engine: {'java' if udfs_ok else 'sql, slower'})",
            required=False,
            fix="scripts/setup.sh (builds it with javac); spark-submit: --jars",
        )
    )
    checks.append(check_executors(spark))
    checks.append(check_class_archive(spark, cfg))
    checks.append(check_mllib_blas(spark, cfg))
    return checks


def check_mllib_blas(spark, cfg: SparkConfig) -> Check:
    """Whether MLlib's BLAS in the driver's JVM is the one ``[spark] mllib_blas`` asks for."""
    impl = blas_implementation(spark)
    native = "JNIBLAS" in impl
    got = "native" if native else "java"
    return Check(
        "blas",
        got == cfg.mllib_blas,
        f"MLlib: {got} ({impl}); spark.mllib_blas = {cfg.mllib_blas}",
        fix=(
            "apt-get install libopenblas0 (scripts/setup.sh does this)"
            if cfg.mllib_blas == "native"
            else f"a -D{NATIVE_BLAS_PROPERTY} in the JVM's options overrides mllib_blas"
        ),
    )


def format_checks(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        mark = "ok" if c.ok else ("MISSING" if c.required else "missing (optional)")
        line = f"{c.name:12} {mark:20} {c.detail}"
        if not c.ok and c.fix:
            line += f"\n{'':12} {'':20} fix: {c.fix}"
        lines.append(line)
    return "\n".join(lines)


NAME = "doctor"
HELP = "check Java, Spark, the executors' Python, the UDF JAR, BLAS and GraphFrames"
WRITES = False


def add_arguments(p) -> None:
    """doctor takes only the common options."""


def run(args, cfg) -> int:
    checks = run_checks(cfg.spark)
    print(format_checks(checks))
    missing = [c.name for c in checks if c.required and not c.ok]
    if missing:
        print(f"doctor: required missing: {', '.join(missing)}")
        return 1
    print("doctor: all required components found")
    return 0
