#!/usr/bin/env bash
# Debian packages with real English text for the benchmarks (not needed by the tests):
# dictionaries for dictd (GCIDE = Webster 1913 + supplements, WordNet 3.0 glosses, FOLDOC,
# the Jargon File, The Devil's Dictionary) and two English Bibles for SWORD with the
# exporter mod2imp. bench/make_real_corpus.py turns them into a corpus. For the align
# benchmark: the Spanish Reina-Valera 1909 Bible (sword-text-sparv) and FreeDict's
# English-Spanish and Spanish-English dictionaries (dictd format). Then the Python
# packages only the benchmarks use (the bench extra, into .venv), unless --debian-only
# (scripts/demo.sh: the texts only). Idempotent.
set -euo pipefail
DEBIAN_ONLY=0
[ "${1:-}" = "--debian-only" ] && DEBIAN_ONLY=1
PACKAGES=(dict-gcide dict-wn dict-foldoc dict-jargon dict-devil sword-text-kjv sword-text-web
  libsword-utils sword-text-sparv dict-freedict-eng-spa dict-freedict-spa-eng)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "[bench/setup_data] installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

[ "$DEBIAN_ONLY" = 1 ] && exit 0

# Python packages only the benchmarks use, into the repo's .venv: the "bench" extra
# (PecanPy, nodevectors, psutil, and umap-learn with scikit-learn, for bench/walks.py).
# Re-installed only when pyproject.toml is newer than the stamp or an import fails.
cd "$(dirname "$0")/.."
BENCH_EXTRAS=${BENCH_EXTRAS:-bench}
if [ ! -x .venv/bin/python ]; then
  echo "[bench/setup_data] error: no .venv; run scripts/setup.sh first" >&2
  exit 1
fi
imports="import pecanpy, sklearn, psutil, umap, nodevectors"
stamp=.venv/.sparkembed-bench-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$(cat "$stamp")" != "$BENCH_EXTRAS" ] ||
  ! .venv/bin/python -c "$imports" >/dev/null 2>&1; then
  echo "[bench/setup_data] installing the [$BENCH_EXTRAS] extras into .venv" >&2
  .venv/bin/pip install -q -e ".[test,$BENCH_EXTRAS]"
  .venv/bin/python -c "$imports"
  echo "$BENCH_EXTRAS" >"$stamp"
fi
