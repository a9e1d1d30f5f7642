"""sparkembed.stages.evaluate.metrics agrees with gensim's evaluate_word_pairs / evaluate_word_analogies."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from gensim.models import KeyedVectors
from synthetic_vectors import file_words

from sparkembed.cli import main
from sparkembed.config import EvaluateConfig
from sparkembed.errors import SparkembedError
from sparkembed.stages.evaluate import metrics as ev
from sparkembed.vectors.query import Embeddings

TOL = 1e-6


def gensim_sections(result):
    return [
        (s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"]))
        for s in result[1]
    ]


def our_sections(score: ev.AnalogyScore):
    return [(s.section, s.correct, s.total) for s in score.sections]


@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
@pytest.mark.parametrize("restrict", [300000, 500, 1200])
@pytest.mark.parametrize("case_insensitive", [True, False])
def test_word_pairs_agree_with_gensim(emb, kv, gensim_data, name, restrict, case_insensitive):
    path = gensim_data / name
    pearson, spearman, oov = kv.evaluate_word_pairs(
        path, restrict_vocab=restrict, case_insensitive=case_insensitive
    )
    ours = ev.evaluate_word_pairs(emb, path, restrict, case_insensitive)
    assert ours.pearson == pytest.approx(pearson[0], abs=TOL)
    assert ours.spearman == pytest.approx(spearman[0], abs=TOL)
    assert ours.pearson_p == pytest.approx(pearson[1], rel=1e-4)
    assert ours.oov_percent == pytest.approx(oov, abs=TOL)
    assert ours.oov_pairs > 0 and ours.pairs > 20 and ours.invalid_lines == 0


def test_restriction_and_case_change_the_word_pair_figures(emb, gensim_data):
    path = gensim_data / "wordsim353.tsv"
    full = ev.evaluate_word_pairs(emb, path, 300000, True)
    small = ev.evaluate_word_pairs(emb, path, 500, True)
    exact = ev.evaluate_word_pairs(emb, path, 300000, False)
    assert small.oov_pairs > full.oov_pairs and exact.oov_pairs > full.oov_pairs
    assert small.spearman != full.spearman


def test_case_folding_takes_the_most_frequent_variant(emb):
    vocab = ev.ok_vocab(emb, None, True)
    # 'Love' comes before 'love' in the synthetic vocabulary, 'sex' before 'SEX'.
    assert emb.index_to_key[vocab["LOVE"]] == "Love"
    assert emb.index_to_key[vocab["SEX"]] == "sex"


@pytest.mark.parametrize(
    ("restrict", "case_insensitive"), [(300000, True), (2000, True), (2500, False)]
)
def test_analogies_3cosadd_agree_with_gensim(emb, kv, gensim_data, restrict, case_insensitive):
    path = gensim_data / "questions-words.txt"
    expected = kv.evaluate_word_analogies(
        path, restrict_vocab=restrict, case_insensitive=case_insensitive
    )
    ours = ev.evaluate_word_analogies(emb, path, restrict, case_insensitive, "3cosadd", block_mb=1)
    assert our_sections(ours) == gensim_sections(expected)
    assert ours.accuracy == pytest.approx(expected[0], abs=TOL)
    assert 0.2 < ours.accuracy < 0.9  # questions both right and wrong: a real comparison
    assert ours.sections[-1].section == "Total accuracy"


@pytest.mark.parametrize("restrict", [None, 2000])
def test_analogies_3cosmul_agree_with_gensim(synthetic, gensim_data, restrict):
    # gensim's evaluate_word_analogies only does 3CosAdd; swap in its most_similar_cosmul.
    # That one ignores restrict_vocab, so the gensim side gets the first words only.
    tokens, vectors, counts = synthetic
    end = restrict or len(tokens)
    model = KeyedVectors(vectors.shape[1])
    model.add_vectors(tokens[:end], vectors[:end])
    model.most_similar = model.most_similar_cosmul
    path = gensim_data / "questions-words.txt"
    expected = model.evaluate_word_analogies(path, restrict_vocab=end)
    emb_all = Embeddings(tokens, vectors, counts)
    ours = ev.evaluate_word_analogies(emb_all, path, restrict, True, "3cosmul")
    assert our_sections(ours) == gensim_sections(expected)
    assert ours.accuracy == pytest.approx(expected[0], abs=TOL)
    assert ours.accuracy > 0.2


def test_analogy_oov_and_dummy4unknown(emb, kv, gensim_data, tmp_path):
    path = tmp_path / "q.txt"
    path.write_text(
        ": one\nathens greece berlin germany\nathens greece nowhere germany\nbad line\n"
        ": two\nParis France Rome Italy\n"
    )
    for dummy in (False, True):
        expected = kv.evaluate_word_analogies(path, dummy4unknown=dummy)
        ours = ev.evaluate_word_analogies(emb, path, dummy4unknown=dummy)
        assert our_sections(ours) == gensim_sections(expected)
        assert ours.questions == 3 and ours.oov_questions == 1 and ours.invalid_lines == 1


def test_all_oov_files(emb, kv, tmp_path, capsys):
    q = tmp_path / "q.txt"
    q.write_text(": one\nnowhere greece berlin germany\n: two\n")
    ours = ev.evaluate_word_analogies(emb, q)
    assert our_sections(ours) == gensim_sections(kv.evaluate_word_analogies(q))
    assert ours.accuracy == 0.0 and ours.oov_percent == 100.0
    pairs = tmp_path / "p.tsv"
    pairs.write_text("nowhere\tgreece\t3.0\n")
    score = ev.evaluate_word_pairs(emb, pairs)
    assert (score.pairs, score.oov_pairs, score.oov_percent, score.lines) == (0, 1, 100.0, 1)
    assert np.isnan(score.spearman) and np.isnan(score.pearson)


def test_men_format_whitespace_separated(emb, gensim_data, tmp_path):
    tsv = gensim_data / "wordsim353.tsv"
    men = tmp_path / "men.txt"
    lines = [ln for ln in tsv.read_text().splitlines() if not ln.startswith("#")]
    men.write_text("\n".join(" ".join(ln.split("\t")) for ln in lines) + "\n")
    a = ev.evaluate_word_pairs(emb, tsv)
    b = ev.evaluate_word_pairs(emb, men)
    assert (a.spearman, a.pearson, a.pairs, a.oov_pairs) == (
        b.spearman,
        b.pearson,
        b.pairs,
        b.oov_pairs,
    )


def test_bad_files_are_clear_errors(emb, tmp_path):
    with pytest.raises(SparkembedError, match="not found"):
        ev.evaluate_word_pairs(emb, tmp_path / "missing.tsv")
    q = tmp_path / "q.txt"
    q.write_text("athens greece berlin germany\n")
    with pytest.raises(SparkembedError, match=r"q.txt:1: a question before"):
        ev.evaluate_word_analogies(emb, q)


def hand_made_vectors():
    """Groups of words around distinct directions, plus unrelated words."""
    rng = np.random.default_rng(0)
    groups = ev.read_groups(ev.builtin_data("clusters_en.tsv"))
    tokens, rows = [], []
    for words in groups.values():
        centre = rng.normal(size=24) * 3
        for w in words:
            tokens.append(w)
            rows.append(centre + rng.normal(size=24))
    for a, b in ev.read_pairs(ev.builtin_data("synonyms_en.tsv")):
        for w in (a, b):
            if w not in tokens:
                tokens.append(w)
                rows.append(rng.normal(size=24))
    pair_of = dict(ev.read_pairs(ev.builtin_data("synonyms_en.tsv")))
    vectors = np.asarray(rows, dtype=np.float32)
    index = {t: i for i, t in enumerate(tokens)}
    for a, b in pair_of.items():  # synonyms: b is a plus a little noise
        vectors[index[b]] = vectors[index[a]] + rng.normal(size=24).astype(np.float32) * 0.3
    for j in range(300):
        tokens.append(f"other{j}")
        vectors = np.vstack([vectors, rng.normal(size=(1, 24)).astype(np.float32)])
    return Embeddings(tokens, vectors, np.arange(len(tokens), 0, -1))


def test_synonym_and_cluster_tests_separate_structure_from_noise():
    structured = hand_made_vectors()
    rng = np.random.default_rng(1)
    noise = Embeddings(structured.index_to_key, rng.normal(size=structured.vectors.shape))
    syn_file, clu_file = ev.builtin_data("synonyms_en.tsv"), ev.builtin_data("clusters_en.tsv")
    good = ev.synonym_test(structured, syn_file, random_words=10, seed=3)
    bad = ev.synonym_test(noise, syn_file, random_words=10, seed=3)
    assert good.oov_pairs == 0 and good.pairs == len(ev.read_pairs(syn_file))
    assert good.score > 0.95 and 0.3 < bad.score < 0.7
    assert good == ev.synonym_test(structured, syn_file, random_words=10, seed=3)  # seeded
    c_good = ev.cluster_test(structured, clu_file, seed=3)
    c_bad = ev.cluster_test(noise, clu_file, seed=3)
    # 'lead' and 'tin' etc. appear once; a synonym pass may have moved a few group words.
    assert c_good.kmeans_purity > 0.9 and c_good.nearest_centroid_accuracy > 0.9
    assert c_bad.kmeans_purity < 0.5 and c_bad.nearest_centroid_accuracy < 0.3
    assert c_good.groups == 12 and c_good.oov_words == 0


def test_analogy_methods_are_the_scorers_and_both():
    """evaluate.analogy_method offers each scorer metrics implements, and both."""
    field = next(f for f in dataclasses.fields(EvaluateConfig) if f.name == "analogy_method")
    assert sorted(field.metadata["choices"]) == sorted([*ev.METHODS, "both"])


@pytest.fixture(scope="module")
def synthetic_table(synthetic, spark, tmp_path_factory) -> str:
    """The synthetic vectors as a vector table of sparkembed's (lang en)."""
    from sparkembed.vectors.table import write_vectors

    tokens, vectors, counts = synthetic
    df = spark.createDataFrame(
        list(zip(tokens, vectors.tolist(), counts.tolist(), strict=True)),
        "token string, vector array<float>, count long",
    )
    table = str(tmp_path_factory.mktemp("evaluate") / "vectors")
    write_vectors(df, table, dim=vectors.shape[1], method="synthetic", params={}, lang="en")
    return table


