"""``sparkembed report VECTORS --output DIR``: DIR/report.html and its pictures, one commit.

- word map: the ``report.top`` most frequent words (or ``--words FILE``) clustered by
  spherical k-means on their unit vectors, placed in 2-D by t-SNE or UMAP, all on the
  driver and seeded, coloured by cluster or by ``--labels``; the clusters listed beside it.
  Coordinates and clusters also in DIR/word_map.tsv.

No Spark: the vector table is read with pyarrow and at most ``report.top``'s upper bound of
rows is clustered and projected.
- heatmap: chosen words' unit vectors, dimensions sorted so a shared one stands out.
- norms: raw vector norm against frequency over the whole table, with Spearman's rho.
- evaluation (``--evaluation DIR``, repeatable): evaluate reports' word-pair and analogy
  scores as bars, one per vector table.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from sparkembed.config import ReportConfig
from sparkembed.errors import SparkembedError
from sparkembed.linalg.kmeans import spherical_kmeans
from sparkembed.linalg.topk import unit_rows
from sparkembed.stage import Context, Plan
from sparkembed.stages.report import pictures
from sparkembed.stages.report.page import write_page
from sparkembed.textfiles import read_lines
from sparkembed.vectors.table import load_vectors

# A --words list is cut where report.top stops: the projection runs on the driver.
MAX_MAP = next(f.metadata["le"] for f in dataclasses.fields(ReportConfig) if f.name == "top")


def add_arguments(p) -> None:
    p.add_argument("vectors", metavar="VECTORS", help="a vector table (words or documents)")
    p.add_argument("--output", required=True, metavar="DIR", help="writes DIR/report.html")
    p.add_argument("--words", metavar="FILE", help="map these words instead (one a line)")
    p.add_argument(
        "--evaluation",
        action="append",
        default=[],
        metavar="DIR",
        help="an `evaluate --report` DIR; repeat to compare vector tables",
    )
    p.add_argument("--labels", metavar="FILE", help="key<TAB>label lines: colour the map by label")
    p.add_argument("--lang", help="the language to use, if the table holds several")


def _lines(path: str, what: str) -> list[str]:
    _, lines = read_lines(path, what)
    return [t.strip() for _, t in lines if t.strip()]


def read_labels(path: str) -> dict[str, str]:
    out = {}
    for n, line in enumerate(_lines(path, "label file"), 1):
        key, sep, label = line.partition("\t")
        if not sep or not key or not label:
            raise SparkembedError(f"{path}: line {n} is not key<TAB>label: {line[:80]!r}")
        out[key] = label
    return out


def _check_evaluation(d: str) -> Path:
    path = Path(d) / "evaluation.json"
    if not path.is_file():
        raise SparkembedError(f"--evaluation {d}: no evaluation.json (run evaluate --report)")
    return path


def plan(args, cfg) -> Plan:
    r = cfg.report
    inputs = {"vectors": args.vectors}
    if args.words:
        _lines(args.words, "word list")  # a bad file fails before anything is read
        inputs["words"] = args.words
    if args.labels:
        read_labels(args.labels)
        inputs["labels"] = args.labels
    for i, d in enumerate(args.evaluation):
        # A folder that is not there yet may be an earlier stage's output in a pipeline
        # (``run`` plans every stage first): ``run`` checks it again.
        if Path(d).exists():
            _check_evaluation(d)
        inputs[f"evaluation{i + 1}"] = d
    pictures.plotting()  # the extra is missing: say so before anything is read
    return Plan(
        inputs=inputs,
        outputs={"report": str(args.output).rstrip("/")},
        params={"report": dataclasses.asdict(r), "lang": args.lang},
    )


def run(ctx: Context, plan: Plan, cfg) -> dict:
    from scipy.stats import spearmanr

    r, timer = cfg.report, ctx.timer
    with timer.step("load"):
        vs = load_vectors(plan.inputs["vectors"], lang=plan.params["lang"])
        names = list(vs.titles) if vs.titles else list(vs.tokens)
        index = {t: i for i, t in reversed(list(enumerate(vs.tokens)))}
        if "words" in plan.inputs:
            wanted = _lines(plan.inputs["words"], "word list")
            rows = [index[w] for w in dict.fromkeys(wanted) if w in index][:MAX_MAP]
            unknown = [w for w in wanted if w not in index]
            if unknown:
                ctx.log(
                    "report", f"{len(unknown)} words not in the table: {', '.join(unknown[:10])}"
                )
            if len(rows) < 2:
                raise SparkembedError(f"{plan.inputs['words']}: fewer than 2 words in the table")
        else:
            rows = list(range(min(r.top, len(vs.tokens))))
        rows_arr = np.array(rows)
        unit = unit_rows(vs.vectors[rows_arr])
    with timer.step("cluster"):
        clusters = spherical_kmeans(unit, r.clusters, r.seed)
    with timer.step("project"):
        xy = pictures.project_2d(unit, r.projection, r.seed)
    labels = read_labels(plan.inputs["labels"]) if "labels" in plan.inputs else None
    map_names = [names[i] for i in rows]
    if labels:
        keys = [vs.tokens[i] for i in rows]
        legend = sorted(set(labels.get(k, "(no label)") for k in keys))
        colour = np.array([legend.index(labels.get(k, "(no label)")) for k in keys])
    else:
        legend = [f"cluster {c + 1}" for c in range(int(clusters.max()) + 1)]
        colour = clusters
    groups = [
        (f"cluster {c + 1}", [map_names[i] for i in np.flatnonzero(clusters == c)[:15]])
        for c in range(int(clusters.max()) + 1)
    ]
    heat_words = [w for w in (r.heatmap_words or pictures.HEATMAP_WORDS) if w in index]
    if len(heat_words) < 2:
        heat_words = [vs.tokens[i] for i in rows[:10]]
    heat_rows = unit_rows(vs.vectors[[index[w] for w in heat_words]])
    norms = np.linalg.norm(vs.vectors.astype(np.float64), axis=1)
    # A table from another tool may have no counts (all 0): no correlation to show then.
    has_counts = len(norms) > 2 and int(vs.counts.min()) != int(vs.counts.max())
    rho = float(spearmanr(vs.counts, norms).statistic) if has_counts else float("nan")
    if has_counts:
        norm_note = f"Spearman rank correlation of norm and count: {rho:+.3f}."
    else:
        norm_note = (
            "The table has no counts (all equal): norms against the rows' order, which in "
            "word2vec and fastText files is most frequent first."
        )
    reports = []
    for role in sorted(k for k in plan.inputs if k.startswith("evaluation")):
        d = Path(plan.inputs[role])
        data = json.loads(_check_evaluation(str(d)).read_text(encoding="utf-8"))
        reports.append((Path(data.get("vectors") or d.name).name or d.name, data))
    source = Path(plan.inputs["vectors"]).name

    def write(staging: str) -> None:
        out = Path(staging)
        out.mkdir(parents=True, exist_ok=True)
        kind = "documents" if vs.titles else "words"
        sections = [
            {
                "heading": f"Map of {len(rows):,} {kind}",
                "image": pictures.word_map(
                    out / "word_map.png",
                    xy,
                    map_names,
                    colour,
                    legend,
                    r.named_words,
                    f"{source}: {len(rows):,} {kind}, {r.projection}, coloured by "
                    + ("label" if labels else f"k-means cluster (k = {len(legend)})"),
                ),  # fmt: skip
                "note": f"spherical k-means (unit vectors, seed {r.seed}) and {r.projection} "
                f"(seed {r.seed}); the {min(r.named_words, len(rows))} most frequent are named.",
                "side": groups,
            },
            {
                "heading": "Dimensions of chosen words",
                "image": pictures.heatmap(
                    out / "heatmap.png", heat_words, heat_rows, f"{source}: unit vectors"
                ),
                "note": "Blue negative, red positive; dimensions sorted by their mean over "
                "these words, so one they share stands out at the left.",
            },
            {
                "heading": "Vector norm against frequency",
                "image": pictures.norms_plot(
                    out / "norms.png",
                    vs.counts if has_counts else None,
                    norms,
                    rho,
                    f"{source}, {len(norms):,} {kind}",
                ),
                "note": norm_note,
            },
        ]
        if reports:
            sections.append(
                {
                    "heading": "Evaluation",
                    "image": pictures.evaluation_bars(out / "evaluation.png", reports),
                    "note": "Word-pair Spearman and analogy accuracy, one bar per table: "
                    + ", ".join(n for n, _ in reports),
                }
            )
        with (out / "word_map.tsv").open("w", encoding="utf-8") as f:
            f.write("key\tx\ty\tcluster\tlabel\n")
            for j, i in enumerate(rows):
                lab = labels.get(vs.tokens[i], "") if labels else ""
                f.write(
                    f"{vs.tokens[i]}\t{xy[j, 0]:.6f}\t{xy[j, 1]:.6f}\t{clusters[j] + 1}\t{lab}\n"
                )
        write_page(out, f"sparkembed report: {source}", sections)

    with timer.step("draw"), ctx.commit(plan) as commit:
        commit.write_with("report", plan.outputs["report"], write)
    ctx.log("report", f"wrote {plan.outputs['report']}/report.html")
    return {
        "mapped": len(rows),
        "clusters": len(groups),
        "heatmap words": len(heat_words),
        "norm-count rho": f"{rho:+.3f}" if has_counts else "n/a (no counts)",
        "evaluations": len(reports),
    }
