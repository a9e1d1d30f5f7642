"""Vector tables: ``token string, vector array<float>, count long, norm float``,
partitioned by ``lang``, with ``dim`` and ``method`` in ``_sparkembed.json``; document
vector tables (the aggregate stage's) the same with ``doc_id`` as the key and
``n_tokens`` in place of ``count``.

Vectors are stored raw (unnormalised) with their norms; normalise as late as possible.
Readers: Spark (``read_vectors``) and plain pyarrow without Spark (``load_vectors``); every
stage reads vector tables through one of them, so both follow one rule:

- A path holding ``_sparkembed.json`` is sparkembed's table: it must be complete
  (``_SUCCESS``) and a vector table by its metadata, and Spark checks its contract
  (``tables.read_table``).
- Any other Parquet folder (``_SUCCESS`` or not: pyarrow, polars and DuckDB write none) or
  single Parquet file is a table written by another tool. It needs ``token`` (string) and
  ``vector`` (a list of float or double) (``check_vector_columns``); ``count`` (a number)
  and ``lang`` (string) are optional, other columns are ignored. Without ``count`` every
  row counts 0; without ``lang`` every row is of the language asked for, else ``und``;
  ``norm`` is always computed from the vectors.
- Order (``ORDER``): most frequent first, then a foreign table's own row order (files by
  path, rows as stored: a table without counts keeps the order it was written in, most
  frequent first for word2vec and fastText files), then token. ``position`` carries the row
  order (``file number << 40 | row``; 0 in sparkembed's tables).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sparkembed.errors import SparkembedError
from sparkembed.tables import METADATA_FILE, Commit, filesystem, read_table

# How rows are ordered, as pyarrow sort keys (``frequency_order`` is the same for Spark).
ORDER = (("count", "descending"), ("position", "ascending"), ("token", "ascending"))
ROW_BITS = 40  # position = file number << ROW_BITS | row in the file
VECTOR_KINDS = ("list<float>", "list<double>")
DEFAULT_LANG = "und"  # the language of rows that have none


def arrow_kind(t) -> str:
    """A pyarrow type as ``check_vector_columns`` names it."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return {pa.float32(): "float", pa.float64(): "double"}.get(t, str(t))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"list<{arrow_kind(t.value_type)}>"
    return str(t)


def spark_kind(t) -> str:
    """A Spark SQL type as ``check_vector_columns`` names it."""
    from pyspark.sql import types as T

    if isinstance(t, T.StringType):
        return "string"
    if isinstance(t, T.IntegralType):
        return "integer"
    if isinstance(t, T.FloatType):
        return "float"
    if isinstance(t, T.DoubleType):
        return "double"
    if isinstance(t, T.ArrayType):
        return f"list<{spark_kind(t.elementType)}>"
    return t.simpleString()


def check_vector_columns(path, kinds: dict[str, str], keys=("token", "doc_id")) -> str:
    """The columns a vector table needs, for both readers: a key (``token``, or ``doc_id``
    for document vectors) of strings and ``vector``, a list of float or double; ``count``
    (``n_tokens``) a number and ``lang`` a string when present. ``kinds`` maps each column
    to ``arrow_kind`` / ``spark_kind``. Returns the key; raises one line naming ``path``,
    what is wrong and the columns found."""
    key = next((k for k in keys if k in kinds), keys[0])
    count = "n_tokens" if key == "doc_id" else "count"
    wrong = []
    if key not in kinds:
        wrong.append(f"no column '{key}'")
    elif kinds[key] != "string":
        wrong.append(f"column '{key}' is {kinds[key]}, not string")
    if "vector" not in kinds:
        wrong.append("no column 'vector'")
    elif kinds["vector"] not in VECTOR_KINDS:
        wrong.append(f"column 'vector' is {kinds['vector']}, not a list of float or double")
    if count in kinds and kinds[count] not in ("integer", "float", "double"):
        wrong.append(f"column '{count}' is {kinds[count]}, not a number")
    if "lang" in kinds and kinds["lang"] != "string":
        wrong.append(f"column 'lang' is {kinds['lang']}, not string")
    if wrong:
        found = ", ".join(kinds) or "none: no Parquet data"
        raise SparkembedError(f"{path}: not a vector table: {'; '.join(wrong)} (columns: {found})")
    return key


def _own_metadata(path: str, exists, read_text) -> dict[str, Any] | None:
    """A sparkembed table's metadata (None for a table of another tool), once it is known
    to be complete and a vector table."""
    meta_path = f"{str(path).rstrip('/')}/{METADATA_FILE}"
    if not exists(meta_path):
        return None
    if not exists(f"{str(path).rstrip('/')}/_SUCCESS"):
        raise SparkembedError(f"table is incomplete (no _SUCCESS): {path}")
    try:
        meta = json.loads(read_text(meta_path))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SparkembedError(f"{meta_path}: not valid JSON ({exc})") from None
    if meta.get("table", "vectors") not in ("vectors", "doc_vectors"):
        raise SparkembedError(f"{path} is a '{meta.get('table')}' table, expected 'vectors'")
    return meta