def test_cli_men_pairs_with_pos_suffixes_are_oov_and_every_line_counted(
    synthetic_table, tmp_path, capsys
):
    men = tmp_path / "MEN_dataset_lemma_form_full"
    men.write_text(
        "love-n sex-n 33.85\ntiger-n cat-n 40.0\n# a comment\nnot a pair line\nbook-n paper-n 30\n"
    )
    report_dir = tmp_path / "report"
    argv = ["evaluate", synthetic_table, "--pairs", str(men), "--no-builtin"]
    assert main([*argv, "--report", str(report_dir)]) == 0
    captured = capsys.readouterr()
    assert "nan" not in captured.out
    cover = "no pair in vocabulary: all 3 OOV, 1 malformed line (4)"
    assert captured.out.count(cover) == 2  # the spearman and pearson rows
    summary = captured.out.strip().splitlines()[-1]
    assert summary.startswith(
        "evaluate: vocabulary 3,170, pair files 1, "
        "pair lines 5 = 0 scored + 3 OOV + 1 malformed + 1 comments, analogy runs 0, lists 0 |"
    )
    assert "MEN_dataset_lemma_form_full: 1 malformed lines skipped (4)" in captured.err
    assert "all 3 are OOV (first: line 1: love-n sex-n)" in captured.err
    data = json.loads((report_dir / "evaluation.json").read_text())
    pairs = data["word_pairs"][0]
    assert (pairs["pairs"], pairs["oov_pairs"], pairs["invalid_lines"]) == (0, 3, 1)
    assert (pairs["comments"], pairs["lines"], pairs["malformed"]) == (1, 5, [4])
    assert pairs["oov_percent"] == 100.0 and pairs["spearman"] is None
    assert "nan" not in (report_dir / "evaluation.md").read_text()


