"""sparkembed.vectors.query.Embeddings answers like gensim's KeyedVectors on the same vectors."""

from __future__ import annotations

import numpy as np
import pytest

from sparkembed.cli import main
from sparkembed.errors import SparkembedError
from sparkembed.vectors.query import Embeddings, UnknownWordError
from sparkembed.vectors.table import write_vectors

QUERIES = [
    (["king"], [], None),
    (["paris", "germany"], ["france"], None),
    (["woman", "king"], ["man"], 1500),
    ([("good", 2.0), "bad"], [("devil", -0.5)], None),
]


def assert_same_answers(ours, theirs, tol=1e-6):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=tol)


@pytest.mark.parametrize(("positive", "negative", "restrict"), QUERIES)
def test_most_similar_agrees_with_gensim(emb, kv, positive, negative, restrict):
    ours = emb.most_similar(positive, negative, topn=15, restrict_vocab=restrict)
    theirs = kv.most_similar(positive, negative, topn=15, restrict_vocab=restrict)
    assert_same_answers(ours, theirs)
    query_words = {w if isinstance(w, str) else w[0] for w in positive + negative}
    assert not query_words & {w for w, _ in ours}
    assert len(ours) == 15


@pytest.mark.parametrize(
    ("positive", "negative"), [(["king"], []), (["paris", "italy"], ["france"])]
)
def test_most_similar_cosmul_agrees_with_gensim(emb, kv, positive, negative):
    assert_same_answers(
        emb.most_similar_cosmul(positive, negative, topn=12),
        kv.most_similar_cosmul(positive, negative, topn=12),
    )


def test_all_scores_and_vector_queries(emb, kv):
    np.testing.assert_allclose(
        emb.most_similar(["tiger"], topn=None), kv.most_similar(["tiger"], topn=None), atol=1e-6
    )
    vec = emb["tiger"] * 2
    assert_same_answers(emb.most_similar([vec], topn=5), kv.most_similar([vec], topn=5))
    assert emb.most_similar([vec], topn=1)[0][0] == "tiger"  # a vector is not a query word


def test_similarity_doesnt_match_lookup(emb, kv):
    for a, b in [("tiger", "cat"), ("love", "sex"), ("Love", "love")]:
        assert emb.similarity(a, b) == pytest.approx(float(kv.similarity(a, b)), abs=1e-6)
    words = ["breakfast", "cereal", "dinner", "lunch", "tiger"]
    assert emb.doesnt_match(words) == kv.doesnt_match(words)
    words = ["january", "march", "june", "computer"]
    assert emb.doesnt_match(words) == kv.doesnt_match(words)
    assert "tiger" in emb and "tigerzzz" not in emb
    np.testing.assert_array_equal(emb["tiger"], kv["tiger"])
    np.testing.assert_array_equal(emb[["tiger", "cat"]], kv[["tiger", "cat"]])
    assert emb._norms is not None  # filled on first use, not at load
    assert Embeddings(["a"], np.ones((1, 2)))._norms is None


def test_unknown_word_names_it_and_suggests_spellings(emb):
    with pytest.raises(KeyError) as info:
        emb.most_similar(["tigre"])
    err = info.value
    assert isinstance(err, UnknownWordError) and isinstance(err, SparkembedError)
    assert err.word == "tigre" and "tiger" in err.suggestions
    assert str(err).startswith("'tigre' is not in the vocabulary; did you mean: ")
    with pytest.raises(UnknownWordError) as info:
        emb.similarity("LoVe", "cat")
    assert info.value.suggestions == ["Love", "love"]  # case variants first
    with pytest.raises(UnknownWordError, match="'qqqqqq' is not in the vocabulary$"):
        emb["qqqqqq"]


@pytest.fixture(scope="module")
def vector_table(spark, synthetic, tmp_path_factory):
    tokens, vectors, counts = synthetic
    df = spark.createDataFrame(
        list(zip(tokens, vectors.tolist(), counts.tolist(), strict=True)),
        "token string, vector array<float>, count long",
    )
    path = str(tmp_path_factory.mktemp("query") / "vectors")
    write_vectors(df, path, dim=vectors.shape[1], method="synthetic", params={}, lang="en")
    return path


