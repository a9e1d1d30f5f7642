"""Table I/O shared by every stage:

- ``storage``: the filesystem (Hadoop's FileSystem API through a SparkSession, else local);
- ``metadata``: each table's ``_sparkembed.json``, fingerprints, and the checks a stage makes
  on its inputs and outputs;
- ``commit``: a stage's outputs published together or not at all, and the recovery of the
  commits that killed runs left behind; ``read_table`` and ``publish`` for one table;
- ``lock``: one writer per work directory;
- ``driver_frames``: a driver-side pyarrow table as a DataFrame read from a scratch
  folder's Parquet, so that its rows never travel inside the tasks.
"""

from sparkembed.tables.commit import (
    FOREIGN_STAGING_SECONDS,
    STAGING_DIR,
    Commit,
    publish,
    read_table,
    recover,
)
from sparkembed.tables.driver_frames import broadcast_frame, driver_frame
from sparkembed.tables.metadata import (
    METADATA_FILE,
    check_apart,
    check_built_together,
    check_output,
    check_writable,
    describe,
    fingerprint,
    read_metadata,
    table_metadata,
)
from sparkembed.tables.storage import FileStatus, filesystem, inside, path_exists

__all__ = [
    "FOREIGN_STAGING_SECONDS",
    "METADATA_FILE",
    "STAGING_DIR",
    "Commit",
    "FileStatus",
    "check_built_together",
    "check_apart",
    "check_output",
    "check_writable",
    "broadcast_frame",
    "describe",
    "driver_frame",
    "filesystem",
    "fingerprint",
    "inside",
    "path_exists",
    "publish",
    "read_metadata",
    "read_table",
    "recover",
    "table_metadata",
]
