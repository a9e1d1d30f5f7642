#!/usr/bin/env bash
# Set up if needed, then run the main job end to end on the bundled sample
# (gensim's shortened English Wikipedia dump) in local mode.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SE=.venv/bin/sparkembed
$SE doctor
