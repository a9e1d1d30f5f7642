"""Documents → sentence token table (``DIR/tokens``), and the counts of a written one.

Per document: lowercase (locale-independent), split into sentences, extract tokens with
a Java regex, keep tokens of ``min_token_length..max_token_length`` characters (minus
stop words), cut sentences into chunks of at most ``max_sentence_length`` tokens, and
explode to one row per sentence. Spark SQL expressions are the reference; the java engine
(``tokenize.engine`` as the stage resolved it; anything but ``sql`` is java here) does the
same in one JVM UDF.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkembed import schemas
from sparkembed.config import TokenizeConfig
from sparkembed.errors import SparkembedError
from sparkembed.jvm import udfs
from sparkembed.vocabulary.files import count_file_vocab, file_vocab_supported

TOKENS_SCHEMA = schemas.TOKENS
# A sentence ends at . ! ? followed by white space, or at a line break.
SENTENCE_BREAK = r"(?<=[.!?])\s+|\s*\n\s*"

# Accent folding for Latin letters (JVM side, no normalizer function in Spark SQL).
_ACCENTED = (
    "àáâãäåāăąçćĉċčďđèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöøōŏőŕŗřśŝşšţťŧùúûüũūŭůűųŵýÿŷźżž"
)
_PLAIN = "aaaaaaaaacccccddeeeeeeeeegggghhiiiiiiiiijklllllnnnnooooooooorrrsssstttuuuuuuuuuuwyyyzzz"
assert len(_ACCENTED) == len(_PLAIN)
# Capitals that Java lowercases differently under tr, az or lt locales, and their root forms.
_LOCALE_SENSITIVE = "IİÌÍĨĮJ"
_LOCALE_SENSITIVE_LOWER = "iiìíĩįj"


def lowercase(col: Column) -> Column:
    """Unicode lowercase that does not depend on the JVM's default locale.

    Spark's ``lower`` uses the default locale for non-ASCII text; Java's locale-specific
    rules (tr/az dotless i, lt dotted i) only touch these capitals, so they are mapped
    first (cheaper than ICU's root-locale ``lower(collate(x, 'UNICODE'))``).
    """
    return F.lower(F.translate(col, _LOCALE_SENSITIVE, _LOCALE_SENSITIVE_LOWER))


def fold_accents(col: Column) -> Column:
    """Latin letters with diacritics → base letters (é → e); other scripts unchanged."""
    return F.translate(col, _ACCENTED + _ACCENTED.upper(), _PLAIN + _PLAIN.upper())


def check_token_lengths(cfg: TokenizeConfig) -> None:
    """min_token_length <= max_token_length: a rule between two fields, which
    ``config.validate`` (one field at a time) does not check."""
    if cfg.max_token_length < cfg.min_token_length:
        raise SparkembedError("tokenize: need min_token_length <= max_token_length")


def _stop_words(cfg: TokenizeConfig) -> list[str]:
    return [w.lower() if cfg.lowercase else w for w in cfg.stop_words]


def sentence_tokens(text: Column, cfg: TokenizeConfig) -> Column:
    """``array<array<string>>``: the tokens of each non-empty sentence of ``text``."""
    if cfg.lowercase:
        text = lowercase(text)
    if cfg.fold_accents:
        text = fold_accents(text)
    sentences = F.split(text, SENTENCE_BREAK) if cfg.split_sentences else F.array(text)
    pattern = F.lit(cfg.token_pattern)
    stop = _stop_words(cfg)
    lo, hi = cfg.min_token_length, cfg.max_token_length

    def keep(t: Column) -> Column:
        ok = (F.length(t) >= lo) & (F.length(t) <= hi)
        if stop:
            ok = ok & ~F.array_contains(F.array(*[F.lit(w) for w in stop]), t)
        return ok

    per_sentence = F.transform(
        sentences, lambda s: F.filter(F.regexp_extract_all(s, pattern, F.lit(0)), keep)
    )
    return F.filter(per_sentence, lambda toks: F.size(toks) > 0)


def chunk(sentences: Column, max_len: int) -> Column:
    """Cut every sentence longer than ``max_len`` tokens into consecutive chunks."""
    return F.flatten(
        F.transform(
            sentences,
            lambda s: F.transform(
                F.sequence(F.lit(0), F.floor((F.size(s) - 1) / max_len).cast("int")),
                lambda i: F.slice(s, i * max_len + 1, max_len),
            ),
        )
    )


def chunked_sentence_tokens(spark: SparkSession, text: Column, cfg: TokenizeConfig) -> Column:
    """``chunk(sentence_tokens(text, cfg), cfg.max_sentence_length)`` on ``cfg.engine``.

    ``java``: one JVM UDF (sparkembed-udfs.jar) doing the same in one pass per document.
    """
    if cfg.engine == "sql":
        return chunk(sentence_tokens(text, cfg), cfg.max_sentence_length)
    return F.call_function(udfs.sentence_tokens_function(spark, **_java_arguments(cfg)), text)


def _java_arguments(cfg: TokenizeConfig) -> dict:
    fold_from, fold_to = (
        (_ACCENTED + _ACCENTED.upper(), _PLAIN + _PLAIN.upper()) if cfg.fold_accents else ("", "")
    )
    return dict(
        token_pattern=cfg.token_pattern,
        lowercase=cfg.lowercase,
        fold_from=fold_from,
        fold_to=fold_to,
        split_sentences=cfg.split_sentences,
        min_token_length=cfg.min_token_length,
        max_token_length=cfg.max_token_length,
        stop_words=_stop_words(cfg),
        max_sentence_length=cfg.max_sentence_length,
    )


def tokenizer_object(spark: SparkSession, cfg: TokenizeConfig):
    """The java engine's ``SentenceTokenizer`` for ``cfg`` (a py4j object)."""
    a = _java_arguments(cfg)
    return udfs.sentence_tokenizer(
        spark,
        a["token_pattern"],
        bool(a["lowercase"]),
        a["fold_from"],
        a["fold_to"],
        bool(a["split_sentences"]),
        int(a["min_token_length"]),
        int(a["max_token_length"]),
        list(a["stop_words"]),
        int(a["max_sentence_length"]),
    )


def tokenize_documents(documents: DataFrame, cfg: TokenizeConfig) -> DataFrame:
    """documents → tokens.

    In:  ``doc_id string, title string, text string`` (+ optional ``format string``).
    Out: ``doc_id string, title string, lang string, sentence int, tokens array<string>``
         — one row per sentence (or chunk), ``sentence`` numbered from 0 in each document.
    Documents of format ``wiki`` with fewer than ``min_article_tokens`` tokens are left
    out (gensim's rule); documents with no token at all produce no rows.
    """
    fmt = F.col("format") if "format" in documents.columns else F.lit("")
    min_tokens = cfg.min_article_tokens

    def kept(sentences: Column) -> Column:
        if min_tokens <= 0:
            return sentences
        n_tokens = F.aggregate(sentences, F.lit(0), lambda acc, s: acc + F.size(s))
        return F.when((fmt != "wiki") | (n_tokens >= min_tokens), sentences)

    # The tokenising expression must run once per document. Referenced twice (a filter
    # on the token count, or the filters Spark infers for posexplode) the optimizer
    # copies it into each place: so it is bound once as a lambda argument, exploded with
    # posexplode_outer (no inferred filters) and the empty rows dropped after the explode.
    sentences = chunked_sentence_tokens(documents.sparkSession, F.col("text"), cfg)
    per_doc = documents.select(
        "doc_id",
        F.coalesce(F.col("title"), F.lit("")).alias("title"),
        F.element_at(F.transform(F.array(sentences), kept), 1).alias("sentences"),
    )
    return (
        per_doc.select(
            "doc_id",
            "title",
            F.lit(cfg.lang).alias("lang"),
            F.posexplode_outer("sentences").alias("sentence", "tokens"),
        )
        .where(F.col("tokens").isNotNull())
        .select(
            "doc_id",
            "title",
            "lang",
            F.col("sentence").cast("int").alias("sentence"),
            F.col("tokens").cast("array<string>").alias("tokens"),
        )
    )


def token_table_stats(tokens: DataFrame) -> dict[str, int]:
    """``sentences``, ``tokens`` and ``documents`` of a token table (its metadata's counts)."""
    row = tokens.agg(
        F.count(F.lit(1)).alias("sentences"),
        F.coalesce(F.sum(F.size("tokens")), F.lit(0)).alias("tokens"),
        F.count_distinct("doc_id").alias("documents"),
    ).first()
    return {k: int(row[k]) for k in ("sentences", "tokens", "documents")}


def written_token_counts(
    spark: SparkSession, tokens_path: str
) -> tuple[pa.Table | None, dict[str, int]]:
    """(every token's ``count`` and ``doc_count``, the table's statistics) of the token table
    at ``tokens_path``, from one pass: pyarrow's in the tasks (``count_file_vocab``) when it
    can read the table, else Spark's, without the token counts (None: the vocabulary is
    then counted from the table)."""
    if file_vocab_supported(tokens_path):
        found = count_file_vocab(spark, tokens_path)
        if found is not None:
            return found
    return None, token_table_stats(spark.read.parquet(tokens_path))
