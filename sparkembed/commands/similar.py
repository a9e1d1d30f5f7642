"""`sparkembed similar VECTORS paris -france +russia`: nearest words and word algebra.

Reads the vector table with pyarrow (no Spark), so it starts in about a second. In a
table of several languages (``sparkembed align``'s), ``es:casa`` names a word of one
language, ``--answer-lang`` keeps the answers of one, and answers print as ``lang:token``.
"""

from __future__ import annotations

from sparkembed.errors import SparkembedError
from sparkembed.options import add_config_options
from sparkembed.progress import StageTimer
from sparkembed.vectors.query import Embeddings

NAME = "similar"
HELP = "nearest neighbours and word algebra (paris -france +russia)"
WRITES = False


def add_arguments(p) -> None:
    p.add_argument("vectors", metavar="VECTORS")
    p.add_argument("words", nargs="+", metavar="WORD", help="WORD, +WORD (add) or -WORD (subtract)")
    p.add_argument("--cosmul", action="store_true", help="3CosMul instead of 3CosAdd")
    p.add_argument("--lang", help="load only this language, if the table holds several")
    p.add_argument("--answer-lang", metavar="LANG", help="answers in this language only")
    add_config_options(p, ["evaluate.topn", "evaluate.restrict_vocab"])


def parse_words(words: list[str]) -> tuple[list[str], list[str]]:
    """'w' and '+w' add a word, '-w' subtracts it."""
    positive, negative = [], []
    for w in words:
        if w.startswith("-") and len(w) > 1:
            negative.append(w[1:])
        elif w.startswith("+") and len(w) > 1:
            positive.append(w[1:])
        else:
            positive.append(w)
    if not positive:
        raise SparkembedError("give at least one word to add (WORD or +WORD)")
    return positive, negative


def format_answers(answers: list[tuple[str, float]], score: str, titles=None) -> str:
    """One line per answer; with ``titles`` (document vectors), each one's title after."""
    head = "word" if titles is None else "doc_id"
    width = max([len(head), *(len(w) for w, _ in answers)])
    lines = [f"{'rank':>4}  {head:<{width}}  {score}" + ("  title" if titles else "")]
    for i, (w, s) in enumerate(answers, 1):
        title = f"  {titles[i - 1]}" if titles else ""
        lines.append(f"{i:>4}  {w:<{width}}  {s:.4f}{title}")
    return "\n".join(lines)


def run(args, cfg) -> int:
    timer = StageTimer("similar", quiet=args.quiet)
    positive, negative = parse_words(args.words)
    topn = cfg.evaluate.topn
    with timer.step("load"):
        emb = Embeddings.load(args.vectors, lang=args.lang)
    with timer.step("query"):
        query = emb.most_similar_cosmul if args.cosmul else emb.most_similar
        scores = query(
            positive=positive,
            negative=negative,
            topn=None,
            restrict_vocab=cfg.evaluate.restrict_vocab,
            lang=args.answer_lang,
        )
        asked = {emb.get_index(w) for w in positive + negative}
        best = emb.top_rows(scores, topn, asked)
        answers = [(emb.label(i), v) for i, v in best]
        titles = [emb.titles[i] or "" for i, _ in best] if emb.titles else None
    expression = " ".join([*positive[:1], *(f"+{w}" for w in positive[1:])])
    expression += "".join(f" -{w}" for w in negative)
    print(f"# {expression} ({'3CosMul' if args.cosmul else '3CosAdd'})")
    print(format_answers(answers, "3cosmul" if args.cosmul else "cosine", titles))
    print(timer.summary({"vocabulary": len(emb), "dim": emb.vector_size, "answers": len(answers)}))
    return 0
