"""Typed configuration: TOML files in conf/, overridden by --set section.key=value.

Defaults live in the dataclasses below; ``conf/local.toml`` spells them out and a test
keeps the two equal. Config is passed to stages explicitly, never read from globals.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from sparkembed.errors import ConfigError


@dataclass
class SparkConfig:
    master: str = "local[*]"  # ignored under spark-submit, which sets its own
    app_name: str = "sparkembed"
    driver_memory: str = "4g"
    shuffle_partitions: int = 0  # 0: twice the cores of a local master, else Spark's default
    jars_dir: str = ""  # "": $SPARKEMBED_JARS, else .jars/ next to the package checkout
    ui: bool = False
    log_level: str = "WARN"
    local_dir: str = ""  # "": Spark's default (/tmp)
    # JVM class-data archive (CDS) that setup builds: "auto" uses it when it exists for this
    # Java and Spark, "off" never, else a path to one. Saves seconds of JVM start per run.
    class_archive: str = "auto"
    conf: dict = field(default_factory=dict)  # any other spark.* settings


@dataclass
class TokenizeConfig:
    format: str = "auto"  # auto | wiki | text | jsonl | parquet
    lang: str = "en"
    min_count: int = 5
    max_vocab: int = 0  # 0: no limit
    token_pattern: str = r"\p{L}+"  # Java regex: what a token is
    lowercase: bool = True
    fold_accents: bool = False
    min_token_length: int = 2
    max_token_length: int = 15
    stop_words: list = field(default_factory=list)
    split_sentences: bool = True
    max_sentence_length: int = 1000
    text_field: str = "text"  # JSON lines field
    text_column: str = "text"  # Parquet column
    id_field: str = ""  # JSON/Parquet id field; "": a hash of file and position
    title_field: str = ""
    text_unit: str = "line"  # text format: line (a document per line) | file
    max_record_mb: int = 64  # longer records are rejected, never loaded whole
    split_mb: int = 64  # input split size for splittable files
    min_article_tokens: int = 50  # wiki: shorter articles are dropped (gensim's default)
    reject_empty: bool = False  # an article empty after cleaning goes to rejected
    engine: str = "auto"  # auto | java | sql: cleaning+tokenising in sparkembed-udfs.jar or SQL
    bz2_decoder: str = "auto"  # .bz2 dumps: python (libbz2 in tasks) | hadoop | auto (python
    # where pyarrow opens the file, else hadoop)


@dataclass
class CooccurConfig:
    window: int = 5
    weighting: str = "harmonic"  # harmonic (1/d) | uniform
    symmetric: bool = True
    shards: int = 16
    subsample: float = 0.0  # hyperwords --sub threshold; 0: off
    keep_positions: bool = False  # True: OOV tokens keep their positions (count as distance)
    seed: int = 42


@dataclass
class TrainConfig:
    method: str = "word2vec"  # word2vec | svd
    dim: int = 100
    seed: int = 42


@dataclass
class Word2VecConfig:
    window: int = 5
    min_count: int = 5
    max_iter: int = 5  # on the 450k-token sample, WS353 0.34 at 1 iteration, 0.44 at 5
    step_size: float = 0.05  # 0.025 (MLlib's) gives WS353 0.35 on the sample at 5 iterations
    num_partitions: int = 1
    max_sentence_length: int = 1000


@dataclass
class SvdConfig:
    alpha: float = 0.75  # context distribution smoothing
    neg: float = 1.0  # shift: PMI - log(neg); 1 = no shift
    eig: float = 0.5  # vectors are U * S^eig
    add_context: bool = True  # W + C (WS353 +0.03 on the sample)
    oversample: int = 100  # randomized SVD: extra dimensions (20 loses ~0.03 WS353 at dim 100)
    power_iters: int = 4  # randomized SVD: subspace iterations (2 Spark passes each)
    solver: str = "randomized"  # randomized (a few Spark passes) | mllib (computeSVD, ARPACK)
    partitions: int = 0  # partitions of the cached PPMI matrix; 0: Spark's default parallelism


@dataclass
class WalksConfig:
    weighted: bool = False
    p: float = 1.0
    q: float = 1.0
    walk_length: int = 80
    walks_per_node: int = 10
    dim: int = 64
    seed: int = 42


@dataclass
class AlignConfig:
    csls_k: int = 10


@dataclass
class EvaluateConfig:
    restrict_vocab: int = 300000
    case_insensitive: bool = True
    topn: int = 10
    seed: int = 42  # synonym test's random words, cluster test's k-means starts
    random_words: int = 10  # synonym test: random words drawn per synonym pair
    block_mb: int = 64  # analogies and neighbours: score matrix memory per block (per task)
    neighbor_partitions: int = 0  # neighbours: Spark tasks; 0: cores, or 20k tokens a task


@dataclass
class Config:
    spark: SparkConfig = field(default_factory=SparkConfig)
    tokenize: TokenizeConfig = field(default_factory=TokenizeConfig)
    cooccur: CooccurConfig = field(default_factory=CooccurConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    word2vec: Word2VecConfig = field(default_factory=Word2VecConfig)
    svd: SvdConfig = field(default_factory=SvdConfig)
    walks: WalksConfig = field(default_factory=WalksConfig)
    align: AlignConfig = field(default_factory=AlignConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)


SECTIONS = [f.name for f in dataclasses.fields(Config)]


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
    path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> Config:
    """Defaults, then the TOML file at ``path`` (if any), then ``section.key=value`` overrides."""
    cfg = Config()
    if path is not None:
        p = Path(path)
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
    return cfg
