"""Benchmark: all-vocabulary top-10 neighbours, Spark (local[2]) vs one numpy process.

100k tokens x 100 dims of seeded random vectors, written as a vector table. Both sides run
the same blocked algorithm (``sparkembed.linalg.topk.iter_topk``, 64 MB score blocks):
- numpy: one process reads the table with pyarrow and scores every token, results kept
  in memory (no output written);
- Spark: ``sparkembed neighbors`` end to end, run in this process once the session has
  started: read the table, collect and broadcast the unit matrix, score in tasks
  (mapInArrow), write DIR/neighbors as Parquet.
One run each; the figures go to docs/benchmarks.md (section "neighbors").

.venv/bin/python -m bench.neighbors [--tokens 100000] [--dim 100] [--topn 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.doc import machine, write_section
from sparkembed.cli import main as sparkembed
from sparkembed.config import SparkConfig
from sparkembed.linalg.topk import block_rows, iter_topk, unit_rows
from sparkembed.session import get_spark
from sparkembed.vectors.table import load_vectors, write_vectors

SPARK = SparkConfig(master="local[2]", driver_memory="4g")


def make_table(spark, path: Path, n: int, dim: int, seed: int = 42) -> None:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    staging = path.parent / "raw.parquet"
    table = pa.table(
        {
            "token": [f"w{i:06d}" for i in range(n)],
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), dim).cast(
                pa.list_(pa.float32())
            ),
            "count": pa.array(np.arange(n, 0, -1), pa.int64()),
        }
    )
    pq.write_table(table, staging)
    write_vectors(spark.read.parquet(str(staging)), str(path), dim=dim, method="random", params={})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--topn", type=int, default=10)
    parser.add_argument("--block-mb", type=int, default=64)
    parser.add_argument("--no-doc", action="store_true", help="print, do not write the docs")
    args = parser.parse_args()
    n, dim, k = args.tokens, args.dim, args.topn
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="bench_neighbors_"))
    spark = get_spark(SPARK)  # started before the clock
    try:
        vectors_path = work / "vectors"
        make_table(spark, vectors_path, n, dim)

        t0 = time.perf_counter()
        vs = load_vectors(vectors_path)
        unit = unit_rows(vs.vectors)
        rows = block_rows(n, args.block_mb)
        kept = [b[1] for b in iter_topk(np.arange(n), unit, k, rows)]
        numpy_s = time.perf_counter() - t0
        numpy_ids = np.vstack(kept)

        t0 = time.perf_counter()
        argv = ["neighbors", str(vectors_path), "--output", str(work / "out"), "-q"]
        argv += ["--set", 'spark.master="local[2]"', "--set", 'spark.driver_memory="4g"']
        argv += ["--set", f"evaluate.topn={k}", "--set", f"evaluate.block_mb={args.block_mb}"]
        if sparkembed(argv) != 0:
            sys.exit(f"failed: sparkembed {' '.join(argv)}")
        spark_s = time.perf_counter() - t0
        spark = get_spark(SPARK)
        out = work / "out" / "neighbors"
        tokens = vs.tokens

        # Same answers: the rank-1 neighbour of every token.
        first = spark.read.parquet(str(out)).where("rank = 1").select("token", "neighbor").toArrow()
        index = {t: i for i, t in enumerate(tokens)}
        got = {
            t: index[m]
            for t, m in zip(first["token"].to_pylist(), first["neighbor"].to_pylist(), strict=True)
        }
        agree = np.mean([got[tokens[i]] == numpy_ids[i, 0] for i in range(n)])
        load_after = os.getloadavg()[0]
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)

    md = f"""## neighbors: all-vocabulary top-{k}

`bench/neighbors.py`: {n:,} tokens x {dim} dims (seeded random float32), top-{k}
cosine neighbours of every token, score blocks of {args.block_mb} MB ({rows} query rows).
One run on {machine()}; **the machine is shared with other engineers running
Spark jobs at the same time, so timings are noisy** (1-minute load average
{load_before:.1f} before the run, {load_after:.1f} after it, on 2 cores).

| implementation | seconds | tokens/s |
|---|---:|---:|
| numpy, one process (same blocked algorithm, results kept in memory) | {numpy_s:.1f} | {n / numpy_s:,.0f} |
| Spark local[2], `sparkembed neighbors` end to end (read, broadcast, score, write Parquet) | {spark_s:.1f} | {n / spark_s:,.0f} |

Rank-1 neighbours identical on {agree:.2%} of tokens. Both sides do the same
{2 * n * n * dim / 1e12:.1f} TFLOP of float32 matrix products plus a top-{k} selection over
{n * n / 1e9:.0f}G scores (segment-maximum bound, then an exact sort of the few candidates).
On 2 cores the Spark job cannot be expected to beat numpy, whose BLAS already uses both cores; what it
adds is that the work splits over executors, with memory bounded per task.
"""
    print(md)
    if not args.no_doc:
        write_section("neighbors", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
