"""Alignment: Procrustes and CSLS against numpy, the Spark passes against the same algebra
in numpy, the seed dictionary's treatment of bad lines, and the errors."""

import json

import numpy as np
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from sparkembed.errors import SparkembedError
from sparkembed.stages.align import apply
from sparkembed.stages.align.align import Side, learn_map
from sparkembed.stages.align.dictionary import Dictionary, identical_pairs, read_dictionary
from sparkembed.stages.align.procrustes import (
    check_steps,
    mutual_csls_pairs,
    normalize,
    procrustes,
    unit,
)

STEPS = ("unit", "center", "unit")


def _orthogonal(d: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q * np.sign(np.diag(r))


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_procrustes_recovers_a_random_orthogonal_map(noise):
    n, d = 500, 20
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, d))
    q = _orthogonal(d, 2)
    y = x @ q + noise * rng.standard_normal((n, d))
    w = procrustes(x, y)
    np.testing.assert_allclose(w.T @ w, np.eye(d), atol=1e-10)  # orthogonal
    # Error bound: exact without noise; with N(0, noise²) noise on every entry,
    # ||w - q||_F stays below 2 * noise * d / sqrt(n) (0.089 here; measured 0.03).
    bound = 1e-10 if noise == 0 else 2 * noise * d / np.sqrt(n)
    assert np.linalg.norm(w - q) < bound


def test_normalize_unit_center_unit_as_vecmap():
    x = np.random.default_rng(3).standard_normal((50, 6)) + 4.0
    first = unit(x)
    mean = first.mean(axis=0)
    got = normalize(x, STEPS, [mean])
    ref = first - mean
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(got, ref, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-12)
    with pytest.raises(SparkembedError, match="unknown step 'whiten'"):
        check_steps(["unit", "whiten"])


def test_mutual_csls_pairs_finds_the_permutation():
    rng = np.random.default_rng(4)
    tgt = unit(rng.standard_normal((40, 8)))
    perm = rng.permutation(40)
    src = unit(tgt[perm] + 0.01 * rng.standard_normal((40, 8)))
    pairs, cosine = mutual_csls_pairs(src, tgt, k=5)
    assert len(pairs) == 40
    np.testing.assert_array_equal(pairs[:, 1], perm[pairs[:, 0]])
    assert cosine > 0.99


def _frame(spark, tokens, x, counts=None):
    counts = counts if counts is not None else list(range(len(tokens), 0, -1))
    rows = [
        (t, [float(v) for v in row], int(c)) for t, row, c in zip(tokens, x, counts, strict=True)
    ]
    return spark.createDataFrame(rows, "token string, vector array<float>, count long")


def test_spark_means_and_mapping_equal_numpy(spark):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((30, 4)) + 2.0).astype(np.float32)
    tokens = [f"w{i}" for i in range(30)]
    df = _frame(spark, tokens, x).repartition(3)
    means = apply.step_means(df, 4, STEPS, "source")
    np.testing.assert_allclose(means[0], unit(x).mean(axis=0), atol=1e-12)
    w = _orthogonal(4, 6)
    got = apply.mapped_frame(df, 4, STEPS, means, w, "xx")
    want_x = (normalize(x, STEPS, means) @ w).astype(np.float32)
    want = spark.createDataFrame(
        [
            (t, [float(v) for v in row], 30 - i, float(np.linalg.norm(row)), "xx")
            for i, (t, row) in enumerate(zip(tokens, want_x, strict=True))
        ],
        apply.ALIGNED,
    )
    assertDataFrameEqual(got, want, rtol=1e-6, atol=1e-6)


def _csls_reference(src, tgt, candidates, k, topn):
    """CSLS translations in plain numpy: rows most frequent first, unit, float64."""
    src, tgt = unit(src), unit(tgt[:candidates])
    cos = src @ tgt.T
    r_src = np.sort(cos, axis=1)[:, -k:].mean(axis=1)
    r_tgt = np.sort(tgt @ src[:candidates].T, axis=1)[:, -k:].mean(axis=1)
    csls = 2 * cos - r_src[:, None] - r_tgt[None, :]
    best = np.argsort(-csls, axis=1, kind="stable")[:, :topn]
    rows = np.arange(len(src))[:, None]
    return best, csls[rows, best], cos[rows, best]


