"""Document vectors: the aggregate stage against a numpy SIF reference (weights, OOV tokens,
0, 1 and 2 components removed), the Spark Gram-matrix path against numpy's SVD, stored
components reused, sentence units, two languages in one space, and the errors."""

import json

import numpy as np
import pytest
from helpers import CLI_SESSION, publish_workdir
from pyspark.testing import assertDataFrameEqual

from bench.reference import sif_reference
from sparkembed import cli
from sparkembed.linalg.gram import gram_matrices, top_components
from sparkembed.vectors.query import Embeddings
from sparkembed.vectors.table import write_vectors

TOKENS = "doc_id string, title string, lang string, sentence int, tokens array<string>"
DIM = 5
WORDS = ["the", "law", "court", "judge", "river", "boat", "fish", "rare"]
# count, doc_count
VOCAB = {
    "the": (40, 6),
    "law": (9, 3),
    "court": (6, 2),
    "judge": (5, 2),
    "river": (7, 2),
    "boat": (4, 1),
    "fish": (3, 1),
    "rare": (1, 1),
}
# doc_id -> sentences; "zzz" has no vector, "empty" has no token at all.
DOCS = {
    "d1": [["the", "law", "court"], ["judge", "the", "law"]],
    "d2": [["the", "river", "boat"]],
    "d3": [["fish", "zzz", "river"], ["the", "boat", "rare", "boat"]],
    "d4": [["the", "judge"], ["court", "zzz"], ["law"]],
    "d5": [["zzz", "zzz"]],
    "d6": [["rare", "the", "fish", "law"]],
    "empty": [[]],
}


