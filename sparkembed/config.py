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
    default: Any,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    choices: tuple[str, ...] | None = None,
    ignore_case: bool = False,
) -> Any:
    """A config field with its default and what :func:`validate` accepts for it.

    ``ge``/``le``: inclusive bounds (``>= n``, ``<= n``); ``gt``: exclusive (``> n``);
    ``choices``: the allowed strings (compared case-insensitively with ``ignore_case``).
    """
    checks = {"ge": ge, "gt": gt, "le": le, "choices": choices}
    metadata = {k: v for k, v in checks.items() if v is not None}
    if ignore_case:
        metadata["ignore_case"] = True
    return field(default=default, metadata=metadata)


@dataclass
class SparkConfig:
    master: str = "local[*]"  # ignored under spark-submit, which sets its own
    app_name: str = "sparkembed"
    driver_memory: str = "4g"
    # 0: twice the cores of a local master, else Spark's default
    shuffle_partitions: int = param(0, ge=0)
    jars_dir: str = ""  # "": $SPARKEMBED_JARS, else .jars/ next to the package checkout
    ui: bool = False
    log_level: str = param("WARN", choices=SPARK_LOG_LEVELS, ignore_case=True)
    local_dir: str = ""  # "": Spark's default (/tmp)
    # JVM class-data archive (CDS) that setup builds: "auto" uses it when it exists for this
    # Java and Spark, "off" never, else a path to one. Saves seconds of JVM start per run.
    class_archive: str = "auto"
    # The JIT of the JVM sparkembed starts: "full" (C1 then C2), "quick" (C1 only: on few
    # cores a run starts faster, but JVM-heavy loops run slower), "auto": quick unless a
    # stage of the command loops in JVM code (tokenize, train --method word2vec).
    jit: str = param("auto", choices=("auto", "full", "quick"))
    # The BLAS behind MLlib's JVM code (word2vec, report's k-means): "java" (Spark's Java BLAS,
    # on the JVM's vector instructions) or "native" (OpenBLAS or MKL through JNI, when the
    # machine has one). word2vec's ~10^9 calls on 100-float vectors train in half the time
    # in java, where JNI's cost per call exceeds the arithmetic (docs/benchmarks.md).
    mllib_blas: str = param("java", choices=("java", "native"))
    conf: dict = field(default_factory=dict)  # any other spark.* settings


@dataclass
class TokenizeConfig:
    format: str = param("auto", choices=("auto", "wiki", "text", "jsonl", "parquet"))
    lang: str = "en"
    min_count: int = param(5, ge=1)
    max_vocab: int = param(0, ge=0)  # 0: no limit
    token_pattern: str = r"\p{L}+"  # Java regex: what a token is
    lowercase: bool = True
    fold_accents: bool = False
    min_token_length: int = param(2, ge=1)
    max_token_length: int = param(15, ge=1)
    stop_words: list = field(default_factory=list)
    split_sentences: bool = True
    max_sentence_length: int = param(1000, ge=1)
    text_field: str = "text"  # JSON lines field
    text_column: str = "text"  # Parquet column
    id_field: str = ""  # JSON/Parquet id field; "": a hash of file and position
    title_field: str = ""
    # text format: line (a document per line) | file
    text_unit: str = param("line", choices=("line", "file"))
    max_record_mb: int = param(64, ge=1)  # longer records are rejected, never loaded whole
    split_mb: int = param(64, ge=1)  # input split size for splittable files
    # wiki: shorter articles are dropped (gensim's default)
    min_article_tokens: int = param(50, ge=0)
    reject_empty: bool = False  # an article empty after cleaning goes to rejected
    # cleaning+tokenising in sparkembed-udfs.jar (java) or Spark SQL (sql)
    engine: str = param("auto", choices=("auto", "java", "sql"))
    # .bz2 dumps: python (libbz2 in tasks) | hadoop | auto (python where pyarrow opens
    # the file, else hadoop)
    bz2_decoder: str = param("auto", choices=("auto", "python", "hadoop"))