def frequency_order(df) -> list:
    """``ORDER`` as Spark columns for ``df.orderBy``; a frame without ``position`` (not
    from ``read_vectors``) is ordered as sparkembed's tables are, by count and token."""
    from pyspark.sql import functions as F

    position = [F.col("position").asc()] if "position" in df.columns else []
    return [F.col("count").desc(), *position, F.col("token").asc()]


def read_vectors(spark, path: str, lang: str | None = None):
    """A vector table as a Spark frame: ``token, vector array<float>, count long, norm
    float, lang string, position long`` (the module docstring's rule). ``lang`` is the
    language of a table without a ``lang`` column (default ``und``); rows are not
    filtered by it."""
    from pyspark.sql import functions as F

    path = str(path)
    fs = filesystem(spark)
    if not fs.exists(path):
        raise SparkembedError(f"vector table not found: {path}")
    if _own_metadata(path, fs.exists, fs.read_text) is not None:
        df = read_table(spark, path, table="vectors")
        return df.withColumn("position", F.lit(0).cast("long"))
    try:
        raw = spark.read.parquet(path)
    except Exception as exc:  # AnalysisException: an empty folder, files that are not Parquet
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkembedError(
            f"{path}: not a vector table: cannot read Parquet ({first})"
        ) from None
    kinds = {f.name: spark_kind(f.dataType) for f in raw.schema.fields}
    check_vector_columns(path, kinds, keys=("token",))
    files = sorted(r[0] for r in raw.select("_metadata.file_path").distinct().collect())
    number = F.create_map(*[F.lit(x) for i, f in enumerate(files) for x in (f, i)])
    position = number[F.col("_metadata.file_path")].cast("long") * F.lit(1 << ROW_BITS) + F.col(
        "_metadata.row_index"
    )
    own_lang = lang or DEFAULT_LANG
    frame = raw.select(
        "token",
        "vector",
        F.coalesce(F.col("count").cast("long"), F.lit(0).cast("long")).alias("count")
        if "count" in kinds
        else F.lit(0).cast("long").alias("count"),
        F.coalesce(F.col("lang"), F.lit(own_lang)).alias("lang")
        if "lang" in kinds
        else F.lit(own_lang).alias("lang"),
        position.alias("position"),
    )
    return vector_table_frame(frame, keep=("position",))


def vector_table_frame(df, lang: str | None = None, keep: Sequence[str] = ()):
    """Shape ``df`` (token, vector array<float|double>, count[, norm][, lang]) into the
    table schema: vectors cast to float (nulls to 0) and their norms; ``keep`` names
    further columns to keep after those. A frame that brings
    float vectors with a ``norm`` column (a trainer that computed both in numpy, so there
    are no nulls) is kept: Spark's per-element higher-order functions are interpreted,
    not code-generated (1.5 s for 64k × 100 on 2 cores)."""

    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, FloatType

    out = df
    if "norm" in df.columns and df.schema["vector"].dataType == ArrayType(FloatType()):
        norm = F.col("norm")
    else:
        vec = F.transform(
            F.col("vector"), lambda x: F.coalesce(x.cast("float"), F.lit(0.0).cast("float"))
        )
        out = out.withColumn("vector", vec)
        norm = F.sqrt(F.aggregate("vector", F.lit(0.0).cast("double"), lambda acc, x: acc + x * x))
    if "lang" not in df.columns:
        out = out.withColumn("lang", F.lit(lang or "und"))
    return out.select(
        F.col("token").cast("string"),
        F.col("vector"),
        F.col("count").cast("long"),
        norm.cast("float").alias("norm"),
        F.col("lang").cast("string"),
        *keep,
    )


def write_vectors(
    df,
    path: str,
    *,
    dim: int,
    method: str,
    lang: str | None = None,
    counts: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    commit: Commit | None = None,
    stage: str = "train",
    params: dict[str, Any] | None = None,
    inputs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Stage a vector table in ``commit`` (or commit it alone, with ``stage``, ``params``
    and ``inputs``); ``df`` has token, vector, count (and norm, lang)."""
    table = vector_table_frame(df, lang)
    meta_extra = {"dim": int(dim), "method": method}
    meta_extra.update(extra or {})
    if commit is None:
        with Commit(table.sparkSession, stage, params, inputs) as own:
            return write_vectors(
                table, path, dim=dim, method=method, counts=counts, extra=extra, commit=own
            )
    commit.write_df("vectors", path, table, counts=counts, partition_by=["lang"], extra=meta_extra)
    written = table.sparkSession.read.parquet(commit.staged("vectors")).count()
    return commit.add_counts("vectors", {"vectors": written})


def write_doc_vectors(
    df,
    path: str,
    *,
    dim: int,
    commit: Commit,
    counts: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Stage a document vector table (``schemas.DOC_VECTORS``, partitioned by ``lang``)."""
    meta_extra = {"dim": int(dim), "method": "aggregate", "key": "doc_id"}
    meta_extra.update(extra or {})
    commit.write_df("doc_vectors", path, df, counts=counts, partition_by=["lang"], extra=meta_extra)
    written = df.sparkSession.read.parquet(commit.staged("doc_vectors")).count()
    return commit.add_counts("doc_vectors", {"documents": written})


def _keys(table, key: str, metadata: dict[str, Any]) -> list[str]:
    """A table's keys: tokens, or ``doc_id`` (``doc_id#sentence`` for sentence vectors)."""
    ids = table.column(key).to_pylist()
    if key == "doc_id" and metadata.get("unit") == "sentence" and "sentence" in table.column_names:
        ids = [f"{d}#{s}" for d, s in zip(ids, table.column("sentence").to_pylist(), strict=True)]
    return ids


@dataclass
class VectorSet:
    """Vectors in memory, most frequent first (ties by token)."""

    tokens: list[str]
    vectors: np.ndarray  # float32, (n, dim)
    counts: np.ndarray  # int64, (n,)
    langs: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)  # document vectors: each one's title

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


