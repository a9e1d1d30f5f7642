"""The SparkSession for a config: local mode by default, spark-submit's settings kept."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from sparkembed.config import SparkConfig
from sparkembed.errors import ConfigError
from sparkembed.interrupts import deferred, keep_sigint_handler
from sparkembed.interrupts import requested as interrupt_requested
from sparkembed.jvm.stderr import forward_jvm_stderr

REPO_ROOT = Path(__file__).resolve().parent.parent
LOG4J_CONFIG = Path(__file__).resolve().parent / "log4j2.properties"


def jars_dir(cfg: SparkConfig) -> Path:
    """Where setup put the JVM dependencies (GraphFrames)."""
    if cfg.jars_dir:
        return Path(cfg.jars_dir)
    if os.environ.get("SPARKEMBED_JARS"):
        return Path(os.environ["SPARKEMBED_JARS"])
    return REPO_ROOT / ".jars"


def find_jars(cfg: SparkConfig) -> list[Path]:
    d = jars_dir(cfg)
    return sorted(d.glob("*.jar")) if d.is_dir() else []


def java_binary() -> Path | None:
    """The java that pyspark's launcher runs: $JAVA_HOME/bin/java, else java on PATH."""
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    return Path(found).resolve() if found and Path(found).exists() else None


def class_archive_path(cfg: SparkConfig) -> Path | None:
    """Where setup's JVM class-data archive for this Java and this Spark lives (or would).

    A dynamic CDS archive only fits the JVM build and class path it was dumped with, so its
    name carries both; None when there is no java or ``class_archive = "off"``.
    """
    if cfg.class_archive == "off":
        return None
    if cfg.class_archive not in ("", "auto"):
        return Path(cfg.class_archive)
    java = java_binary()
    if java is None:
        return None
    import pyspark

    spark_jars = Path(pyspark.__file__).resolve().parent / "jars"
    # The JVM library's size and time too: a JDK updated in place keeps its path, and the
    # JVM refuses an archive of another build (setup then builds one under a new name).
    libjvm = java.parent.parent / "lib" / "server" / "libjvm.so"
    build = f"{libjvm.stat().st_size}:{libjvm.stat().st_mtime_ns}" if libjvm.is_file() else ""
    key = f"{java}\0{build}\0{pyspark.__version__}\0{spark_jars}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    return jars_dir(cfg) / f"spark-classes-{digest}.jsa"


# What ``spark.jit`` adds to the JVM's options. C1 only: C2's compiler threads and the
# slower profiled code while they catch up cost a short run more than C2's faster code
# saves when the hot loops are in Python workers (walks, cooccur, svd: docs/benchmarks.md).
JIT_OPTIONS = {"full": [], "quick": ["-XX:TieredStopAtLevel=1"]}


# netlib, MLlib's BLAS, loads the system BLAS named by this property over JNI and falls back
# to Spark's Java BLAS when that library does not load; netlib has no other switch, so
# "java" names a library that no system has. The property is read once per JVM, when MLlib
# first calls BLAS.
NATIVE_BLAS_PROPERTY = "dev.ludovic.netlib.blas.nativeLib"
NO_NATIVE_BLAS = "none"


def mllib_blas_options(cfg: SparkConfig) -> list[str]:
    """The JVM options of ``[spark] mllib_blas``."""
    return [f"-D{NATIVE_BLAS_PROPERTY}={NO_NATIVE_BLAS}"] if cfg.mllib_blas == "java" else []


# JVM option settings that sparkembed fills and a user's ``[spark] conf`` adds to.
JAVA_OPTION_SETTINGS = ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")


def resolve_jit(jit: str, jvm_bound: bool) -> str:
    """``spark.jit`` for a command: ``auto`` becomes ``full`` when one of its stages loops in
    JVM code (``jvm_bound``), else ``quick``; ``full`` and ``quick`` stay."""
    if jit != "auto":
        return jit
    return "full" if jvm_bound else "quick"