@dataclass
class CooccurConfig:
    window: int = param(5, ge=1)
    weighting: str = param("harmonic", choices=("harmonic", "uniform"))  # weight 1/d | 1
    symmetric: bool = True
    shards: int = param(16, ge=1)
    subsample: float = param(0.0, ge=0)  # hyperwords --sub threshold; 0: off
    keep_positions: bool = False  # True: OOV tokens keep their positions (count as distance)
    seed: int = param(42, ge=0)


@dataclass
class TrainConfig:
    method: str = param("word2vec", choices=("word2vec", "svd", "glove", "umap"))
    # a sanity cap; the check against the vocabulary size is done when training
    dim: int = param(100, ge=1, le=100_000)
    seed: int = param(42, ge=0)


@dataclass
class Word2VecConfig:
    window: int = param(5, ge=1)
    min_count: int = param(5, ge=1)
    # 3 iterations at step 0.1 (MLlib's 0.025 learns far less; 0.2 diverges): the measured
    # curve in docs/train.md, 9.6M tokens of real text
    max_iter: int = param(3, ge=1)
    step_size: float = param(0.1, gt=0)
    # 0: one per task slot (Spark's default parallelism); 1: bit-repeatable (docs/train.md)
    num_partitions: int = param(0, ge=0)
    max_sentence_length: int = param(1000, ge=1)
    # word2vec's frequent-word subsampling threshold t (gensim's sample); 0: off
    subsample: float = param(1e-5, ge=0)


@dataclass
class SvdConfig:
    alpha: float = param(0.75, gt=0)  # context distribution smoothing
    neg: float = param(1.0, gt=0)  # shift: PMI - log(neg); 1 = no shift
    eig: float = param(0.5, ge=0)  # vectors are U * S^eig
    add_context: bool = True  # W + C (WS353 +0.03 on the sample)
    # randomized SVD: extra dimensions (20 loses ~0.03 WS353 at dim 100)
    oversample: int = param(100, ge=0)
    power_iters: int = param(4, ge=0)  # randomized SVD: subspace iterations (2 Spark passes each)
    # partitions of the cached PPMI matrix; 0: Spark's default parallelism
    partitions: int = param(0, ge=0)


@dataclass
class GloveConfig:
    x_max: float = param(10.0, gt=0)  # f(x) = min(1, (x / x_max)^alpha), GloVe's weighting
    alpha: float = param(0.75, gt=0)
    iterations: int = param(5, ge=1)  # alternating least squares: both sides solved once each
    ridge: float = param(1.0, gt=0)  # penalty on the vectors (not the biases)
    add_context: bool = True  # W + C (GloVe's default output); false: W
    # partitions of the cached counts for asymmetric tables; 0: Spark's default parallelism
    partitions: int = param(0, ge=0)


@dataclass
class UmapConfig:
    n_neighbors: int = param(15, ge=2)
    min_dist: float = param(0.1, ge=0)
    metric: str = "cosine"  # any umap-learn metric that takes sparse rows
    steps: int = param(3, ge=1, le=10)  # rows of (P + ... + P^steps) / steps are embedded
    # umap runs on the driver: larger graphs are refused (walks + svd/word2vec scale)
    max_vertices: int = param(50_000, ge=1)
    max_edges: int = param(5_000_000, ge=1)


@dataclass
class WalksConfig:
    # auto: a folder with cooccurrence + vocab is the word graph; .csv, .tsv/.txt/.edges
    # are delimited text; anything else Parquet
    format: str = param("auto", choices=("auto", "parquet", "csv", "tsv", "cooccurrence"))
    header: bool = True  # csv/tsv: the first line names the columns; false: src, dst[, weight]
    directed: bool = False
    weighted: bool = False  # the co-occurrence graph is always weighted
    p: float = param(1.0, gt=0)  # node2vec return parameter
    q: float = param(1.0, gt=0)  # node2vec in-out parameter
    walk_length: int = param(80, ge=1)  # vertices per walk, the start included
    walks_per_node: int = param(10, ge=1)
    seed: int = param(42, ge=0)
    engine: str = param("auto", choices=("auto", "replicated", "partitioned"))
    # auto: replicated while the graph takes at most this much in each Python worker
    replicated_max_mb: int = param(2048, ge=1)
    partitions: int = param(0, ge=0)  # walk tasks; 0: from the walk count and the cores
    lang: str = "graph"  # the tokens' (and so the vectors') lang
    graph_weight: str = param("count", choices=("count", "ppmi"))  # co-occurrence graph edges
    top_k: int = param(100, ge=0)  # co-occurrence graph: strongest edges kept per word; 0: all


