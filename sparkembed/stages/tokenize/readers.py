"""Corpus readers: input files → one *records* table, then documents and rejected.

Records schema (``read_records``)::

    source string   -- file the record came from
    doc_id string   -- wiki page id; else the id field, else "<file name>:<position>"
    title string    -- page title / title field ("" when there is none)
    text string     -- the document's text (wiki: cleaned of markup, see wikitext.py)
    format string   -- wiki | text | jsonl | parquet
    status string   -- document | rejected | skipped (redirect, other namespace, empty)
    reason string   -- why it was rejected or skipped (null for documents)
    excerpt string  -- a short excerpt of a rejected record

Splittable inputs (plain or .bz2 text, dumps) are read in splits of ``split_mb``: one
dump is many tasks. The split size is a session setting that Spark reads when it plans
the scan, so the scan is planned right here, with the setting in place, and the setting
is restored before returning: callers get a DataFrame whose partitioning is fixed.
"""

from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkembed.config import TokenizeConfig
from sparkembed.errors import SparkembedError
from sparkembed.jvm import udfs
from sparkembed.stages.tokenize import bz2blocks
from sparkembed.stages.tokenize.inputs import (
    MB,
    InputFile,
    check_bz2_complete,
    check_parquet_columns,
    even_split_bytes,
    file_split_bytes,
    is_compressed,
    list_inputs,
)
from sparkembed.stages.tokenize.wikitext import clean_wikitext, unescape_xml

RECORD_COLUMNS = ["source", "doc_id", "title", "text", "format", "status", "reason", "excerpt"]
EXCERPT_CHARS = 200
# Hadoop's LineRecordReader skips records longer than this instead of loading them.
_MAX_LINE_OPTION = "mapreduce.input.linerecordreader.line.maxlength"


# ---------------------------------------------------------------------------------------
# Split-size scans


@contextlib.contextmanager
def _session_conf(spark: SparkSession, key: str, value: str):
    """Set a session setting for the duration of the block, then restore it."""
    previous = spark.conf.get(key, None)
    spark.conf.set(key, value)
    try:
        yield
    finally:
        if previous is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, previous)


def _freeze_scan(df: DataFrame) -> DataFrame:
    """Plan ``df`` now and return a DataFrame over the planned RDD (partitioning fixed).

    Uses the classic session's ``internalCreateDataFrame`` (public in bytecode); the rows
    stay in the JVM. If it is not there (another Spark line), the plan stays lazy and the
    split size applies only while the setting is in place.
    """
    spark = df.sparkSession
    jdf = df._jdf
    try:
        rdd = jdf.queryExecution().toRdd()
        jframe = spark._jsparkSession.internalCreateDataFrame(rdd, jdf.schema(), False)
    except Exception:  # pragma: no cover - depends on the Spark line
        return df
    return DataFrame(jframe, spark)


def scan_text(
    spark: SparkSession,
    paths: list[str],
    *,
    line_sep: str | None,
    split_mb: int,
    max_record_mb: int,
    whole_text: bool = False,
    split_bytes: int | None = None,
) -> DataFrame:
    """Text source in splits of ``split_mb``: ``value string, source string, file_size long``.

    ``split_bytes`` replaces ``split_mb`` (``file_split_bytes``: even splits).
    Spark packs small files together into splits. Records longer than ``max_record_mb``
    are skipped by Hadoop's line reader (never held in memory); ``long_records`` accounts
    for them.
    """
    reader = spark.read.option(_MAX_LINE_OPTION, str(max_record_mb * MB))
    if line_sep is not None and not whole_text:
        reader = reader.option("lineSep", line_sep)
    split = split_mb * MB if split_bytes is None else split_bytes
    with _session_conf(spark, "spark.sql.files.maxPartitionBytes", str(split)):
        # text() sets wholetext itself: it must be its argument, not an option.
        df = reader.text(paths, wholetext=whole_text).select(
            "value",
            F.col("_metadata.file_path").alias("source"),
            F.col("_metadata.file_size").alias("file_size"),
        )
        return _freeze_scan(df)


