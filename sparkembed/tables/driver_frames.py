"""Driver-side tables as Spark DataFrames whose rows do not travel inside the tasks.

``spark.createDataFrame(table)`` puts the rows of a driver-side table into the tasks that
read them: every task carries its share of the table in its closure (Spark warns "Stage N
contains a task of very large size"), which at a million-word vocabulary is gigabytes per
task, serialised by the driver and held by the scheduler. :func:`driver_frame` writes the
table with pyarrow as Parquet into a scratch folder of the running commit
(``Commit.scratch``, on the work directory's filesystem) and reads it back with
``spark.read.parquet``: the tasks carry a file split, the executors read the rows.

The frame reads its files lazily, so it must be consumed before the scratch is removed:
the commit removes its scratches when it ends, after the tables written inside it, which
is where such a frame belongs (written, or read, inside the ``with`` block of its commit).

Code that has no commit at hand (a trainer, which returns its frame before the stage opens
its commit; a lookup list while a map is learned) uses :func:`broadcast_frame`: the table
is broadcast once (Spark's block transfer, not the tasks) and each task emits its slice of
it. Every executor then holds the whole table, so it suits tables of modest size.
"""

from __future__ import annotations

import os
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

from sparkembed.arrowio import arrow_location

# Rows per Parquet row group: Spark splits a large file between tasks at row groups.
ROW_GROUP_ROWS = 1 << 18
FILE_NAME = "part-00000.parquet"


def driver_frame(spark, table: pa.Table, folder: str, schema: str | None = None):
    """``table`` as a DataFrame read from the Parquet file this writes into ``folder`` (a
    folder of its own, removed by its owner: ``Commit.scratch(beside, name)``).

    ``schema`` (Spark DDL, the columns in order): the frame's columns and types, cast from
    the table's columns of the same names; None keeps the table's. The rows never pass
    through a task's closure, whatever the table's size.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    fields = StructType.fromDDL(schema).fields if schema is not None else None
    if fields is not None:
        table = table.select([f.name for f in fields])
    _write_parquet(spark, table, folder)
    df = spark.read.parquet(folder)
    if fields is not None:
        df = df.select([F.col(f.name).cast(f.dataType).alias(f.name) for f in fields])
    return df


def broadcast_frame(spark, table: pa.Table, schema: str, slices: int = 0):
    """``table`` as a DataFrame of ``schema`` (Spark DDL, the columns in order, cast from
    the table's columns of the same names) that ``slices`` tasks (0: one per
    :data:`ROW_GROUP_ROWS` rows) emit from one broadcast of the table: the rows never pass
    through a task's closure, and nothing is written. Spark keeps the broadcast until the
    session ends or the frame's caller unpersists it; every executor holds the whole table.
    """
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import StructType

    target = to_arrow_schema(StructType.fromDDL(schema))
    table = table.select(target.names).cast(target)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    shared = spark.sparkContext.broadcast(sink.getvalue().to_pybytes())
    n = table.num_rows
    slices = slices or max(1, -(-n // ROW_GROUP_ROWS))
    rows = -(-n // slices) if n else 0

    def emit(batches):
        import pyarrow as pa

        data = pa.ipc.open_stream(shared.value).read_all()
        for batch in batches:
            for i in batch.column(0).to_pylist():
                yield from data.slice(i * rows, rows).to_batches()

    return spark.range(slices, numPartitions=slices).mapInArrow(emit, schema)


def _write_parquet(spark, table: pa.Table, folder: str) -> None:
    location = arrow_location(folder)
    if location is not None:
        fs, root = location
        fs.create_dir(root, recursive=True)
        pq.write_table(table, f"{root}/{FILE_NAME}", filesystem=fs, row_group_size=ROW_GROUP_ROWS)
        return
    # A filesystem pyarrow has no client for (s3a://, ...): a local file, copied by Hadoop.
    with tempfile.TemporaryDirectory(prefix="sparkembed-frame-") as tmp:
        local = os.path.join(tmp, FILE_NAME)
        pq.write_table(table, local, row_group_size=ROW_GROUP_ROWS)
        jvm = spark.sparkContext._jvm
        path = jvm.org.apache.hadoop.fs.Path
        target = path(folder)
        fs = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        fs.mkdirs(target)
        fs.copyFromLocalFile(False, True, path(f"file://{local}"), path(target, FILE_NAME))
