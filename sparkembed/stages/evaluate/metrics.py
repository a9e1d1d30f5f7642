"""Quality tests of a vector table: word-pair similarity, analogies, synonyms, clusters.

Word pairs and analogies follow gensim's ``evaluate_word_pairs`` / ``evaluate_word_analogies``
line for line (parsing, case folding, vocabulary restriction, OOV handling) so the figures
agree with gensim on the same vectors; analogies are scored a batch of questions per matrix
product instead of one ``most_similar`` call per question. The synonym and cluster tests use
small hand-made English lists shipped in ``sparkembed/stages/evaluate/data``.

Reading files: every reader skips the lines it cannot parse and keeps their 1-based line
numbers (the ``malformed`` field of each score, shown in the report); blank lines, comment
lines (starting with '#', as gensim's word-pair reader; here in every format) and analogy
section headers (': name') are not malformed. A file with no valid line at all is an error
(``FILE: no valid line (N malformed: lines 1, 2, ...)``), not a NaN score. A file that is
not UTF-8 is an error naming the line of the first bad byte: such a byte usually means the
whole file is in another encoding, so skipping its lines would silently score part of it.

Every line of a word-pair or analogy file is accounted for in its score: ``lines`` =
scored + OOV + malformed + ``comments`` (+ ``headers``, the analogy sections). A file whose
lines parse but whose words are all unknown is a score with no correlation (NaN, null in
JSON) and 100% OOV, not an error: the vectors are weak for it, the file is fine.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from sparkembed.errors import SparkembedError
from sparkembed.linalg.kmeans import spherical_kmeans
from sparkembed.textfiles import read_lines
from sparkembed.vectors.query import Embeddings

ANALOGY_TOPN = 5  # gensim looks at its 5 best answers, skipping case variants of the inputs
METHODS = ("3cosadd", "3cosmul")


def builtin_data(name: str) -> Path:
    """Path of a list shipped with the package (``synonyms_en.tsv``, ``clusters_en.tsv``).

    Under spark-submit the package may be imported from a zip (--py-files): then the list
    is copied to a temporary file, since the readers take paths.
    """
    resource = resources.files("sparkembed.stages.evaluate.data").joinpath(name)
    path = Path(str(resource))
    if path.is_file():
        return path
    if not resource.is_file():
        raise SparkembedError(f"no list named {name} in sparkembed/stages/evaluate/data")
    # Same file name as in the package: reports name the lists they used.
    folder = Path(tempfile.gettempdir()) / f"sparkembed-lists-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    target = folder / name
    target.write_bytes(resource.read_bytes())
    return target


def ok_vocab(emb: Embeddings, restrict_vocab: int | None, case_insensitive: bool) -> dict:
    """gensim's lookup table: the first ``restrict_vocab`` words, uppercased when folding
    case; when case variants collide, the first (most frequent) one wins."""
    keys = emb.index_to_key[:restrict_vocab]
    if case_insensitive:
        return {k.upper(): i for i, k in reversed(list(enumerate(keys)))}
    return {k: i for i, k in reversed(list(enumerate(keys)))}


MALFORMED_SHOWN = 5  # line numbers quoted in messages and in the report's table


def _skipped(line: str) -> bool:
    """Blank and comment lines: neither data nor malformed."""
    return not line.strip() or line.startswith("#")


def _line_list(malformed: list[int]) -> str:
    shown = ", ".join(str(n) for n in malformed[:MALFORMED_SHOWN])
    return shown + ("..." if len(malformed) > MALFORMED_SHOWN else "")


def no_valid_line(p: Path, malformed: list[int]) -> SparkembedError:
    """``FILE: no valid line (N malformed: lines 1, 2, 3...)``, one line."""
    if not malformed:
        return SparkembedError(f"{p}: no valid line (only blank lines or comments)")
    s = "s" if len(malformed) > 1 else ""
    return SparkembedError(
        f"{p}: no valid line ({len(malformed)} malformed: line{s} {_line_list(malformed)})"
    )


# -- word pairs -----------------------------------------------------------------------
@dataclass
class WordPairScore:
    name: str
    pearson: float
    pearson_p: float
    spearman: float
    spearman_p: float
    oov_percent: float  # gensim's oov_ratio: pairs with an unknown word, in percent
    pairs: int  # pairs scored
    oov_pairs: int
    invalid_lines: int  # len(malformed)
    comments: int  # blank and '#' lines
    lines: int  # every line of the file: pairs + oov_pairs + invalid_lines + comments
    malformed: list[int] = field(default_factory=list)  # line numbers of skipped lines
    oov_example: str = ""  # the first OOV pair, 'LINE: word word' as in the file


def evaluate_word_pairs(
    emb: Embeddings,
    path: str | Path,
    restrict_vocab: int | None = 300000,
    case_insensitive: bool = True,
    dummy4unknown: bool = False,
    delimiter: str | None = None,
) -> WordPairScore:
    """Pearson and Spearman of cosine against human scores (WS353, SimLex, MEN formats).

    ``delimiter`` None: a tab if the file has one (gensim's default), else any whitespace
    (MEN's 'w1 w2 score'). Blank lines and lines starting with '#' are skipped; lines that
    do not parse as 'word word number' (a header) are skipped and their numbers kept in
    ``malformed``; pairs with a word outside the first ``restrict_vocab`` are counted as
    OOV. A file with no valid line raises SparkembedError. With fewer than two known pairs
    (all OOV, say) there is no correlation: Pearson and Spearman are NaN, as gensim's.
    """
    p, lines = read_lines(path, "evaluation file")
    if delimiter is None:
        has_tab = any("\t" in ln for _, ln in lines if ln and not ln.startswith("#"))
        delimiter = "\t" if has_tab else None
    vocab = ok_vocab(emb, restrict_vocab, case_insensitive)
    gold, left, right = [], [], []
    malformed: list[int] = []
    oov = comments = 0
    oov_example = ""
    for line_no, line in lines:
        if _skipped(line):
            comments += 1
            continue
        parts = line.split(delimiter)
        if case_insensitive:
            parts = [w.upper() for w in parts]
        try:
            a, b, sim = parts
            sim = float(sim)
        except (ValueError, TypeError):
            malformed.append(line_no)
            continue
        if a not in vocab or b not in vocab:
            oov += 1
            if not oov_example:
                oov_example = f"{line_no}: {' '.join(line.split(delimiter)[:2])}"
            if dummy4unknown:
                gold.append(sim)
                left.append(-1)
                right.append(-1)
            continue
        gold.append(sim)
        left.append(vocab[a])
        right.append(vocab[b])
    if not gold and not oov:
        raise no_valid_line(p, malformed)
    li, ri = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    known = li >= 0
    pearson = spearman = (math.nan, math.nan)
    if known.sum() >= 2:  # a correlation needs two pairs (scipy's pearsonr raises on fewer)
        model = np.zeros(len(gold), dtype=np.float32)
        model[known] = np.einsum("ij,ij->i", emb.unit_rows(li[known]), emb.unit_rows(ri[known]))
        spearman = stats.spearmanr(gold, model)
        pearson = stats.pearsonr(gold, model)
    denominator = len(gold) if dummy4unknown else len(gold) + oov
    return WordPairScore(
        name=p.name,
        pearson=float(pearson[0]),
        pearson_p=float(pearson[1]),
        spearman=float(spearman[0]),
        spearman_p=float(spearman[1]),
        oov_percent=float(oov) / denominator * 100,
        pairs=int(known.sum()),
        oov_pairs=oov,
        invalid_lines=len(malformed),
        comments=comments,
        lines=len(lines),
        malformed=malformed,
        oov_example=oov_example,
    )


# -- analogies ------------------------------------------------------------------------
@dataclass
class SectionScore:
    section: str
    correct: int
    total: int  # questions scored (all four words known)
    accuracy: float  # gensim's: correct / total, 0.0 when nothing was scored


@dataclass
class AnalogyScore:
    name: str
    method: str
    accuracy: float  # the 'Total accuracy' section
    sections: list[SectionScore]  # per section, then 'Total accuracy' last, as gensim
    questions: int  # valid lines
    oov_questions: int
    oov_percent: float
    invalid_lines: int  # len(malformed)
    comments: int  # blank and '#' lines
    headers: int  # ': section' lines
    lines: int  # every line of the file: questions + invalid_lines + comments + headers
    malformed: list[int] = field(default_factory=list)  # line numbers of skipped lines
    oov_example: str = ""  # the first OOV question, 'LINE: a b c d' as in the file


def read_analogies(
    path: str | Path, tally: dict[str, int] | None = None
) -> tuple[list[tuple[str, list[list[str]]]], list[int]]:
    """Google's format: ': section' lines, then 'a b c d' (a is to b as c is to d).

    Returns the sections and the line numbers of malformed lines (not four words), which
    are skipped as gensim does. Blank lines and '#' comments are skipped too (gensim takes
    a comment of exactly four words for a question, nearly always an OOV one). A question
    before the first section header, or a file without any question, raises. ``tally``,
    when given, receives the file's ``lines``, ``comments`` and ``headers``; each question
    keeps its line number as a fifth item.
    """
    p, lines = read_lines(path, "evaluation file")
    sections: list[tuple[str, list[list[str]]]] = []
    malformed: list[int] = []
    comments = 0
    for line_no, line in lines:
        if line.startswith(": "):
            sections.append((line.lstrip(": ").strip(), []))
            continue
        if _skipped(line):
            comments += 1
            continue
        if not sections:
            raise SparkembedError(f"{p}:{line_no}: a question before any ': section' line")
        words = line.split()
        if len(words) != 4:
            malformed.append(line_no)
            continue
        sections[-1][1].append([*words, line_no])
    if tally is not None:
        tally.update(lines=len(lines), comments=comments, headers=len(sections))
    if not any(items for _, items in sections):
        raise no_valid_line(p, malformed)
    return sections, malformed


def _canonical_rows(emb: Embeddings, vocab: dict, end: int, case_insensitive: bool) -> np.ndarray:
    """For each of the first ``end`` rows, the row its (folded) word resolves to."""
    if not case_insensitive:
        return np.arange(end)
    return np.fromiter((vocab[k.upper()] for k in emb.index_to_key[:end]), np.int64, end)


def _solve_batch(emb: Embeddings, norms: np.ndarray, q: np.ndarray, method: str) -> np.ndarray:
    """Scores (len(q), end) of every candidate for questions q = (a, b, c) row ids."""
    vectors = emb.vectors[: norms.size]
    ua, ub, uc = emb.unit_rows(q[:, 0]), emb.unit_rows(q[:, 1]), emb.unit_rows(q[:, 2])
    if method == "3cosadd":
        # gensim's mean: +b, +c, -a accumulated into float32, /3, normalised in float64.
        mean = np.zeros_like(ub)
        mean += 1.0 * ub.astype(np.float64)
        mean += 1.0 * uc.astype(np.float64)
        mean += -1.0 * ua.astype(np.float64)
        mean = mean / np.float64(3.0)
        mean = (mean * (1.0 / np.linalg.norm(mean, axis=1, keepdims=True))).astype(np.float32)
        return (mean @ vectors.T) / norms
    terms = np.concatenate([ua, ub, uc])
    shifted = (1 + (terms @ vectors.T) / norms) / 2
    n = q.shape[0]
    pa, pb, pc = shifted[:n], shifted[n : 2 * n], shifted[2 * n :]
    return (pb * pc) / (pa + 0.000001)


def evaluate_word_analogies(
    emb: Embeddings,
    path: str | Path,
    restrict_vocab: int | None = 300000,
    case_insensitive: bool = True,
    method: str = "3cosadd",
    dummy4unknown: bool = False,
    block_mb: int = 64,
) -> AnalogyScore:
    """Accuracy per section and in total, as gensim's ``evaluate_word_analogies``.

    A question is right when the best answer among the first ``restrict_vocab`` words,
    other than a, b, c and their case variants, is d. Questions with an unknown word are
    skipped (or counted wrong with ``dummy4unknown``). ``method`` 3cosadd is gensim's; for
    3cosmul the candidates are likewise limited to the first ``restrict_vocab`` words.
    """
    if method not in METHODS:
        raise SparkembedError(f"unknown analogy method {method!r}; use one of {METHODS}")
    p = Path(path)
    tally: dict[str, int] = {}
    sections, malformed = read_analogies(p, tally)
    vocab = ok_vocab(emb, restrict_vocab, case_insensitive)
    end = min(restrict_vocab, len(emb)) if restrict_vocab else len(emb)
    canon = _canonical_rows(emb, vocab, end, case_insensitive)
    norms = emb.norms[:end]

    # Every known question of the file in one array; section of each kept beside it.
    known_rows, known_section = [], []
    totals = [0] * len(sections)
    dummies = [0] * len(sections)
    questions = oov = 0
    oov_example = ""
    for s, (_, items) in enumerate(sections):
        for *asked, line_no in items:
            questions += 1
            words = [w.upper() for w in asked] if case_insensitive else asked
            if any(w not in vocab for w in words):
                oov += 1
                if not oov_example:
                    oov_example = f"{line_no}: {' '.join(asked)}"
                if dummy4unknown:
                    dummies[s] += 1
                continue
            known_rows.append([vocab[w] for w in words])
            known_section.append(s)
    q = np.asarray(known_rows, dtype=np.int64).reshape(-1, 4)
    section_of = np.asarray(known_section, dtype=np.int64)
    right = np.zeros(len(q), dtype=bool)
    per_block = max(
        1, int(block_mb * 2**20 // (4 * max(end, 1) * (4 if method == "3cosmul" else 2)))
    )
    k = min(ANALOGY_TOPN, end)
    for start in range(0, len(q), per_block):
        block = q[start : start + per_block]
        scores = _solve_batch(emb, norms, block, method)
        rows = np.arange(len(block))[:, None]
        scores[rows, block[:, :3]] = -np.inf  # the question's words are never the answer
        if k < end:
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        else:
            top = np.tile(np.arange(end), (len(block), 1))
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.lexsort((top, -top_scores), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        valid = np.take_along_axis(top_scores, order, axis=1) > -np.inf
        answer = canon[top]
        ignored = (answer[:, :, None] == block[:, None, :3]).any(axis=2)
        usable = valid & ~ignored
        # The first usable answer; gensim keeps the last one it looked at when none is.
        first = np.where(usable.any(axis=1), usable.argmax(axis=1), valid.sum(axis=1) - 1)
        has_any = valid.any(axis=1)
        predicted = np.where(has_any, answer[np.arange(len(block)), np.maximum(first, 0)], -1)
        right[start : start + len(block)] = predicted == block[:, 3]

    correct = np.bincount(section_of[right], minlength=len(sections))
    scored = np.bincount(section_of, minlength=len(sections))
    results = []
    for s, (name, _) in enumerate(sections):
        totals[s] = int(scored[s]) + dummies[s]
        results.append(
            SectionScore(name, int(correct[s]), totals[s], _accuracy(int(correct[s]), totals[s]))
        )
    all_correct, all_total = int(correct.sum()), sum(totals)
    overall = _accuracy(all_correct, all_total)
    results.append(SectionScore("Total accuracy", all_correct, all_total, overall))
    return AnalogyScore(
        name=p.name,
        method=method,
        accuracy=overall,
        sections=results,
        questions=questions,
        oov_questions=oov,
        oov_percent=float(oov) / questions * 100 if questions else 0.0,
        invalid_lines=len(malformed),
        comments=tally["comments"],
        headers=tally["headers"],
        lines=tally["lines"],
        malformed=malformed,
        oov_example=oov_example,
    )


def _accuracy(correct: int, total: int) -> float:
    return correct / total if total else 0.0


# -- hand-made lists ------------------------------------------------------------------
def read_groups(path: str | Path, malformed: list[int] | None = None) -> dict[str, list[str]]:
    """'group<TAB>word word ...' per line ('#' comments): groups of related words.

    Lines without a tab, a group name or a word are skipped; their numbers are appended
    to ``malformed`` when given. A file with no valid line raises SparkembedError.
    """
    p, lines = read_lines(path, "evaluation file")
    skipped = [] if malformed is None else malformed
    groups: dict[str, list[str]] = {}
    for n, line in lines:
        if _skipped(line):
            continue
        name, _, words = line.partition("\t")
        if not name.strip() or not words.split():
            skipped.append(n)
            continue
        groups.setdefault(name.strip(), []).extend(words.split())
    if not groups:
        raise no_valid_line(p, skipped)
    return groups


def read_pairs(path: str | Path, malformed: list[int] | None = None) -> list[tuple[str, str]]:
    """'word<whitespace>word' per line ('#' comments): synonym pairs.

    Lines of other than two words are skipped; their numbers are appended to
    ``malformed`` when given. A file with no valid line raises SparkembedError.
    """
    p, lines = read_lines(path, "evaluation file")
    skipped = [] if malformed is None else malformed
    pairs = []
    for n, line in lines:
        if _skipped(line):
            continue
        words = line.split()
        if len(words) != 2:
            skipped.append(n)
            continue
        pairs.append((words[0], words[1]))
    if not pairs:
        raise no_valid_line(p, skipped)
    return pairs


@dataclass
class SynonymScore:
    name: str
    score: float  # share of (pair, random word) trials where the synonym is closer
    pairs: int
    oov_pairs: int
    random_words: int  # random words drawn per pair
    mean_synonym_cosine: float
    mean_random_cosine: float
    malformed: list[int] = field(default_factory=list)  # line numbers of skipped lines


def synonym_test(
    emb: Embeddings,
    path: str | Path,
    random_words: int = 10,
    seed: int = 42,
    restrict_vocab: int | None = 300000,
    case_insensitive: bool = True,
) -> SynonymScore:
    """For each synonym pair (a, b), is cos(a, b) above cos(a, r) for random words r?

    Random words are drawn (seeded) from the first ``restrict_vocab`` words, never a or b.
    """
    malformed: list[int] = []
    pairs = read_pairs(path, malformed)
    vocab = ok_vocab(emb, restrict_vocab, case_insensitive)
    fold = str.upper if case_insensitive else str
    known = [
        (vocab[fold(a)], vocab[fold(b)]) for a, b in pairs if fold(a) in vocab and fold(b) in vocab
    ]
    oov = len(pairs) - len(known)
    end = min(restrict_vocab, len(emb)) if restrict_vocab else len(emb)
    if not known or end < 3:
        return SynonymScore(
            Path(path).name, math.nan, 0, oov, random_words, math.nan, math.nan, malformed
        )
    ids = np.asarray(known, dtype=np.int64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, end, size=(len(ids), random_words))
    clash = (draws == ids[:, :1]) | (draws == ids[:, 1:])
    while clash.any():  # redraw the few that hit the pair itself
        draws[clash] = rng.integers(0, end, size=int(clash.sum()))
        clash = (draws == ids[:, :1]) | (draws == ids[:, 1:])
    first = emb.unit_rows(ids[:, 0])
    syn = np.einsum("ij,ij->i", first, emb.unit_rows(ids[:, 1]))
    rnd = np.einsum("ij,ikj->ik", first, emb.unit_rows(draws))
    return SynonymScore(
        name=Path(path).name,
        score=float((syn[:, None] > rnd).mean()),
        pairs=len(ids),
        oov_pairs=oov,
        random_words=random_words,
        mean_synonym_cosine=float(syn.mean()),
        mean_random_cosine=float(rnd.mean()),
        malformed=malformed,
    )


@dataclass
class ClusterScore:
    name: str
    kmeans_purity: float  # spherical k-means, k = number of groups, best of restarts
    nearest_centroid_accuracy: float  # each word vs the groups' centroids without it
    words: int
    oov_words: int
    groups: int
    malformed: list[int] = field(default_factory=list)  # line numbers of skipped lines


def cluster_test(
    emb: Embeddings,
    path: str | Path,
    seed: int = 42,
    restrict_vocab: int | None = 300000,
    case_insensitive: bool = True,
) -> ClusterScore:
    """Do lists of related words (countries, colours, ...) come out as clusters?"""
    malformed: list[int] = []
    groups = read_groups(path, malformed)
    vocab = ok_vocab(emb, restrict_vocab, case_insensitive)
    fold = str.upper if case_insensitive else str
    rows, labels, oov = [], [], 0
    for g, words in enumerate(groups.values()):
        for w in words:
            if fold(w) in vocab:
                rows.append(vocab[fold(w)])
                labels.append(g)
            else:
                oov += 1
    y = np.asarray(labels, dtype=np.int64)
    present = np.unique(y)
    if len(present) < 2:
        return ClusterScore(
            Path(path).name, math.nan, math.nan, len(rows), oov, len(present), malformed
        )
    x = emb.unit_rows(np.asarray(rows))
    found = spherical_kmeans(x, len(present), seed=seed)
    purity = sum(np.bincount(y[found == c]).max() for c in np.unique(found)) / len(y)
    # Leave-one-out nearest centroid: a word is compared with its group's sum without it.
    sums = np.zeros((y.max() + 1, x.shape[1]), dtype=np.float64)
    np.add.at(sums, y, x)
    sims = x @ sums.T  # (words, groups), then take each word out of its own group's sum
    own = np.arange(len(y))
    sizes = np.bincount(y, minlength=sums.shape[0]).astype(np.float64)
    others = sums[y] - x
    sims[own, y] = (x * others).sum(axis=1)
    sizes_without = np.tile(sizes, (len(y), 1))
    sizes_without[own, y] -= 1
    lengths = np.linalg.norm(sums, axis=1)[None, :].repeat(len(y), axis=0)
    lengths[own, y] = np.linalg.norm(others, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(sizes_without > 0, sims / lengths, -np.inf)
    nearest = np.argmax(np.nan_to_num(cos, nan=-np.inf), axis=1)
    return ClusterScore(
        name=Path(path).name,
        kmeans_purity=float(purity),
        nearest_centroid_accuracy=float(np.mean(nearest == y)),
        words=len(y),
        oov_words=oov,
        groups=len(present),
        malformed=malformed,
    )


# -- report ---------------------------------------------------------------------------
def _value(x: float) -> str:
    """A figure for the table; 'n/a' where there is none (too few known pairs)."""
    return "n/a" if math.isnan(x) else f"{x:.4f}"


def _malformed_note(malformed: list[int]) -> str:
    """', 2 malformed lines (3, 7)' for the coverage column; '' when there are none."""
    if not malformed:
        return ""
    s = "s" if len(malformed) > 1 else ""
    return f", {len(malformed)} malformed line{s} ({_line_list(malformed)})"


@dataclass
class Report:
    vectors: str
    vocabulary: int
    dim: int
    restrict_vocab: int | None
    case_insensitive: bool
    word_pairs: list[WordPairScore] = field(default_factory=list)
    analogies: list[AnalogyScore] = field(default_factory=list)
    synonyms: list[SynonymScore] = field(default_factory=list)
    clusters: list[ClusterScore] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data; NaN (a test with no known words) becomes None (JSON null)."""

        def clean(value):
            if isinstance(value, float) and math.isnan(value):
                return None
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list):
                return [clean(v) for v in value]
            return value

        return clean(asdict(self))

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(test, file, metric, value, coverage) rows for the table; coverage ends with the
        malformed lines skipped, if any (', 2 malformed lines (3, 7)')."""
        out = []
        for r in self.word_pairs:
            if r.pairs == 0:
                cover = f"no pair in vocabulary: all {r.oov_pairs} OOV"
            else:
                cover = f"{r.pairs} pairs, {r.oov_percent:.1f}% OOV"
            cover += _malformed_note(r.malformed)
            out.append(("word pairs", r.name, "spearman", _value(r.spearman), cover))
            out.append(("word pairs", r.name, "pearson", _value(r.pearson), cover))
        for r in self.analogies:
            total = r.sections[-1]
            if r.oov_questions == r.questions:
                cover, value = f"no question in vocabulary: all {r.questions} OOV", "n/a"
            else:
                cover = f"{total.total} of {r.questions} questions, {r.oov_percent:.1f}% OOV"
                value = _value(r.accuracy)
            cover += _malformed_note(r.malformed)
            out.append(("analogies", r.name, f"accuracy {r.method}", value, cover))
        for r in self.synonyms:
            cover = f"{r.pairs} pairs x {r.random_words} random words, {r.oov_pairs} OOV pairs"
            cover += _malformed_note(r.malformed)
            out.append(("synonyms", r.name, "closer than random", _value(r.score), cover))
        for r in self.clusters:
            cover = f"{r.words} words in {r.groups} groups, {r.oov_words} OOV"
            cover += _malformed_note(r.malformed)
            out.append(("clusters", r.name, "k-means purity", _value(r.kmeans_purity), cover))
            out.append(
                (
                    "clusters",
                    r.name,
                    "nearest centroid",
                    _value(r.nearest_centroid_accuracy),
                    cover,
                )
            )
        return out

    def table(self) -> str:
        header = ("test", "file", "metric", "value", "coverage")
        rows = [header, *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in rows
        )

    def markdown(self) -> str:
        lines = [
            f"# Evaluation of `{self.vectors}`",
            "",
            f"{self.vocabulary:,} words, dimension {self.dim}; restrict_vocab "
            f"{self.restrict_vocab}, case_insensitive {self.case_insensitive}.",
            "",
            "| test | file | metric | value | coverage |",
            "|---|---|---|---:|---|",
        ]
        lines += [f"| {' | '.join(r)} |" for r in self.rows()]
        for r in self.analogies:
            lines += [
                "",
                f"## {r.name} ({r.method})",
                "",
                "| section | correct | total | accuracy |",
            ]
            lines.append("|---|---:|---:|---:|")
            lines += [
                f"| {s.section} | {s.correct} | {s.total} | {s.accuracy:.4f} |" for s in r.sections
            ]
        return "\n".join(lines) + "\n"

    def _analogy_files(self) -> list[AnalogyScore]:
        """One score per analogy file (a file scored by both methods has the same lines)."""
        return list({r.name: r for r in reversed(self.analogies)}.values())[::-1]

    def counts(self) -> dict[str, int]:
        """How many files and runs the report scores, and where every line of the pair and
        analogy files went (lines = scored + OOV + malformed + comments [+ sections])."""
        pairs, analogies = self.word_pairs, self._analogy_files()
        return {
            "pair files": len(pairs),
            "pair lines": sum(r.lines for r in pairs),
            "pairs": sum(r.pairs for r in pairs),
            "oov pairs": sum(r.oov_pairs for r in pairs),
            "malformed pair lines": sum(r.invalid_lines for r in pairs),
            "pair comments": sum(r.comments for r in pairs),
            "analogy runs": len(self.analogies),
            "analogy lines": sum(r.lines for r in analogies),
            "questions": sum(r.questions - r.oov_questions for r in analogies),
            "oov questions": sum(r.oov_questions for r in analogies),
            "malformed analogy lines": sum(r.invalid_lines for r in analogies),
            "analogy sections": sum(r.headers for r in analogies),
            "analogy comments": sum(r.comments for r in analogies),
            "lists": len(self.synonyms) + len(self.clusters),
        }

    def summary(self) -> dict[str, object]:
        """The summary line's figures: files, runs, and the lines of the pair and analogy
        files as a sum ('pair lines 355 = 231 scored + 122 OOV + 2 malformed + 0 comments')."""
        c = self.counts()
        out: dict[str, object] = {"pair files": c["pair files"]}
        if self.word_pairs:
            out["pair lines"] = (
                f"{c['pair lines']:,} = {c['pairs']:,} scored + {c['oov pairs']:,} OOV + "
                f"{c['malformed pair lines']:,} malformed + {c['pair comments']:,} comments"
            )
        out["analogy runs"] = c["analogy runs"]
        if self.analogies:
            out["analogy lines"] = (
                f"{c['analogy lines']:,} = {c['questions']:,} scored + "
                f"{c['oov questions']:,} OOV + {c['malformed analogy lines']:,} malformed + "
                f"{c['analogy sections']:,} sections + {c['analogy comments']:,} comments"
            )
        out["lists"] = c["lists"]
        return out

    def write(self, directory: str | Path) -> dict[str, int]:
        """``evaluation.json`` and ``evaluation.md`` in ``directory``; returns :meth:`counts`
        (a commit's writer returns the counts it records)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        (d / "evaluation.json").write_text(
            json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        )
        (d / "evaluation.md").write_text(self.markdown())
        return self.counts()
