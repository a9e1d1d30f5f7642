import json

import pytest
from chispa import assert_df_equality

from sparkembed.config import SparkConfig
from sparkembed.errors import ConfigError, SparkembedError
from sparkembed.session import class_archive_path, local_cores, memory_bytes, spark_settings
from sparkembed.tables import publish, read_metadata, read_table


def test_local_settings_scale_partitions_with_cores():
    s = spark_settings(SparkConfig(master="local[3]", driver_memory="1g"))
    assert s["spark.sql.shuffle.partitions"] == "6"
    assert s["spark.driver.bindAddress"] == "127.0.0.1"
    assert s["spark.driver.memory"] == "1g"
    assert local_cores("local") == 1


def _java_options(cfg, **kw) -> list[str]:
    return spark_settings(cfg, **kw)["spark.driver.extraJavaOptions"].split()


def test_local_sessions_let_jobs_return_half_the_driver_heap():
    assert memory_bytes("4g") == 4 << 30 and memory_bytes("512M") == 512 << 20
    assert memory_bytes("1024k") == 1 << 20 and memory_bytes("0") == 0
    with pytest.raises(ConfigError, match="not a memory size"):
        memory_bytes("lots")
    key = "spark.driver.maxResultSize"
    assert spark_settings(SparkConfig(driver_memory="12g"))[key] == "6144m"
    assert spark_settings(SparkConfig(driver_memory="1g"))[key] == "1024m"  # Spark's default
    assert spark_settings(SparkConfig(conf={key: "0"}))[key] == "0"  # the user's own wins


def test_class_archive_used_only_when_present(tmp_path):
    archive = tmp_path / "classes.jsa"
    cfg = SparkConfig(class_archive=str(archive))
    assert not any(o.startswith("-XX:SharedArchiveFile") for o in _java_options(cfg))
    archive.write_bytes(b"x")
    assert f"-XX:SharedArchiveFile={archive}" in _java_options(cfg)
    assert "-Xlog:cds=off" in _java_options(cfg)  # an archive that does not fit: no noise
    off = _java_options(SparkConfig(class_archive="off"))
    assert not any("Archive" in o for o in off)
    assert class_archive_path(SparkConfig(class_archive="off")) is None
    dump = _java_options(cfg, dump_class_archive=tmp_path / "new.jsa")
    assert f"-XX:ArchiveClassesAtExit={tmp_path / 'new.jsa'}" in dump
    assert not any(o.startswith("-XX:SharedArchiveFile") for o in dump)


def test_jit_quick_stops_at_c1_and_auto_follows_the_stages():
    from sparkembed.config import Config
    from sparkembed.session import resolve_jit
    from sparkembed.stages import REGISTRY

    assert "-XX:TieredStopAtLevel=1" in _java_options(SparkConfig(jit="quick"))
    for jit in ("full", "auto"):  # auto unresolved (a session opened from Python): the default
        assert not any("Tiered" in o for o in _java_options(SparkConfig(jit=jit)))
    cfg = Config()
    bound = {name: stage.jvm_bound(cfg) for name, stage in REGISTRY.items()}
    assert bound["tokenize"] and not bound["walks"] and not bound["cooccur"]
    for method, jit in (("word2vec", "full"), ("svd", "quick"), ("umap", "quick")):
        cfg.train.method = method
        assert resolve_jit("auto", REGISTRY["train"].jvm_bound(cfg)) == jit
    assert resolve_jit("auto", True) == "full" and resolve_jit("auto", False) == "quick"
    assert resolve_jit("full", False) == "full" and resolve_jit("quick", True) == "quick"


JAVA_BLAS = "-Ddev.ludovic.netlib.blas.nativeLib=none"


