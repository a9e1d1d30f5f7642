"""The JVM UDFs of ``.jars/sparkembed-udfs.jar`` (sources: java/src/sparkembed/).

Hand-written scanners for wikitext cleaning and tokenising, with the same results as the
Spark SQL expressions of ``stages/tokenize/wikitext.py`` and ``stages/tokenize/tokens.py``
(the reference). Which one runs is ``tokenize.engine``: ``java``, ``sql``, or ``auto``
(java when the JAR is loaded), resolved once per run by ``resolve_engine``.
"""

from __future__ import annotations

import hashlib
import sys

from pyspark.sql import SparkSession
from pyspark.sql.types import ArrayType, DoubleType, StringType, _parse_datatype_string

from sparkembed.errors import SparkembedError

JAR_NAME = "sparkembed-udfs.jar"
CLEAN_PAGE_CLASS = "sparkembed.CleanPageUdf"
CLEAN_WIKITEXT_CLASS = "sparkembed.CleanWikitextUdf"
TOKENS_RETURN = ArrayType(ArrayType(StringType()))


def java_udfs_loaded(spark: SparkSession) -> bool:
    """Is the UDF JAR on the JVM's class path (spark.jars, or spark-submit --jars)?"""
    try:  # no JVM gateway (Spark Connect) or ClassNotFoundException: not loaded
        jvm = spark.sparkContext._jvm
        jvm.java.lang.Thread.currentThread().getContextClassLoader().loadClass(CLEAN_PAGE_CLASS)
        return True
    except Exception:
        return False


def resolve_engine(spark: SparkSession, engine: str) -> str:
    """``java`` or ``sql`` for the configured ``tokenize.engine`` (``auto``: java when the
    JAR is loaded, else sql with a warning)."""
    if engine == "sql":
        return "sql"
    if java_udfs_loaded(spark):
        return "java"
    if engine == "java":
        raise SparkembedError(
            f"tokenize.engine = 'java' but {JAR_NAME} is not loaded: build it with "
            f"scripts/setup.sh; under spark-submit pass --jars .jars/{JAR_NAME}"
        )
    print(
        f"[tokenize] warning: {JAR_NAME} not loaded (scripts/setup.sh builds it); "
        "using the slower Spark SQL engine",
        file=sys.stderr,
    )
    return "sql"


def clean_function(spark: SparkSession, unescape: bool = True) -> str:
    """Register the wikitext cleaner; its SQL name.

    ``unescape``: the input is a dump's escaped text (``clean_wikitext(unescape_xml(x))``),
    else already unescaped wikitext (``clean_wikitext(x)``).
    """
    name, cls = (
        ("sparkembed_clean_page", CLEAN_PAGE_CLASS)
        if unescape
        else ("sparkembed_clean_wikitext", CLEAN_WIKITEXT_CLASS)
    )
    spark.udf.registerJavaFunction(name, cls, StringType())
    return name


def sentence_tokens_function(
    spark: SparkSession,
    *,
    token_pattern: str,
    lowercase: bool,
    fold_from: str,
    fold_to: str,
    split_sentences: bool,
    min_token_length: int,
    max_token_length: int,
    stop_words: list[str],
    max_sentence_length: int,
) -> str:
    """Register a tokenizer for this configuration (text → chunked sentences); its SQL name.

    The configuration goes to the UDF's constructor, so the name carries its digest: two
    configurations in one session get two functions.
    """
    args = (
        token_pattern,
        bool(lowercase),
        fold_from,
        fold_to,
        bool(split_sentences),
        int(min_token_length),
        int(max_token_length),
        list(stop_words),
        int(max_sentence_length),
    )
    digest = hashlib.sha1(repr(args).encode()).hexdigest()[:16]
    name = f"sparkembed_sentence_tokens_{digest}"
    if spark.catalog.functionExists(name):
        return name
    udf = spark.sparkContext._jvm.sparkembed.SentenceTokensUdf(sentence_tokenizer(spark, *args))
    return_type = spark._jsparkSession.parseDataType(TOKENS_RETURN.json())
    spark._jsparkSession.udf().register(name, udf, return_type)
    return name


def sentence_tokenizer(spark: SparkSession, *args):
    """The JVM ``SentenceTokenizer`` for sentence_tokens_function's arguments, in order."""
    sc = spark.sparkContext
    jvm = sc._jvm
    stop_words = args[7]
    words = sc._gateway.new_array(jvm.java.lang.String, len(stop_words))
    for i, w in enumerate(stop_words):
        words[i] = w
    return jvm.sparkembed.SentenceTokenizer(*args[:7], words, args[8])


PAGE_FIELDS_CLASS = "sparkembed.PageFieldsUdf"
PAGE_FIELDS_RETURN = (
    "valid boolean, too_long boolean, has_page boolean, trailer boolean, ns string,"
    " page_id string, title string, redirect boolean, text_empty boolean,"
    " text_open boolean, text_close boolean, body string, head string, clean string"
)


def page_fields_function(spark: SparkSession, max_record_bytes: int) -> str:
    """Register the one-pass page parser (raw record bytes → struct of read_wiki's fields,
    plus ``clean``, the cleaned body of a page that will be a document); its SQL name.
    """
    name = f"sparkembed_page_fields_{int(max_record_bytes)}"
    if spark.catalog.functionExists(name):
        return name
    jvm = spark.sparkContext._jvm
    return_type = spark._jsparkSession.parseDataType(
        _parse_datatype_string(PAGE_FIELDS_RETURN).json()
    )
    # Marked nondeterministic (it is not) so that the optimizer neither pushes read_wiki's
    # filter below it nor inlines it into every field: one call per record. Registered by
    # a Java method: py4j could pick functions.udf's untyped overload (see the Java side).
    jvm.sparkembed.PageFieldsUdf.register(
        spark._jsparkSession, name, int(max_record_bytes), return_type
    )
    return name


SGNS_BLOCK_CLASS = "sparkembed.SgnsBlockUdf"


def sgns_block_function(spark: SparkSession) -> str:
    """Register train --method sgns's block trainer (a task's spec -> [pairs, loss,
    seconds]); its SQL name. The trainer has no other engine: the JAR must be loaded."""
    if not java_udfs_loaded(spark):
        raise SparkembedError(
            f"train --method sgns needs {JAR_NAME}: build it with scripts/setup.sh; under "
            f"spark-submit pass --jars .jars/{JAR_NAME}"
        )
    name = "sparkembed_sgns_block"
    if not spark.catalog.functionExists(name):
        spark.udf.registerJavaFunction(name, SGNS_BLOCK_CLASS, ArrayType(DoubleType()))
    return name
