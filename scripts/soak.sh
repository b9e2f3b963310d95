#!/usr/bin/env bash
# The soak: days of a cluster's life in minutes. Three cobrowse-server nodes (cluster mode, one
# Cassandra) behind nginx running ci/nginx/cobrowse.conf carry N sessions at R frames/s per
# customer for M minutes, every party dropping and resuming its socket every S seconds, one node
# restarted (SIGTERM, start again) on the way. Prints per-node RSS / open files / tokio tasks
# (start, end, slope per minute; sampled every 10 s) and the stream's and sessions' counts, and
# writes bench/results/soak.md, soak.json and the chart soak.svg.
#
#   scripts/soak.sh [--minutes M] [--sessions N] [--rate R] [--reconnect-every S]
#                   [--restart-at FRACTION] [--max-interval S] [--skip-setup] [--skip-build]
#
#   defaults: 10 minutes, 2000 sessions, 10 frames/s, reconnect every 60 s, restart at 0.4,
#   nodes' session.maxInterval 60 s (the server's default is 600 s; see bench/README.md)
#   short run while iterating: scripts/soak.sh --minutes 1 --sessions 200
#
# Separate from scripts/test.sh, like scripts/bench.sh: it reports figures and never fails
# because the machine is slow (it exits non-zero only when it could not run). Starts its own
# Cassandra on 127.0.0.1:$SOAK_CASSANDRA_PORT (9142; storage port 7100, data in
# target/soak-cassandra) so it never touches a test run's database; set SOAK_CASSANDRA=host:port
# to use one that is running already. Honours CARGO_TARGET_DIR (default target/).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

args="$*"
minutes=10 sessions=2000 rate=10 reconnect=60 restart_at=0.4 max_interval=60 setup=1 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="${2:?}"; shift ;;
    --sessions) sessions="${2:?}"; shift ;;
    --rate) rate="${2:?}"; shift ;;
    --reconnect-every) reconnect="${2:?}"; shift ;;
    --restart-at) restart_at="${2:?}"; shift ;;
    --max-interval) max_interval="${2:?}"; shift ;;
    --skip-setup) setup=0 ;;
    --skip-build) build=0 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

results="$ROOT/bench/results"
mkdir -p "$results"
work="$(mktemp -d)"
cassandra_started=0
cleanup() {
  if [ "$cassandra_started" = 1 ]; then
    CASSANDRA_PORT="$SOAK_CASSANDRA_PORT" CASSANDRA_STORAGE_PORT="${SOAK_CASSANDRA_STORAGE_PORT:-7100}" \
      CASSANDRA_RUN_DIR="$CARGO_TARGET_DIR/soak-cassandra" "$ROOT/scripts/cassandra.sh" stop || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$setup" = 1 ]; then
  stage "setup (scripts/setup.sh test: nginx, JDK 17, Maven)"
  "$ROOT/scripts/setup.sh" test
fi

if [ "$build" = 1 ]; then
  stage "build (release server and load generator)"
  (cd "$ROOT" && cargo build --release --locked -p cobrowse-server -p cobrowse-loadgen)
fi

SOAK_CASSANDRA_PORT="${SOAK_CASSANDRA_PORT:-9142}"
if [ -z "${SOAK_CASSANDRA:-}" ]; then
  stage "cassandra (its own, on port $SOAK_CASSANDRA_PORT)"
  cassandra_started=1
  CASSANDRA_PORT="$SOAK_CASSANDRA_PORT" CASSANDRA_STORAGE_PORT="${SOAK_CASSANDRA_STORAGE_PORT:-7100}" \
    CASSANDRA_RUN_DIR="$CARGO_TARGET_DIR/soak-cassandra" "$ROOT/scripts/cassandra.sh" start
  SOAK_CASSANDRA="127.0.0.1:$SOAK_CASSANDRA_PORT"
fi

stage "soak: $sessions sessions × $rate frames/s for $minutes min"
# Every session holds two client sockets here and up to four in nginx: raise the soft descriptor
# limit as far as the hard one allows (the nodes and nginx inherit it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
started=$(date +%s)
(cd "$ROOT" && "$CARGO_TARGET_DIR/release/cobrowse-loadgen" soak \
  --server-bin "$CARGO_TARGET_DIR/release/cobrowse-server" --static-dir www \
  --cassandra "$SOAK_CASSANDRA" --nginx-sample ci/nginx/cobrowse.conf --work-dir "$work" \
  --sessions "$sessions" --minutes "$minutes" --rate "$rate" \
  --reconnect-every "$reconnect" --restart-at "$restart_at" --max-interval "$max_interval" \
  --out "$work/soak.md" --svg "$results/soak.svg" --json "$results/soak.json" >/dev/null) \
  || { tail -n 30 "$work"/n*.log >&2 2>/dev/null || true; die "the soak could not run"; }
elapsed=$(( $(date +%s) - started ))

{
  echo "# Soak results"
  echo
  echo "Command: \`scripts/soak.sh $args\` · finished $(date -u '+%Y-%m-%d %H:%M UTC') · run time ${elapsed} s · commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo '?') × $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null); load average at the end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null). Load generator, nginx, the three nodes and Cassandra share it."
  echo
  cat "$work/soak.md"
  echo
  echo "Curves: [soak.svg](soak.svg) (RSS, open files, tokio tasks and sessions owned per node, sampled every 10 s); raw samples in soak.json."
} >"$results/soak.md"

cat "$results/soak.md"
log "wrote bench/results/soak.md, soak.json and soak.svg (${elapsed} s)"