def scan_wiki_bz2(
    spark: SparkSession, files: list[InputFile], *, split_mb: int, max_record_mb: int
) -> DataFrame:
    """.bz2 dumps decoded by libbz2 in tasks, a task per ``split_mb`` byte range:
    ``value string, source string`` with a record per page (``<page>`` to before
    ``</page>``; see bz2blocks for who owns which page).

    One partition per range (the rows are parallelized one per slice), so the split size
    holds without any session setting. Ranges are at most ``split_mb``, and cut evenly so
    that the last wave of tasks keeps every core busy (107 MB on 2 cores: 2 x 53.5 MB, not
    64 + 43 MB); the stages after the read keep these partitions.
    """
    step = even_split_bytes(spark, sum(f.size for f in files), split_mb)
    rows = [
        (f.path, f.path, f.size, start, min(start + step, f.size))
        for f in files
        for start in range(0, f.size, step)
    ]
    schema = "path string, source string, size long, start long, end long"
    ranges = spark.createDataFrame(spark.sparkContext.parallelize(rows, len(rows)), schema)
    pages = ranges.mapInArrow(
        functools.partial(bz2blocks.pages_in_arrow, limit=max_record_mb * MB),
        "source string, value binary",
    )
    # binary → string keeps the bytes as they are: invalid UTF-8 is rejected downstream.
    return pages.select(F.col("value").cast("string").alias("value"), "source")


def _python_bz2(f: InputFile, decoder: str) -> bool:
    """Whether ``f`` is read by scan_wiki_bz2 (else by Hadoop's bzip2 codec)."""
    if decoder == "hadoop" or not f.path.lower().endswith(".bz2"):
        return False
    if bz2blocks.arrow_can_open(f.path):
        return True
    if decoder == "python":
        raise SparkembedError(f"bz2_decoder='python': pyarrow cannot open {f.path}")
    return False


# ---------------------------------------------------------------------------------------
# Records


def _valid(col: Column) -> Column:
    return F.call_function("make_valid_utf8", col)


def _is_valid_utf8(col: Column) -> Column:
    return F.call_function("is_valid_utf8", col)


def _record(
    source: Column,
    doc_id: Column,
    title: Column,
    text: Column,
    fmt: str,
    status: Column,
    reason: Column,
    excerpt: Column,
) -> list[Column]:
    return [
        source.cast("string").alias("source"),
        doc_id.cast("string").alias("doc_id"),
        title.cast("string").alias("title"),
        text.cast("string").alias("text"),
        F.lit(fmt).alias("format"),
        status.alias("status"),
        reason.cast("string").alias("reason"),
        excerpt.cast("string").alias("excerpt"),
    ]


def _file_rejections(spark: SparkSession, rows: list[tuple[str, str, str]]) -> DataFrame:
    schema = "source string, reason string, excerpt string"
    df = spark.createDataFrame(rows, schema)
    return df.select(
        *_record(
            F.col("source"),
            F.lit(None),
            F.lit(None),
            F.lit(None),
            "file",
            F.lit("rejected"),
            F.col("reason"),
            F.col("excerpt"),
        )
    )


def page_fields_sql(raw: DataFrame, cfg: TokenizeConfig) -> DataFrame:
    """read_wiki's page fields as Spark SQL expressions (the reference)."""
    v = F.col("value")
    return raw.select(
        "source",
        _is_valid_utf8(v).alias("valid"),
        (F.octet_length(v) >= cfg.max_record_mb * MB).alias("too_long"),
        v.contains("<page>").alias("has_page"),
        v.rlike(r"^\s*(</mediawiki>\s*)?$").alias("trailer"),
        F.regexp_extract(v, r"<ns>\s*(-?\d+)\s*</ns>", 1).alias("ns"),
        F.regexp_extract(v, r"<id>\s*(\d+)\s*</id>", 1).alias("page_id"),
        unescape_xml(F.regexp_extract(v, r"<title>([^<]*)</title>", 1)).alias("title"),
        v.contains("<redirect").alias("redirect"),
        v.rlike(r"<text[^>]*/>").alias("text_empty"),
        v.rlike(r"<text[\s>]").alias("text_open"),
        v.contains("</text>").alias("text_close"),
        F.regexp_extract(v, r"(?s)<text[^>]*>(.*)</text>", 1).alias("body"),
        F.substring(_valid(v), 1, EXCERPT_CHARS).alias("head"),
        F.lit(None).cast("string").alias("clean"),  # cleaned later, documents only
    )


