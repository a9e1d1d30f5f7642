"""Benchmark: random-walk graph embeddings, ``sparkembed walks`` beside PecanPy + gensim.

Default mode (section "walks" of docs/benchmarks.md), on bench/make_graphs.py's LFR graph
(10,000 vertices, mu 0.5, made first if missing; any DIR with edges.parquet and
labels.parquet works), for uniform walks (p 1, q 1) and node2vec (p 1, q 0.5):
  - reference: PecanPy's SparseOTF walks (numba, --workers threads) and gensim Word2Vec on
    them (skip-gram, dim 128, window 10, min_count 0, 1 epoch, workers = cores: what
    PecanPy's own ``embed`` does; gensim's defaults otherwise: negative 5, sample 1e-3,
    alpha 0.025). Timed apart: graph load (Parquet -> scipy CSR -> PecanPy's arrays, not
    its .edg text reader), walks, word2vec.
  - sparkembed, through its CLI, as a user runs it: one ``sparkembed run`` (one process and
    JVM) per trainer: walks (p, q, walk length 80, 10 walks per node) -> cooccur (window
    10) -> train svd (dim 128); the same with train glove; walks -> train word2vec (window
    10, dim 128, min count 1, --w2v-epochs iterations, MLlib's single partition). A
    method's end-to-end seconds: the run's wall time, start-up included.
  - ``--umap``: ``train W --method umap --dim 16`` on the uniform run's DIR/graph (UMAP of
    the transition matrix; one command of its own).
  - ``--prone``: nodevectors' ProNE (``--prone-dim``, its defaults otherwise: step 10, mu
    0.2, theta 0.5) on the scipy CSR adjacency, fit timed in this process, beside one
    ``sparkembed run`` of walks with no walks (the graph table) then ``train:prone``.
Walk length counts vertices, the start included, as in node2vec's reference code and
sparkembed (``walks.walk_length``); PecanPy's ``walk_length`` counts moves (its walks have
walk_length + 1 vertices), so it is called with walk_length - 1: both sides' walks have the
same vertices. steps/s = vertices visited in all walks (start vertices included) / walk
seconds. Every method's vectors are scored by ``evaluate``: macro- and micro-F1 of a
logistic regression on L2-normalised vectors, half the labelled vertices (stratified,
seeded) to train, the other half to test; a test vertex with no vector counts as a wrong
prediction.

``--scale`` (section "walks-scale"), on the 1M-vertex / 10M-edge power-law graph
(.data/graphs/powerlaw1m): ``sparkembed walks`` with ``--engine replicated`` and
``--engine partitioned`` (1 walk per vertex, 20 vertices per walk by default), walk steps/s
and peak memory sampled every 0.5 s over the command's process tree (the Python driver, the
spark-submit JVM, the Python workers): the peak of the largest single process and the peak
of their sum (RSS: pages shared by forked workers count once per process).
``--scale-pecanpy`` adds PecanPy's walks on the same graph, in a child process sampled the
same way.

    .venv/bin/python -m bench.walks [--graph .data/graphs/lfr10k] [--umap] [--prone]
    .venv/bin/python -m bench.walks --scale [--graph .data/graphs/powerlaw1m]
        [--scale-pecanpy] [--scale-walk-length 20] [--scale-walks-per-node 1]
    .venv/bin/python -m bench.walks --graph .data/graphs/karate --walks-per-node 2 \\
        --no-doc --work /tmp/bw   # smoke run

The sparkembed rows read the stages' summary lines, ``walks: ..., walks N, steps S, ... |
... walk Xs ... | total Ts``: visited vertices = steps + walks (steps counts moves), walk
seconds = the walks stage's ``walk`` step (walking and writing the walks).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from bench.doc import machine, write_section
from bench.doc import versions as package_versions
from bench.runner import CommandFailed, Run, parse_summary, run_cli, run_process

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
GRAPHS = REPO / ".data" / "graphs"
CONFIGS = {"uniform": (1.0, 1.0), "node2vec": (1.0, 0.5)}


def walk_rate(run: Run, work: Path) -> tuple[int, float, str]:
    """(vertices visited, seconds, where the figures came from) of a walks command."""
    summary = run.summary or {}
    counts, steps = summary.get("counts", {}), summary.get("steps", {})
    counted = count_visits(work)
    if isinstance(counts.get("steps"), int):
        visits = counts["steps"] + (counts.get("walks") or 0)
        if counted is not None and counted != visits:
            print(
                f"warning: summary says {visits:,} visits (steps + walks), W/tokens holds "
                f"{counted:,}; using W/tokens",
                file=sys.stderr,
            )
            visits = counted
        if "walk" in steps:
            return visits, steps["walk"], "summary's walk step"
        total = summary.get("total")
        if isinstance(total, float) and total == total:  # not nan
            return visits, total, "summary's total"
        return visits, run.wall, "command wall"
    if counted is None:
        return 0, run.wall, "no count"
    return counted, run.wall, "W/tokens count / command wall"


def count_visits(work: Path) -> int | None:
    try:
        table = ds.dataset(str(work / "tokens"), format="parquet").to_table(columns=["tokens"])
    except (OSError, ValueError, KeyError):
        return None
    return int(pc.sum(pc.list_value_length(table.column("tokens"))).as_py() or 0)


def read_vectors(path: Path) -> dict[str, np.ndarray]:
    """token -> vector of a sparkembed vector table (Parquet: token, vector array<float>)."""
    table = pq.read_table(str(path), columns=["token", "vector"])
    tokens = table.column("token").to_pylist()
    flat = pc.list_flatten(table.column("vector")).to_numpy().astype(np.float32)
    matrix = flat.reshape(len(tokens), -1) if tokens else flat.reshape(0, 0)
    return dict(zip(tokens, matrix, strict=True))


# --- PecanPy ----------------------------------------------------------------------------


def load_csr(edges_path: Path):
    """Undirected edge list (src, dst) -> (vertex ids, scipy CSR with sorted indices)."""
    import scipy.sparse as sp

    table = pq.read_table(str(edges_path), columns=["src", "dst"])
    src = table.column("src").to_numpy()
    dst = table.column("dst").to_numpy()
    ids = np.unique(np.concatenate([src, dst]))
    s, d = np.searchsorted(ids, src), np.searchsorted(ids, dst)
    n = len(ids)
    rows, cols = np.concatenate([s, d]), np.concatenate([d, s])
    adj = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n))
    adj.sum_duplicates()
    adj.sort_indices()
    adj.data[:] = 1.0
    return ids, adj


def pecanpy_graph(ids: np.ndarray, adj, p: float, q: float, workers: int, mode: str):
    import numba
    from pecanpy import pecanpy as pp

    numba.set_num_threads(workers)
    g = getattr(pp, mode)(p=p, q=q, workers=workers, verbose=False)
    g.set_ids([str(i) for i in ids.tolist()])
    g.indptr = adj.indptr.astype(np.uint32)
    g.indices = adj.indices.astype(np.uint32)
    g.data = adj.data.astype(np.float32)
    g.preprocess_transition_probs()
    return g


def ring_call(p: float, q: float, walk_length: int, workers: int, mode: str) -> float:
    """Seconds of one PecanPy ``simulate_walks`` on a 100-vertex ring: nearly all numba
    compile. The first call in a process also compiles the shared kernels (the warm-up);
    later ones recompile only the kernels ``simulate_walks`` defines inside each call."""
    import scipy.sparse as sp

    ring = np.arange(100)
    nxt, prev = (ring + 1) % 100, (ring - 1) % 100
    tiny = sp.csr_matrix(
        (np.ones(200, np.float32), (np.r_[ring, ring], np.r_[nxt, prev])), shape=(100, 100)
    )
    tiny.sort_indices()
    g = pecanpy_graph(ring, tiny, p, q, workers, mode)
    t0 = time.perf_counter()
    g.simulate_walks(num_walks=1, walk_length=walk_length - 1)
    return time.perf_counter() - t0


def pecanpy_walks(
    edges_path: Path, p: float, q: float, walk_length: int, walks_per_node: int, workers: int,
    mode: str = "SparseOTF", seed: int = 0,
) -> dict:  # fmt: skip
    """PecanPy's walks on the graph, after a warm-up call on a tiny graph (so that every
    configuration pays the same numba compile: the per-call one, estimated by a tiny call
    afterwards): seconds to load and to walk, the walks (lists of vertex ids as strings),
    vertices visited."""
    import numba

    warmup_s = ring_call(p, q, walk_length, workers, mode)
    t0 = time.perf_counter()
    ids, adj = load_csr(edges_path)
    g = pecanpy_graph(ids, adj, p, q, workers, mode)
    load_s = time.perf_counter() - t0
    np.random.seed(seed)  # PecanPy shuffles the start vertices with numpy's global state
    t0 = time.perf_counter()
    walks = g.simulate_walks(num_walks=walks_per_node, walk_length=walk_length - 1)
    walk_s = time.perf_counter() - t0
    return {
        "load_s": load_s,
        "walk_s": walk_s,
        "warmup_s": warmup_s,
        "compile_s": ring_call(p, q, walk_length, workers, mode),
        "walks": walks,
        "n_walks": len(walks),
        "visits": sum(map(len, walks)),
        "vertices": len(ids),
        "threads": numba.get_num_threads(),
    }


def gensim_vectors(walks, dim: int, window: int, epochs: int, workers: int):
    from gensim.models import Word2Vec

    t0 = time.perf_counter()
    model = Word2Vec(
        sentences=walks, vector_size=dim, window=window, min_count=0, sg=1, workers=workers,
        epochs=epochs,
    )  # fmt: skip
    secs = time.perf_counter() - t0
    return {t: model.wv[t] for t in model.wv.index_to_key}, secs


def pecanpy_child(args) -> int:
    """--pecanpy-child: PecanPy's walks alone, figures as JSON (for the sampled scale run)."""
    res = pecanpy_walks(
        Path(args.graph) / "edges.parquet", args.scale_p, args.scale_q, args.scale_walk_length,
        args.scale_walks_per_node, args.workers or os.cpu_count() or 1, args.pecanpy_mode,
    )  # fmt: skip
    res.pop("walks")
    Path(args.pecanpy_child).write_text(json.dumps(res))
    return 0