def _vectors(seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    # a shared offset: the common component SIF removes
    return {w: (rng.standard_normal(DIM) + 1.5).astype(np.float32) for w in WORDS}


def _workdir(spark, root, docs=DOCS, lang="en", partitions=2, prefix=""):
    rows = [
        (doc, f"Title {doc}", lang, i, toks)
        for doc, sents in docs.items()
        for i, toks in enumerate(sents)
    ]
    tokens = spark.createDataFrame(rows, TOKENS).repartition(partitions)
    vocab = spark.createDataFrame(
        [(i, prefix + w, c, d) for i, (w, (c, d)) in enumerate(VOCAB.items())],
        "id int, token string, count long, doc_count long",
    )
    publish_workdir(spark, root, tokens=tokens, vocab=vocab)
    return str(root)


def _vector_table(spark, path, vectors, lang="en"):
    rows = [(w, [float(v) for v in x], VOCAB.get(w, (1, 1))[0]) for w, x in vectors.items()]
    df = spark.createDataFrame(rows, "token string, vector array<float>, count long")
    write_vectors(df, str(path), dim=DIM, method="svd", lang=lang, stage="train")
    return str(path)


def _aggregate(*args) -> int:
    return cli.main(["aggregate", *map(str, args), "-q", *CLI_SESSION])


def _expected(spark, docs, weighting, k, vectors):
    flat = [[t for s in sents for t in s] for sents in docs.values()]
    means, comps = sif_reference(flat, vectors, VOCAB, weighting=weighting, k=k)
    rows = [
        (
            doc,
            f"Title {doc}",
            "en",
            None,
            [float(v) for v in m],
            len(toks),
            sum(t not in vectors for t in toks),
        )
        for (doc, m, toks) in zip(docs, means, flat, strict=True)
        if m is not None
    ]
    schema = "doc_id string, title string, lang string, sentence int, vector array<double>, n_tokens int, n_oov int"
    return spark.createDataFrame(rows, schema), comps


@pytest.fixture(scope="module")
def sample(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("aggregate")
    vectors = _vectors()
    return {
        "dir": _workdir(spark, root / "work"),
        "vectors": _vector_table(spark, root / "vectors", vectors),
        "arrays": vectors,
        "root": root,
    }


@pytest.fixture(scope="module")
def sif_table(sample):
    """OUT/doc_vectors of the sample with the defaults (sif, one component)."""
    out = sample["root"] / "out-sif-1"
    if not (out / "doc_vectors" / "_SUCCESS").exists():
        assert _aggregate(sample["dir"], sample["vectors"], "--output", out) == 0
    return out / "doc_vectors"


def _read(spark, path):
    df = spark.read.parquet(str(path))
    return df.select(
        "doc_id",
        "title",
        "lang",
        "sentence",
        df["vector"].cast("array<double>"),
        "n_tokens",
        "n_oov",
    )


@pytest.mark.parametrize(
    "weighting,k", [("sif", 0), ("sif", 1), ("sif", 2), ("idf", 1), ("uniform", 1)]
)
def test_document_vectors_equal_the_numpy_reference(spark, sample, weighting, k):
    out = sample["root"] / f"out-{weighting}-{k}"
    flags = ["--weighting", weighting, "--components", str(k)]
    assert _aggregate(sample["dir"], sample["vectors"], "--output", out, *flags) == 0
    expected, comps = _expected(spark, DOCS, weighting, k, sample["arrays"])
    got = _read(spark, out / "doc_vectors")
    assertDataFrameEqual(got, expected, rtol=1e-5, atol=1e-6)
    meta = json.loads((out / "doc_vectors" / "_sparkembed.json").read_text())
    stored = np.array(meta["components"]["en"]) if k else np.zeros((0, DIM))
    assert stored.shape == (k, DIM)
    for u, v in zip(stored, comps, strict=True):  # the same directions, up to sign
        assert abs(abs(float(u @ v)) - 1.0) < 1e-6
    assert meta["weighting"] == weighting and meta["dim"] == DIM
    assert meta["counts"] == {"documents": 5, "tokens": 27, "oov": 4}
    rejected = spark.read.parquet(str(out / "doc_rejected")).orderBy("excerpt").collect()
    assert [(r["reason"], r["excerpt"]) for r in rejected] == [
        ("no token has a vector", "d5: zzz zzz"),
        ("no tokens", "empty: "),
    ]
    assert all(r["source"] == f"{sample['dir']}/tokens" for r in rejected)


def test_same_vectors_whatever_the_partitioning(spark, sample, tmp_path):
    one = _workdir(spark, tmp_path / "one", partitions=1)
    five = _workdir(spark, tmp_path / "five", partitions=5)
    for d in (one, five):
        assert _aggregate(d, sample["vectors"], "--output", f"{d}-out") == 0
    a = spark.read.parquet(f"{one}-out/doc_vectors").orderBy("doc_id").collect()
    b = spark.read.parquet(f"{five}-out/doc_vectors").orderBy("doc_id").collect()
    assert a == b and len(a) == 5


def test_gram_matrix_in_spark_gives_numpy_svd_directions(spark):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 6)) @ np.diag([5, 3, 2, 1, 0.5, 0.2]) + 0.7
    rows = [(["a", "b"][i % 2], [float(v) for v in row]) for i, row in enumerate(x)]
    df = spark.createDataFrame(rows, "lang string, vector array<float>").repartition(4)
    grams = gram_matrices(df, 6, group="lang")
    assert sorted(grams) == ["a", "b"]
    x32 = x.astype(np.float32).astype(np.float64)
    for i, lang in enumerate(("a", "b")):
        part = x32[i::2]
        rows_n, g = grams[lang]
        assert rows_n == 150
        np.testing.assert_allclose(g, part.T @ part, rtol=1e-12)
        u, s = top_components(g, 2)
        _, s_ref, vt = np.linalg.svd(part, full_matrices=False)
        np.testing.assert_allclose(s, s_ref[:2], rtol=1e-9)
        for got, ref in zip(u, vt[:2], strict=True):
            np.testing.assert_allclose(got, ref * np.sign(got @ ref), atol=1e-9)
        assert all(row[np.argmax(np.abs(row))] > 0 for row in u)  # deterministic signs
    whole, _ = gram_matrices(df, 6)[""]
    assert whole == 300