def _driver_java_options(cfg: SparkConfig, dump_class_archive: Path | None) -> str:
    local = cfg.master.startswith("local")
    options = [
        f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG}",
        f"-Dsparkembed.log_level={cfg.log_level.lower()}",
        # In local mode a failed task fails the job: the command's one line says it all, and
        # of the scheduler's lines only the warning about tasks of very large size is kept.
        f"-Dsparkembed.task_log_level={cfg.log_level.lower() if local else 'warn'}",
        f"-Dsparkembed.task_log_others={'DENY' if local else 'NEUTRAL'}",
    ]
    # "auto" not resolved for a command (a session opened from Python): the JVM's default.
    options += JIT_OPTIONS.get(cfg.jit, [])
    options += mllib_blas_options(cfg)
    archive = class_archive_path(cfg)
    if dump_class_archive is not None:
        options += [f"-XX:ArchiveClassesAtExit={dump_class_archive}", "-Xlog:cds=off"]
    elif archive is not None and archive.is_file():
        # Classes mapped from the archive instead of loaded and verified one by one. An
        # archive that does not fit (another JVM) is ignored: keep the JVM quiet about it.
        options += [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    return " ".join(options)


def under_spark_submit() -> bool:
    """spark-submit starts the JVM first and hands Python its gateway port."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def local_cores(master: str) -> int:
    m = re.fullmatch(r"local\[(\d+|\*)(?:,\d+)?\]", master)
    if master == "local":
        return 1
    if m and m.group(1) != "*":
        return int(m.group(1))
    return os.cpu_count() or 1


def task_slots(spark) -> int:
    """Tasks the session runs at once: the cores of a local master, else Spark's default
    parallelism (on a cluster, the executors' cores unless overridden)."""
    master = spark.sparkContext.master
    if master.startswith("local"):
        return local_cores(master)
    return spark.sparkContext.defaultParallelism


def warehouse_dir(cfg: SparkConfig) -> Path:
    """Where a local session's SQL warehouse goes: under ``spark.local_dir``, else the
    system temp dir; never the current working directory."""
    base = cfg.local_dir.split(",")[0] if cfg.local_dir else tempfile.gettempdir()
    return Path(base).resolve() / "sparkembed-warehouse"


_BYTE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def memory_bytes(text: str) -> int:
    """A JVM/Spark memory size ("4g", "512m", "1024k", "0") in bytes; units are powers of 1024,
    as Spark reads them."""
    value = str(text).strip().lower()
    m = re.fullmatch(r"(\d+)\s*([bkmgt]?)b?", value)
    if not m:
        raise ConfigError(f"not a memory size (e.g. 4g, 512m): {text!r}")
    return int(m[1]) * _BYTE_UNITS[m[2]]


def spark_settings(cfg: SparkConfig, dump_class_archive: Path | None = None) -> dict[str, str]:
    """The settings a session started by sparkembed gets (not used under spark-submit).

    ``dump_class_archive``: have the JVM write a class-data archive there when it exits
    (``sparkembed.jvm.class_archive`` builds setup's archive that way).
    """
    settings = {
        "spark.app.name": cfg.app_name,
        "spark.master": cfg.master,
        "spark.driver.memory": cfg.driver_memory,
        "spark.ui.enabled": str(cfg.ui).lower(),
        # One machine: bind driver and UI to loopback, never to a public interface.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        # Executors must run this interpreter, which has numpy and pyarrow.
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        # Stages print their own progress lines; Spark's bars would interleave with them.
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.extraJavaOptions": _driver_java_options(cfg, dump_class_archive),
    }
    if mllib_blas_options(cfg):
        # Executors of a cluster master (local mode runs them in the driver's JVM).
        settings["spark.executor.extraJavaOptions"] = " ".join(mllib_blas_options(cfg))
    if cfg.master.startswith("local"):
        # Spark's default is ./spark-warehouse, created in whatever directory a command runs
        # from (listing the catalog is enough). sparkembed writes no managed tables.
        settings["spark.sql.warehouse.dir"] = str(warehouse_dir(cfg))
        partitions = cfg.shuffle_partitions or 2 * local_cores(cfg.master)
        settings["spark.sql.shuffle.partitions"] = str(partitions)
        # Results a job may return to the driver: half its heap (Spark's default, 1g, is
        # below what MLlib word2vec collects at 300M tokens: docs/train.md).
        half = memory_bytes(cfg.driver_memory) // 2 >> 20
        settings["spark.driver.maxResultSize"] = f"{max(half, 1024)}m"
        # spark.default.parallelism stays unset, as on a cluster unless asked: when set, RDD
        # shuffles (MLlib's among them) take their partition count from it, not from their
        # input, and results would follow the number of cores.
    elif cfg.shuffle_partitions:
        settings["spark.sql.shuffle.partitions"] = str(cfg.shuffle_partitions)
    jars = find_jars(cfg)
    if jars:
        settings["spark.jars"] = ",".join(str(j) for j in jars)
    if cfg.local_dir:
        settings["spark.local.dir"] = cfg.local_dir
    for key, value in cfg.conf.items():
        if key in JAVA_OPTION_SETTINGS and key in settings:
            # After ours: of two settings of one option the JVM takes the last.
            settings[key] = f"{settings[key]} {value}"
        else:
            settings[key] = str(value)
    return settings


def _own_log_config_under_spark_submit() -> None:
    """Give spark-submit's driver JVM sparkembed's log settings before the SparkContext
    starts (its default prints every INFO line), unless the user chose their own: a
    ``log4j2.configurationFile`` property or a ``log4j2.properties`` in SPARK_CONF_DIR."""
    from importlib import resources

    from pyspark import SparkContext

    SparkContext._ensure_initialized()
    jvm = SparkContext._jvm
    if jvm.java.lang.System.getProperty("log4j2.configurationFile"):
        return
    conf_dir = os.environ.get("SPARK_CONF_DIR") or os.path.join(
        os.environ.get("SPARK_HOME", ""), "conf"
    )
    if os.path.isfile(os.path.join(conf_dir, "log4j2.properties")):
        return
    # Read as a resource: under spark-submit this package may be imported from a zip.
    text = resources.files("sparkembed").joinpath("log4j2.properties").read_text()
    path = (
        Path(tempfile.gettempdir())
        / f"sparkembed-log4j2-{hashlib.sha1(text.encode()).hexdigest()[:8]}.properties"
    )
    if not path.is_file():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    # spark-submit loaded Spark's default profile and remembers it did (a flag of Spark's
    # Logging object, set in the JVM before Python started); unless the flag is cleared, the
    # SparkContext loads that profile again over ours.
    logging = getattr(jvm.org.apache.spark.internal, "Logging$").__getattr__("MODULE$")
    try:
        getattr(logging, "org$apache$spark$internal$Logging$$defaultSparkLog4jConfig_$eq")(False)
    except Exception:  # another Spark's internals: keep its logging rather than fail
        return
    uri = jvm.java.io.File(str(path)).toURI()
    jvm.org.apache.logging.log4j.core.config.Configurator.reconfigure(uri)


def _mllib_blas_under_spark_submit(cfg: SparkConfig) -> dict[str, str]:
    """``[spark] mllib_blas`` for a driver spark-submit started: set in its JVM now (MLlib
    has not loaded BLAS yet), and the executors' setting that carries it to theirs, after
    spark-submit's own executor options; a property the user set is kept."""
    from pyspark import SparkContext

    options = mllib_blas_options(cfg)
    if not options:
        return {}
    SparkContext._ensure_initialized()
    system = SparkContext._jvm.java.lang.System
    if system.getProperty(NATIVE_BLAS_PROPERTY) is not None:
        return {}
    system.setProperty(NATIVE_BLAS_PROPERTY, NO_NATIVE_BLAS)
    key = "spark.executor.extraJavaOptions"
    theirs = str(cfg.conf.get(key) or system.getProperty(key) or "")
    if NATIVE_BLAS_PROPERTY in theirs:
        return {}
    return {key: " ".join([*options, theirs]).strip()}


def get_spark(cfg: SparkConfig | None = None, dump_class_archive: Path | None = None):
    """Return the SparkSession for ``cfg``; under spark-submit, the one it configured."""
    from pyspark.sql import SparkSession

    cfg = cfg or SparkConfig()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    builder = SparkSession.builder
    if under_spark_submit():
        # Master, JARs and packages come from spark-submit; only pass what it lacks.
        _own_log_config_under_spark_submit()
        for key, value in cfg.conf.items():
            builder = builder.config(key, str(value))
        if cfg.shuffle_partitions:
            builder = builder.config("spark.sql.shuffle.partitions", str(cfg.shuffle_partitions))
        for key, value in _mllib_blas_under_spark_submit(cfg).items():
            builder = builder.config(key, value)
    else:
        if cfg.master.startswith("local"):
            # The web UI (and other JVM services without a bind-address setting) listen on
            # $SPARK_LOCAL_IP, else on all interfaces. The JVM that pyspark launches below
            # inherits this environment; a user who set SPARK_LOCAL_IP keeps theirs. No
            # effect when this process already runs a JVM (an earlier session).
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        settings = spark_settings(cfg, dump_class_archive)
        for key, value in settings.items():
            builder = builder.config(key, value)
        _launch_jvm(settings)
    with keep_sigint_handler(), deferred():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(cfg.log_level)
    return spark


def _launch_jvm(settings: dict[str, str]) -> None:
    """Start the driver JVM as pyspark would, its stderr through ``jvm_stderr`` (a JVM this
    process runs already is kept, with its settings)."""
    from subprocess import PIPE

    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None:
        return
    conf = SparkConf(loadDefaults=False)
    for key, value in settings.items():
        conf.set(key, value)
    with deferred():
        gateway = launch_gateway(conf, popen_kwargs={"stderr": PIPE})
    forward_jvm_stderr(gateway.proc.stderr, muted=interrupt_requested)
    SparkContext._ensure_initialized(gateway=gateway, conf=conf)
