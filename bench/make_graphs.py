"""Graphs for the walks benchmarks: undirected edge lists (and labels) as Parquet.

Each graph is a directory with ``edges.parquet`` (src long, dst long; every undirected edge
once, src < dst, no self-loops, no duplicates), ``labels.parquet`` where the graph has
ground-truth classes (id long, label int), and ``graph.json`` with the parameters actually
used, the seed that succeeded, the counts and the generation time (the same JSON is in
edges.parquet's schema metadata under ``sparkembed.graph``). Same arguments + seed -> the
same files. A graph whose files exist is left as it is unless ``--force``.

  lfr       networkx's LFR benchmark graph: n 10,000, mu 0.5, average degree 10, tau1 3,
            tau2 1.5, max degree 100, communities of 20 to 100 vertices. LFR generation
            can fail to converge for a seed; seeds seed, seed+1, ... are tried in turn (up
            to --tries) and the one used is recorded. label = community index, communities
            ordered by their smallest member.        -> .data/graphs/lfr10k/
  powerlaw  Chung-Lu (expected-degree) graph, generated vectorised in numpy: 1,000,000
            vertex ids with power-law expected degrees (exponent 2.3, capped at 50,000,
            scaled to a mean of 2 x edges / vertices), endpoint pairs drawn in chunks with
            probability proportional to the weights, self-loops and duplicates dropped,
            drawn until 10,000,000 distinct edges (the surplus of the last chunk is dropped
            at random). Vertex ids are a random permutation, so hubs are not ids 0, 1, ...
            Vertices no edge reached are absent from the edge list.
                                                     -> .data/graphs/powerlaw1m/
  karate    Zachary's karate club (networkx), label = club (0 Mr. Hi, 1 Officer).
                                                     -> .data/graphs/karate/
  all       the three, each into its default directory.

    .venv/bin/python -m bench.make_graphs lfr [--output DIR] [--seed 1] [--force]
    .venv/bin/python -m bench.make_graphs powerlaw [--vertices 1000000] [--edges 10000000]
        [--exponent 2.3] [--max-degree 50000] [--seed 1] [--force]
    .venv/bin/python -m bench.make_graphs karate
    .venv/bin/python -m bench.make_graphs all
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
GRAPHS = REPO / ".data" / "graphs"
DEFAULT_DIRS = {"lfr": "lfr10k", "powerlaw": "powerlaw1m", "karate": "karate"}
EDGE_SCHEMA = pa.schema([("src", pa.int64()), ("dst", pa.int64())])
LABEL_SCHEMA = pa.schema([("id", pa.int64()), ("label", pa.int32())])


def exists(out: Path, labels: bool) -> bool:
    names = ["edges.parquet", "graph.json"] + (["labels.parquet"] if labels else [])
    return all((out / name).exists() for name in names)


def canonical_edges(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(src, dst) with src < dst, sorted, self-loops and duplicates dropped; and how many
    self-loops there were."""
    src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
    loops = int((src == dst).sum())
    keep = src != dst
    lo, hi = np.minimum(src[keep], dst[keep]), np.maximum(src[keep], dst[keep])
    pairs = np.unique(np.stack([lo, hi], axis=1), axis=0)
    return pairs[:, 0].copy(), pairs[:, 1].copy(), loops


def write_graph(
    out: Path,
    src: np.ndarray,
    dst: np.ndarray,
    info: dict,
    labels: tuple[np.ndarray, np.ndarray] | None = None,
    row_group: int = 2_500_000,
) -> None:
    """edges.parquet (+ labels.parquet) and graph.json, each written beside and renamed."""
    out.mkdir(parents=True, exist_ok=True)
    meta = {b"sparkembed.graph": json.dumps(info, sort_keys=True).encode()}
    tmp = out / "edges.parquet.tmp"
    with pq.ParquetWriter(tmp, EDGE_SCHEMA.with_metadata(meta)) as writer:
        for start in range(0, len(src), row_group):
            stop = start + row_group
            writer.write_table(
                pa.table(
                    {"src": pa.array(src[start:stop]), "dst": pa.array(dst[start:stop])},
                    schema=EDGE_SCHEMA.with_metadata(meta),
                ),
                row_group_size=row_group,
            )
    os.replace(tmp, out / "edges.parquet")
    if labels is not None:
        ids, classes = labels
        table = pa.table(
            {"id": pa.array(ids, pa.int64()), "label": pa.array(classes, pa.int32())},
            schema=LABEL_SCHEMA,
        )
        pq.write_table(table, out / "labels.parquet.tmp")
        os.replace(out / "labels.parquet.tmp", out / "labels.parquet")
    (out / "graph.json.tmp").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    os.replace(out / "graph.json.tmp", out / "graph.json")


