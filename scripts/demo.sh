#!/usr/bin/env bash
# Set up if needed, then run the main job end to end in local mode on real English text:
# about 9.6M tokens from Debian's dictionaries and Bibles (installed by
# bench/setup_data.sh --debian-only) with gensim's Wikipedia sample (the dump reader):
# tokenize -> cooccur -> train (svd and sgns) -> evaluate -> report (pictures), then word
# algebra and neighbours for each trainer. The "demo:" line counts the seconds after set-up
# and doctor.
# Stages whose parameters and inputs are unchanged are skipped on a re-run; --force redoes them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash bench/setup_data.sh --debian-only
.venv/bin/python -m bench.make_real_corpus --output work/demo-text --text-only
SE=.venv/bin/sparkembed
export GENSIM_TEST_DATA
GENSIM_TEST_DATA=$(.venv/bin/python -c 'import gensim.test.utils as u, pathlib; print(pathlib.Path(u.__file__).parent / "test_data")')
WORK=work/demo

echo "== doctor"
$SE doctor
start=$(date +%s)
echo
echo "== pipeline (conf/pipeline.demo.toml)"
$SE run conf/pipeline.demo.toml "$@"
for method in svd sgns; do
  echo
  echo "== $method: word algebra and neighbours"
  $SE similar "$WORK/vectors-$method" paris -france +russia --topn 5
  $SE similar "$WORK/vectors-$method" king -man +woman --topn 5
  $SE similar "$WORK/vectors-$method" france --topn 5
  $SE similar "$WORK/vectors-$method" wine --topn 5
done
echo
echo "demo: $(( $(date +%s) - start )) s after set-up; vectors in $WORK/vectors-{svd,sgns},"
echo "      evaluations in $WORK/report-{svd,sgns}, pictures in $WORK/pictures-svd/report.html"
