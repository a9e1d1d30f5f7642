#!/usr/bin/env bash
# Set up if needed, then run the main job end to end on the bundled sample (gensim's
# shortened English Wikipedia dump, 106 articles) in local mode:
# tokenize -> cooccur -> train (svd, glove and word2vec) -> evaluate -> aggregate (article
# vectors) -> report (pictures) -> similar queries.
# Stages whose parameters and inputs are unchanged are skipped on a re-run; --force redoes them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SE=.venv/bin/sparkembed
export GENSIM_TEST_DATA
GENSIM_TEST_DATA=$(.venv/bin/python -c 'import gensim.test.utils as u, pathlib; print(pathlib.Path(u.__file__).parent / "test_data")')
WORK=work/enwiki-sample

echo "== doctor"
$SE doctor
echo
echo "== pipeline (conf/pipeline.enwiki-sample.toml)"
$SE run conf/pipeline.enwiki-sample.toml "$@"
for method in svd glove word2vec; do
  echo
  echo "== $method: neighbours and word algebra"
  $SE similar "$WORK/vectors-$method" king --topn 5
  $SE similar "$WORK/vectors-$method" france --topn 5
  $SE similar "$WORK/vectors-$method" king -man +woman --topn 5
  $SE similar "$WORK/vectors-$method" paris -france +germany --topn 5
done
echo
echo "== documents: the articles nearest to 'Autism' (doc 25), by their SIF vectors"
$SE similar "$WORK/aggregate-svd/doc_vectors" 25 --topn 5
echo
echo "demo: vectors in $WORK/vectors-{svd,glove,word2vec}, reports in $WORK/report-*,"
echo "      article vectors in $WORK/aggregate-svd/doc_vectors, pictures in $WORK/pictures-svd/report.html"