def load_vectors(path: str | Path, lang: str | None = None) -> VectorSet:
    """Read a vector table with pyarrow alone (no Spark), in ``ORDER`` (a document vector
    table: longest document first, keyed by ``doc_id``); with ``lang``, only its rows (a
    table without a ``lang`` column is all of ``lang``). The module docstring's rule."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    root = Path(path)
    if not root.exists():
        raise SparkembedError(f"vector table not found: {root}")
    metadata = _own_metadata(str(root), lambda p: Path(p).exists(), lambda p: Path(p).read_text())
    try:
        dataset = ds.dataset(str(root), format="parquet", partitioning="hive")
    except (pa.ArrowException, OSError) as exc:
        raise SparkembedError(f"{root}: not a vector table: cannot read Parquet ({exc})") from None
    kinds = {f.name: arrow_kind(f.type) for f in dataset.schema}
    key = check_vector_columns(root, kinds)
    count = "count" if key == "token" else "n_tokens"
    try:
        if metadata is not None:
            table = dataset.to_table(filter=(pc.field("lang") == lang) if lang else None)
            sort_keys = [(count, "descending"), (key, "ascending")]
        else:
            metadata = {}
            table = _foreign_rows(dataset, kinds, count, lang)
            sort_keys = [(count, "descending"), ("position", "ascending"), (key, "ascending")]
    except pa.ArrowException as exc:
        raise SparkembedError(f"{root}: cannot read Parquet ({exc})") from None
    if table.num_rows == 0:
        raise SparkembedError(f"no vectors in {root}" + (f" for lang={lang}" if lang else ""))
    if key == "doc_id" and "sentence" in table.column_names:
        sort_keys.append(("sentence", "ascending"))
    table = table.take(pc.sort_indices(table, sort_keys=sort_keys))
    lists = table.column("vector").combine_chunks()
    if lists.null_count:
        raise SparkembedError(f"{root}: {lists.null_count} rows have no vector (null)")
    dim = metadata.get("dim") or len(lists[0].as_py())
    flat = pc.fill_null(lists.flatten(), 0).to_numpy(zero_copy_only=False)
    flat = flat.astype(np.float32, copy=False)
    if not dim or flat.size != table.num_rows * dim:
        raise SparkembedError(f"{root}: vectors are not all of dimension {dim}")
    return VectorSet(
        tokens=_keys(table, key, metadata),
        vectors=flat.reshape(-1, dim),
        counts=table.column(count).to_numpy().astype(np.int64),
        langs=[str(x) for x in table.column("lang").to_pylist()],
        metadata=metadata,
        titles=table.column("title").to_pylist() if key == "doc_id" else [],
    )


def _foreign_rows(dataset, kinds: dict[str, str], count: str, lang: str | None):
    """The rows of a table from another tool, files in path order and rows as stored, with
    ``position``, ``count`` (0 where missing) and ``lang`` (``lang`` or ``und`` where
    missing), only those of ``lang`` when given."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = [
        c for c in ("token", "doc_id", "title", "sentence", "vector", count, "lang") if c in kinds
    ]
    parts = []
    for number, fragment in enumerate(sorted(dataset.get_fragments(), key=lambda f: f.path)):
        part = fragment.to_table(schema=dataset.schema, columns=wanted)
        rows = np.arange(part.num_rows, dtype=np.int64) + (number << ROW_BITS)
        parts.append(part.append_column("position", pa.array(rows)))
    if not parts:
        return pa.table({"vector": pa.array([], pa.list_(pa.float32()))})
    table = pa.concat_tables(parts)
    own_lang = lang or DEFAULT_LANG
    if count in kinds:
        counts = pc.fill_null(table.column(count).cast(pa.int64()), 0)
        table = table.set_column(table.column_names.index(count), count, counts)
    else:
        table = table.append_column(count, pa.array(np.zeros(table.num_rows, np.int64)))
    if "lang" in kinds:
        langs = pc.fill_null(table.column("lang").cast(pa.string()), own_lang)
        table = table.set_column(table.column_names.index("lang"), "lang", langs)
        if lang:
            table = table.filter(pc.equal(table.column("lang"), lang))
    else:
        table = table.append_column("lang", pa.array([own_lang] * table.num_rows, pa.string()))
    return table
