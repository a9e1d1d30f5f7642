"""The registry of stages: each is a package here exposing one ``STAGE``. The CLI
subcommands, ``sparkembed run`` and the spark-submit entry point are built from this list;
adding a stage is its package plus one line below."""

from sparkembed.stages.aggregate import STAGE as AGGREGATE
from sparkembed.stages.align import STAGE as ALIGN
from sparkembed.stages.cooccur import STAGE as COOCCUR
from sparkembed.stages.evaluate import STAGE as EVALUATE
from sparkembed.stages.export import STAGE as EXPORT
from sparkembed.stages.neighbors import STAGE as NEIGHBORS
from sparkembed.stages.report import STAGE as REPORT
from sparkembed.stages.tokenize import STAGE as TOKENIZE
from sparkembed.stages.train import STAGE as TRAIN
from sparkembed.stages.walks import STAGE as WALKS

REGISTRY = {
    s.name: s
    for s in (
        TOKENIZE,
        WALKS,
        COOCCUR,
        TRAIN,
        ALIGN,
        AGGREGATE,
        EVALUATE,
        NEIGHBORS,
        EXPORT,
        REPORT,
    )
}
