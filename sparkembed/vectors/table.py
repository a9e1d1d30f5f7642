"""Vector tables: ``token string, vector array<float>, count long, norm float``,
partitioned by ``lang``, with ``dim`` and ``method`` in ``_sparkembed.json``; document
vector tables (the aggregate stage's) the same with ``doc_id`` as the key and
``n_tokens`` in place of ``count``.

Vectors are stored raw (unnormalised) with their norms; normalise as late as possible.
Readers: Spark (``read_table``) and plain pyarrow without Spark (``load_vectors``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sparkembed.errors import SparkembedError
from sparkembed.tables import METADATA_FILE, Commit


def vector_table_frame(df, lang: str | None = None):
    """Shape ``df`` (token, vector array<float|double>, count[, norm][, lang]) into the
    table schema: vectors cast to float (nulls to 0) and their norms. A frame that brings
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
    """Read a vector table with pyarrow alone (no Spark), most frequent token first (a
    document vector table: longest document first, keyed by ``doc_id``)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    root = Path(path)
    if not root.is_dir():
        raise SparkembedError(f"vector table not found: {root}")
    meta_file = root / METADATA_FILE
    metadata = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    dataset = ds.dataset(str(root), format="parquet", partitioning="hive")
    table = dataset.to_table(filter=(pc.field("lang") == lang) if lang else None)
    if table.num_rows == 0:
        raise SparkembedError(f"no vectors in {root}" + (f" for lang={lang}" if lang else ""))
    key, count = ("token", "count") if "token" in table.column_names else ("doc_id", "n_tokens")
    if key not in table.column_names:
        raise SparkembedError(f"{root}: not a vector table (no token or doc_id column)")
    sort_keys = [(count, "descending"), (key, "ascending")]
    if key == "doc_id" and "sentence" in table.column_names:
        sort_keys.append(("sentence", "ascending"))
    table = table.take(pc.sort_indices(table, sort_keys=sort_keys))
    lists = table.column("vector").combine_chunks()
    dim = metadata.get("dim") or len(lists[0].as_py())
    flat = lists.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    if flat.size != table.num_rows * dim:
        raise SparkembedError(f"{root}: vectors are not all of dimension {dim}")
    return VectorSet(
        tokens=_keys(table, key, metadata),
        vectors=flat.reshape(-1, dim),
        counts=table.column(count).to_numpy().astype(np.int64),
        langs=[str(x) for x in table.column("lang").to_pylist()],
        metadata=metadata,
        titles=table.column("title").to_pylist() if key == "doc_id" else [],
    )