# --- evaluation -------------------------------------------------------------------------


def evaluate(vectors, labels_path: Path, seed: int = 0) -> dict:
    """Node classification: vectors (token = vertex id as a string -> vector, or a
    mapping with int keys) against labels.parquet (id, label). Half the labelled vertices
    (stratified by label when every label has 2+ vertices, ``seed``-ed) train a
    scikit-learn LogisticRegression(max_iter=1000) on L2-normalised vectors; the other half
    is predicted. A vertex with no vector is left out of training and, in the test half,
    counts as a wrong prediction. Returns macro-F1, micro-F1 (= accuracy) and coverage."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import normalize

    table = pq.read_table(str(labels_path), columns=["id", "label"])
    ids = table.column("id").to_numpy()
    y = table.column("label").to_numpy()
    vecs = {str(k): v for k, v in vectors.items()}
    stratify = y if np.bincount(np.unique(y, return_inverse=True)[1]).min() >= 2 else None
    train, test = train_test_split(
        np.arange(len(ids)), test_size=0.5, random_state=seed, stratify=stratify
    )
    has = np.array([str(i) in vecs for i in ids.tolist()])
    fit = train[has[train]]
    if len(fit) == 0 or len(np.unique(y[fit])) < 2:
        return {"macro_f1": float("nan"), "micro_f1": float("nan"), "coverage": has.mean()}

    def matrix(rows):
        return normalize(np.stack([vecs[str(i)] for i in ids[rows].tolist()]).astype(np.float64))

    model = LogisticRegression(max_iter=1000)
    model.fit(matrix(fit), y[fit])
    pred = np.full(len(test), np.iinfo(np.int64).min, dtype=np.int64)  # no vector: wrong
    known = has[test]
    if known.any():
        pred[known] = model.predict(matrix(test[known]))
    classes = np.unique(y[test])
    return {
        "macro_f1": float(
            f1_score(y[test], pred, labels=classes, average="macro", zero_division=0)
        ),
        "micro_f1": float((pred == y[test]).mean()),
        "coverage": float(has.mean()),
        "test": int(len(test)),
        "missing_in_test": int((~known).sum()),
    }


# --- the default benchmark --------------------------------------------------------------


def ensure_graph(graph: Path, scale: bool) -> None:
    if (graph / "edges.parquet").exists():
        return
    kinds = {"lfr10k": "lfr", "powerlaw1m": "powerlaw", "karate": "karate"}
    kind = kinds.get(graph.name, "powerlaw" if scale else "lfr")
    cmd = [PY, "-m", "bench.make_graphs", kind, "--output", str(graph)]
    subprocess.run(cmd, cwd=REPO, check=True)


def graph_info(graph: Path) -> dict:
    path = graph / "graph.json"
    if path.exists():
        return json.loads(path.read_text())
    meta = pq.read_metadata(str(graph / "edges.parquet"))
    return {"edges": meta.num_rows}


PIPELINE = """[pipeline]
workdir = "{workdir}"
inputs = ["{edges}"]
stages = {stages}

