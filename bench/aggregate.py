"""Benchmark: document vectors, ``sparkembed aggregate`` on aligned Bible verses.

Default mode (section "aggregate" of docs/benchmarks.md):
  - corpora: every verse of the World English Bible (engWEB2015eb) and of the Reina-Valera
    1909 (spaRV1909eb) as a document, its reference ("Genesis 1:1") the doc_id in both and
    its book the title, written as JSON lines and read by ``tokenize --format jsonl``.
    ``bash bench/setup_data.sh`` installs the Debian packages.
  - word vectors: per language ``cooccur`` (window 10) -> ``train --method svd`` (dim
    ``--dim``, svd.eig 1, the align benchmark's settings), then ``align`` English onto
    Spanish with the whole FreeDict eng-spa dictionary (no translation table).
  - ``sparkembed aggregate EN ES ALIGNED`` (both languages in one table, components per
    language) for uniform, idf and sif weights, without and with the first component
    removed, and sif with unit word vectors (``--word-norm unit``).
  - retrieval: for every English verse that the Spanish Bible has, the Spanish verses
    ranked by cosine; P@1 and P@10 are the shares whose own verse is first or in the top
    ten. Random ranks give 1/(Spanish verses).
  - reference: PrincetonML's SIF recipe in plain numpy (``bench/reference.py``,
    ``sif_reference``: a per-document loop, then numpy's SVD), on the same tokens,
    vocabularies and aligned vectors, timed beside sparkembed's sif run; the largest
    difference between the two tables' vectors is reported.
  - downstream: MLlib ``LogisticRegression`` on the English verse vectors joined to a
    label table (the verse's book, 66 classes), trained on 80 % of the verses (by a hash
    of the reference) and scored on the rest; accuracy per weighting.

``--scale`` (section "aggregate-scale"): synthetic tokens tables of ``--scale-sizes``
documents (a Zipf vocabulary of 100,000 words, 5 to 40 tokens each) and a 100,000-word
vector table (dim 100); ``sparkembed aggregate`` on local[2] with the default sif and one
component removed; seconds and peak memory per process (sampled every 0.5 s).

    bash bench/setup_data.sh
    .venv/bin/python -m bench.aggregate [--dim 300] [--work .data/bench_aggregate]
    .venv/bin/python -m bench.aggregate --scale [--scale-sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyspark.sql import functions as F

from bench.doc import load_average, machine, write_section
from bench.doc import versions as package_versions
from bench.make_real_corpus import bible_verses, clean_entry
from bench.reference import sif_reference
from bench.runner import (
    MEMORY_HEADERS,
    MEMORY_NOTE,
    CommandFailed,
    memory_cells,
    run_cli,
    steps_text,
)
from sparkembed.config import SparkConfig
from sparkembed.session import get_spark
from sparkembed.vectors.table import load_vectors

REPO = Path(__file__).resolve().parent.parent

BIBLES = {"en": "engWEB2015eb", "es": "spaRV1909eb"}
FREEDICT = Path("/usr/share/dictd/freedict-eng-spa.index")
# (weighting, components, word_norm)
CONFIGS = [
    ("uniform", 0, "raw"),
    ("uniform", 1, "raw"),
    ("idf", 0, "raw"),
    ("idf", 1, "raw"),
    ("sif", 0, "raw"),
    ("sif", 1, "raw"),
    ("sif", 0, "unit"),
    ("sif", 1, "unit"),
]


def _name(weighting: str, k: int, norm: str) -> str:
    return f"{weighting}-{k}" + ("-unit" if norm == "unit" else "")


# --- data ---------------------------------------------------------------------------------


def verses_file(work: Path, lang: str) -> Path:
    path = work / "text" / f"{BIBLES[lang]}.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as f:
            for ref, text in bible_verses(BIBLES[lang]):
                book = ref.rsplit(" ", 1)[0]
                f.write(json.dumps({"id": ref, "title": book, "text": clean_entry(text)}) + "\n")
    return path


def prepare(args, work: Path) -> dict:
    """Tokens and svd vectors per language, aligned; seconds per step."""
    seconds = {}
    common = ["--overwrite"]
    for lang in BIBLES:
        d = work / lang
        fields = ["--set", 'tokenize.id_field="id"', "--set", 'tokenize.title_field="title"']
        run = run_cli(
            ["tokenize", str(verses_file(work, lang)), "--format", "jsonl", "--lang", lang]
            + ["--output", str(d), *fields, *common]
        )
        seconds[f"tokenize {lang}"] = run.wall
        run = run_cli(["cooccur", str(d), "--set", "cooccur.window=10", *common])
        seconds[f"cooccur {lang}"] = run.wall
        run = run_cli(
            ["train", str(d), "--method", "svd", "--dim", str(args.dim), "--set", "svd.eig=1.0"]
            + ["--output", str(d / "vectors-svd"), *common]
        )
        seconds[f"train {lang}"] = run.wall
    tsv = work / "eng-spa.tsv"
    run_cli(["dictionary", str(FREEDICT), "--output", str(tsv)], stage="")
    run = run_cli(
        ["align", str(work / "en" / "vectors-svd"), str(work / "es" / "vectors-svd")]
        + ["--dictionary", str(tsv), "--output", str(work / "aligned"), "--translations", "0"]
        + common,
        stage="align",
    )
    seconds["align"] = run.wall
    return seconds


# --- scores -------------------------------------------------------------------------------


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n > 0, n, 1)


def retrieval(en_ids, en, es_ids, es, block: int = 4096) -> dict:
    """P@1, P@10 of English verses whose own verse is among the nearest Spanish ones."""
    es_row = {d: i for i, d in enumerate(es_ids)}
    queries = [(i, es_row[d]) for i, d in enumerate(en_ids) if d in es_row]
    q_rows = np.array([q for q, _ in queries])
    truth = np.array([t for _, t in queries])
    a, b = _unit(en[q_rows]), _unit(es)
    hit1 = hit10 = 0
    for s in range(0, len(q_rows), block):
        scores = a[s : s + block] @ b.T
        own = scores[np.arange(scores.shape[0]), truth[s : s + block]]
        better = (scores > own[:, None]).sum(axis=1)
        hit1 += int((better == 0).sum())
        hit10 += int((better < 10).sum())
    n = len(q_rows)
    return {"queries": n, "candidates": len(es_ids), "p1": hit1 / n, "p10": hit10 / n}


def table_retrieval(path: Path) -> tuple[dict, dict]:
    en, es = load_vectors(path, lang="en"), load_vectors(path, lang="es")
    return retrieval(en.tokens, en.vectors, es.tokens, es.vectors), {"en": en, "es": es}


def _documents(work_dir: Path) -> tuple[list[str], list[list[str]]]:
    t = ds.dataset(str(work_dir / "tokens"), format="parquet").to_table(
        columns=["doc_id", "sentence", "tokens"]
    )
    t = t.sort_by([("doc_id", "ascending"), ("sentence", "ascending")])
    docs: dict[str, list[str]] = {}
    for d, toks in zip(t.column("doc_id").to_pylist(), t.column("tokens").to_pylist(), strict=True):
        docs.setdefault(d, []).extend(toks or [])
    return list(docs), list(docs.values())


def reference_side(work: Path) -> dict:
    """numpy SIF (a = 1e-3, one component per language) on the same inputs: seconds,
    retrieval, vectors."""
    t0 = time.perf_counter()
    out = {}
    for lang in BIBLES:
        ids, docs = _documents(work / lang)
        v = pq.read_table(work / lang / "vocab", columns=["token", "count", "doc_count"])
        vocab = dict(
            zip(
                v.column("token").to_pylist(),
                zip(v.column("count").to_pylist(), v.column("doc_count").to_pylist(), strict=True),
                strict=True,
            )
        )
        vs = load_vectors(work / "aligned" / "vectors", lang=lang)
        vectors = dict(zip(vs.tokens, vs.vectors, strict=True))
        means, _ = sif_reference(docs, vectors, vocab, weighting="sif", a=1e-3, k=1)
        kept = [(d, m) for d, m in zip(ids, means, strict=True) if m is not None]
        out[lang] = ([d for d, _ in kept], np.array([m for _, m in kept], np.float32))
    seconds = time.perf_counter() - t0
    scores = retrieval(out["en"][0], out["en"][1], out["es"][0], out["es"][1])
    return {"seconds": seconds, "scores": scores, "vectors": out}


def max_difference(ref: dict, tables: dict) -> float:
    worst = 0.0
    for lang, (ids, x) in ref.items():
        got = tables[lang]
        row = {d: i for i, d in enumerate(got.tokens)}
        y = got.vectors[[row[d] for d in ids]]
        worst = max(worst, float(np.abs(y - x).max() / np.abs(x).max()))
    return worst


def downstream(work: Path, names: list[str]) -> dict:
    """Accuracy of MLlib's multinomial logistic regression predicting an English verse's
    book from its vector, for each aggregate table in ``names``."""
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator
    from pyspark.ml.feature import StringIndexer
    from pyspark.ml.functions import array_to_vector

    spark = get_spark(SparkConfig(master="local[2]", driver_memory="4g", shuffle_partitions=4))
    es = set(load_vectors(work / f"agg-{names[0]}" / "doc_vectors", lang="es").tokens)
    rows = [
        (json.loads(line)["id"], json.loads(line)["title"])
        for line in verses_file(work, "en").read_text(encoding="utf-8").splitlines()
    ]
    labels = spark.createDataFrame([r for r in rows if r[0] in es], "doc_id string, book string")
    out = {}
    for name in names:
        t0 = time.perf_counter()
        docs = spark.read.parquet(str(work / f"agg-{name}" / "doc_vectors")).where("lang = 'en'")
        data = docs.join(labels, "doc_id").select(
            "doc_id", "book", array_to_vector("vector").alias("features")
        )
        data = StringIndexer(inputCol="book", outputCol="label").fit(data).transform(data)
        test = (F.abs(F.hash("doc_id")) % 5) == 0
        train, held = data.where(~test).cache(), data.where(test).cache()
        model = LogisticRegression(maxIter=200, regParam=1e-4, family="multinomial").fit(train)
        acc = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(
            model.transform(held)
        )
        majority = held.groupBy("label").count().orderBy(F.desc("count")).first()["count"]
        out[name] = {
            "accuracy": acc,
            "train": train.count(),
            "test": held.count(),
            "majority": majority / held.count(),
            "seconds": time.perf_counter() - t0,
        }
        train.unpersist()
        held.unpersist()
    spark.stop()
    return out


# --- the run ------------------------------------------------------------------------------


def bench(args) -> int:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if not FREEDICT.exists():
        sys.exit("missing Debian data: run  bash bench/setup_data.sh")
    load_before, started = load_average(), time.strftime("%Y-%m-%d %H:%M")
    seconds = prepare(args, work)
    rows = []
    for weighting, k, norm in CONFIGS:
        name = _name(weighting, k, norm)
        out = work / f"agg-{name}"
        run = run_cli(
            ["aggregate", str(work / "en"), str(work / "es"), str(work / "aligned" / "vectors")]
            + ["--output", str(out), "--weighting", weighting, "--components", str(k)]
            + ["--word-norm", norm, "--overwrite"],
            stage="aggregate",
        )
        scores, tables = table_retrieval(out / "doc_vectors")
        rows.append({"name": name, "seconds": run.wall, "summary": run.summary, **scores})
        if name == "sif-1":
            sif_tables = tables
    ref = reference_side(work)
    ref["difference"] = max_difference(ref["vectors"], sif_tables)
    lr = downstream(work, [r["name"] for r in rows])
    md = markdown(args, rows, ref, lr, seconds, started, load_before, load_average())
    print(md)
    if not args.no_doc:
        write_section("aggregate", md)
    return 0


def _tokens(work_dir: Path) -> int:
    meta = json.loads((work_dir / "tokens" / "_sparkembed.json").read_text())
    return int(meta["counts"]["tokens"])


def markdown(args, rows, ref, lr, seconds, started, load_before, load_after) -> str:
    work = Path(args.work)
    first = rows[0]
    lines = [
        "## aggregate: English Bible verses retrieving their Spanish translations",
        "",
        f"Run {started} on {machine()}; load average {load_before} before, {load_after} "
        f"after. {package_versions(('pyspark', 'numpy'))}.",
        "",
        f"- documents: the verses of the WEB ({_tokens(work / 'en'):,} tokens) and of the "
        f"Reina-Valera 1909 ({_tokens(work / 'es'):,} tokens); {first['queries']:,} English "
        f"verses have a Spanish one; candidates: all {first['candidates']:,} Spanish "
        f"verses with a vector (random P@1 = {1 / first['candidates']:.1e}).",
        f"- word vectors: svd dim {args.dim} per language (cooccur window 10, svd.eig 1), "
        "English aligned onto Spanish with FreeDict eng-spa (sparkembed align, defaults); "
        f"prepared in {sum(seconds.values()):.0f} s ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
        + ").",
        "- P@k: share of English verses whose own Spanish verse is the nearest (P@1) or "
        "among the ten nearest (P@10) by cosine. Book accuracy: MLlib multinomial "
        "LogisticRegression (maxIter 200, regParam 1e-4) on the English verse vectors, "
        "80/20 split by a hash of the reference, 66 books.",
        "",
        "| weighting | components removed | word vectors | aggregate s | P@1 | P@10 "
        "| book accuracy |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        weighting, k, *rest = r["name"].split("-")
        norm = "unit" if rest else "raw"
        acc = lr.get(r["name"], {}).get("accuracy")
        bold = "**" if r["name"] == "sif-1" else ""
        lines.append(
            f"| {weighting} | {k} | {norm} | {r['seconds']:.1f} | {bold}{100 * r['p1']:.1f} %"
            f"{bold} | {100 * r['p10']:.1f} % | {100 * acc:.1f} % |"
        )
    sc = ref["scores"]
    any_lr = next(iter(lr.values()))
    lines += [
        f"| reference: numpy SIF (sif, 1 component, raw) | 1 | raw | {ref['seconds']:.1f} "
        f"| {100 * sc['p1']:.1f} % | {100 * sc['p10']:.1f} % | - |",
        "",
        f"Largest difference between the reference's vectors and sparkembed's sif table, "
        f"relative to the largest entry: {ref['difference']:.1e}. Book accuracy of always "
        f"answering the most frequent book: {100 * any_lr['majority']:.1f} % "
        f"({any_lr['train']:,} verses to train, {any_lr['test']:,} to test). The aligned "
        "vectors are unit length already (align normalises them), so `--word-norm unit` "
        "gives the same tables as `raw` here.",
        "",
        "sparkembed's seconds are the aggregate command's wall time (start-up included, both "
        "languages); the reference's are its Python loop over the same documents in this "
        "process, with the tokens and vectors read by pyarrow.",
    ]
    return "\n".join(lines)


# --- scale --------------------------------------------------------------------------------


def _meta(path: Path, table: str, stage: str, counts: dict, extra: dict | None = None) -> None:
    meta = {"table": table, "stage": stage, "run_id": "synthetic", "counts": counts}
    meta.update(extra or {})
    (path / "_SUCCESS").write_text("")
    (path / "_sparkembed.json").write_text(json.dumps(meta))


def synthetic_inputs(work: Path, n_docs: int, vocab_n: int, dim: int, seed: int) -> None:
    """DIR/tokens, DIR/vocab (one run) and a vector table, written with pyarrow."""
    rng = np.random.default_rng(seed)
    for sub in ("tokens", "vocab", "vectors"):
        shutil.rmtree(work / sub, ignore_errors=True)
    words = np.array([f"w{i}" for i in range(vocab_n)], dtype=object)
    p = 1.0 / np.arange(1, vocab_n + 1) ** 1.1
    p /= p.sum()
    counts = np.zeros(vocab_n, np.int64)
    (work / "tokens").mkdir(parents=True)
    chunk, total = 100_000, 0
    for i, start in enumerate(range(0, n_docs, chunk)):
        n = min(chunk, n_docs - start)
        lengths = rng.integers(5, 41, n)
        ids = rng.choice(vocab_n, size=int(lengths.sum()), p=p)
        counts += np.bincount(ids, minlength=vocab_n)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        table = pa.table(
            {
                "doc_id": pa.array([f"doc{j}" for j in range(start, start + n)]),
                "title": pa.array([""] * n),
                "lang": pa.array(["syn"] * n),
                "sentence": pa.array(np.zeros(n, np.int32)),
                "tokens": pa.ListArray.from_arrays(pa.array(offsets), pa.array(words[ids])),
            }
        )
        pq.write_table(table, work / "tokens" / f"part-{i:05d}.parquet")
        total += int(lengths.sum())
    _meta(work / "tokens", "tokens", "tokenize", {"documents": n_docs, "tokens": total})
    (work / "vocab").mkdir()
    order = np.argsort(-counts, kind="stable")
    pq.write_table(
        pa.table(
            {
                "id": pa.array(np.arange(vocab_n, dtype=np.int32)),
                "token": pa.array(words[order]),
                "count": pa.array(counts[order]),
                "doc_count": pa.array(counts[order]),
            }
        ),
        work / "vocab" / "part-00000.parquet",
    )
    _meta(work / "vocab", "vocab", "tokenize", {"vocab": vocab_n})
    part = work / "vectors" / "lang=syn"
    part.mkdir(parents=True)
    x = (rng.standard_normal((vocab_n, dim)) + 0.5).astype(np.float32)
    pq.write_table(
        pa.table(
            {
                "token": pa.array(words),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(x.ravel()), dim).cast(
                    pa.list_(pa.float32())
                ),
                "count": pa.array(counts),
                "norm": pa.array(np.linalg.norm(x, axis=1).astype(np.float32)),
            }
        ),
        part / "part-00000.parquet",
    )
    _meta(work / "vectors", "vectors", "train", {"vectors": vocab_n}, {"dim": dim})


def scale(args) -> int:
    load_before, started = load_average(), time.strftime("%Y-%m-%d %H:%M")
    rows = []
    for n in args.scale_sizes:
        work = Path(args.work) / f"scale-{n}"
        synthetic_inputs(work, n, 100_000, 100, args.seed)
        tokens = json.loads((work / "tokens" / "_sparkembed.json").read_text())["counts"]["tokens"]
        try:
            run = run_cli(
                ["aggregate", str(work), str(work / "vectors"), "--output", str(work / "out")]
                + ["--overwrite"],
                sample=True,
                stage="aggregate",
            )
        except CommandFailed as exc:
            rows.append({"n": n, "failed": str(exc)})
            continue
        rows.append({"n": n, "tokens": tokens, "run": run})
        shutil.rmtree(work, ignore_errors=True)
    md = scale_markdown(args, rows, started, load_before, load_average())
    print(md)
    if not args.no_doc:
        write_section("aggregate-scale", md)
    return 0


def scale_markdown(args, rows, started, load_before, load_after) -> str:
    lines = [
        "## aggregate-scale: synthetic documents on local[2]",
        "",
        f"Run {started} on {machine()}; load average {load_before} before, {load_after} "
        "after. A Zipf (s = 1.1) vocabulary of 100,000 words with vectors of dim 100; "
        "documents of 5 to 40 tokens; sif weights, one component removed; spark settings "
        "as conf/local.toml sets them.",
        "",
        "| documents | tokens | aggregate s | steps " + MEMORY_HEADERS,
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "failed" in r:
            lines.append(f"| {r['n']:,} | failed: {r['failed']} | | | | | | |")
            continue
        run = r["run"]
        lines.append(
            f"| {r['n']:,} | {r['tokens']:,} | {run.wall:.0f} | {steps_text(run)} "
            + memory_cells(run)
        )
    return "\n".join([*lines, "", MEMORY_NOTE])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=str(REPO / ".data" / "bench_aggregate"))
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-doc", action="store_true", help="print, do not write docs")
    ap.add_argument("--scale", action="store_true")
    ap.add_argument(
        "--scale-sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100_000, 1_000_000]
    )
    args = ap.parse_args(argv)
    return scale(args) if args.scale else bench(args)


if __name__ == "__main__":
    sys.exit(main())