def page_fields_java(spark: SparkSession, raw: DataFrame, cfg: TokenizeConfig) -> DataFrame:
    """The fields of page_fields_sql from one JVM UDF over the record's bytes (the page is
    decoded once), with ``clean`` already computed for the pages that will be documents.
    """
    v = F.col("value")
    parse = udfs.page_fields_function(spark, cfg.max_record_mb * MB)
    parsed = raw.select("source", v, F.call_function(parse, v.cast("binary")).alias("f"))
    names = [f.split()[0] for f in udfs.PAGE_FIELDS_RETURN.split(",")]
    return parsed.select(
        "source",
        *[F.col("f")[n].alias(n) for n in names if n != "head"],
        # make_valid_utf8 of an invalid record is Spark's own (the UDF gives null).
        F.coalesce(F.col("f.head"), F.substring(_valid(v), 1, EXCERPT_CHARS)).alias("head"),
    ).select("source", *names)


def read_wiki(spark: SparkSession, files: list[InputFile], cfg: TokenizeConfig) -> DataFrame:
    """MediaWiki ``pages-articles`` XML dumps (.xml, .xml.bz2), split on ``</page>``.

    Namespace 0 only; redirects and other namespaces are ``skipped``; a record that is not
    valid UTF-8, a page without title/ns, or a ``<text>`` without ``</text>`` is rejected.
    Local (pyarrow-readable) .bz2 files are decoded by libbz2 in tasks (scan_wiki_bz2),
    the others by Hadoop's text source (its bzip2 codec is pure Java in pip's Spark).
    """
    python = [f for f in files if _python_bz2(f, cfg.bz2_decoder)]
    hadoop = [f.path for f in files if f not in python]
    parts = []
    if python:
        parts.append(
            scan_wiki_bz2(spark, python, split_mb=cfg.split_mb, max_record_mb=cfg.max_record_mb)
        )
    if hadoop:
        parts.append(
            scan_text(
                spark,
                hadoop,
                line_sep="</page>",
                split_mb=cfg.split_mb,
                max_record_mb=cfg.max_record_mb,
            ).select("value", "source")
        )
    raw = parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
    # First the fields, once per record; then the decisions made from them. The engine is
    # the stage's resolved tokenize.engine: anything but sql is java here.
    java = cfg.engine != "sql"
    fields = page_fields_java(spark, raw, cfg) if java else page_fields_sql(raw, cfg)
    c = F.col
    too_long = f"page longer than max_record_mb={cfg.max_record_mb} (cut by the reader)"
    rejected_reasons = [
        too_long,
        "invalid UTF-8",
        "no <page> element",
        "unparseable page (no title, ns or id)",
        "page without <text>",
        "page without </text>",
    ]
    reason = (
        F.when(c("too_long"), too_long)  # a cut page may end inside a character
        .when(~c("valid"), "invalid UTF-8")
        .when(~c("has_page"), F.when(~c("trailer"), "no <page> element"))
        .when((c("title") == "") | (c("ns") == "") | (c("page_id") == ""), rejected_reasons[3])
        .when(c("ns") != "0", F.concat(F.lit("namespace "), c("ns")))
        .when(c("redirect"), "redirect")
        .when(c("text_empty"), "empty page")
        .when(~c("text_open"), "page without <text>")
        .when(~c("text_close"), "page without </text>")
    )
    status = (
        F.when(c("valid") & ~c("has_page") & c("trailer"), "ignore")
        .when(reason.isNull(), "document")
        .when(reason.isin(rejected_reasons), "rejected")
        .otherwise("skipped")
    )
    decided = fields.select(
        "source",
        c("page_id").alias("doc_id"),
        F.when(c("valid"), c("title")).alias("title"),
        F.when(reason.isNull(), c("body")).alias("body"),
        F.when(reason.isNull(), c("clean")).alias("clean"),
        status.alias("status"),
        reason.alias("reason"),
        F.when(
            status == "rejected",
            F.when(
                c("valid") & (c("title") != ""), F.concat(F.lit("title: "), c("title"))
            ).otherwise(c("head")),
        ).alias("excerpt"),
    )
    parsed = decided.where(F.col("status") != "ignore")
    # The java parser cleaned the documents' bodies already (one decoding of the page).
    cleaned = F.col("clean") if java else clean_wikitext(unescape_xml(F.col("body")))
    text = F.when(F.col("status") == "document", cleaned)
    return parsed.select(
        *_record(
            F.col("source"),
            F.col("doc_id"),
            F.coalesce(F.col("title"), F.lit("")),
            text,
            "wiki",
            F.col("status"),
            F.col("reason"),
            F.col("excerpt"),
        )
    )