[walks]
p = {p}
q = {q}
walk_length = {walk_length}
walks_per_node = {walks_per_node}
seed = {seed}

[cooccur]
window = {window}

[train]
dim = {dim}

[word2vec]
window = {window}
min_count = 1
max_iter = {epochs}
num_partitions = {w2v_partitions}
subsample = 0  # every vertex of a walk corpus is frequent: as the runs recorded before

[sgns]
window = {window}
min_count = 1
epochs = {sgns_epochs}
sample = 0  # as word2vec's: every vertex of a walk corpus is frequent

[umap]
n_neighbors = 15
"""


def run_pipeline(args, edges: Path, wdir: Path, p, q, trainers, extra) -> Run:
    """walks -> cooccur -> the trainers as one ``sparkembed run`` (one process and JVM, as
    a user runs it), from scratch (--force)."""
    stages = ["walks"] + (["cooccur"] if {"svd", "glove"} & set(trainers) else [])
    stages += [f"train:{m}" for m in trainers]
    wdir.mkdir(parents=True, exist_ok=True)
    toml = wdir.parent / f"{wdir.name}.pipeline.toml"
    toml.write_text(
        PIPELINE.format(
            workdir=wdir,
            edges=edges,
            stages=json.dumps(stages),
            p=p,
            q=q,
            walk_length=args.walk_length,
            walks_per_node=args.walks_per_node,
            seed=args.seed,
            window=args.window,
            dim=args.dim,
            epochs=args.w2v_epochs,
            sgns_epochs=args.sgns_epochs or args.w2v_epochs,
            w2v_partitions=args.w2v_partitions,
        ).replace(f"dim = {args.dim}", f"dim = {args.dim}")
    )
    run = run_cli(["run", str(toml), "--force"], extra, stage="")
    return run


def stage_lines(stdout: str) -> dict:
    """The summary lines of a ``sparkembed run``: {"walks": ..., "cooccur": ...,
    "train:svd": ...} as ``parse_summary`` reads them."""
    out = {}
    for line in stdout.splitlines():
        stage = line.split(":", 1)[0]
        if stage not in ("walks", "cooccur", "train") or "| total " not in line:
            continue
        parsed = parse_summary(line, stage)
        key = f"train:{parsed['counts']['method']}" if stage == "train" else stage
        out[key] = parsed
    return out


def bench(args) -> int:
    graph = Path(args.graph or GRAPHS / "lfr10k").resolve()
    work = Path(args.work).resolve()
    ensure_graph(graph, scale=False)
    edges, labels = graph / "edges.parquet", graph / "labels.parquet"
    info = graph_info(graph)
    cores = os.cpu_count() or 1
    workers = args.workers or cores
    extra = [x for kv in args.spark_set for x in ("--set", kv)]
    load_before = os.getloadavg()[0]
    rows = []  # dicts: method, config, walk_s, visits, rate, train_s, total_s, scores, split
    umap_done = False

    for name in args.configs.split(","):
        p, q = CONFIGS[name]
        label = f"{name} (p {p:g}, q {q:g})"
        if not args.skip_pecanpy:
            res = pecanpy_walks(
                edges, p, q, args.walk_length, args.walks_per_node, workers, args.pecanpy_mode,
                args.seed,
            )  # fmt: skip
            vectors, w2v_s = gensim_vectors(
                res.pop("walks"), args.dim, args.window, args.w2v_epochs, workers
            )
            total = res["load_s"] + res["walk_s"] + w2v_s
            print(
                f"pecanpy {name}: load {res['load_s']:.1f}s walks {res['walk_s']:.1f}s "
                f"({res['visits'] / res['walk_s']:,.0f} steps/s) word2vec {w2v_s:.1f}s",
                flush=True,
            )
            rows.append(
                {
                    "method": f"PecanPy {args.pecanpy_mode} + gensim Word2Vec",
                    "config": label,
                    "walk_s": res["walk_s"],
                    "visits": res["visits"],
                    "rate": res["visits"] / res["walk_s"],
                    "train_s": w2v_s,
                    "total_s": total,
                    "scores": evaluate(vectors, labels, args.seed),
                    "split": f"load {res['load_s']:.1f} + walks {res['walk_s']:.1f} (numba "
                    f"compile per call ~{res['compile_s']:.1f}{_net(res)}) + word2vec {w2v_s:.1f}; "
                    f"{res['threads']} threads; untimed warm-up {res['warmup_s']:.1f}",
                }
            )
        if args.skip_sparkembed:
            continue
        trainers = [] if args.skip_svd else ["svd"]
        trainers += [] if args.skip_glove else ["glove"]
        trainers += [] if args.skip_word2vec else ["word2vec"]
        trainers += [] if args.skip_sgns else ["sgns"]
        # One pipeline per trainer, as a user runs it: walks -> cooccur -> svd (or glove),
        # and walks -> word2vec (each its own process, JVM and spark.jit choice).
        for method in trainers:
            wdir = work / f"{name}-{method}"
            try:
                run = run_pipeline(args, edges, wdir, p, q, [method], extra)
            except CommandFailed as exc:
                rows.append(
                    {"method": f"sparkembed run ({method})", "config": label, "failed": str(exc)}
                )
                continue
            lines = stage_lines(run.stdout)
            walk = lines["walks"]
            visits = walk["counts"]["steps"] + walk["counts"]["walks"]
            overhead = run.wall - sum(x["total"] for x in lines.values())
            parts = [("walks", walk["total"])]
            if method in ("svd", "glove"):
                parts.append(("cooccur", lines["cooccur"]["total"]))
            parts.append((f"train {method}", lines[f"train:{method}"]["total"]))
            split = f"start-up {overhead:.1f} + " + " + ".join(f"{k} {v:.1f}" for k, v in parts)
            walk_split = ", ".join(f"{k} {v:.1f}" for k, v in walk["steps"].items())
            rows.append(
                {
                    "method": f"sparkembed walks + {method}",
                    "config": label,
                    "walk_s": walk["total"],
                    "visits": visits,
                    "rate": visits / walk["steps"]["walk"],
                    "train_s": run.wall - (overhead + walk["total"]),
                    "total_s": run.wall,
                    "scores": evaluate(read_vectors(wdir / f"vectors-{method}"), labels, args.seed),
                    "split": f"{split} (walks: {walk_split})",
                }
            )
            if args.umap and name == "uniform" and not umap_done:
                # Of the graph itself (DIR/graph), the same for every config: run once.
                umap_done = True
                rows.append(umap_row(args, wdir, extra, labels))
    if args.prone:
        rows += prone_rows(args, edges, labels, work, extra)
    load_after = os.getloadavg()[0]
    md = walks_markdown(args, graph, info, rows, cores, workers, load_before, load_after)
    print(md)
    if not args.no_doc:
        write_section(args.section, md)
    return 0


def umap_row(args, wdir: Path, extra, labels: Path) -> dict:
    """``train --method umap`` of the walks' DIR/graph (the graph itself: one run)."""
    umap_out = wdir / "vectors-umap"
    try:
        run = run_cli(
            ["train", str(wdir), "--method", "umap", "--dim", str(args.umap_dim)]
            + ["--output", str(umap_out), "--overwrite"],
            extra,
            stage="train",
        )
    except CommandFailed as exc:
        return {"method": "sparkembed train --method umap", "config": "", "failed": str(exc)}
    return {
        "method": "sparkembed train --method umap",
        "config": f"transition matrix, dim {args.umap_dim}",
        "walk_s": float("nan"),
        "visits": 0,
        "rate": float("nan"),
        "train_s": run.summary["total"],
        "total_s": run.wall,
        "scores": evaluate(read_vectors(umap_out), labels, args.seed),
        "split": f"command {run.wall:.1f} (umap step "
        f"{run.summary['steps'].get('umap', float('nan')):.1f})",
    }