def test_translations_equal_numpy_csls_for_any_partitioning(spark):
    """Every source word's top CSLS translations among the most frequent targets (the cap
    below the vocabulary), as numpy computes them, with 1 or 4 source partitions."""
    from sparkembed.stages.align.translate import translation_frame

    rng = np.random.default_rng(21)
    n_src, n_tgt, d, cands, k, topn = 70, 50, 6, 40, 5, 3
    xs = rng.standard_normal((n_src, d)).astype(np.float32)
    ys = rng.standard_normal((n_tgt, d)).astype(np.float32)
    src = _frame(spark, [f"s{i}" for i in range(n_src)], xs)
    tgt = _frame(spark, [f"t{i}" for i in range(n_tgt)], ys).repartition(2)
    best, csls, cos = _csls_reference(xs, ys, cands, k, topn)
    want = spark.createDataFrame(
        [
            (f"s{i}", f"t{best[i, r]}", r + 1, float(csls[i, r]), float(cos[i, r]))
            for i in range(n_src)
            for r in range(topn)
        ],
        "source string, target string, rank int, csls float, cosine float",
    )
    for parts in (1, 4):
        got = translation_frame(
            spark,
            src.repartition(parts),
            tgt,
            d,
            topn=topn,
            candidates=cands,
            csls_k=k,
            block_mb=1,
        )
        assert got.count() == n_src * topn
        assertDataFrameEqual(got, want, rtol=1e-5, atol=1e-6)
    assert {r["target"] for r in got.collect()} <= {f"t{i}" for i in range(cands)}


def test_learn_map_recovers_the_rotation_from_a_partial_dictionary(spark):
    rng = np.random.default_rng(7)
    n, d = 400, 16
    x = rng.standard_normal((n, d)).astype(np.float32)
    q = _orthogonal(d, 8)
    y = (x @ q + 0.01 * rng.standard_normal((n, d))).astype(np.float32)
    source = Side(_frame(spark, [f"s{i}" for i in range(n)], x), "aa", d)
    target = Side(_frame(spark, [f"t{i}" for i in range(n)], y), "bb", d)
    pairs = [(f"s{i}", f"t{i}") for i in range(0, n, 8)] + [("s1", "nowhere")]
    al = learn_map(source, target, Dictionary(pairs, lines=len(pairs)), ("unit",), refine_top=n)
    assert al.info["dictionary_pairs"] == 51 and al.info["dictionary_pairs_in_vocabularies"] == 50
    assert np.linalg.norm(al.w - q) < 0.05
    rounds = al.info["refinement"]
    assert rounds[0]["pairs"] == n  # all 400 words are mutual CSLS neighbours after round 0


def test_align_errors_name_what_is_wrong(spark, tmp_path):
    x = np.random.default_rng(9).standard_normal((5, 3)).astype(np.float32)
    src = Side(_frame(spark, list("abcde"), x), "aa", 3)
    other = Side(_frame(spark, list("abcde"), np.ones((5, 4))), "bb", 4)
    d = Dictionary([("a", "a")], lines=1)
    with pytest.raises(SparkembedError, match="dimension 3, the target 4"):
        learn_map(src, other, d, STEPS)
    tgt = Side(_frame(spark, list("vwxyz"), x), "bb", 3)
    with pytest.raises(SparkembedError, match="none of the dictionary's 1 pairs"):
        learn_map(src, tgt, d, STEPS, refine_rounds=0)
    bad = x.copy()
    bad[2] = np.nan
    with pytest.raises(SparkembedError, match="token 'c' has a NaN or infinite vector"):
        learn_map(Side(_frame(spark, list("abcde"), bad), "aa", 3), tgt, d, STEPS)
    bad[2] = 0.0
    with pytest.raises(SparkembedError, match="token 'c' has a zero vector"):
        learn_map(Side(_frame(spark, list("abcde"), bad), "aa", 3), tgt, d, STEPS)


def test_align_command_reads_the_dimension_of_plain_parquet_tables(spark, tmp_path, capsys):
    """A vector table sparkembed did not write (no metadata) gives its dimension from its
    rows; one written by sparkembed from its metadata; a mismatch is one line."""
    from helpers import CLI_SESSION

    from sparkembed import cli
    from sparkembed.vectors.table import write_vectors

    plain = str(tmp_path / "plain")
    _frame(spark, list("abc"), np.ones((3, 3))).withColumn(
        "norm", F.lit(3**0.5).cast("float")
    ).withColumn("lang", F.lit("aa")).write.partitionBy("lang").parquet(plain)
    ours = str(tmp_path / "ours")
    write_vectors(_frame(spark, list("abc"), np.ones((3, 4))), ours, dim=4, method="svd", lang="bb")
    (tmp_path / "d.tsv").write_text("a\ta\n", encoding="utf-8")
    argv = ["align", plain, ours, "--dictionary", str(tmp_path / "d.tsv")]
    capsys.readouterr()
    assert cli.main([*argv, "--output", str(tmp_path / "out"), *CLI_SESSION]) == 1
    err = capsys.readouterr().err
    assert "source vectors have dimension 3, the target 4" in err


