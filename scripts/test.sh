#!/usr/bin/env bash
# Set up if needed, then lint and run the tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Debian's English texts: the demo test trains on them (tests/bench/test_demo.py).
bash bench/setup_data.sh --debian-only
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