def test_load_reads_a_vector_table(vector_table, synthetic):
    tokens, vectors, counts = synthetic
    loaded = Embeddings.load(vector_table)
    assert loaded.index_to_key == tokens
    np.testing.assert_array_equal(loaded.vectors, vectors)
    in_memory = Embeddings(tokens, vectors)
    assert loaded.most_similar(["tiger"], ["cat"]) == in_memory.most_similar(["tiger"], ["cat"])
    assert Embeddings.load(vector_table, lang="en").index_to_key == tokens
    with pytest.raises(SparkembedError, match="no vectors .* for lang=fr"):
        Embeddings.load(vector_table, lang="fr")


def test_cli_similar_word_algebra(vector_table, capsys):
    path = vector_table
    emb_table = Embeddings.load(path)
    code = main(["similar", path, "king", "-man", "+woman", "--topn", "4", "-q"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    expected = emb_table.most_similar(["king", "woman"], ["man"], topn=4)
    assert out[0] == "# king +woman -man (3CosAdd)"
    assert [line.split()[1] for line in out[2:6]] == [w for w, _ in expected]
    assert [float(line.split()[2]) for line in out[2:6]] == [round(s, 4) for _, s in expected]
    assert out[-1].startswith("similar: vocabulary 3,170, dim 48, answers 4 |")

    code = main(["similar", "--cosmul", path, "king", "-man", "woman", "--topn", "2", "-q"])
    out = capsys.readouterr().out.splitlines()
    expected = emb_table.most_similar_cosmul(["king", "woman"], ["man"], topn=2)
    assert code == 0 and [line.split()[1] for line in out[2:4]] == [w for w, _ in expected]

    code = main(["similar", path, "tigre", "-q"])
    captured = capsys.readouterr()
    assert code == 1
    assert "error: 'tigre' is not in the vocabulary; did you mean: tiger" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_queries_across_languages_name_words_by_lang():
    """A two-language table: ``lang:token`` picks one side of a token both have, ``lang=``
    keeps one language's answers, labels carry the lang."""
    tokens = ["casa", "house", "casa", "perro", "dog"]
    langs = ["es", "en", "en", "es", "en"]
    vectors = np.array([[1, 0.1], [1, 0], [0, 1], [0.1, 1], [0.2, 1]], dtype=np.float32)
    emb = Embeddings(tokens, vectors, langs=langs)
    assert emb.get_index("casa") == 0 and emb.get_index("en:casa") == 2
    assert "es:perro" in emb and "en:perro" not in emb
    assert [w for w, _ in emb.most_similar("es:casa", topn=2)] == ["house", "dog"]
    assert [w for w, _ in emb.most_similar("en:casa", topn=3, lang="es")] == ["perro", "casa"]
    assert [emb.label(i) for i, _ in emb.top_rows(emb.most_similar("dog", topn=None), 2, {4})] == [
        "es:perro",
        "en:casa",
    ]
    with pytest.raises(SparkembedError, match="no words of lang 'fr' \\(languages: es, en\\)"):
        emb.most_similar("dog", lang="fr")


def test_cli_similar_reads_a_table_of_another_tool(synthetic, tmp_path, capsys):
    """token + vector list<double> in two Parquet files, nothing else: no count, no lang,
    no _SUCCESS, no _sparkembed.json. Row order is the vocabulary's order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tokens, vectors, _counts = synthetic
    folder = tmp_path / "from-gensim"
    folder.mkdir()
    half = len(tokens) // 2
    for name, rows in (("part-0.parquet", slice(0, half)), ("part-1.parquet", slice(half, None))):
        table = pa.table(
            {"token": tokens[rows], "vector": vectors[rows].astype(np.float64).tolist()}
        )
        pq.write_table(table, folder / name)
    code = main(["similar", str(folder), "king", "-man", "+woman", "--topn", "4", "-q"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    expected = Embeddings(tokens, vectors).most_similar(["king", "woman"], ["man"], topn=4)
    assert [line.split()[1] for line in out[2:6]] == [w for w, _ in expected]
    assert out[-1].startswith("similar: vocabulary 3,170, dim 48, answers 4 |")
    loaded = Embeddings.load(str(folder), lang="en")
    assert loaded.index_to_key == tokens and set(loaded.langs) == {"en"}
    pq.write_table(pa.table({"word": ["a"], "vector": [[1.0]]}), tmp_path / "words.parquet")
    assert main(["similar", str(tmp_path / "words.parquet"), "a", "-q"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        f"{tmp_path / 'words.parquet'}: not a vector table: no column 'token' "
        "(columns: word, vector)"
    )
    assert len(err.splitlines()) == 1