@dataclass
class AlignConfig:
    # VecMap's normalisation, applied to both sides before the map: unit, center, in order
    normalize: list = field(default_factory=lambda: ["unit", "center", "unit"])
    refine_rounds: int = param(5, ge=0)  # MUSE's refinement; 0: Procrustes on the seed only
    refine_top: int = param(10000, ge=1)  # most frequent words per side the refinement uses
    csls_k: int = param(10, ge=1)  # CSLS neighbourhood size
    translations: int = param(5, ge=0)  # CSLS translations per source word; 0: no table
    # the most frequent target words a source word may translate to (and source words that
    # CSLS's target density is taken over), as MUSE caps vocabularies at 200k
    translate_candidates: int = param(200000, ge=1)
    source_lang: str = ""  # "": the source table's only lang
    target_lang: str = ""


@dataclass
class AggregateConfig:
    # word weights: sif a/(a + p(w)), idf ln((1+N)/(1+doc_count))+1, or uniform
    weighting: str = param("sif", choices=("sif", "idf", "uniform"))
    sif_a: float = param(1e-3, gt=0)  # SIF's a (PrincetonML: 1e-3; 3e-5 to 3e-3 work)
    components: int = param(1, ge=0)  # common components removed (first singular vectors)
    unit: str = param("document", choices=("document", "sentence"))  # what gets a vector
    word_norm: str = param("raw", choices=("raw", "unit"))  # word vectors as stored, or unit
    vectors_lang: str = ""  # "": each token's vector is looked up in its own lang


@dataclass
class ReportConfig:
    # the most frequent words (or documents) on the map; t-SNE and UMAP run on the driver
    top: int = param(1000, ge=10, le=5000)
    clusters: int = param(12, ge=2)  # k of the k-means (MLlib, unit vectors)
    projection: str = param("tsne", choices=("tsne", "umap"))  # 2-D map, on the driver
    labels: int = param(150, ge=0)  # words written on the map (the most frequent)
    seed: int = param(42, ge=0)  # k-means and projection
    heatmap_words: list = field(default_factory=list)  # []: king, queen, man, woman... if known


@dataclass
class EvaluateConfig:
    restrict_vocab: int = param(300000, ge=0)
    case_insensitive: bool = True
    topn: int = param(10, ge=1)
    seed: int = param(42, ge=0)  # synonym test's random words, cluster test's k-means starts
    random_words: int = param(10, ge=1)  # synonym test: random words drawn per synonym pair
    # analogies and neighbours: score matrix memory per block (per task)
    block_mb: int = param(64, ge=1)
    # neighbours: Spark tasks; 0: cores, or 20k tokens a task
    neighbor_partitions: int = param(0, ge=0)


@dataclass
class Config:
    spark: SparkConfig = field(default_factory=SparkConfig)
    tokenize: TokenizeConfig = field(default_factory=TokenizeConfig)
    cooccur: CooccurConfig = field(default_factory=CooccurConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    word2vec: Word2VecConfig = field(default_factory=Word2VecConfig)
    svd: SvdConfig = field(default_factory=SvdConfig)
    glove: GloveConfig = field(default_factory=GloveConfig)
    umap: UmapConfig = field(default_factory=UmapConfig)
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
) -> Config:
    """Defaults, then the TOML file at ``path`` (if any; a list: each in turn, later ones
    winning), then ``section.key=value`` overrides; the result is checked by :func:`validate`."""
    cfg = Config()
    paths = [path] if isinstance(path, str | Path) else [q for q in path or [] if q]
    for p in map(Path, paths):
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None
        for section, values in data.items():
            try:
                apply_section(cfg, section, values)
            except ConfigError as exc:
                raise ConfigError(f"{p}: {exc}") from None
    for item in overrides:
        section, key, value = parse_override(item)
        apply_section(cfg, section, {key: value})
    validate(cfg)
    return cfg