def _position_id(source: Column) -> Column:
    """``<file name>:<position>``: deterministic for the same files, split size and task
    slots (the position numbers the rows of each split)."""
    return F.concat(
        F.substring_index(source, "/", -1),  # the last part, without split()'s regex and array
        F.lit(":"),
        F.monotonically_increasing_id().cast("string"),
    )


def scan_lines(spark: SparkSession, files: list[InputFile], cfg: TokenizeConfig) -> DataFrame:
    """The planned scan of plain-text files read a line per document (``scan_text``'s
    columns, even splits): read_text makes the records from it, token_files.py reads its
    splits in the JVM with the same records."""
    return scan_text(
        spark,
        [f.path for f in files],
        line_sep="\n",
        split_mb=cfg.split_mb,
        max_record_mb=cfg.max_record_mb,
        split_bytes=file_split_bytes(spark, files, cfg.split_mb),
    )


def read_text(spark: SparkSession, files: list[InputFile], cfg: TokenizeConfig) -> DataFrame:
    """Plain text: a document per line (``text_unit="line"``) or per file (``"file"``).

    Lines longer than ``max_record_mb`` are skipped by the reader and reported per file
    (uncompressed files: bytes read are checked against the file size).
    """
    limit = cfg.max_record_mb * MB
    if cfg.text_unit == "file":
        too_big = [f for f in files if f.size > limit]
        rows = [
            (f.path, f"file longer than max_record_mb={cfg.max_record_mb}", f"{f.size:,} bytes")
            for f in too_big
        ]
        ok = [f.path for f in files if f.size <= limit]
        parts = [_file_rejections(spark, rows)] if rows else []
        if ok:
            raw = scan_text(
                spark,
                ok,
                line_sep=None,
                split_mb=cfg.split_mb,
                max_record_mb=cfg.max_record_mb + 1,  # files were checked by size
                whole_text=True,
            )
            parts.append(_text_records(raw, F.col("source"), "text", limit + MB))
        return _union(spark, parts)
    raw = scan_lines(spark, files, cfg)
    v = F.col("value")
    # Validity on the bytes as read; then a trailing \r goes (left() keeps the bytes).
    lines = raw.select(
        "source",
        "file_size",
        _is_valid_utf8(v).alias("valid"),
        F.when(v.endswith("\r"), F.expr("left(value, length(value) - 1)"))
        .otherwise(v)
        .alias("value"),
    )
    records = _text_records(lines, _position_id(F.col("source")), "text", limit)
    # Files bigger than the record limit may have lost a line to the reader's limit:
    # the bytes of the lines read plus their newlines must add up to the file's size.
    # (A line cut at a split end instead comes back as a record of ``limit`` bytes and
    # is rejected on its own.)
    big = [f.path for f in files if f.size > limit and not is_compressed(f.path)]
    if big:
        accounted = (
            raw.where(F.col("source").isin(big))
            .groupBy("source", "file_size")
            .agg(
                F.sum(F.octet_length("value") + 1).alias("bytes"),
                F.max(F.octet_length("value") >= limit).alias("cut"),
            )
        )
        missing = F.col("file_size") - F.col("bytes")
        long_lines = accounted.where((missing > 0) & ~F.col("cut")).select(
            *_record(
                F.col("source"),
                F.lit(None),
                F.lit(None),
                F.lit(None),
                "text",
                F.lit("rejected"),
                F.lit(f"line longer than max_record_mb={cfg.max_record_mb} (skipped unread)"),
                F.format_string("%,d bytes in skipped lines", missing),
            )
        )
        records = records.unionByName(long_lines)
    return records