def test_cli_evaluate_prints_table_and_writes_report(
    synthetic_table, gensim_data, tmp_path, capsys
):
    table = synthetic_table
    report_dir = tmp_path / "report"
    all_oov = tmp_path / "unknown.tsv"
    all_oov.write_text("nowhere\tgreece\t3.0\n")
    code = main(
        [
            "evaluate",
            table,
            "--pairs",
            str(gensim_data / "wordsim353.tsv"),
            "--analogies",
            str(gensim_data / "questions-words.txt"),
            "--pairs",
            str(all_oov),
            "--report",
            str(report_dir),
            "-q",
        ]
    )
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, captured.err
    assert "spearman" in out and "accuracy 3cosmul" in out and "k-means purity" in out
    summary = out.strip().splitlines()[-1]
    assert summary.startswith(
        "evaluate: vocabulary 3,170, pair files 2, "
        "pair lines 356 = 347 scored + 7 OOV + 0 malformed + 2 comments, analogy runs 2, "
        "analogy lines 19,558 = 18,601 scored + 943 OOV + 0 malformed + 14 sections "
        "+ 0 comments, lists 2 |"
    )
    assert "word pairs  unknown.tsv          spearman            n/a" in out
    assert "no pair in vocabulary: all 1 OOV" in out and "nan" not in out
    data = json.loads((report_dir / "evaluation.json").read_text())
    assert data["word_pairs"][1]["spearman"] is None and data["word_pairs"][1]["pairs"] == 0
    assert data["word_pairs"][1]["oov_pairs"] == 1 and data["word_pairs"][1]["oov_percent"] == 100
    emb_table = Embeddings.load(table)
    expected = ev.evaluate_word_analogies(emb_table, gensim_data / "questions-words.txt")
    assert data["analogies"][0]["accuracy"] == expected.accuracy
    assert data["word_pairs"][0]["spearman"] == pytest.approx(
        ev.evaluate_word_pairs(emb_table, gensim_data / "wordsim353.tsv").spearman, abs=1e-12
    )
    assert (
        "| analogies | questions-words.txt | accuracy 3cosadd |"
        in (report_dir / "evaluation.md").read_text()
    )