def degree_stats(src: np.ndarray, dst: np.ndarray) -> dict:
    deg = np.bincount(np.concatenate([src, dst]))
    deg = deg[deg > 0]
    return {
        "vertices": int(len(deg)),
        "edges": int(len(src)),
        "max_degree": int(deg.max()) if len(deg) else 0,
        "mean_degree": round(float(deg.mean()), 3) if len(deg) else 0.0,
        "median_degree": float(np.median(deg)) if len(deg) else 0.0,
    }


def report(name: str, out: Path, info: dict) -> None:
    print(
        f"{name}: {info['vertices']:,} vertices, {info['edges']:,} edges, max degree "
        f"{info['max_degree']:,}, {info['seconds']:.1f}s -> {out}",
        flush=True,
    )


def make_lfr(args) -> None:
    import networkx as nx

    out = Path(args.output or GRAPHS / DEFAULT_DIRS["lfr"])
    if exists(out, labels=True) and not args.force:
        print(f"lfr: {out} exists (--force to rebuild)")
        return
    params = {
        "n": args.n,
        "tau1": args.tau1,
        "tau2": args.tau2,
        "mu": args.mu,
        "average_degree": args.average_degree,
        "max_degree": args.max_degree,
        "min_community": args.min_community,
        "max_community": args.max_community,
        "max_iters": args.max_iters,
    }
    t0 = time.perf_counter()
    graph, seed, failures = None, args.seed, []
    for seed in range(args.seed, args.seed + args.tries):
        try:
            graph = nx.LFR_benchmark_graph(**params, seed=seed)
            break
        except nx.ExceededMaxIterations as exc:
            failures.append({"seed": seed, "error": str(exc)[:200]})
            print(f"lfr: seed {seed} did not converge ({exc}); trying {seed + 1}", flush=True)
    if graph is None:
        sys.exit(f"lfr: no seed in {args.seed}..{args.seed + args.tries - 1} converged")
    communities = {frozenset(graph.nodes[v]["community"]) for v in graph}
    ordered = sorted(communities, key=min)
    label = np.full(graph.number_of_nodes(), -1, np.int32)
    for index, members in enumerate(ordered):
        label[np.fromiter(members, np.int64)] = index
    if (label < 0).any():
        sys.exit("lfr: a vertex is in no community")
    edges = np.array(list(graph.edges()), np.int64).reshape(-1, 2)
    src, dst, loops = canonical_edges(edges[:, 0], edges[:, 1])
    sizes = np.bincount(label)
    stats = degree_stats(src, dst)
    info = {
        "generator": "networkx.LFR_benchmark_graph",
        "networkx": nx.__version__,
        "params": params,
        "seed": seed,
        "seed_requested": args.seed,
        "failed_seeds": failures,
        "self_loops_dropped": loops,
        "communities": len(ordered),
        "community_sizes": {"min": int(sizes.min()), "max": int(sizes.max())},
        "isolated_vertices": graph.number_of_nodes() - stats["vertices"],
        **stats,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    write_graph(out, src, dst, info, labels=(np.arange(len(label)), label))
    report("lfr", out, info)
    print(f"lfr: {len(ordered)} communities ({sizes.min()}..{sizes.max()} vertices), seed {seed}")


def expected_degrees(n: int, mean: float, exponent: float, cap: float) -> np.ndarray:
    """Power-law weights from the quantiles of a Pareto law (w ~ x^-1/(exponent-1)), capped
    at ``cap`` and scaled (bisection on the scale) so that their mean is ``mean``."""
    shape = ((np.arange(n) + 0.5) / n) ** (-1.0 / (exponent - 1.0))
    lo, hi = 1e-9, mean / shape.mean() * 2 + 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.minimum(mid * shape, cap).mean() < mean:
            lo = mid
        else:
            hi = mid
    return np.minimum(hi * shape, cap)


def make_powerlaw(args) -> None:
    out = Path(args.output or GRAPHS / DEFAULT_DIRS["powerlaw"])
    if exists(out, labels=False) and not args.force:
        print(f"powerlaw: {out} exists (--force to rebuild)")
        return
    t0 = time.perf_counter()
    n, m = args.vertices, args.edges
    rng = np.random.default_rng(args.seed)
    weights = expected_degrees(n, 2.0 * m / n, args.exponent, args.max_degree)
    ids = rng.permutation(n).astype(np.int64)  # weight rank -> vertex id
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    keys = np.empty(0, np.int64)
    drawn = rounds = 0
    while len(keys) < m:
        need = int((m - len(keys)) * 1.03) + 1000
        fresh = []
        for start in range(0, need, args.chunk):
            size = min(args.chunk, need - start)
            a = ids[np.searchsorted(cdf, rng.random(size), side="right").clip(max=n - 1)]
            b = ids[np.searchsorted(cdf, rng.random(size), side="right").clip(max=n - 1)]
            keep = a != b
            lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
            fresh.append(lo * n + hi)
            drawn += size
        keys = np.unique(np.concatenate([keys, *fresh]))
        rounds += 1
    if len(keys) > m:  # drop the surplus at random, not the largest keys
        keys = np.sort(keys[rng.permutation(len(keys))[:m]])
    src, dst = keys // n, keys % n
    del keys
    info = {
        "generator": "Chung-Lu expected-degree model (numpy), multigraph draws deduplicated",
        "params": {
            "vertices": n,
            "edges": m,
            "exponent": args.exponent,
            "max_expected_degree": args.max_degree,
            "mean_expected_degree": 2.0 * m / n,
            "min_expected_degree": round(float(weights.min()), 4),
            "chunk": args.chunk,
        },
        "seed": args.seed,
        "pairs_drawn": drawn,
        "draw_rounds": rounds,
        "vertex_ids": n,
        **degree_stats(src, dst),
        "seconds": 0.0,
    }
    info["seconds"] = round(time.perf_counter() - t0, 2)
    write_graph(out, src, dst, info, row_group=args.row_group)
    info["seconds"] = round(time.perf_counter() - t0, 2)
    (out / "graph.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    report("powerlaw", out, info)
    print(
        f"powerlaw: {n:,} vertex ids, {info['vertices']:,} with an edge; "
        f"{drawn:,} pairs drawn in {rounds} round(s); median degree {info['median_degree']:g}"
    )


def make_karate(args) -> None:
    import networkx as nx

    out = Path(args.output or GRAPHS / DEFAULT_DIRS["karate"])
    if exists(out, labels=True) and not args.force:
        print(f"karate: {out} exists (--force to rebuild)")
        return
    t0 = time.perf_counter()
    graph = nx.karate_club_graph()
    edges = np.array(list(graph.edges()), np.int64)
    src, dst, loops = canonical_edges(edges[:, 0], edges[:, 1])
    clubs = {"Mr. Hi": 0, "Officer": 1}
    nodes = sorted(graph.nodes)
    label = np.array([clubs[graph.nodes[v]["club"]] for v in nodes], np.int32)
    info = {
        "generator": "networkx.karate_club_graph",
        "networkx": nx.__version__,
        "labels": clubs,
        "self_loops_dropped": loops,
        **degree_stats(src, dst),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    write_graph(out, src, dst, info, labels=(np.array(nodes), label))
    report("karate", out, info)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    sub = ap.add_subparsers(dest="graph", required=True, metavar="GRAPH")

    def common(p, seed: int = 1):
        p.add_argument("--output", help="directory (default .data/graphs/<name>/)")
        p.add_argument("--seed", type=int, default=seed)
        p.add_argument("--force", action="store_true", help="rebuild even if the files exist")

    lfr = sub.add_parser("lfr", help="LFR benchmark graph with communities")
    common(lfr)
    lfr.add_argument("--n", type=int, default=10_000)
    lfr.add_argument("--mu", type=float, default=0.5)
    lfr.add_argument("--average-degree", type=float, default=10.0)
    lfr.add_argument("--tau1", type=float, default=3.0, help="degree exponent")
    lfr.add_argument("--tau2", type=float, default=1.5, help="community size exponent")
    lfr.add_argument("--max-degree", type=int, default=100)
    lfr.add_argument("--min-community", type=int, default=20)
    lfr.add_argument("--max-community", type=int, default=100)
    lfr.add_argument("--max-iters", type=int, default=500, help="networkx's max_iters")
    lfr.add_argument("--tries", type=int, default=20, help="seeds to try")

    pl = sub.add_parser("powerlaw", help="Chung-Lu power-law graph (numpy)")
    common(pl)
    pl.add_argument("--vertices", type=int, default=1_000_000)
    pl.add_argument("--edges", type=int, default=10_000_000)
    pl.add_argument("--exponent", type=float, default=2.3)
    pl.add_argument("--max-degree", type=float, default=50_000, help="expected-degree cap")
    pl.add_argument("--chunk", type=int, default=2_000_000, help="pairs drawn per chunk")
    pl.add_argument("--row-group", type=int, default=2_500_000)

    karate = sub.add_parser("karate", help="Zachary's karate club")
    common(karate)

    every = sub.add_parser("all", help="lfr, powerlaw and karate with their defaults")
    every.add_argument("--seed", type=int, default=1)
    every.add_argument("--force", action="store_true")

    args = ap.parse_args(argv)
    makers = {"lfr": make_lfr, "powerlaw": make_powerlaw, "karate": make_karate}
    if args.graph != "all":
        makers[args.graph](args)
        return 0
    for name, maker in makers.items():
        defaults = sub.choices[name].parse_args([])
        defaults.seed, defaults.force = args.seed, args.force
        maker(defaults)
    return 0


if __name__ == "__main__":
    sys.exit(main())
