"""sparkembed report: planted clusters found by the spherical k-means, the same coordinates and PNG
bytes for the same input, the page opened in headless Chromium (every image loaded, no
errors), labels as colours, and the one-line message without the plotting extra."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from helpers import CLI_SESSION

from sparkembed import cli
from sparkembed.vectors.table import write_vectors

GROUPS, PER_GROUP, DIM = 5, 40, 16


@pytest.fixture(scope="module")
def planted(spark, tmp_path_factory):
    """A vector table of 5 groups of 40 words around random centres; frequency falls with
    the row, and raw norms grow with it (as trained vectors' do)."""
    root = tmp_path_factory.mktemp("report")
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((GROUPS, DIM)) * 3
    rows, groups = [], {}
    for i in range(GROUPS * PER_GROUP):
        g = i % GROUPS
        count = 10_000 // (i + 1) + 1
        x = (centres[g] + 0.3 * rng.standard_normal(DIM)) * np.log(count + 1)
        word = f"g{g}w{i}"
        rows.append((word, [float(v) for v in x], count))
        groups[word] = f"group {g}"
    df = spark.createDataFrame(rows, "token string, vector array<float>, count long")
    path = root / "vectors"
    write_vectors(df, str(path), dim=DIM, method="svd", lang="en", stage="train")
    evaluation = root / "eval"
    evaluation.mkdir()
    (evaluation / "evaluation.json").write_text(
        json.dumps(
            {
                "vectors": str(path),
                "word_pairs": [{"name": "pairs.tsv", "spearman": 0.61}],
                "analogies": [{"name": "questions.txt", "method": "3cosadd", "accuracy": 0.2}],
            }
        )
    )
    labels = root / "labels.tsv"
    labels.write_text("".join(f"{w}\t{g}\n" for w, g in groups.items()))
    return {"root": root, "vectors": str(path), "eval": str(evaluation), "groups": groups,
            "labels": str(labels)}  # fmt: skip


def _report(planted, out, *extra) -> int:
    argv = ["report", planted["vectors"], "--output", str(out), "--clusters", str(GROUPS)]
    return cli.main([*argv, "--top", "200", "--evaluation", planted["eval"], *extra, "-q",
                     *CLI_SESSION])  # fmt: skip


def _map(out) -> list[list[str]]:
    return [line.split("\t") for line in (out / "word_map.tsv").read_text().splitlines()[1:]]


@pytest.fixture(scope="module")
def report(planted):
    out = planted["root"] / "report"
    assert _report(planted, out) == 0
    return out


def test_kmeans_finds_the_planted_groups_and_the_map_repeats(planted, report):
    rows = _map(report)
    assert len(rows) == GROUPS * PER_GROUP
    by_cluster: dict[str, list[str]] = {}
    for key, _x, _y, cluster, _label in rows:
        by_cluster.setdefault(cluster, []).append(planted["groups"][key])
    # every k-means cluster is one planted group
    assert sorted(len(set(g)) for g in by_cluster.values()) == [1] * GROUPS
    for name in ("report.html", "word_map.png", "heatmap.png", "norms.png", "evaluation.png"):
        assert (report / name).stat().st_size > 1000, name
    again = planted["root"] / "again"
    assert _report(planted, again) == 0
    assert _map(again) == rows  # same clusters and coordinates
    assert (again / "word_map.png").read_bytes() == (report / "word_map.png").read_bytes()
    html = (report / "report.html").read_text()
    assert "Spearman rank correlation of norm and count: +" in html  # norms grow with count


def test_the_page_opens_in_headless_chromium(report, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "headless Chromium not found: scripts/setup.sh installs Debian's chromium"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
    url = (report / "report.html").resolve().as_uri()
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *flags, "--window-size=1400,3600", f"--screenshot={shot}", url],
        capture_output=True, timeout=180, check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 50_000  # a page with pictures, not a blank one
    dom = subprocess.run(
        [browser, *flags, "--enable-logging=stderr", "--v=0", "--dump-dom", url],
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    body = dom.stdout[dom.stdout.index("<body") :].split(">", 1)[0]
    assert 'data-images="4"' in body and 'data-loaded="4"' in body and 'data-errors="0"' in body
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert console == []


def test_labels_colour_the_map(planted, tmp_path):
    out = tmp_path / "labelled"
    assert _report(planted, out, "--labels", planted["labels"]) == 0
    rows = _map(out)
    assert all(label == planted["groups"][key] for key, *_rest, label in rows)
    html = (out / "report.html").read_text()
    assert html.count("<img") == 4


def test_without_the_plotting_extra_one_line(planted, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    capsys.readouterr()
    assert _report(planted, tmp_path / "none") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "sparkembed report: error: sparkembed report needs the plotting extra: pip install "
        "'sparkembed[report]' (scripts/setup.sh installs it)"
    ]


def test_document_vectors_get_a_map_named_by_their_titles(spark, tmp_path):
    from sparkembed.tables import Commit
    from sparkembed.vectors.table import write_doc_vectors

    rng = np.random.default_rng(8)
    centres = rng.standard_normal((2, DIM)) * 3
    rows = [
        (
            f"d{i}",
            f"Article {i}",
            "en",
            None,
            [float(v) for v in centres[i % 2] + rng.standard_normal(DIM) * 0.2],
            10 + i,
            0,
        )
        for i in range(30)
    ]
    schema = "doc_id string, title string, lang string, sentence int, vector array<float>, n_tokens int, n_oov int"
    df = spark.createDataFrame(rows, schema)
    df = df.withColumn("norm", df["n_tokens"].cast("float"))
    path = tmp_path / "doc_vectors"
    with Commit(spark, "aggregate", {}, []) as c:
        write_doc_vectors(df, str(path), dim=DIM, commit=c)
    out = tmp_path / "docs-report"
    argv = ["report", str(path), "--output", str(out), "--clusters", "2", "-q", *CLI_SESSION]
    assert cli.main(argv) == 0
    rows_out = _map(out)
    assert sorted(r[0] for r in rows_out) == sorted(f"d{i}" for i in range(30))
    clusters = {r[0]: r[3] for r in rows_out}
    assert len({clusters[f"d{i}"] for i in range(0, 30, 2)}) == 1  # one centre, one cluster
    assert clusters["d0"] != clusters["d1"]
    assert "Article 29" in (out / "report.html").read_text()  # named by title


def test_a_pipeline_reports_what_its_evaluate_stage_writes(tmp_path, capsys):
    """``run`` plans every stage before the first runs: the report's --evaluation folder
    does not exist yet when it is planned."""
    corpus = tmp_path / "corpus.txt"
    words = [f"w{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(40)]  # letters only
    rng = np.random.default_rng(2)
    corpus.write_text("\n".join(" ".join(rng.choice(words, 12)) for _ in range(400)) + "\n")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{words[i]}\t{words[i + 1]}\t{i % 7}\n" for i in range(20)))
    f = tmp_path / "p.toml"
    f.write_text(
        f'[pipeline]\nworkdir = "{tmp_path}/work"\ninputs = ["{corpus}"]\n'
        f'pairs = ["{pairs}"]\n'
        'stages = ["tokenize", "cooccur", "train:svd", "evaluate:svd", "report:svd"]\n'
        "[tokenize]\nmin_count = 1\n[train]\ndim = 8\n[report]\ntop = 40\nclusters = 3\n"
    )
    assert cli.main(["run", str(f), "-q", *CLI_SESSION]) == 0
    assert "run: 5 stages run, 0 skipped" in capsys.readouterr().out
    assert (tmp_path / "work" / "pictures-svd" / "evaluation.png").is_file()
    missing = tmp_path / "nothing"
    assert cli.main(["report", str(tmp_path / "work" / "vectors-svd"), "--output",
                     str(tmp_path / "r2"), "--evaluation", str(missing), "-q",
                     *CLI_SESSION]) == 1  # fmt: skip


def test_a_table_of_another_tool_without_counts(planted, tmp_path, capsys):
    """token + list<double> only: the map is drawn from the first rows, the norm plot
    against the rows' order, and no norm-count correlation is claimed."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    own = ds.dataset(planted["vectors"], format="parquet", partitioning="hive").to_table()
    own = own.sort_by([("count", "descending"), ("token", "ascending")])
    folder = tmp_path / "foreign"
    folder.mkdir()
    vectors = own.column("vector").cast(pa.list_(pa.float64()))
    pq.write_table(
        pa.table({"token": own.column("token"), "vector": vectors}), folder / "v.parquet"
    )
    out = tmp_path / "report"
    argv = ["report", str(folder), "--output", str(out), "--clusters", str(GROUPS), "--top", "50"]
    assert cli.main([*argv, *CLI_SESSION]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("report: mapped 50, clusters 5, ")
    assert "norm-count rho n/a (no counts)" in summary
    page = (out / "report.html").read_text()
    assert "The table has no counts (all equal)" in page and "+nan" not in page
    words = [row[0] for row in _map(out)]
    assert words == own.column("token").to_pylist()[:50]