# -- malformed lines, empty and non-UTF-8 files -----------------------------------------
def test_malformed_pair_lines_are_skipped_counted_and_reported(emb, gensim_data, tmp_path):
    clean = gensim_data / "wordsim353.tsv"
    lines = clean.read_text().splitlines()
    # Line numbers in the new file: 2 comments, 3 pairs, a header (6), 10 pairs, a blank line
    # and a comment (neither is malformed), 'word only' (19), then the rest.
    dirty_lines = [
        *lines[:5],
        "Word 1\tWord 2\tScore",
        *lines[5:15],
        "",
        "# a comment",
        "lonely\tword",
        *lines[15:],
    ]
    dirty = tmp_path / "dirty.tsv"
    dirty.write_text("\n".join(dirty_lines) + "\n")
    a = ev.evaluate_word_pairs(emb, clean)
    b = ev.evaluate_word_pairs(emb, dirty)
    assert a.malformed == [] and a.invalid_lines == 0
    assert b.malformed == [6, 19] and b.invalid_lines == 2
    assert (a.spearman, a.pearson, a.pairs, a.oov_pairs, a.oov_percent) == (
        b.spearman,
        b.pearson,
        b.pairs,
        b.oov_pairs,
        b.oov_percent,
    )
    report = ev.Report("v", len(emb), emb.vector_size, 300000, True, word_pairs=[a, b])
    table = report.table()
    assert table.count(", 2 malformed lines (6, 19)") == 2  # spearman and pearson rows
    assert "malformed" not in "\n".join(ln for ln in table.splitlines() if "wordsim353" in ln)
    report.write(tmp_path / "report")
    data = json.loads((tmp_path / "report" / "evaluation.json").read_text())
    assert [r["malformed"] for r in data["word_pairs"]] == [[], [6, 19]]


