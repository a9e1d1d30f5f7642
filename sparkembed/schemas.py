"""The table contracts: every table's columns and types, in one place.

Stages declare the tables they read and write by these names; ``check_columns`` runs
whenever a stage reads one (``tables.read_table(..., table=NAME)``), so a missing or
mistyped column fails with one line naming the table and both column lists. Extra columns
are allowed (add columns, never rename).
"""

from __future__ import annotations

import re

from sparkembed.errors import SparkembedError

TOKENS = "doc_id string, title string, lang string, sentence int, tokens array<string>"
VOCAB = "id int, token string, count long, doc_count long"
REJECTED = "source string, reason string, excerpt string"
COOCCURRENCE = "row int, col int, count double, shard int"
MARGINALS = "id int, count double"
VECTORS = "token string, vector array<float>, count long, norm float, lang string"
NEIGHBORS = "token string, neighbor string, rank int, cosine float"
GRAPH = "vertex int, id string, neighbors array<int>, weights array<double>"
ALIGNMENT = "row int, values array<double>"  # the align stage's d x d map, one row per row
TRANSLATIONS = "source string, target string, rank int, csls float, cosine float"
# The aggregate stage's: one row per document (sentence null) or per sentence.
DOC_VECTORS = (
    "doc_id string, title string, lang string, sentence int, vector array<float>, "
    "n_tokens int, n_oov int, norm float"
)

CONTRACTS = {
    "tokens": TOKENS,
    "vocab": VOCAB,
    "rejected": REJECTED,
    "cooccurrence": COOCCURRENCE,
    "marginals": MARGINALS,
    "vectors": VECTORS,
    "neighbors": NEIGHBORS,
    "graph": GRAPH,
    "alignment": ALIGNMENT,
    "translations": TRANSLATIONS,
    "doc_vectors": DOC_VECTORS,
    "doc_rejected": REJECTED,
}


def columns(ddl: str) -> list[tuple[str, str]]:
    """``"a int, b array<string>"`` -> ``[("a", "int"), ("b", "array<string>")]``."""
    out, depth, part = [], 0, ""
    for ch in ddl + ",":
        if ch == "," and depth == 0:
            name, _, kind = part.strip().partition(" ")
            out.append((name, kind.strip().lower()))
            part = ""
            continue
        depth += ch == "<"
        depth -= ch == ">"
        part += ch
    return out


def _spark_name(kind: str) -> str:
    """A DDL type as Spark's ``simpleString`` spells it (``long`` is ``bigint``)."""
    return re.sub(r"\blong\b", "bigint", kind)


def _found(df) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in df.schema.fields]


def check_columns(df, table: str, where: str = "") -> None:
    """Raise when ``df`` lacks a column of ``table``'s contract or has it with another type."""
    expected = [(n, _spark_name(k)) for n, k in columns(CONTRACTS[table])]
    found = dict(_found(df))
    bad = [(n, t) for n, t in expected if found.get(n) != t]
    if bad:
        want = ", ".join(f"{n} {t}" for n, t in expected)
        got = ", ".join(f"{n} {t}" for n, t in _found(df))
        raise SparkembedError(
            f"{where or table}: not a '{table}' table: expected columns ({want}), found ({got})"
        )