def _text_records(raw: DataFrame, doc_id: Column, fmt: str, limit: int) -> DataFrame:
    v = F.col("value")
    valid = F.col("valid") if "valid" in raw.columns else _is_valid_utf8(v)
    too_long = F.octet_length(v) >= limit
    blank = F.trim(v) == ""
    reason = (
        F.when(~valid, "invalid UTF-8")
        .when(too_long, f"record longer than max_record_mb={limit // MB} (cut by the reader)")
        .when(blank, "empty")
    )
    status = F.when(reason.isNull(), "document").when(blank, "skipped").otherwise("rejected")
    return raw.select(
        *_record(
            F.col("source"),
            doc_id,
            F.lit(""),
            F.when(reason.isNull(), v),
            fmt,
            status,
            reason,
            F.when(status == "rejected", F.substring(_valid(v), 1, EXCERPT_CHARS)),
        )
    )


def _field(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def read_jsonl(spark: SparkSession, files: list[InputFile], cfg: TokenizeConfig) -> DataFrame:
    """JSON lines: the text in field ``text_field`` (optional ``id_field``, ``title_field``).

    The text field is read as a variant: read as a string, a number, a boolean, an object
    or an array would come back as its JSON text, indistinguishable from a string holding
    the same characters, and be tokenised. A text that is not a JSON string is rejected
    (``'text' is not a string``, the value's JSON as excerpt); ``null`` counts as missing.
    """
    text_name = cfg.text_field
    others = [f for f in dict.fromkeys((cfg.id_field, cfg.title_field)) if f and f != text_name]
    schema = ", ".join([f"{_field(text_name)} variant", *[f"{_field(f)} string" for f in others]])
    schema += ", _corrupt_record string"
    reader = (
        spark.read.schema(schema)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", "_corrupt_record")
        .option(_MAX_LINE_OPTION, str(cfg.max_record_mb * MB))
    )
    split = file_split_bytes(spark, files, cfg.split_mb)
    with _session_conf(spark, "spark.sql.files.maxPartitionBytes", str(split)):
        raw = _freeze_scan(
            reader.json([f.path for f in files]).select(
                "*", F.col("_metadata.file_path").alias("source")
            )
        )
    value = F.col(_field(text_name))
    kind = F.call_function("schema_of_variant", value)  # STRING, BIGINT, ..., VOID (null)
    as_json = value.cast("string")  # a string's own text, else the value as JSON
    raw = raw.select(
        F.when(kind == "STRING", as_json).alias(text_name),
        F.when(~kind.isin("STRING", "VOID"), as_json).alias("_not_string"),
        # An id or title field that is the text field reads the text column.
        *[F.col(_field(f)) for f in others],
        "source",
        "_corrupt_record",
    )
    return _field_records(
        raw, text_name, cfg, "jsonl", F.col("_corrupt_record"), F.col("_not_string")
    )


def read_parquet(spark: SparkSession, files: list[InputFile], cfg: TokenizeConfig) -> DataFrame:
    """Parquet: the text in column ``text_column`` (optional ``id_field``, ``title_field``)."""
    split = file_split_bytes(spark, files, cfg.split_mb)
    with _session_conf(spark, "spark.sql.files.maxPartitionBytes", str(split)):
        raw = _freeze_scan(spark.read.parquet(*[f.path for f in files]).select("*", "_metadata"))
    # Every file's columns were checked by plan_reading (check_parquet_columns).
    raw = raw.select(
        F.col(_field(cfg.text_column)).cast("string").alias(cfg.text_column),
        *[F.col(_field(f)).cast("string").alias(f) for f in (cfg.id_field, cfg.title_field) if f],
        F.col("_metadata.file_path").alias("source"),
    )
    return _field_records(raw, cfg.text_column, cfg, "parquet", F.lit(None).cast("string"))


def _field_records(
    raw: DataFrame,
    text_name: str,
    cfg: TokenizeConfig,
    fmt: str,
    corrupt: Column,
    not_string: Column | None = None,
) -> DataFrame:
    """``not_string``: the JSON of a text value that is not a string (null otherwise)."""
    not_string = F.lit(None).cast("string") if not_string is None else not_string
    text = F.col(_field(text_name))
    doc_id = F.col(_field(cfg.id_field)) if cfg.id_field else _position_id(F.col("source"))
    title = F.coalesce(F.col(_field(cfg.title_field)), F.lit("")) if cfg.title_field else F.lit("")
    bad_json = corrupt.isNotNull()
    valid = _is_valid_utf8(text)
    reason = (
        F.when(bad_json, "unparseable JSON")
        .when(not_string.isNotNull(), f"'{text_name}' is not a string")
        .when(text.isNull(), f"no '{text_name}' field")
        .when(~valid, "invalid UTF-8")
        .when(F.trim(text) == "", "empty")
    )
    status = (
        F.when(reason.isNull(), "document").when(reason == "empty", "skipped").otherwise("rejected")
    )
    excerpt = F.when(
        status == "rejected",
        F.substring(_valid(F.coalesce(corrupt, not_string, text)), 1, EXCERPT_CHARS),
    )
    return raw.select(
        *_record(
            F.col("source"),
            doc_id,
            title,
            F.when(reason.isNull(), text),
            fmt,
            status,
            reason,
            excerpt,
        )
    )


# The records of each input format.
_READERS = {"wiki": read_wiki, "text": read_text, "jsonl": read_jsonl, "parquet": read_parquet}


def _union(spark: SparkSession, parts: list[DataFrame]) -> DataFrame:
    if not parts:
        schema = ", ".join(f"{c} string" for c in RECORD_COLUMNS)
        return spark.createDataFrame([], schema)
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p)
    return out


