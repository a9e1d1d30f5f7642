#!/usr/bin/env bash
# Build dist/sparkembed.zip for spark-submit --py-files (the library only; jobs/ are the
# entry points). Executors also need numpy, scipy and pyarrow in their Python.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-dist/sparkembed.zip}
mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
.venv/bin/python - "$OUT" <<'PY'
import sys, zipfile, pathlib
out = sys.argv[1]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for p in sorted(pathlib.Path("sparkembed").rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            z.write(p, p.as_posix())
print(out)
PY
