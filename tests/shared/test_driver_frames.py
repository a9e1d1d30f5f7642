"""Driver-side tables reach Spark from Parquet in a scratch folder, or from one broadcast:
never as rows inside the tasks."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sparkembed.tables import Commit, broadcast_frame, driver_frame


def _table(n: int) -> pa.Table:
    return pa.table(
        {
            "token": pa.array([f"t{i}" for i in range(n)], pa.string()),
            "count": pa.array(np.arange(n, dtype=np.int64)),
            "extra": pa.array(np.zeros(n)),
        }
    )


def _plan(df) -> str:
    return df._jdf.queryExecution().executedPlan().toString()


def test_driver_frame_reads_the_table_back_from_its_scratch_folder(spark, tmp_path):
    table = _table(300_000)
    with Commit(spark, "test") as commit:
        folder = commit.scratch(str(tmp_path / "out"), "counts")
        df = driver_frame(spark, table, folder, "token string, count int")
        assert df.columns == ["token", "count"]
        assert str(df.schema["count"].dataType) == "IntegerType()"
        assert "LocalTableScan" not in _plan(df) and "parquet" in _plan(df).lower()
        got = df.orderBy("count").toArrow()
        assert got.column("token").to_pylist() == table.column("token").to_pylist()
        commit.write_df("t", str(tmp_path / "out"), df)
    assert not (tmp_path / "out" / ".sparkembed-staging").exists()  # the scratch went too
    assert spark.read.parquet(str(tmp_path / "out")).count() == 300_000


def test_driver_frame_of_an_empty_table_keeps_the_columns(spark, tmp_path):
    with Commit(spark, "test") as commit:
        folder = commit.scratch(str(tmp_path / "out"), "empty")
        df = driver_frame(spark, _table(0), folder, "token string, count long")
        assert df.count() == 0 and df.columns == ["token", "count"]


def test_broadcast_frame_emits_every_row_once_in_slices(spark):
    table = _table(1000)
    df = broadcast_frame(spark, table, "token string, count long", slices=3)
    assert df.rdd.getNumPartitions() == 3
    assert "LocalTableScan" not in _plan(df)
    got = sorted(df.collect(), key=lambda r: r["count"])
    assert [r["token"] for r in got] == table.column("token").to_pylist()
    empty = broadcast_frame(spark, _table(0), "token string, count long")
    assert empty.count() == 0 and empty.columns == ["token", "count"]