@dataclass(frozen=True)
class Reading:
    """The input, planned (nothing is read before a job runs)."""

    records: DataFrame  # schema in the module docstring
    lines: DataFrame | None  # plain-text lines left out of ``records`` (scan_lines' columns)
    formats: frozenset[str]  # of the input files


def plan_reading(
    spark: SparkSession, inputs: list[str], cfg: TokenizeConfig, *, lines_apart: bool = False
) -> Reading:
    """All input records with their status.

    Checks run on the driver before any Spark job: paths exist, .bz2 files are complete,
    Parquet files have the columns asked for and a text column of strings.
    Empty files are rejected without being read.

    ``lines_apart``: the plain-text files read a line per document are left out of the
    records, as their planned scan (``Reading.lines``) that token_files.py reads in the JVM.
    Not with ``reject_empty``, whose check is made on the records.
    """
    files = list_inputs(spark, inputs, cfg.format)
    formats = frozenset(f.format for f in files)
    empty = [f for f in files if f.size == 0]
    files = [f for f in files if f.size > 0]
    for f in files:
        if f.path.lower().endswith(".bz2"):
            check_bz2_complete(spark, f)
        if f.format == "parquet":
            others = [c for c in (cfg.id_field, cfg.title_field) if c]
            check_parquet_columns(spark, f, cfg.text_column, others)
    parts = []
    if empty:
        parts.append(_file_rejections(spark, [(f.path, "empty file", "") for f in empty]))
    by_format: dict[str, list[InputFile]] = {}
    for f in files:
        by_format.setdefault(f.format, []).append(f)
    lines = None
    for name, group in sorted(by_format.items()):
        if name == "text" and lines_apart and cfg.text_unit == "line" and not cfg.reject_empty:
            lines = scan_lines(spark, group, cfg)
        else:
            parts.append(_READERS[name](spark, group, cfg))
    records = _union(spark, parts).select(*RECORD_COLUMNS)
    if cfg.reject_empty:
        records = _reject_empty_documents(records)
    return Reading(records, lines, formats)


