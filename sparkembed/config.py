"""Typed configuration: TOML files in conf/, overridden by --set section.key=value.

Defaults live in the dataclasses below; ``conf/local.toml`` spells them out and a test
keeps the two equal. A field's allowed range or choices sit next to its default
(:func:`param`); :func:`validate` checks them all before Spark starts. Config is passed to
stages explicitly, never read from globals.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from sparkembed.errors import ConfigError

# Spark's SparkContext.setLogLevel accepts these, in any case.
SPARK_LOG_LEVELS = ("ALL", "DEBUG", "ERROR", "FATAL", "INFO", "OFF", "TRACE", "WARN")


def param(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    choices: tuple[str, ...] | None = None,
    ignore_case: bool = False,
    default_factory: Any = dataclasses.MISSING,
) -> Any:
    """A config field: its default, its help text and what :func:`validate` accepts.

    ``ge``/``le``: inclusive bounds (``>= n``, ``<= n``); ``gt``: exclusive (``> n``);
    ``choices``: the allowed strings (compared case-insensitively with ``ignore_case``).
    This is the parameter's only declaration: the command-line option of a stage is made
    from it (:mod:`sparkembed.options`).
    """
    checks = {"ge": ge, "gt": gt, "le": le, "choices": choices}
    metadata: dict[str, Any] = {k: v for k, v in checks.items() if v is not None}
    metadata["help"] = help
    if ignore_case:
        metadata["ignore_case"] = True
    if default_factory is not dataclasses.MISSING:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class SparkConfig:
    master: str = param("local[*]", help="Spark master (ignored under spark-submit)")
    app_name: str = param("sparkembed", help="Spark application name")
    driver_memory: str = param("4g", help="driver JVM heap of a local session")
    shuffle_partitions: int = param(
        0, ge=0, help="spark.sql.shuffle.partitions; 0: twice the cores of a local master"
    )
    jars_dir: str = param(
        "", help='folder of extra JARs; "": $SPARKEMBED_JARS, else .jars/ of the checkout'
    )
    ui: bool = param(False, help="start Spark's web UI (on loopback)")
    log_level: str = param(
        "WARN", choices=SPARK_LOG_LEVELS, ignore_case=True, help="Spark's log level"
    )
    local_dir: str = param("", help='Spark scratch folder; "": Spark\'s default (/tmp)')
    class_archive: str = param(
        "auto",
        help='JVM class-data archive built by setup: "auto" (use it when it matches this Java '
        'and Spark), "off", or a path; it saves seconds of JVM start per run',
    )
    jit: str = param(
        "auto",
        choices=("auto", "full", "quick"),
        help="JIT of the JVM sparkembed starts: full (C1 then C2), quick (C1 only: starts "
        "faster on few cores, loops slower), auto (quick unless a stage loops in JVM code)",
    )
    mllib_blas: str = param(
        "java",
        choices=("java", "native"),
        help="BLAS behind MLlib's JVM code: java (Spark's Java BLAS) or native (OpenBLAS/MKL "
        "through JNI, whose per-call cost exceeds word2vec's small vector operations)",
    )
    conf: dict = param(default_factory=dict, help="any other spark.* settings")


@dataclass
class TokenizeConfig:
    format: str = param(
        "auto",
        choices=("auto", "wiki", "text", "jsonl", "parquet"),
        help="input format; auto: from each file's name",
    )
    lang: str = param("en", help="the corpus language (the tables' lang column)")
    min_count: int = param(5, ge=1, help="vocabulary: words seen fewer times are left out")
    max_vocab: int = param(0, ge=0, help="vocabulary: at most this many words; 0: no limit")
    token_pattern: str = param(r"\p{L}+", help="Java regex: what a token is")
    lowercase: bool = param(True, help="fold tokens to lower case")
    fold_accents: bool = param(False, help="strip accents (é -> e)")
    min_token_length: int = param(2, ge=1, help="shorter tokens are dropped")
    max_token_length: int = param(15, ge=1, help="longer tokens are dropped")
    stop_words: list = param(default_factory=list, help="tokens to drop (comma-separated)")
    split_sentences: bool = param(True, help="split documents into sentences")
    max_sentence_length: int = param(1000, ge=1, help="longer sentences are cut into pieces")
    text_field: str = param("text", help="jsonl: the field holding the text")
    text_column: str = param("text", help="parquet: the column holding the text")
    id_field: str = param(
        "", help='jsonl/parquet: the document id field; "": a hash of file and position'
    )
    title_field: str = param("", help="jsonl/parquet: the title field, if any")
    text_unit: str = param(
        "line", choices=("line", "file"), help="text: a document per line, or per file"
    )
    max_record_mb: int = param(64, ge=1, help="longer records are rejected, never loaded whole")
    split_mb: int = param(64, ge=1, help="input split size of splittable files")
    min_article_tokens: int = param(
        50, ge=0, help="wiki: shorter articles are dropped (gensim's default)"
    )
    reject_empty: bool = param(False, help="an article empty after cleaning goes to rejected")
    engine: str = param(
        "auto",
        choices=("auto", "java", "sql"),
        help="cleaning and tokenising in sparkembed-udfs.jar (java) or Spark SQL (sql); "
        "auto: java when the JAR is there",
    )
    bz2_decoder: str = param(
        "auto",
        choices=("auto", "python", "hadoop"),
        help=".bz2 dumps: python (libbz2 in tasks), hadoop, or auto (python where pyarrow "
        "opens the file)",
    )


@dataclass
class CooccurConfig:
    window: int = param(5, ge=1, help="context window: words on each side")
    weighting: str = param(
        "harmonic",
        choices=("harmonic", "uniform"),
        help="a pair's weight by distance d: harmonic 1/d, uniform 1",
    )
    symmetric: bool = param(True, help="count both sides; --no-symmetric: right contexts only")
    shards: int = param(
        0,
        ge=0,
        help="shards of the co-occurrence table (by row); 0: by the corpus's size, one per "
        "31.25M tokens x window, at least 16 (a reduce task holds its shard's partial sums)",
    )
    subsample: float = param(
        0.0, ge=0, help="frequent-word subsampling threshold (hyperwords' --sub); 0: off"
    )
    keep_positions: bool = param(
        False, help="out-of-vocabulary tokens keep their positions (they count as distance)"
    )
    seed: int = param(42, ge=0, help="seed of the subsampling draws")


@dataclass
class TrainConfig:
    method: str = param(
        "word2vec",
        choices=("word2vec", "svd", "glove", "umap", "sgns", "prone"),
        help="the trainer (its parameters are in the config section of the same name)",
    )
    # a sanity cap; the check against the vocabulary size is done when training
    dim: int = param(100, ge=1, le=100_000, help="vector dimension")
    seed: int = param(42, ge=0, help="random seed")


@dataclass
class Word2VecConfig:
    window: int = param(5, ge=1, help="context window")
    min_count: int = param(5, ge=1, help="words seen fewer times are left out")
    # The curve behind the iteration count and step is in docs/train.md.
    max_iter: int = param(3, ge=1, help="iterations over the corpus")
    step_size: float = param(
        0.1, gt=0, help="learning rate (MLlib's 0.025 learns far less per iteration)"
    )
    # 0 and -1 below: chosen from the corpus' size when training starts (the rule and the
    # measurements behind it are in docs/train.md); the values used go in the metadata.
    num_partitions: int = param(
        0,
        ge=0,
        help="partitions; 0: auto, one per task slot but at least 2M corpus tokens each; "
        "1: bit-repeatable vectors",
    )
    max_sentence_length: int = param(1000, ge=1, help="longer sentences are cut into pieces")
    subsample: float = param(
        -1.0,
        ge=-1,
        help="word2vec's frequent-word subsampling threshold t; 0: off; -1: auto, the "
        "smallest of 1e-5, 1e-4, 1e-3 with t * corpus tokens >= 50",
    )


@dataclass
class SvdConfig:
    alpha: float = param(0.75, gt=0, help="context distribution smoothing")
    neg: float = param(1.0, gt=0, help="shift: PMI - log(neg); 1: no shift")
    eig: float = param(0.5, ge=0, help="eigenvalue weighting: vectors are U * S^eig")
    add_context: bool = param(True, help="write W + C (word plus context vectors)")
    oversample: int = param(
        100, ge=0, help="randomized SVD: extra dimensions (fewer lose accuracy at dim 100)"
    )
    power_iters: int = param(
        4, ge=0, help="randomized SVD: subspace iterations (two Spark passes each)"
    )
    partitions: int = param(
        0, ge=0, help="partitions of the cached PPMI matrix; 0: Spark's default parallelism"
    )


@dataclass
class GloveConfig:
    x_max: float = param(10.0, gt=0, help="GloVe's weighting f(x) = min(1, (x / x_max)^alpha)")
    alpha: float = param(0.75, gt=0, help="exponent of GloVe's weighting")
    iterations: int = param(5, ge=1, help="alternating least squares: both sides solved once each")
    ridge: float = param(1.0, gt=0, help="penalty on the vectors (not the biases)")
    add_context: bool = param(True, help="write W + C (GloVe's default output); false: W")
    partitions: int = param(
        0, ge=0, help="asymmetric counts: partitions of the cached counts; 0: Spark's default"
    )


@dataclass
class SgnsConfig:
    window: int = param(5, ge=1, help="context window (a random reduced window per word)")
    negative: int = param(5, ge=1, help="negative samples per pair")
    epochs: int = param(5, ge=1, help="passes over the corpus")
    alpha: float = param(0.025, gt=0, help="learning rate at the start")
    min_alpha: float = param(0.0001, ge=0, help="learning rate at the end (linear decay)")
    sample: float = param(1e-3, ge=0, help="word2vec's frequent-word subsampling threshold; 0: off")
    min_count: int = param(5, ge=1, help="words seen fewer times are left out")
    ns_exponent: float = param(0.75, help="negatives are drawn with probability ~ count^this")
    partitions: int = param(
        0,
        ge=0,
        help="K: the vocabulary's buckets, each epoch K rounds of K tasks; 0: one per task slot",
    )
    add_context: bool = param(False, help="write W + C (word plus context vectors); false: W")
    sweeps: int = param(
        0,
        ge=0,
        help="S: each block's pairs in S slices, trained in S sweeps of the K rounds (each "
        "word meets the context buckets S times an epoch); 0: 2K up to 8, at least K (1 "
        "with one bucket)",
    )


@dataclass
class ProneConfig:
    step: int = param(10, ge=1, help="order of the Chebyshev expansion; 1: no propagation")
    mu: float = param(0.2, help="the band-pass filter's centre on the Laplacian's spectrum")
    theta: float = param(0.5, gt=0, help="the filter's width (Bessel functions' argument)")
    exponent: float = param(
        0.75, ge=0, le=1, help="negatives of the factorisation ~ column sums^this"
    )
    oversample: int = param(10, ge=0, help="randomized SVD of the factorisation: extra columns")
    power_iters: int = param(
        5, ge=0, help="randomized SVD: subspace iterations (two Spark passes each)"
    )
    partitions: int = param(
        0, ge=0, help="partitions of the cached matrices; 0: Spark's default parallelism"
    )
    engine: str = param(
        "auto",
        choices=("auto", "one-task", "sharded"),
        help="one-task: the whole graph in one Spark task (scipy); sharded: the sharded "
        "matrix's passes; auto: one-task up to one_task_max_edges",
    )
    one_task_max_edges: int = param(
        2_000_000, ge=0, help="auto: the largest graph (out-edges) trained in one task"
    )


@dataclass
class UmapConfig:
    n_neighbors: int = param(15, ge=2, help="UMAP's n_neighbors")
    min_dist: float = param(0.1, ge=0, help="UMAP's min_dist")
    metric: str = param("cosine", help="any umap-learn metric that takes sparse rows")
    steps: int = param(3, ge=1, le=10, help="rows of (P + ... + P^steps) / steps are embedded")
    # umap runs on the driver: larger graphs are refused (walks + svd/word2vec scale)
    max_vertices: int = param(50_000, ge=1, help="larger graphs are refused")
    max_edges: int = param(5_000_000, ge=1, help="larger graphs are refused")


@dataclass
class WalksConfig:
    format: str = param(
        "auto",
        choices=("auto", "parquet", "csv", "tsv", "cooccurrence"),
        help="auto: a folder with cooccurrence + vocab is the word graph; .csv, "
        ".tsv/.txt/.edges are delimited text; anything else Parquet",
    )
    header: bool = param(
        True, help="csv/tsv: the first line names the columns; false: src, dst[, weight]"
    )
    directed: bool = param(False, help="edges go from src to dst only")
    weighted: bool = param(
        False, help="use the weight column (the co-occurrence graph is always weighted)"
    )
    p: float = param(1.0, gt=0, help="node2vec return parameter")
    q: float = param(1.0, gt=0, help="node2vec in-out parameter")
    walk_length: int = param(80, ge=1, help="vertices per walk, the start included")
    walks_per_node: int = param(
        10, ge=0, help="walks from each vertex; 0: the graph and its vertices only (for prone)"
    )
    seed: int = param(42, ge=0, help="random seed")
    engine: str = param(
        "auto",
        choices=("auto", "replicated", "partitioned"),
        help="replicated: the graph in every task; partitioned: walkers joined with the "
        "adjacency; auto: replicated while the graph fits replicated_max_mb",
    )
    replicated_max_mb: int = param(
        2048, ge=1, help="auto: replicated while the graph takes at most this per Python worker"
    )
    partitions: int = param(0, ge=0, help="walk tasks; 0: from the walk count and the cores")
    lang: str = param("graph", help="the tokens' (and so the vectors') lang")
    graph_weight: str = param(
        "count", choices=("count", "ppmi"), help="co-occurrence graph: edge weights"
    )
    top_k: int = param(100, ge=0, help="co-occurrence graph: strongest edges kept per word; 0: all")


@dataclass
class AlignConfig:
    normalize: list = param(
        default_factory=lambda: ["unit", "center", "unit"],
        help="VecMap's normalisation of both sides before the map: unit, center, in order",
    )
    refine_rounds: int = param(
        5, ge=0, help="MUSE's refinement rounds; 0: Procrustes on the seed only"
    )
    refine_top: int = param(10000, ge=1, help="most frequent words per side the refinement uses")
    csls_k: int = param(10, ge=1, help="CSLS neighbourhood size")
    translations: int = param(
        5, ge=0, help="CSLS translations per source word; 0: no translations table"
    )
    translate_candidates: int = param(
        200000,
        ge=1,
        help="the most frequent target words a source word may translate to (MUSE caps "
        "vocabularies at 200k)",
    )
    source_lang: str = param("", help='the source table\'s lang to use; "": its only one')
    target_lang: str = param("", help='the target table\'s lang to use; "": its only one')


@dataclass
class AggregateConfig:
    weighting: str = param(
        "sif",
        choices=("sif", "idf", "uniform"),
        help="word weights: sif a/(a + p(w)), idf ln((1+N)/(1+doc_count))+1, or uniform",
    )
    sif_a: float = param(1e-3, gt=0, help="SIF's a (3e-5 to 3e-3 work)")
    components: int = param(1, ge=0, help="common components removed (first singular vectors)")
    unit: str = param("document", choices=("document", "sentence"), help="what gets a vector")
    word_norm: str = param(
        "raw", choices=("raw", "unit"), help="word vectors as stored, or scaled to length 1"
    )
    vectors_lang: str = param(
        "", help='"": each token\'s vector is looked up in its own lang; else in this one'
    )


@dataclass
class ReportConfig:
    top: int = param(
        1000,
        ge=10,
        le=5000,
        help="the most frequent words (or documents) on the map (the projection runs on the "
        "driver)",
    )
    clusters: int = param(12, ge=2, help="k of the spherical k-means")
    projection: str = param("tsne", choices=("tsne", "umap"), help="the 2-D map, on the driver")
    named_words: int = param(150, ge=0, help="points named on the map (the most frequent)")
    seed: int = param(42, ge=0, help="seed of the k-means and the projection")
    heatmap_words: list = param(
        default_factory=list,
        help="words of the heatmap (comma-separated); none: king, queen, man, woman... if known",
    )


@dataclass
class EvaluateConfig:
    restrict_vocab: int = param(300000, ge=0, help="only the N most frequent words")
    case_insensitive: bool = param(True, help="fold case when looking words up")
    topn: int = param(10, ge=1, help="answers per query")
    seed: int = param(42, ge=0, help="synonym test's random words, cluster test's k-means starts")
    random_words: int = param(10, ge=1, help="synonym test: random words drawn per pair")
    analogy_method: str = param(
        "both", choices=("3cosadd", "3cosmul", "both"), help="analogy scoring"
    )
    block_mb: int = param(
        64, ge=1, help="analogies and neighbours: score matrix memory per block (per task)"
    )
    neighbor_partitions: int = param(
        0, ge=0, help="neighbours: Spark tasks; 0: cores, or 20k tokens a task"
    )


@dataclass
class Config:
    spark: SparkConfig = field(default_factory=SparkConfig)
    tokenize: TokenizeConfig = field(default_factory=TokenizeConfig)
    cooccur: CooccurConfig = field(default_factory=CooccurConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    word2vec: Word2VecConfig = field(default_factory=Word2VecConfig)
    svd: SvdConfig = field(default_factory=SvdConfig)
    glove: GloveConfig = field(default_factory=GloveConfig)
    sgns: SgnsConfig = field(default_factory=SgnsConfig)
    umap: UmapConfig = field(default_factory=UmapConfig)
    prone: ProneConfig = field(default_factory=ProneConfig)
    walks: WalksConfig = field(default_factory=WalksConfig)
    align: AlignConfig = field(default_factory=AlignConfig)
    aggregate: AggregateConfig = field(default_factory=AggregateConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)


SECTIONS = [f.name for f in dataclasses.fields(Config)]


def _check_field(where: str, value: Any, meta: Mapping[str, Any]) -> str | None:
    """What is wrong with ``value`` by ``meta`` (:func:`param`'s checks), or None."""
    choices = meta.get("choices")
    if choices is not None:
        ignore_case = meta.get("ignore_case", False)
        given = value.upper() if ignore_case and isinstance(value, str) else value
        allowed = [c.upper() for c in choices] if ignore_case else list(choices)
        if not isinstance(value, str) or given not in allowed:
            return f"{where} must be one of {', '.join(choices)}, got {value!r}"
    bounds = [(k, meta[k]) for k in ("ge", "gt", "le") if k in meta]
    if not bounds:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{where} must be a number, got {type(value).__name__} {value!r}"
    for kind, bound in bounds:
        ok = {"ge": value >= bound, "gt": value > bound, "le": value <= bound}[kind]
        if not ok:  # NaN fails every bound
            op = {"ge": ">=", "gt": ">", "le": "<="}[kind]
            return f"{where} must be {op} {bound}, got {value!r}"
    return None


def validate(cfg: Config) -> None:
    """Check every field against the range or choices declared with its default.

    Raises :class:`ConfigError` naming the first invalid value in one line, e.g.
    ``train.dim must be >= 1, got 0``. Checks that need the data (``train.dim`` against the
    vocabulary size) are left to the stages.
    """
    for section in dataclasses.fields(cfg):
        values = getattr(cfg, section.name)
        for f in dataclasses.fields(values):
            problem = _check_field(f"{section.name}.{f.name}", getattr(values, f.name), f.metadata)
            if problem:
                raise ConfigError(problem)


def _coerce(section: str, key: str, value: Any, expected: type) -> Any:
    where = f"{section}.{key}"
    if expected is bool:
        if isinstance(value, bool):
            return value
    elif expected is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif expected is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif expected is str:
        if isinstance(value, str):
            return value
    elif expected is list:
        if isinstance(value, list):
            return value
    elif expected is dict:
        if isinstance(value, dict):
            return value
    raise ConfigError(f"{where} must be {expected.__name__}, got {type(value).__name__} {value!r}")


def apply_section(cfg: Config, section: str, values: dict[str, Any]) -> None:
    """Set ``values`` on one section, checking every key and type."""
    if section not in SECTIONS:
        raise ConfigError(
            f"unknown config section [{section}]; valid sections: {', '.join(SECTIONS)}"
        )
    if not isinstance(values, dict):
        raise ConfigError(f"[{section}] must be a table of keys, got {values!r}")
    target = getattr(cfg, section)
    hints = get_type_hints(type(target))
    for key, value in values.items():
        if key not in hints:
            valid = ", ".join(sorted(hints))
            raise ConfigError(f"unknown config key '{key}' in [{section}]; valid keys: {valid}")
        setattr(target, key, _coerce(section, key, value, hints[key]))


def _parse_value(text: str) -> Any:
    """A --set value in TOML syntax (3, 0.5, true, [..]); anything else is a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_override(item: str) -> tuple[str, str, Any]:
    if "=" not in item or "." not in item.split("=", 1)[0]:
        raise ConfigError(f"--set takes section.key=value, got {item!r}")
    dotted, raw = item.split("=", 1)
    section, key = dotted.strip().split(".", 1)
    return section, key, _parse_value(raw.strip())


def load_config(
    path: str | Path | list[str | Path | None] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    sections: Mapping[str, Any] | None = None,
    source: str = "",
) -> Config:
    """Defaults, then the TOML file at ``path`` (if any; a list: each in turn, later ones
    winning), then ``sections`` (config tables already read, e.g. a pipeline file's; errors
    name ``source``), then ``section.key=value`` overrides; the result is checked by
    :func:`validate`."""
    cfg = Config()
    paths = [path] if isinstance(path, str | Path) else [q for q in path or [] if q]
    layers: list[tuple[str, Mapping[str, Any]]] = []
    for p in map(Path, paths):
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            layers.append((str(p), tomllib.loads(p.read_text(encoding="utf-8"))))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    if sections:
        layers.append((source, sections))
    for where, data in layers:
        for section, values in data.items():
            try:
                apply_section(cfg, section, values)
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}" if where else str(exc)) from None
    for item in overrides:
        section, key, value = parse_override(item)
        apply_section(cfg, section, {key: value})
    validate(cfg)
    return cfg