PRONE_PIPELINE = """[pipeline]
workdir = "{workdir}"
inputs = ["{edges}"]
stages = ["walks", "train:prone"]

[walks]
walks_per_node = 0  # the graph and its vertices only

[train]
dim = {dim}
"""


def prone_rows(args, edges: Path, labels: Path, work: Path, extra) -> list[dict]:
    """ProNE: nodevectors' (on the scipy CSR adjacency, fit timed; its defaults but
    n_components) beside ``sparkembed run`` of walks (no walks: the graph) -> train prone,
    one process, start-up included."""
    rows = []
    if not args.skip_reference_prone:
        from nodevectors import ProNE

        t0 = time.perf_counter()
        ids, adj = load_csr(edges)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        vectors = ProNE(n_components=args.prone_dim, verbose=False).fit_transform(adj)
        fit_s = time.perf_counter() - t0
        rows.append(
            {
                "method": "nodevectors ProNE",
                "config": f"the graph, dim {args.prone_dim}",
                "walk_s": float("nan"),
                "visits": 0,
                "rate": float("nan"),
                "train_s": fit_s,
                "total_s": load_s + fit_s,
                "scores": evaluate(
                    dict(zip(ids.tolist(), vectors, strict=True)), labels, args.seed
                ),
                "split": f"load {load_s:.1f} + fit {fit_s:.1f} (in this process)",
            }
        )
    wdir = work / "prone"
    wdir.mkdir(parents=True, exist_ok=True)
    toml = work / "prone.pipeline.toml"
    toml.write_text(PRONE_PIPELINE.format(workdir=wdir, edges=edges, dim=args.prone_dim))
    try:
        run = run_cli(["run", str(toml), "--force"], extra, stage="")
    except CommandFailed as exc:
        return [*rows, {"method": "sparkembed run (prone)", "config": "", "failed": str(exc)}]
    lines = stage_lines(run.stdout)
    train = lines["train:prone"]
    overhead = run.wall - sum(x["total"] for x in lines.values())
    rows.append(
        {
            "method": "sparkembed walks (no walks) + prone",
            "config": f"the graph, dim {args.prone_dim}",
            "walk_s": float("nan"),
            "visits": 0,
            "rate": float("nan"),
            "train_s": train["total"],
            "total_s": run.wall,
            "scores": evaluate(read_vectors(wdir / "vectors-prone"), labels, args.seed),
            "split": f"start-up {overhead:.1f} + graph {lines['walks']['total']:.1f} + train "
            f"prone {train['total']:.1f}",
        }
    )
    return rows