def test_components_from_an_earlier_table_embed_new_documents_the_same_way(spark, sample, tmp_path):
    first = tmp_path / "first"
    assert _aggregate(sample["dir"], sample["vectors"], "--output", first) == 0
    new_docs = {"n1": [["the", "court", "fish"]], "n2": [["law", "law", "boat"]]}
    new_dir = _workdir(spark, tmp_path / "new", docs=new_docs)
    second = tmp_path / "second"
    args = (new_dir, sample["vectors"], "--output", second, "--components-from")
    assert _aggregate(*args, first / "doc_vectors") == 0
    comps = np.array(
        json.loads((first / "doc_vectors" / "_sparkembed.json").read_text())["components"]["en"]
    )
    meta = json.loads((second / "doc_vectors" / "_sparkembed.json").read_text())
    np.testing.assert_array_equal(np.array(meta["components"]["en"]), comps)
    means, _ = sif_reference(
        [[t for s in d for t in s] for d in new_docs.values()], sample["arrays"], VOCAB, k=0
    )
    got = {
        r["doc_id"]: np.array(r["vector"])
        for r in spark.read.parquet(str(second / "doc_vectors")).collect()
    }
    for doc, m in zip(new_docs, means, strict=True):
        np.testing.assert_allclose(got[doc], m - comps.T @ (comps @ m), rtol=1e-5, atol=1e-6)
    assert _aggregate(*args, sample["vectors"]) == 1  # a word vector table has none


