#!/usr/bin/env bash
# What spark-submit ships to a cluster (docs/cluster.md):
#   dist/sparkembed.zip         the library, for --py-files (rebuilt every time, seconds)
#   dist/sparkembed-env.tar.gz  the executors' Python: numpy, scipy, pyarrow, pandas at the
#                               versions pyproject.toml pins, packed by venv-pack, for
#                               --archives dist/sparkembed-env.tar.gz#env with
#                               spark.pyspark.python=./env/bin/python. Rebuilt only when the
#                               pins change (it downloads, so scripts/setup.sh builds it).
#
#   scripts/package.sh                 both
#   scripts/package.sh --code [ZIP]    only the library zip (default dist/sparkembed.zip)
#   scripts/package.sh --env [TAR.GZ]  only the executors' Python
#
# The archive's bin/python links to the interpreter .venv was made from
# (same path needed on every worker; docs/cluster.md says what to do when it is not).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PY:-$ROOT/.venv/bin/python}
CODE=dist/sparkembed.zip ENV_OUT=dist/sparkembed-env.tar.gz
do_code=1 do_env=1
case "${1:-}" in
  --code) do_env=0; CODE=${2:-$CODE} ;;
  --env) do_code=0; ENV_OUT=${2:-$ENV_OUT} ;;
  "") ;;
  *) echo "package.sh: unknown option $1 (--code [ZIP] | --env [TAR.GZ])" >&2; exit 2 ;;
esac
log() { echo "[package] $*" >&2; }

if [ $do_code = 1 ]; then
  mkdir -p "$(dirname "$CODE")"
  "$PY" - "$CODE" <<'PY'
import pathlib, sys, zipfile
out = pathlib.Path(sys.argv[1])
tmp = out.with_name(out.name + ".tmp")
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for p in sorted(pathlib.Path("sparkembed").rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            z.write(p, p.as_posix())
tmp.replace(out)
print(out)
PY
fi

if [ $do_env = 1 ]; then
  # The executors run Python tasks only: no pyspark (the workers' Spark puts its own
  # pyspark.zip on their path) and no GraphFrames (a JAR).
  reqs=$("$PY" - <<'PY'
import tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
skip = ("pyspark", "graphframes")
print("\n".join(d for d in deps if not d.split("=")[0].startswith(skip)))
PY
)
  base=$("$PY" -c 'import sys; print(sys._base_executable)')
  stamp=$(printf '%s\n%s\n' "$base" "$reqs" | sha1sum | cut -c1-12)
  mkdir -p "$(dirname "$ENV_OUT")"
  if [ -f "$ENV_OUT" ] && [ "$(cat "$ENV_OUT.stamp" 2>/dev/null)" = "$stamp" ]; then
    log "$ENV_OUT is up to date"
  else
    venv=build/executor-venv
    log "building the executors' Python in $venv ($(echo $reqs | tr '\n' ' '))"
    rm -rf "$venv"
    "$base" -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install -q --disable-pip-version-check $reqs
    "$ROOT/.venv/bin/venv-pack" --prefix "$venv" --output "$ENV_OUT.tmp" --format tar.gz \
      --exclude '*/tests/*' --exclude 'lib/python*/site-packages/pip/*' \
      --compress-level 1 --force --quiet
    chmod 644 "$ENV_OUT.tmp"
    mv "$ENV_OUT.tmp" "$ENV_OUT"
    echo "$stamp" >"$ENV_OUT.stamp"
    log "$ENV_OUT: $(du -h "$ENV_OUT" | cut -f1)"
  fi
  echo "$ENV_OUT"
fi