def _net(res: dict) -> str:
    """PecanPy's steps/s without its per-call compile, when that estimate is below the walk
    time."""
    net = res["walk_s"] - res["compile_s"]
    return f"; {res['visits'] / net:,.0f} steps/s net of it" if net > 0.1 * res["walk_s"] else ""


def _failed_row(head: list[str], why: str, columns: int) -> str:
    cells = [*head, f"failed: {why.replace('|', '/')}"]
    return "| " + " | ".join(cells + [""] * (columns - len(cells))) + " |"


def _size(n: int) -> str:
    for div, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= 0.95 * div:  # 998,644 -> 1M
            return f"{n / div:.2g}{suffix}"
    return str(n)


def _fmt(x: float, spec: str = ".1f") -> str:
    return "" if x != x else format(x, spec)  # nan -> blank


def walks_markdown(args, graph, info, rows, cores, workers, load_before, load_after) -> str:

    params = info.get("params", {})
    desc = (
        f"LFR (`python -m bench.make_graphs lfr`: n {params.get('n', '?'):,}, mu "
        f"{params.get('mu', '?')}, tau1 {params.get('tau1', '?')}, tau2 {params.get('tau2', '?')}, "
        f"average degree {params.get('average_degree', '?')}, max degree "
        f"{params.get('max_degree', '?')}, communities {params.get('min_community', '?')}-"
        f"{params.get('max_community', '?')}, seed {info.get('seed', '?')}): "
        f"{info.get('vertices', 0):,} vertices, {info.get('edges', 0):,} edges, "
        f"{info.get('communities', '?')} communities (the labels)"
        if "LFR" in str(info.get("generator", ""))
        else f"`{graph.name}`: {info.get('vertices', 0):,} vertices, {info.get('edges', 0):,} edges"
    )
    lines = [
        "## walks: random-walk embeddings, sparkembed vs PecanPy + gensim"
        + ("" if args.section == "walks" else f" ({args.section}: a partial run)"),
        "",
        f"Graph: {desc}. Walks: {args.walks_per_node} per vertex, {args.walk_length} vertices "
        f"each (PecanPy called with walk_length {args.walk_length - 1}: it counts moves). "
        f"Embedding: dim {args.dim}, window {args.window}; gensim Word2Vec skip-gram, "
        f"min_count 0, {args.w2v_epochs} epoch(s), negative 5, {workers} workers (PecanPy's "
        f"`embed` settings); MLlib word2vec {args.w2v_epochs} and sgns "
        f"{args.sgns_epochs or args.w2v_epochs} iteration(s) (sgns: "
        "epochs, negative 5, sample 0), min count 1, "
        f"{args.w2v_partitions} "
        "partition(s); svd: `cooccur` (harmonic window) then PPMI + randomized SVD, default "
        "config; glove: the same `cooccur`, then GloVe by alternating least squares, default "
        "config. Score: logistic regression (max_iter 1000) on L2-normalised vectors, 50/50 "
        f"stratified split (seed {args.seed}), macro-F1 and micro-F1 on the held-out half; a "
        "vertex with no vector counts as a wrong prediction. Machine: "
        f"{machine()}, sparkembed local[*]; 1-minute load average {load_before:.1f} before, "
        f"{load_after:.1f} after (one run). {versions()}.",
        "",
        "| method | walks | walk s | walk steps/s | train s | end-to-end s | macro-F1 "
        "| micro-F1 | vertices with a vector | time split (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if "failed" in r:
            lines.append(_failed_row([r["method"], r["config"]], r["failed"], 10))
            continue
        sc = r["scores"]
        lines.append(
            f"| {r['method']} | {r['config']} | {_fmt(r['walk_s'])} | {_fmt(r['rate'], ',.0f')} "
            f"| {_fmt(r['train_s'])} | {_fmt(r['total_s'])} | {_fmt(sc['macro_f1'], '.3f')} "
            f"| {_fmt(sc['micro_f1'], '.3f')} | {sc['coverage']:.1%} | {r['split']} |"
        )
    lines += [
        "",
        "walk steps/s = vertices visited (start vertices included) / walk seconds: for "
        "PecanPy its `simulate_walks` call, after an untimed warm-up call on a 100-vertex "
        "ring (the per-call numba compile stays in: `simulate_walks` compiles its kernels "
        "again at every call; estimated in the split); for sparkembed the walks stage's own "
        "`walk` step (walk and write the tokens; no JVM start). sparkembed runs one "
        "`sparkembed run` pipeline per trainer (walks -> cooccur -> svd or glove; walks -> "
        "word2vec), "
        "each its own process and JVM (`spark.jit` auto: C1 only for svd, full for "
        "word2vec); end-to-end = its wall time, start-up included; walk s = the walks "
        "stage, train s = the rest. PecanPy: end-to-end = graph load + walks + training "
        "(Parquet -> CSR in numpy/scipy, not its .edg reader).",
    ]
    return "\n".join(lines)


def versions() -> str:

    names = ["pecanpy", "gensim", "scikit-learn", "numba", "numpy", "pyspark", "umap-learn"]
    names += ["nodevectors", "csrgraph"]
    return package_versions(names)


# --- --scale ----------------------------------------------------------------------------


def scale(args) -> int:
    graph = Path(args.graph or GRAPHS / "powerlaw1m").resolve()
    work = Path(args.work).resolve() / "scale"
    ensure_graph(graph, scale=True)
    edges = graph / "edges.parquet"
    info = graph_info(graph)
    cores = os.cpu_count() or 1
    workers = args.workers or cores
    extra = [x for kv in args.spark_set for x in ("--set", kv)]
    p, q = args.scale_p, args.scale_q
    load_before = os.getloadavg()[0]
    rows = []
    for engine in filter(None, args.engines.split(",")):
        wdir = work / engine
        wdir.mkdir(parents=True, exist_ok=True)
        method = f"sparkembed walks --engine {engine}"
        try:
            run = run_cli(
                [
                    "walks", str(edges), "--output", str(wdir), "--engine", engine, "--p",
                    f"{p:g}", "--q", f"{q:g}", "--walk-length", str(args.scale_walk_length),
                    "--walks-per-node", str(args.scale_walks_per_node), "--seed",
                    str(args.seed), "--overwrite",
                ],
                extra,
                sample=True,
            )  # fmt: skip
        except CommandFailed as exc:
            rows.append({"method": method, "failed": str(exc)})
            continue
        visits, secs, source = walk_rate(run, wdir)
        steps = run.summary.get("steps", {})
        rows.append(
            {
                "method": method,
                "wall": run.wall,
                "walk_s": secs,
                "visits": visits,
                "rate": visits / secs if secs else float("nan"),
                "peak_single": run.peak_single,
                "peak_kind": run.peak_single_kind,
                "peak_sum": run.peak_sum,
                "split": ", ".join(f"{k} {v:.1f}" for k, v in steps.items())
                + f" (steps/s from {source})",
            }
        )
        if not args.keep:
            import shutil

            shutil.rmtree(wdir / "tokens", ignore_errors=True)
    if args.scale_pecanpy:
        out = work / "pecanpy.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            PY, str(Path(__file__).resolve()), "--graph", str(graph), "--pecanpy-child",
            str(out), "--scale-p", str(p), "--scale-q", str(q), "--scale-walk-length",
            str(args.scale_walk_length), "--scale-walks-per-node",
            str(args.scale_walks_per_node), "--workers", str(workers), "--pecanpy-mode",
            args.pecanpy_mode,
        ]  # fmt: skip
        method = f"PecanPy {args.pecanpy_mode}"
        print("$ " + " ".join(cmd[1:]), flush=True)
        try:
            run = run_process(cmd, sample=True)
            res = json.loads(out.read_text())
            rows.append(
                {
                    "method": method,
                    "wall": run.wall,
                    "walk_s": res["walk_s"],
                    "visits": res["visits"],
                    "rate": res["visits"] / res["walk_s"],
                    "peak_single": run.peak_single,
                    "peak_kind": run.peak_single_kind,
                    "peak_sum": run.peak_sum,
                    "split": f"load {res['load_s']:.1f}, walks {res['walk_s']:.1f} (numba "
                    f"compile per call ~{res['compile_s']:.1f}{_net(res)}); {res['threads']} threads; "
                    f"untimed warm-up {res['warmup_s']:.1f}",
                }
            )
        except (CommandFailed, OSError, ValueError) as exc:
            rows.append({"method": method, "failed": str(exc)})
    load_after = os.getloadavg()[0]
    md = scale_markdown(args, graph, info, rows, workers, load_before, load_after)
    print(md)
    if not args.no_doc:
        write_section("walks-scale", md)
    return 0