def test_many_malformed_lines_show_the_first_five(emb, gensim_data, tmp_path):
    lines = (gensim_data / "wordsim353.tsv").read_text().splitlines()
    path = tmp_path / "p.tsv"
    path.write_text("\n".join([*lines[:3], *["junk"] * 7, *lines[3:]]) + "\n")
    score = ev.evaluate_word_pairs(emb, path)
    assert score.malformed == list(range(4, 11))
    report = ev.Report("v", len(emb), emb.vector_size, 300000, True, word_pairs=[score])
    assert ", 7 malformed lines (4, 5, 6, 7, 8...)" in report.table()


def test_a_file_of_malformed_lines_is_an_error_not_nan(emb, tmp_path):
    pairs = tmp_path / "junk.tsv"
    pairs.write_text("# comment\nWord 1\tWord 2\tScore\n\nlove sex\nlove\tsex\thigh\n")
    with pytest.raises(SparkembedError, match="no valid line") as err:
        ev.evaluate_word_pairs(emb, pairs)
    message = str(err.value)
    assert "junk.tsv" in message and "\n" not in message
    assert message.endswith("no valid line (3 malformed: lines 2, 4, 5)")
    empty = tmp_path / "empty.tsv"
    empty.write_text("# only a comment\n\n")
    with pytest.raises(SparkembedError, match=r"empty.tsv: no valid line"):
        ev.evaluate_word_pairs(emb, empty)
    q = tmp_path / "q.txt"
    q.write_text(": one\nathens greece berlin\n\n# comment\n: two\nparis france rome italy spain\n")
    with pytest.raises(SparkembedError, match=r"q.txt: no valid line \(2 malformed: lines 2, 6\)"):
        ev.evaluate_word_analogies(emb, q)
    syn = tmp_path / "syn.tsv"
    syn.write_text("big large huge\nsmall\n")
    with pytest.raises(SparkembedError, match=r"syn.tsv: no valid line \(2 malformed"):
        ev.synonym_test(emb, syn)
    clu = tmp_path / "clu.tsv"
    clu.write_text("colours red green\nfruit\t\n")
    with pytest.raises(SparkembedError, match=r"clu.tsv: no valid line \(2 malformed"):
        ev.cluster_test(emb, clu)


def test_all_oov_pairs_are_a_score_that_accounts_for_every_line(emb, tmp_path):
    pairs = tmp_path / "p.tsv"
    pairs.write_text("header line\nnowhere\tgreece\t3.0\n# note\n\nTiger-n\tcat-n\t7\n")
    score = ev.evaluate_word_pairs(emb, pairs)
    assert (score.pairs, score.oov_pairs, score.invalid_lines, score.comments) == (0, 2, 1, 2)
    assert score.lines == 5 and score.malformed == [1] and score.oov_example == "2: nowhere greece"
    assert score.oov_percent == 100.0
    report = ev.Report("v", len(emb), emb.vector_size, 300000, True, word_pairs=[score])
    rows = report.table().splitlines()[1:]
    assert [r.split()[4] for r in rows] == ["n/a", "n/a"]
    assert all(r.endswith("no pair in vocabulary: all 2 OOV, 1 malformed line (1)") for r in rows)
    assert "nan" not in report.table() and "nan" not in report.markdown()
    summary = report.summary()
    assert summary["pair lines"] == "5 = 0 scored + 2 OOV + 1 malformed + 2 comments"


def test_one_known_pair_has_no_correlation_rather_than_a_crash(emb, tmp_path):
    pairs = tmp_path / "p.tsv"
    pairs.write_text("love\tsex\t6.77\nnowhere\tgreece\t3.0\n")
    score = ev.evaluate_word_pairs(emb, pairs)
    assert (score.pairs, score.oov_pairs, score.oov_percent, score.lines) == (1, 1, 50.0, 2)
    assert np.isnan(score.spearman) and np.isnan(score.pearson)


