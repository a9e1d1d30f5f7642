"""cooccur: tokens + vocab -> windowed co-occurrence counts in sorted shards, and their row
sums. Counting in ``counts`` (DataFrame path) and ``files`` (Arrow I/O in tasks)."""

from sparkembed.stage import Stage
from sparkembed.stages.cooccur import stage

STAGE = Stage(
    name="cooccur",
    help="DIR/tokens + DIR/vocab -> DIR/cooccurrence (sharded), DIR/marginals",
    section="cooccur",
    reads=("tokens", "vocab"),
    writes=("cooccurrence", "marginals"),
    add_arguments=stage.add_arguments,
    plan=stage.plan,
    run=stage.run,
)
