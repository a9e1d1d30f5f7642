#!/usr/bin/env bash
# One-command set-up, idempotent: Debian packages, .venv with sparkembed and its test
# tools, the GraphFrames JARs from Maven Central into .jars/, and our own UDF JAR
# (.jars/sparkembed-udfs.jar, compiled from java/src with the JDK). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
GRAPHFRAMES_VERSION=0.12.3
SCALA=2.13

log() { echo "[setup] $*" >&2; }

# --- Debian packages: native BLAS/LAPACK for MLlib, bzip2 tools for the benchmarks, the
# JDK (javac, jar) that builds .jars/sparkembed-udfs.jar, and headless Chromium, in which
# the tests open the HTML page of `sparkembed report`.
APT_PACKAGES=(libopenblas0 liblapack3 bzip2 openjdk-17-jdk-headless chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Java: Spark 4 needs 17 or 21.
if ! command -v java >/dev/null; then
  echo "[setup] error: no 'java' on PATH; install a JDK 17 (apt-get install openjdk-17-jdk-headless)" >&2
  exit 1
fi

# --- Python environment.
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.sparkembed-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  log "installing sparkembed and test tools into .venv"
  .venv/bin/pip install -q -e ".[test]"
  touch "$stamp"
fi

# --- JVM dependencies: GraphFrames (optional interop: `doctor` checks it; the walks stage
# reads GraphFrames' DataFrames without it). Fetched with mvn from
# Maven Central; a registry that does not serve them is reported, not fatal.
mkdir -p .jars
if ! ls .jars/graphframes-spark4_${SCALA}-*.jar >/dev/null 2>&1; then
  log "fetching GraphFrames ${GRAPHFRAMES_VERSION} JARs with mvn"
  ok=1
  for artifact in graphframes-spark4_${SCALA} graphframes-graphx-spark4_${SCALA}; do
    if ! mvn -q -B dependency:copy \
        -Dartifact="io.graphframes:${artifact}:${GRAPHFRAMES_VERSION}" \
        -DoutputDirectory="$ROOT/.jars" >/tmp/sparkembed-mvn.log 2>&1; then
      ok=0
    fi
  done
  if [ $ok = 0 ]; then
    rm -f .jars/graphframes-*.jar
    log "warning: Maven Central did not serve io.graphframes:graphframes-spark4_${SCALA}:${GRAPHFRAMES_VERSION}"
    log "         (see /tmp/sparkembed-mvn.log); everything but GraphFrames-backed features works"
  fi
fi
# --- Our JVM UDFs (wikitext cleaning, tokenising): compiled against pyspark's own JARs,
# rebuilt when a source is newer than the JAR. No download.
UDF_JAR=.jars/sparkembed-udfs.jar
if [ ! -f "$UDF_JAR" ] || [ -n "$(find java/src -name '*.java' -newer "$UDF_JAR")" ]; then
  if command -v javac >/dev/null && command -v jar >/dev/null; then
    log "building $UDF_JAR"
    SPARK_JARS=$(.venv/bin/python -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')
    classes=$(mktemp -d)
    javac -nowarn -XDsuppressNotes -encoding UTF-8 --release 17 --add-modules jdk.incubator.vector -cp "$SPARK_JARS/*" -d "$classes" $(find java/src -name '*.java')
    jar --create --file "$UDF_JAR.tmp" -C "$classes" .
    mv "$UDF_JAR.tmp" "$UDF_JAR"
    rm -rf "$classes"
  else
    log "warning: no javac/jar (JDK 17): tokenize falls back to its Spark SQL engine"
  fi
fi
# --- JVM class-data archive (.jars/spark-classes-*.jsa): local sessions map Spark's classes
# from it instead of loading them one by one (seconds per run). Built once per java and
# pyspark by running the demo pipeline small; a failure only costs that speed.
if ! .venv/bin/python -m sparkembed.commands.class_archive --check 2>/dev/null; then
  log "building the JVM class archive (about a minute; log in /tmp/sparkembed-cds.log)"
  .venv/bin/python -m sparkembed.commands.class_archive >/tmp/sparkembed-cds.log 2>&1 \
    || log "warning: class archive not built (see /tmp/sparkembed-cds.log); sessions start slower"
fi
# --- What spark-submit ships to executors (docs/cluster.md): the executors' Python as a
# venv-pack archive, rebuilt only when the pinned versions change; the cluster tests use it.
bash scripts/package.sh --env >/dev/null
log "done: .venv/bin/sparkembed doctor checks what was found"