def test_word_pair_lines_add_up(emb, gensim_data):
    for name, comments in (("wordsim353.tsv", 2), ("simlex999.txt", 2)):
        path = gensim_data / name
        score = ev.evaluate_word_pairs(emb, path)
        n_lines = len(path.read_text().splitlines())
        assert score.lines == n_lines and score.comments == comments
        assert score.pairs + score.oov_pairs + score.invalid_lines + score.comments == n_lines
        assert score.pairs > 300 and score.oov_pairs > 0


def test_analogy_lines_add_up_and_all_oov_is_said_plainly(emb, gensim_data, tmp_path):
    path = gensim_data / "questions-words.txt"
    full = ev.evaluate_word_analogies(emb, path, 2000, True, "3cosadd")
    n_lines = len(path.read_text().splitlines())
    assert (full.lines, full.headers, full.comments, full.invalid_lines) == (n_lines, 14, 0, 0)
    assert full.questions + full.headers == n_lines
    q = tmp_path / "q.txt"
    q.write_text(": one\n# c\nathens-n greece-n berlin-n germany-n\nthree words only\n\n")
    none = ev.evaluate_word_analogies(emb, q)
    assert (none.lines, none.questions, none.oov_questions) == (5, 1, 1)
    assert (none.headers, none.comments, none.invalid_lines) == (1, 2, 1)
    assert none.oov_example == "3: athens-n greece-n berlin-n germany-n"
    report = ev.Report("v", len(emb), emb.vector_size, 2000, True, analogies=[full, none])
    row = report.table().splitlines()[-1]
    assert row.split()[4] == "n/a"
    assert row.endswith("no question in vocabulary: all 1 OOV, 1 malformed line (4)")
    assert report.summary()["analogy lines"] == (
        f"{n_lines + 5:,} = {full.questions - full.oov_questions:,} scored + "
        f"{full.oov_questions + 1:,} OOV + 1 malformed + 15 sections + 2 comments"
    )


def test_malformed_analogy_line_is_skipped_and_numbered(emb, kv, gensim_data, tmp_path):
    clean = gensim_data / "questions-words.txt"
    lines = clean.read_text().splitlines()
    dirty = tmp_path / "q.txt"
    # line 4: three words; line 5: blank, line 6: a comment (neither malformed)
    dirty.write_text("\n".join([*lines[:3], "athens greece berlin", "", "# c", *lines[3:]]) + "\n")
    a = ev.evaluate_word_analogies(emb, clean, 2000, True, "3cosadd")
    b = ev.evaluate_word_analogies(emb, dirty, 2000, True, "3cosadd")
    assert a.malformed == [] and b.malformed == [4] and b.invalid_lines == 1
    assert our_sections(a) == our_sections(b) and a.accuracy == b.accuracy
    assert (a.questions, a.oov_questions) == (b.questions, b.oov_questions)
    report = ev.Report("v", len(emb), emb.vector_size, 2000, True, analogies=[b])
    assert "questions, " in report.table() and ", 1 malformed line (4)" in report.table()
    assert json.loads(json.dumps(report.to_dict()))["analogies"][0]["malformed"] == [4]


def test_synonym_and_cluster_malformed_lines(tmp_path):
    structured = hand_made_vectors()
    syn_file, clu_file = ev.builtin_data("synonyms_en.tsv"), ev.builtin_data("clusters_en.tsv")
    syn_lines = syn_file.read_text().splitlines()
    syn_dirty = tmp_path / "syn.tsv"
    syn_dirty.write_text("\n".join(["three words here", *syn_lines, "single"]) + "\n")
    good = ev.synonym_test(structured, syn_file, random_words=10, seed=3)
    dirty = ev.synonym_test(structured, syn_dirty, random_words=10, seed=3)
    assert good.malformed == [] and dirty.malformed == [1, len(syn_lines) + 2]
    assert (good.score, good.pairs) == (dirty.score, dirty.pairs)
    clu_lines = clu_file.read_text().splitlines()
    clu_dirty = tmp_path / "clu.tsv"
    clu_dirty.write_text("\n".join([*clu_lines, "no tab here", "\tnameless", "wordless\t"]) + "\n")
    c_good = ev.cluster_test(structured, clu_file, seed=3)
    c_dirty = ev.cluster_test(structured, clu_dirty, seed=3)
    n = len(clu_lines)
    assert c_good.malformed == [] and c_dirty.malformed == [n + 1, n + 2, n + 3]
    assert c_good.kmeans_purity == c_dirty.kmeans_purity and c_good.words == c_dirty.words
    report = ev.Report("v", 1, 1, None, True, synonyms=[dirty], clusters=[c_dirty])
    assert f", 2 malformed lines (1, {len(syn_lines) + 2})" in report.table()
    assert f", 3 malformed lines ({n + 1}, {n + 2}, {n + 3})" in report.table()


