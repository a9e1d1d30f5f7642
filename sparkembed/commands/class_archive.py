"""Build the JVM class-data archive (CDS) that sparkembed's local sessions start from.

``python -m sparkembed.commands.class_archive [--force]`` (run by scripts/setup.sh) runs the demo
pipeline on gensim's English sample, small (dim 10, one word2vec iteration), in a JVM
started with ``-XX:ArchiveClassesAtExit``: when that JVM exits it writes the classes it
loaded (Spark, Hadoop, Parquet, Arrow, MLlib) to ``session.class_archive_path``. Later
sessions map them instead of loading and verifying each class again: a run starts
seconds sooner and its JIT has less to do (figures in docs/benchmarks.md).

The archive fits one JVM build and one Spark class path, hence the digest in its name;
a session whose java or pyspark differs does not find it and starts as before.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from sparkembed.config import SparkConfig

SAMPLE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"

PIPELINE = """
[pipeline]
workdir = "{workdir}"
inputs = ["{data}/{sample}"]
stages = ["tokenize", "cooccur", "train:svd", "train:word2vec", "evaluate:svd"]
pairs = ["{data}/wordsim353.tsv"]
analogies = ["{data}/questions-words.txt"]

[spark]
master = "local[2]"

[train]
dim = 10

[word2vec]
max_iter = 1
"""


def _gensim_data() -> Path | None:
    try:
        import gensim.test.utils as gtu
    except ImportError:
        return None
    data = Path(gtu.__file__).parent / "test_data"
    return data if (data / SAMPLE).is_file() else None


def build(target: Path) -> None:
    """Run the workload in a JVM that dumps its classes to ``target`` (atomically)."""
    from sparkembed.commands.run import load_pipeline, run_pipeline
    from sparkembed.session import get_spark

    data = _gensim_data()
    if data is None:
        raise SystemExit("class archive: gensim's test data not found (pip install -e .[test])")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="sparkembed-cds-") as tmp:
        pipeline = Path(tmp) / "pipeline.toml"
        pipeline.write_text(
            PIPELINE.format(workdir=f"{tmp}/work", data=data, sample=SAMPLE), encoding="utf-8"
        )
        # The first session of this process carries the dump option; the stages reuse it.
        spark = get_spark(SparkConfig(master="local[2]"), dump_class_archive=partial)
        try:
            run_pipeline(load_pipeline(pipeline), [], quiet=True)
        except Exception as exc:
            raise SystemExit(f"class archive: the workload failed: {exc}") from exc
        gateway = spark.sparkContext._gateway
        spark.stop()
        # The JVM writes the archive as it exits, which it does when its stdin closes.
        proc = getattr(gateway, "proc", None)
        if proc is None:
            raise SystemExit("class archive: no JVM process to wait for")
        proc.stdin.close()
        proc.wait(timeout=600)
    if not partial.is_file() or partial.stat().st_size == 0:
        raise SystemExit(f"class archive: the JVM wrote no archive ({partial})")
    os.replace(partial, target)


def main(argv: list[str] | None = None) -> int:
    from sparkembed.session import class_archive_path

    parser = argparse.ArgumentParser(
        prog="python -m sparkembed.jvm.class_archive",
        description="Build the JVM class-data archive local sparkembed sessions start from.",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if it exists")
    parser.add_argument(
        "--check", action="store_true", help="exit 0 if it exists, 1 if not; build nothing"
    )
    args = parser.parse_args(argv)
    target = class_archive_path(SparkConfig())
    if args.check:
        return 0 if target is not None and target.is_file() else 1
    if target is None:
        print("class archive: no java found, nothing built", file=sys.stderr)
        return 1
    if target.is_file() and not args.force:
        print(f"class archive: {target} exists", file=sys.stderr)
        return 0
    for stale in target.parent.glob("spark-classes-*.jsa"):
        stale.unlink()  # archives of another java or pyspark: never used again
    build(target)
    size = target.stat().st_size / 2**20
    print(f"class archive: built {target} ({size:.0f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