def read_records(spark: SparkSession, inputs: list[str], cfg: TokenizeConfig) -> DataFrame:
    """All input records with their status (``plan_reading``'s records, every line in)."""
    return plan_reading(spark, inputs, cfg).records


def _reject_empty_documents(records: DataFrame) -> DataFrame:
    """Documents with no letter left after cleaning (a page of templates only, say) set
    aside as rejected."""
    empty_doc = (F.col("status") == "document") & ~F.col("text").rlike(r"\p{L}")
    return records.select(
        *[c for c in RECORD_COLUMNS if c not in ("status", "reason", "excerpt")],
        F.when(empty_doc, "rejected").otherwise(F.col("status")).alias("status"),
        F.when(empty_doc, "empty after cleaning").otherwise(F.col("reason")).alias("reason"),
        F.when(
            empty_doc,
            F.when(F.col("title") != "", F.concat(F.lit("title: "), F.col("title"))).otherwise(
                F.substring("text", 1, EXCERPT_CHARS)
            ),
        )
        .otherwise(F.col("excerpt"))
        .alias("excerpt"),
    ).select(*RECORD_COLUMNS)


def split_records(records: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(documents, rejected) of a records table.

    documents: ``source string, doc_id string, title string, text string, format string``
    rejected:  ``source string, reason string, excerpt string``
    """
    documents = records.where(F.col("status") == "document").select(
        "source", "doc_id", "title", "text", "format"
    )
    rejected = records.where(F.col("status") == "rejected").select(
        "source", "reason", F.coalesce(F.col("excerpt"), F.lit("")).alias("excerpt")
    )
    return documents, rejected


def read_corpus(
    spark: SparkSession, inputs: list[str], cfg: TokenizeConfig
) -> tuple[DataFrame, DataFrame]:
    """Read ``inputs`` → (documents_df, rejected_df); schemas as in ``split_records``.

    Both are lazy views of one scan; persist ``read_records(...)`` and call
    ``split_records`` instead to read the input once for both.
    """
    return split_records(read_records(spark, inputs, cfg))


_FAILED_READ = re.compile(
    r"FAILED_READ_FILE\.\w+\]\s*Encountered error while reading file (\S+?)\.?\s"
)
_BZ2_READ_ERROR = re.compile(r"Bz2ReadError: (cannot read [^\n]+)")
_CAUSE = re.compile(r"Caused by: ([\w.$]+(?:Exception|Error)[^\n]*)")


@contextlib.contextmanager
def read_errors_as_sparkembed():
    """Turn a file that fails while being read (corrupt .bz2/.gz) into one clear error."""
    try:
        yield
    except Exception as exc:  # Py4JJavaError or a pyspark error wrapping it
        text = str(exc)
        python_read = _BZ2_READ_ERROR.search(text)
        if python_read:  # raised by scan_wiki_bz2's tasks
            raise SparkembedError(python_read.group(1).strip()) from None
        m = _FAILED_READ.search(text)
        if not m:
            raise
        causes = _CAUSE.findall(text)
        cause = causes[-1].strip() if causes else "read error"
        raise SparkembedError(f"cannot read {m.group(1)}: {cause}") from None
