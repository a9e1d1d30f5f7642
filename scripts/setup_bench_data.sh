#!/usr/bin/env bash
# Debian packages with real English text for the benchmarks (not needed by the tests):
# dictionaries for dictd (GCIDE = Webster 1913 + supplements, WordNet 3.0 glosses, FOLDOC,
# the Jargon File, The Devil's Dictionary) and two English Bibles for SWORD with the
# exporter mod2imp. scripts/make_real_corpus.py turns them into a corpus. Idempotent.
set -euo pipefail
PACKAGES=(dict-gcide dict-wn dict-foldoc dict-jargon dict-devil sword-text-kjv sword-text-web
  libsword-utils)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "[setup_bench_data] installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
