#!/usr/bin/env bash
# A standalone Spark cluster on this machine, from pyspark's own spark-class: a master and
# N workers, everything bound to 127.0.0.1 (UIs included), work and log folders under DIR.
#
#   scripts/cluster.sh start [--workers N] [--cores C] [--memory M] [--dir DIR]
#   scripts/cluster.sh status [--dir DIR]
#   scripts/cluster.sh stop [--dir DIR]
#
# Then: spark-submit --master spark://127.0.0.1:7077 ... (docs/usage.md). Defaults: 2
# workers of 1 core and 2g each, DIR = .cluster, master port 7077, master UI 8080, worker
# UIs from 8081. Ports come from SPARK_MASTER_PORT and SPARK_MASTER_WEBUI_PORT if set.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PY:-$ROOT/.venv/bin/python}
cmd=${1:-}
shift || true
WORKERS=2 CORES=1 MEMORY=2g DIR=$ROOT/.cluster
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) WORKERS=$2; shift 2 ;;
    --cores) CORES=$2; shift 2 ;;
    --memory) MEMORY=$2; shift 2 ;;
    --dir) DIR=$(realpath -m "$2"); shift 2 ;;
    *) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
PORT=${SPARK_MASTER_PORT:-7077}
UI=${SPARK_MASTER_WEBUI_PORT:-8080}
MASTER=spark://127.0.0.1:$PORT

# spark-class needs SPARK_HOME (pyspark's folder holds bin/ and jars/), and every daemon and
# UI binds loopback only.
SPARK_HOME=$("$PY" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
export SPARK_HOME SPARK_LOCAL_IP=127.0.0.1 SPARK_LOG_DIR=$DIR/logs

pids() { cat "$DIR"/*.pid 2>/dev/null || true; }

start_daemon() {  # name, class, args...
  local name=$1; shift
  mkdir -p "$DIR/logs"
  # Its own session and process group (pid = group id), so stop reaches the executors and
  # Python workers it starts, too.
  setsid nohup "$SPARK_HOME/bin/spark-class" "$@" >"$DIR/logs/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

case "$cmd" in
  start)
    if [ -n "$(pids)" ] && kill -0 $(pids) 2>/dev/null; then
      echo "cluster.sh: already running (scripts/cluster.sh status)" >&2; exit 1
    fi
    mkdir -p "$DIR/work"
    start_daemon master org.apache.spark.deploy.master.Master \
      --host 127.0.0.1 --port "$PORT" --webui-port "$UI"
    for _ in $(seq 60); do
      grep -q "I have been elected leader" "$DIR/logs/master.log" 2>/dev/null && break
      sleep 1
    done
    grep -q "I have been elected leader" "$DIR/logs/master.log" \
      || { echo "cluster.sh: master did not start (see $DIR/logs/master.log)" >&2; exit 1; }
    for i in $(seq "$WORKERS"); do
      start_daemon "worker-$i" org.apache.spark.deploy.worker.Worker "$MASTER" \
        --host 127.0.0.1 --cores "$CORES" --memory "$MEMORY" \
        --work-dir "$DIR/work/worker-$i" --webui-port $((UI + i))
    done
    for _ in $(seq 60); do
      n=$( (grep -l "Successfully registered with master" "$DIR"/logs/worker-*.log 2>/dev/null || true) | wc -l)
      [ "$n" -ge "$WORKERS" ] && break
      sleep 1
    done
    [ "$n" -ge "$WORKERS" ] || { echo "cluster.sh: only $n of $WORKERS workers registered (logs in $DIR/logs)" >&2; exit 1; }
    echo "cluster.sh: $MASTER with $WORKERS workers x $CORES cores, UI http://127.0.0.1:$UI, logs in $DIR/logs"
    ;;
  status)
    for f in "$DIR"/*.pid; do
      [ -e "$f" ] || { echo "cluster.sh: not running"; exit 1; }
      name=$(basename "$f" .pid)
      if kill -0 "$(cat "$f")" 2>/dev/null; then echo "$name running (pid $(cat "$f"))"
      else echo "$name stopped"; fi
    done
    ;;
  stop)
    for f in "$DIR"/worker-*.pid "$DIR"/master.pid; do
      [ -e "$f" ] || continue
      pid=$(cat "$f")
      # The daemon's whole process group: the JVM, its executors and their Python workers.
      kill -TERM -- "-$pid" 2>/dev/null || true
      for _ in $(seq 20); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL -- "-$pid" 2>/dev/null || true
      rm -f "$f"
    done
    echo "cluster.sh: stopped"
    ;;
  *)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