def test_dictionary_lines_counted_and_set_aside(tmp_path):
    path = tmp_path / "en-es.txt"
    path.write_text(
        "house\tcasa\n\ndog perro\nhouse\tcasa\ncat\n\tgato\na\tb\tc\nhouse\thogar\n",
        encoding="utf-8",
    )
    d = read_dictionary(path)
    assert d.pairs == [("house", "casa"), ("dog", "perro"), ("house", "hogar")]
    assert d.stats() == {
        "dictionary_lines": 8,
        "dictionary_pairs": 3,
        "dictionary_empty": 1,
        "dictionary_duplicates": 1,
        "dictionary_malformed": 3,
    }
    assert [n for n, _ in d.malformed] == [5, 6, 7]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\nonlyone\n", encoding="utf-8")
    with pytest.raises(SparkembedError, match="empty.txt: no source<TAB>target pair"):
        read_dictionary(empty)
    with pytest.raises(SparkembedError, match="dictionary not found"):
        read_dictionary(tmp_path / "missing.txt")
    seed = identical_pairs(["1990", "paris", "1990"])
    assert seed.pairs == [("1990", "1990"), ("paris", "paris")]
    with pytest.raises(SparkembedError, match="share no token"):
        identical_pairs([])


def test_align_command_writes_both_languages_in_one_space(spark, tmp_path, capsys):
    """``sparkembed align`` end to end: a rotated copy of a vocabulary is mapped back onto
    it; the dictionary's malformed line lands in DIR/rejected."""
    import json

    from helpers import CLI_SESSION

    from sparkembed import cli
    from sparkembed.vectors.query import Embeddings
    from sparkembed.vectors.table import write_vectors

    rng = np.random.default_rng(11)
    n, d = 300, 12
    x = rng.standard_normal((n, d)).astype(np.float32)
    q = _orthogonal(d, 12)
    tables = {}
    for lang, prefix, m in (("aa", "s", x), ("bb", "t", x @ q)):
        df = _frame(spark, [f"{prefix}{i}" for i in range(n)], m)
        tables[lang] = str(tmp_path / f"vectors-{lang}")
        write_vectors(df, tables[lang], dim=d, method="svd", lang=lang, stage="train")
    lines = [f"s{i}\tt{i}" for i in range(0, n, 5)] + ["s3 t3 extra"]
    (tmp_path / "aa-bb.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "aligned"
    argv = ["align", tables["aa"], tables["bb"], "--dictionary", str(tmp_path / "aa-bb.tsv")]
    assert cli.main([*argv, "--output", str(out), *CLI_SESSION]) == 0
    got = spark.read.parquet(str(out / "vectors"))
    assert {r["lang"]: r["count"] for r in got.groupBy("lang").count().collect()} == {
        "aa": n,
        "bb": n,
    }
    meta = json.loads((out / "vectors" / "_sparkembed.json").read_text())
    assert meta["dictionary_pairs"] == 60 and meta["dictionary_malformed"] == 1
    w = np.array(meta["map"])
    # the target was rotated by q after the same normalisation: the map is q itself
    assert np.linalg.norm(w - q) < 1e-3
    rej = spark.read.parquet(str(out / "rejected")).collect()
    assert [(r["reason"], r["excerpt"]) for r in rej] == [
        ("malformed dictionary line", "61: s3 t3 extra")
    ]
    matrix = spark.read.parquet(str(out / "alignment")).orderBy("row").collect()
    np.testing.assert_allclose(np.array([r["values"] for r in matrix]), w)
    kv = Embeddings.load(str(out / "vectors"))
    assert kv.most_similar("s7", topn=1)[0][0] == "t7"  # across languages
    translations = spark.read.parquet(str(out / "translations"))
    assert translations.count() == n * 5  # every source word, the default 5 translations
    best = translations.where("rank = 1").collect()
    assert sum(r["target"] == "t" + r["source"][1:] for r in best) == n
    capsys.readouterr()
    assert cli.main(["similar", str(out / "vectors"), "aa:s7", "--answer-lang", "bb", "-q"]) == 0
    answers = capsys.readouterr().out.splitlines()
    assert answers[2].split()[1] == "bb:t7" and len(answers) == 2 + 10 + 1


def _dictd_b64(n: int) -> str:
    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    out = ""
    while True:
        out = digits[n % 64] + out
        n //= 64
        if n == 0:
            return out


def test_freedict_dictionary_becomes_single_word_pairs(tmp_path):
    """A dictd dictionary as FreeDict writes it: the index's base64 offsets into the
    dictzip data, numbered senses, comma lists; multi-word sides are left out."""
    import gzip

    from sparkembed import cli

    entries = [
        ("00databaseshort", "English-Spanish FreeDict Dictionary\n"),
        ("accord", "accord /əkɔːd/\n1. acorde, acuerdo\n2. arreglo\n3. Permitir; de acuerdo\n"),
        ("dumb", "dumb /dʌm/\nmudo\n"),
        ("during day", "during day /djeəriŋðdei/\n1. de día\n"),
        ("dumb", "dumb /dʌm/\nmudo\n"),
    ]
    data, index = b"", []
    for head, text in entries:
        raw = text.encode()
        index.append(f"{head}\t{_dictd_b64(len(data))}\t{_dictd_b64(len(raw))}")
        data += raw
    (tmp_path / "freedict-eng-spa.index").write_text("\n".join(index) + "\n", encoding="utf-8")
    with gzip.open(tmp_path / "freedict-eng-spa.dict.dz", "wb") as f:
        f.write(data)
    out = tmp_path / "en-es.tsv"
    argv = ["dictionary", str(tmp_path / "freedict-eng-spa.index"), "--output", str(out), "-q"]
    assert cli.main(argv) == 0
    assert out.read_text(encoding="utf-8").splitlines() == [
        "accord\tacorde",
        "accord\tacuerdo",
        "accord\tarreglo",
        "accord\tpermitir",
        "dumb\tmudo",
    ]
    d = read_dictionary(out)
    assert d.stats()["dictionary_pairs"] == 5
    assert cli.main([*argv[:-1], "--reverse", "-q"]) == 0
    assert out.read_text(encoding="utf-8").splitlines()[0] == "acorde\taccord"
    assert cli.main(["dictionary", str(tmp_path / "en-es.tsv"), "--output", str(out)]) == 1


def test_align_tables_of_another_tool_named_by_source_and_target_lang(spark, tmp_path, capsys):
    """Two Parquet files of token + list<double> (no count, lang, norm, _SUCCESS): their
    languages come from align.source_lang / target_lang, and the map is found."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from helpers import CLI_SESSION

    from sparkembed import cli

    rng = np.random.default_rng(13)
    n, d = 200, 8
    x = rng.standard_normal((n, d))
    q = _orthogonal(d, 14)
    paths = {}
    for prefix, m in (("s", x), ("t", x @ q)):
        paths[prefix] = str(tmp_path / f"{prefix}.parquet")
        table = pa.table({"token": [f"{prefix}{i}" for i in range(n)], "vector": m.tolist()})
        pq.write_table(table, paths[prefix])
    (tmp_path / "d.tsv").write_text("".join(f"s{i}\tt{i}\n" for i in range(0, n, 4)))
    argv = ["align", paths["s"], paths["t"], "--dictionary", str(tmp_path / "d.tsv"), "-q"]
    capsys.readouterr()
    assert cli.main([*argv, "--output", str(tmp_path / "none"), *CLI_SESSION]) == 1
    assert "source and target are both lang 'und'" in capsys.readouterr().err
    langs = ["--set", 'align.source_lang="aa"', "--set", 'align.target_lang="bb"']
    out = tmp_path / "out"
    assert cli.main([*argv, "--output", str(out), *langs, *CLI_SESSION]) == 0
    got = spark.read.parquet(str(out / "vectors"))
    assert {r["lang"]: r["count"] for r in got.groupBy("lang").count().collect()} == {
        "aa": n,
        "bb": n,
    }
    assert {r["count"] for r in got.select("count").distinct().collect()} == {0}
    meta = json.loads((out / "vectors" / "_sparkembed.json").read_text())
    assert meta["dim"] == d and np.linalg.norm(np.array(meta["map"]) - q) < 1e-3
    best = spark.read.parquet(str(out / "translations")).where("rank = 1").collect()
    assert sum(r["target"] == "t" + r["source"][1:] for r in best) == n