def test_mllib_blas_java_by_default_for_driver_and_executors_and_user_options_last():
    default = spark_settings(SparkConfig())
    assert JAVA_BLAS in default["spark.driver.extraJavaOptions"].split()
    assert default["spark.executor.extraJavaOptions"] == JAVA_BLAS
    native = spark_settings(SparkConfig(mllib_blas="native"))
    assert JAVA_BLAS not in native["spark.driver.extraJavaOptions"].split()
    assert "spark.executor.extraJavaOptions" not in native
    theirs = {
        "spark.executor.extraJavaOptions": "-Dnetlib.test=1",
        "spark.driver.extraJavaOptions": "-Dnetlib.test=2",
    }
    both = spark_settings(SparkConfig(conf=theirs))
    assert both["spark.executor.extraJavaOptions"].split() == [JAVA_BLAS, "-Dnetlib.test=1"]
    driver = both["spark.driver.extraJavaOptions"].split()
    assert JAVA_BLAS in driver and driver[-1] == "-Dnetlib.test=2"


def test_test_session_gives_mllib_the_java_blas(spark):
    """setup installs OpenBLAS, which MLlib would load over JNI without the option."""
    from sparkembed.commands.doctor import blas_implementation, check_mllib_blas

    assert blas_implementation(spark).startswith("dev.ludovic.netlib.blas.")
    assert "JNIBLAS" not in blas_implementation(spark)
    assert check_mllib_blas(spark, SparkConfig()).ok
    assert not check_mllib_blas(spark, SparkConfig(mllib_blas="native")).ok


def test_class_archive_name_depends_on_the_java(tmp_path, monkeypatch):
    fake_home = tmp_path / "jdk"
    (fake_home / "bin").mkdir(parents=True)
    (fake_home / "bin" / "java").write_text("")
    cfg = SparkConfig(jars_dir=str(tmp_path / "jars"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    default = class_archive_path(cfg)
    monkeypatch.setenv("JAVA_HOME", str(fake_home))
    other = class_archive_path(cfg)
    assert default.parent == other.parent == tmp_path / "jars"
    assert default.name.startswith("spark-classes-") and default.suffix == ".jsa"
    assert other != default  # another JVM never maps this JVM's archive
    libjvm = fake_home / "lib" / "server" / "libjvm.so"
    libjvm.parent.mkdir(parents=True)
    libjvm.write_bytes(b"build 1")
    first_build = class_archive_path(cfg)
    libjvm.write_bytes(b"build 22")  # the same JDK path updated in place
    assert class_archive_path(cfg) not in (first_build, other)


def test_test_session_maps_the_class_archive(spark):
    from sparkembed.commands.doctor import class_archive_mapped

    archive = class_archive_path(SparkConfig())
    if archive is None or not archive.is_file():
        pytest.skip("no class archive (scripts/setup.sh builds it)")
    assert class_archive_mapped(spark, archive)


def test_session_runs_a_job(spark):
    assert spark.range(100).selectExpr("sum(id) AS s").first()["s"] == 4950


def test_publish_writes_table_and_metadata(spark, tmp_path):
    df = spark.createDataFrame([(1, "a"), (2, "b")], "id int, token string")
    out = str(tmp_path / "vocab")
    publish(
        df,
        out,
        stage="vocab",
        params={"min_count": 5},
        counts={"rows": df.count()},
    )
    assert_df_equality(read_table(spark, out, stage="vocab"), df, ignore_row_order=True)
    meta = read_metadata(spark, out)
    assert (
        meta["stage"] == "vocab"
        and meta["params"] == {"min_count": 5}
        and meta["counts"] == {"rows": 2}
    )
    assert json.loads((tmp_path / "vocab" / "_sparkembed.json").read_text())["stage"] == "vocab"


def test_failed_publish_keeps_previous_table(spark, tmp_path):
    good = spark.createDataFrame([(1,)], "x int")
    out = str(tmp_path / "t")
    publish(good, out, stage="t")
    # A job that fails while computing: division by zero in ANSI mode raises in the executor.
    bad = spark.range(3).selectExpr("CAST(1 / (id - 1) AS int) AS x")
    with pytest.raises(Exception, match="DIVIDE_BY_ZERO"):
        publish(bad, out, stage="t")
    assert_df_equality(read_table(spark, out), good)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "t"]
    assert leftovers == []


def test_read_table_errors_name_the_path(spark, tmp_path):
    with pytest.raises(SparkembedError, match="table not found: .*nothing"):
        read_table(spark, str(tmp_path / "nothing"))
    (tmp_path / "half").mkdir()
    with pytest.raises(SparkembedError, match="incomplete .*half"):
        read_table(spark, str(tmp_path / "half"))
