"""Test helpers: hand-made tables committed the way stages commit theirs."""

from __future__ import annotations

from pathlib import Path

from sparkembed.tables import Commit, fingerprint

# The test session's settings for CLI calls, so that a command's getOrCreate changes nothing.
CLI_SESSION = [
    "--set",
    'spark.master="local[2]"',
    "--set",
    "spark.shuffle_partitions=4",
    "--set",
    'spark.driver_memory="2g"',
]


def publish_together(spark, stage: str, tables: dict, built_from=(), params=None) -> dict:
    """Commit ``{path: df}`` (or ``{path: (df, partition_by)}``) as one run of ``stage``,
    recording ``built_from`` paths as its inputs; each table is named by its folder."""
    inputs = [{"role": Path(p).name, **fingerprint(spark, str(p))} for p in built_from]
    with Commit(spark, stage, params or {}, inputs) as c:
        for path, df in tables.items():
            parts = None
            if isinstance(df, tuple):
                df, parts = df
            c.write_df(Path(path).name, str(path), df, partition_by=parts)
    return c.metadata


def publish_workdir(spark, root, tokens=None, vocab=None, cooc=None, marginals=None) -> None:
    """DIR/tokens + DIR/vocab as one tokenize run; DIR/cooccurrence + DIR/marginals as one
    cooccur run built from them."""
    root = Path(root)
    first = {root / "tokens": tokens, root / "vocab": vocab}
    first = {p: df for p, df in first.items() if df is not None}
    if first:
        publish_together(spark, "tokenize", first, params={"tokenize": {"lang": "en"}})
    second = {root / "cooccurrence": cooc, root / "marginals": marginals}
    second = {p: df for p, df in second.items() if df is not None}
    if second:
        if root / "cooccurrence" in second:
            second[root / "cooccurrence"] = (second[root / "cooccurrence"], ["shard"])
        publish_together(spark, "cooccur", second, built_from=list(first))
