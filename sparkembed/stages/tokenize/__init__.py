"""tokenize: corpus files (Wikipedia dumps, text, JSON lines, Parquet) -> tokens, vocab,
rejected. Readers in ``readers`` (and ``bz2blocks``, ``wikitext``), sentence tokens in
``tokens``, the one-pass token writer in ``token_files``, the vocabulary in the shared
``sparkembed.vocabulary``; the command in ``stage``."""

from sparkembed.stage import Stage
from sparkembed.stages.tokenize import stage

STAGE = Stage(
    name="tokenize",
    help="corpus files -> DIR/tokens, DIR/vocab, DIR/rejected",
    section="tokenize",
    reads=(),
    writes=("tokens", "vocab", "rejected"),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
    jvm_bound=lambda _cfg: True,  # the tokenizer runs in the JVM (UDFs or Spark SQL)
)