@pytest.mark.parametrize("reader", ["pairs", "analogies", "synonyms", "clusters"])
def test_invalid_utf8_names_the_file_and_line(emb, tmp_path, reader):
    path = tmp_path / "bad.txt"
    body = {
        "pairs": b"# c\nlove\tsex\t6.7\ntiger\tcat\xff\t7.3\n",
        "analogies": b": one\nathens greece berlin germany\nparis france rome it\xe9ly\n",
        "synonyms": b"big large\n\nsmall little\nfast qu\xc3ick\n",
        "clusters": b"colours\tred green\nfruit\tapple pear\nanimals\tcat dog\ntrees\t\xfe\n",
    }[reader]
    path.write_bytes(body)
    call = {
        "pairs": ev.evaluate_word_pairs,
        "analogies": ev.evaluate_word_analogies,
        "synonyms": ev.synonym_test,
        "clusters": ev.cluster_test,
    }[reader]
    line, byte = {"pairs": (3, "ff"), "analogies": (3, "e9"), "synonyms": (4, "c3")}.get(
        reader, (4, "fe")
    )
    with pytest.raises(SparkembedError) as err:
        call(emb, path)
    assert str(err.value) == f"{path}: line {line} is not valid UTF-8 (byte 0x{byte})"


def test_synthetic_vectors_cover_the_files_with_case_variants(synthetic, gensim_data):
    tokens, vectors, counts = synthetic
    words, _ = file_words(gensim_data)
    vocab = set(tokens)
    covered = sum(w in vocab for w in words) / len(words)
    assert 0.97 < covered < 1.0  # a few words left out on purpose
    assert tokens.index("Love") < tokens.index("love") and tokens.index("sex") < tokens.index("SEX")
    assert len(vocab) == len(tokens) and vectors.shape == (len(tokens), 48)
    assert np.all(np.diff(counts) < 0)


def test_cli_evaluates_a_table_of_another_tool(synthetic, emb, gensim_data, tmp_path, capsys):
    """token + list<double> only, no count, lang, _SUCCESS or metadata: row order is the
    vocabulary order, so the figures are those of the same vectors in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tokens, vectors, _counts = synthetic
    folder = tmp_path / "foreign"
    folder.mkdir()
    table = pa.table({"token": tokens, "vector": vectors.astype(np.float64).tolist()})
    pq.write_table(table, folder / "vectors.parquet")
    pairs = gensim_data / "wordsim353.tsv"
    argv = ["evaluate", str(folder), "--pairs", str(pairs), "--no-builtin", "--lang", "en"]
    assert main([*argv, "--report", str(tmp_path / "report"), "-q"]) == 0
    assert (
        capsys.readouterr()
        .out.strip()
        .splitlines()[-1]
        .startswith(
            "evaluate: vocabulary 3,170, pair files 1, "
            "pair lines 355 = 347 scored + 6 OOV + 0 malformed + 2 comments"
        )
    )
    data = json.loads((tmp_path / "report" / "evaluation.json").read_text())
    expected = ev.evaluate_word_pairs(emb, pairs)
    assert data["word_pairs"][0]["spearman"] == pytest.approx(expected.spearman, abs=1e-12)
    assert data["word_pairs"][0]["pairs"] == expected.pairs == 347