def scale_markdown(args, graph, info, rows, workers, load_before, load_after) -> str:

    gb = 1 << 30
    params = info.get("params", {})
    lines = [
        f"## walks-scale: walk engines on a {_size(info.get('vertices', 0))}-vertex power-law graph",
        "",
        f"Graph `{graph.name}` (`python -m bench.make_graphs powerlaw`: Chung-Lu, exponent "
        f"{params.get('exponent', '?')}, expected degrees capped at "
        f"{_fmt(float(params.get('max_expected_degree', 'nan')), ',.0f')}, seed {info.get('seed', '?')}): "
        f"{info.get('vertices', 0):,} vertices with an edge, {info.get('edges', 0):,} "
        f"undirected edges, max degree {info.get('max_degree', 0):,}, median "
        f"{info.get('median_degree', '?')}. Walks: {args.scale_walks_per_node} per vertex, "
        f"{args.scale_walk_length} vertices each, p {args.scale_p:g}, q {args.scale_q:g}. "
        f"Memory: RSS of the command's process tree sampled every 0.5 s. Machine: {machine()}, "
        f"sparkembed local[*], PecanPy {workers} threads; 1-minute load average "
        f"{load_before:.1f} before, {load_after:.1f} after (one run). {versions()}.",
        "",
        "| walker | wall s | walk s | vertices visited | steps/s | peak largest process "
        "| peak sum of processes | time split (s) |",
        "|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in rows:
        if "failed" in r:
            lines.append(_failed_row([r["method"]], r["failed"], 8))
            continue
        lines.append(
            f"| {r['method']} | {r['wall']:.1f} | {r['walk_s']:.1f} | {r['visits']:,} "
            f"| {_fmt(r['rate'], ',.0f')} | {r['peak_single'] / gb:.2f} GB ({r['peak_kind']}) "
            f"| {r['peak_sum'] / gb:.2f} GB | {r['split']} |"
        )
    lines += [
        "",
        "steps/s = vertices visited (start vertices included) / walk seconds: sparkembed's "
        "`walk` step of the stage (walk and write the tokens), PecanPy's `simulate_walks` call "
        "(after an untimed warm-up; the per-call numba compile included). wall = the whole command (process and JVM start, graph "
        "cleaning, vocab). Peaks are RSS, so pages that forked Python workers share count "
        "once per process in the sum.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    ap.add_argument("--graph", help="DIR with edges.parquet (+ labels.parquet)")
    ap.add_argument("--work", default=str(REPO / ".data" / "bench_walks"))
    ap.add_argument("--configs", default="uniform,node2vec", help="of: uniform, node2vec")
    ap.add_argument("--walk-length", type=int, default=80, help="vertices per walk")
    ap.add_argument("--walks-per-node", type=int, default=10)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--w2v-epochs", type=int, default=1, help="gensim epochs, MLlib iterations")
    ap.add_argument("--sgns-epochs", type=int, default=0, help="sgns epochs (0: --w2v-epochs)")
    ap.add_argument(
        "--w2v-partitions",
        type=int,
        default=os.cpu_count() or 1,
        help="MLlib word2vec partitions (default: the cores, as gensim's workers)",
    )
    ap.add_argument("--workers", type=int, default=0, help="PecanPy/gensim threads (0: cores)")
    ap.add_argument("--pecanpy-mode", default="SparseOTF")
    ap.add_argument("--seed", type=int, default=0, help="walk seed and the split's seed")
    ap.add_argument("--skip-pecanpy", action="store_true")
    ap.add_argument(
        "--prone", action="store_true", help="also ProNE: nodevectors' and train --method prone"
    )
    ap.add_argument("--prone-dim", type=int, default=64, help="ProNE's dimension")
    ap.add_argument("--skip-reference-prone", action="store_true", help="--prone: ours only")
    ap.add_argument("--skip-sparkembed", action="store_true")
    ap.add_argument("--skip-svd", action="store_true")
    ap.add_argument("--skip-glove", action="store_true")
    ap.add_argument("--skip-sgns", action="store_true", help="leave out train --method sgns")
    ap.add_argument("--skip-word2vec", action="store_true", help="leave out MLlib word2vec")
    ap.add_argument("--umap", action="store_true", help="add a train --method umap row")
    ap.add_argument("--umap-dim", type=int, default=16)
    ap.add_argument(
        "--spark-set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="passed as --set to every sparkembed command, e.g. spark.driver_memory=8g",
    )
    ap.add_argument("--scale", action="store_true", help="the engine run on powerlaw1m")
    ap.add_argument("--engines", default="replicated,partitioned")
    ap.add_argument("--scale-walk-length", type=int, default=20)
    ap.add_argument("--scale-walks-per-node", type=int, default=1)
    ap.add_argument("--scale-p", type=float, default=1.0)
    ap.add_argument("--scale-q", type=float, default=1.0)
    ap.add_argument("--scale-pecanpy", action="store_true", help="PecanPy on the scale graph")
    ap.add_argument("--keep", action="store_true", help="--scale: keep the walks written")
    ap.add_argument("--no-doc", action="store_true", help="print, do not write the docs")
    ap.add_argument(
        "--section",
        default="walks",
        help="the section of docs/benchmarks.md the default mode writes (a partial run: "
        "its own, such as walks-prone)",
    )
    ap.add_argument("--pecanpy-child", metavar="JSON", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    unknown = set(args.configs.split(",")) - set(CONFIGS)
    if unknown:
        ap.error(f"--configs: unknown {', '.join(sorted(unknown))} (known: {', '.join(CONFIGS)})")
    if args.pecanpy_child:
        return pecanpy_child(args)
    return scale(args) if args.scale else bench(args)


if __name__ == "__main__":
    sys.exit(main())