def test_sentence_vectors_and_document_queries(spark, sample, sif_table, tmp_path, capsys):
    out = tmp_path / "sentences"
    assert _aggregate(sample["dir"], sample["vectors"], "--output", out, "--unit", "sentence") == 0
    got = spark.read.parquet(str(out / "doc_vectors"))
    # 11 sentences, of which d5's and the empty one have no known token
    assert got.count() == 9
    kv = Embeddings.load(str(out / "doc_vectors"))
    assert "d1#1" in kv and "d3#0" in kv
    docs = Embeddings.load(str(sif_table))
    assert set(docs.index_to_key) == {"d1", "d2", "d3", "d4", "d6"}
    best = docs.most_similar("d1", topn=1)[0][0]
    assert best == "d4"  # the other law-and-court document
    capsys.readouterr()
    assert cli.main(["similar", str(sif_table), "d2", "-q"]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[1] == "d3"  # river, boat


def test_two_languages_land_in_one_space(spark, sample, tmp_path):
    """English and a 'translated' language whose words have the English words' vectors
    (as after alignment): a document and its translation get the same vector."""
    en = sample["arrays"]
    rows = [(w, [float(v) for v in x], VOCAB[w][0], "en") for w, x in en.items()]
    rows += [("x" + w, [float(v) for v in x], VOCAB[w][0], "xx") for w, x in en.items()]
    df = spark.createDataFrame(rows, "token string, vector array<float>, count long, lang string")
    aligned = str(tmp_path / "aligned")
    write_vectors(df, aligned, dim=DIM, method="aligned", stage="align")
    translated = {d: [["x" + t for t in s] for s in sents] for d, sents in DOCS.items()}
    xx_dir = _workdir(spark, tmp_path / "xx", docs=translated, lang="xx", prefix="x")
    out = tmp_path / "both"
    args = (sample["dir"], xx_dir, aligned, "--output", out, "--components", "0")
    assert _aggregate(*args) == 0
    kv = Embeddings.load(str(out / "doc_vectors"))
    assert kv.languages == ["en", "xx"]
    for doc in ("d1", "d2", "d3", "d4", "d6"):
        (best, cosine), *_ = kv.most_similar(f"en:{doc}", topn=1, lang="xx")
        assert best == doc and cosine == pytest.approx(1.0, abs=1e-6)


def test_aggregate_errors_name_what_is_wrong(spark, sample, tmp_path, capsys):
    capsys.readouterr()
    other = _workdir(spark, tmp_path / "fr", lang="fr")
    assert _aggregate(other, sample["vectors"], "--output", tmp_path / "o1") == 1
    err = capsys.readouterr().err
    assert "has no vectors of lang fr (it has en): choose one with --vectors-lang" in err
    # with --vectors-lang the French tokens are looked up in the English vectors
    assert (
        _aggregate(other, sample["vectors"], "--output", tmp_path / "o2", "--vectors-lang", "en")
        == 0
    )
    capsys.readouterr()
    bad = ("--set", 'aggregate.weighting="tfidf"')
    assert _aggregate(sample["dir"], sample["vectors"], "--output", tmp_path / "o3", *bad) == 1
    assert "aggregate.weighting must be one of sif, idf, uniform, got 'tfidf'" in (
        capsys.readouterr().err
    )


def test_the_docs_logistic_regression_example_runs(spark, sample, tmp_path, capsys):
    """docs/aggregate.md's MLlib example, as printed there, on documents of two topics."""
    import re
    from pathlib import Path

    rng = np.random.default_rng(5)
    topics = {"law": ["law", "court", "judge"], "water": ["river", "boat", "fish"]}
    docs, labels = {}, []
    for i in range(60):
        label = "law" if i % 2 else "water"
        docs[f"t{i}"] = [["the", *rng.choice(topics[label], 4).tolist()]]
        labels.append(f"t{i},{label}")
    work = _workdir(spark, tmp_path / "work", docs=docs)
    assert _aggregate(work, sample["vectors"], "--output", tmp_path / "docs") == 0
    (tmp_path / "labels.csv").write_text("doc_id,label\n" + "\n".join(labels) + "\n")
    text = (Path(__file__).resolve().parents[3] / "docs" / "aggregate.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    # the example's relative paths, under tmp_path (the JVM keeps its own working directory)
    code = code.replace('"docs/', f'"{tmp_path}/docs/').replace(
        '"labels.csv"', f'"{tmp_path}/labels.csv"'
    )
    capsys.readouterr()
    exec(compile(code, "docs/aggregate.md", "exec"), {})
    accuracy = float(capsys.readouterr().out.split()[-1])
    assert accuracy >= 0.9  # the topics' words are apart: near-perfect


def test_duckdb_and_polars_read_the_document_vectors(sif_table):
    import duckdb
    import polars as pl

    path = sif_table
    kv = Embeddings.load(str(path))
    glob = f"{path}/**/*.parquet"
    rows = (
        duckdb.connect()
        .execute(
            f"select doc_id, title, lang, vector, n_tokens, n_oov from read_parquet('{glob}', "
            "hive_partitioning=true) order by doc_id"
        )
        .fetchall()
    )
    assert [r[0] for r in rows] == ["d1", "d2", "d3", "d4", "d6"]
    assert rows[2][1:3] == ("Title d3", "en") and rows[2][4:] == (7, 1)
    np.testing.assert_array_equal(np.array(rows[0][3], np.float32), kv.get_vector("d1"))
    df = pl.read_parquet(glob, hive_partitioning=True).sort("doc_id")
    assert df["doc_id"].to_list() == ["d1", "d2", "d3", "d4", "d6"]
    matrix = df["vector"].cast(pl.Array(pl.Float32, DIM)).to_numpy()
    np.testing.assert_allclose(df["norm"].to_numpy(), np.linalg.norm(matrix, axis=1), rtol=1e-6)


def test_word_vectors_of_another_tool(spark, sample, tmp_path, capsys):
    """A Parquet folder of token + list<double> only (no count, lang, norm, _SUCCESS):
    a table without languages serves the tokens of every language, and the document
    vectors are the reference's (weights come from the vocabulary, not the vector table)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "glove"
    folder.mkdir()
    words = list(sample["arrays"])
    vectors = [sample["arrays"][w].astype(np.float64).tolist() for w in words]
    pq.write_table(pa.table({"token": words, "vector": vectors}), folder / "part-0.parquet")
    out = tmp_path / "out"
    argv = ["aggregate", sample["dir"], str(folder), "--output", str(out), *CLI_SESSION]
    assert cli.main(argv) == 0
    assert "has no languages: every token looked up in it" in capsys.readouterr().err
    expected, _comps = _expected(spark, DOCS, "sif", 1, sample["arrays"])
    assertDataFrameEqual(_read(spark, out / "doc_vectors"), expected, rtol=1e-5, atol=1e-6)
    bad = tmp_path / "bad"
    bad.mkdir()
    pq.write_table(pa.table({"token": words, "emb": vectors}), bad / "part-0.parquet")
    argv = ["aggregate", sample["dir"], str(bad), "--output", str(tmp_path / "o2"), "-q"]
    assert cli.main([*argv, *CLI_SESSION]) == 1
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(f"{bad}: not a vector table: no column 'vector' (columns: token, emb)")
    )
