"""Wikitext → plain text, as Spark SQL expressions (JVM side, no Python UDF).

Regexes cannot match nested structures, so nested templates, tables and links are
removed by applying a non-nesting (innermost) pattern several times. Everything here
builds a ``Column``; nothing runs until the caller's job does.
"""

from __future__ import annotations

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from sparkembed.jvm import udfs

# Nesting depth handled for {{templates}} / {| tables |} and for [[links]] in captions.
TEMPLATE_PASSES = 5
LINK_PASSES = 3

# Tags whose content is not prose: removed with their content.
_DROP_ELEMENTS = (
    "math|gallery|timeline|score|syntaxhighlight|source|pre|nowiki|imagemap|chem|hiero|ce"
    "|graph|mapframe|templatedata|inputbox|poem|references"
)
# Link prefixes whose whole link is removed (media, categories, interlanguage/interwiki).
_DROP_LINK = r"\[\[\s*(?i:file|image|media|category|[a-z]{2,3}(?:-[a-z]{2,8})?)\s*:[^\[\]]*\]\]"


def _r(col: Column, pattern: str, replacement: str = "") -> Column:
    return F.regexp_replace(col, pattern, replacement)


def unescape_xml(col: Column) -> Column:
    """The five XML entities of a dump's <text> (``&amp;`` last, so ``&amp;lt;`` stays ``&lt;``)."""
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'")):
        col = F.replace(col, F.lit(entity), F.lit(char))
    return F.replace(col, F.lit("&amp;"), F.lit("&"))


def clean_wikitext(col: Column) -> Column:
    """Plain text of unescaped wikitext: markup removed, link and heading text kept.

    Paragraph and line breaks are kept (sentence splitting uses them). Patterns with the
    same replacement share one alternation: each pass re-reads the whole page.
    """
    # Comments, references (self-closing first), and elements that are not prose.
    col = _r(
        col,
        r"(?is)<!--.*?(?:-->|$)|<ref\b[^>]*/\s*>|<ref\b[^>]*>.*?(?:</ref\s*>|$)"
        rf"|<(?:{_DROP_ELEMENTS})\b[^>]*/\s*>|<({_DROP_ELEMENTS})\b[^>]*>.*?(?:</\1\s*>|$)",
        " ",
    )
    # Innermost template or table, repeatedly: inner ones vanish first, then their parents.
    for _ in range(TEMPLATE_PASSES):
        col = _r(col, r"\{\{[^{}]*\}\}|\{\|[^{}]*?\|\}", " ")
    # Unbalanced leftovers: a template cut by a malformed page; drop to the end of line.
    col = _r(col, r"\{\{[^\n]*|\}\}")
    # Links: media/category/interlanguage removed, [[target|text]] -> text, [[t]] -> t.
    # Innermost first, so a caption's links are resolved before the file link goes.
    # (A group that did not take part in the match is replaced by nothing.)
    for _ in range(LINK_PASSES):
        col = _r(col, _DROP_LINK + r"|\[\[[^\[\]|]*\|([^\[\]]*)\]\]|\[\[([^\[\]|]*)\]\]", "$1$2")
    # External links: [url text] -> text, [url] -> nothing, then bare URLs.
    col = _r(col, r"\[(?:https?:|ftp:)?//[^\s\]]*\s*([^\]]*)\]", "$1")
    col = _r(col, r"(?i)(?:https?|ftp)://[^\s<>\]|]*|\bwww\.[^\s<>\]|]+")
    # Headings keep their text; bold/italic quotes and magic words go.
    col = _r(col, r"(?m)^=+\s*(.*?)\s*=+\s*$", "$1")
    col = _r(col, r"'{2,}|__[A-Z]+__")
    # Remaining HTML tags and HTML entities (named and numeric).
    col = _r(
        col, r"<[^<>\n]*>|&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});", " "
    )
    # Table-cell and list leftovers at line starts (| ! * # : ;) are punctuation: the
    # tokenizer drops them; attribute lines of stray tables (class=..., style=...) go.
    col = _r(col, r"(?m)^[|!].*$")
    return col


def clean_page(spark: SparkSession, body: Column, engine: str, unescape: bool = True) -> Column:
    """``clean_wikitext(unescape_xml(body))`` on ``engine``, ``tokenize.engine`` as the stage
    resolved it (``udfs.resolve_engine``): ``sql``, the expressions above, or else ``java``,
    one JVM UDF of hand-written scanners with the same result.

    ``unescape=False``: ``body`` is already unescaped, only ``clean_wikitext`` applies.
    """
    if engine == "sql":
        return clean_wikitext(unescape_xml(body) if unescape else body)
    return F.call_function(udfs.clean_function(spark, unescape), body)
