"""The demo's claim, on its own corpus: svd's vectors of the real English text of
conf/pipeline.demo.toml answer Paris - France + Russia with Moscow in the top 3.

The corpus comes from Debian's dictionaries and Bibles; scripts/test.sh installs them
(bench/setup_data.sh --debian-only). About 3 minutes: the text, then tokenize, cooccur and
svd of 9.6M tokens.
"""

import dataclasses
import subprocess
import sys
from pathlib import Path

from sparkembed.cli import main
from sparkembed.commands.run import load_pipeline, run_pipeline
from sparkembed.vectors.query import Embeddings

REPO = Path(__file__).resolve().parents[2]


def test_demo_svd_answers_moscow_for_paris_minus_france_plus_russia(
    spark, tmp_path, monkeypatch, capsys
):
    import gensim.test.utils as gtu

    monkeypatch.setenv("GENSIM_TEST_DATA", str(Path(gtu.__file__).parent / "test_data"))
    text = tmp_path / "corpus"
    make = [sys.executable, "-m", "bench.make_real_corpus", "--output", str(text), "--text-only"]
    subprocess.run(make, cwd=REPO, check=True)
    demo = load_pipeline(REPO / "conf/pipeline.demo.toml")
    assert demo.inputs[0].endswith("work/demo-text/text")
    work = tmp_path / "work"
    pipeline = dataclasses.replace(
        demo,
        workdir=str(work),
        inputs=[str(text / "text"), *demo.inputs[1:]],
        stages=["tokenize", "cooccur", "train:svd"],
    )
    run_pipeline(pipeline, [], quiet=True)
    vectors = Embeddings.load(work / "vectors-svd")
    answers = [w for w, _ in vectors.most_similar(["paris", "russia"], ["france"], topn=3)]
    assert "moscow" in answers, answers
    # The demo's own query prints the same answers.
    assert main(["similar", str(work / "vectors-svd"), "paris", "-france", "+russia"]) == 0
    assert "moscow" in capsys.readouterr().out
