#!/usr/bin/env bash
# A real single-node Apache Cassandra on loopback for the storage tests.
#
#   scripts/cassandra.sh fetch    resolve the jars from Maven Central once (cached outside the repo)
#   scripts/cassandra.sh start    start a node (fresh data dir), wait until CQL answers
#   scripts/cassandra.sh stop     stop the node started by `start`
#   scripts/cassandra.sh status   exit 0 when CQL answers
#   scripts/cassandra.sh tls-dir  print the directory of the test TLS material (made when absent)
#
# The node accepts plain and TLS clients on the same port (client_encryption_options enabled and
# optional, PEM keystore): a test CA and a server certificate for IP 127.0.0.1 / localhost are
# made once with openssl and cached outside the repo (`ca.pem`, `server.pem`, plus `other-ca.pem`,
# an unrelated CA for the wrong-CA test). The yaml in ci/cassandra is rendered into the run dir
# with the keystore path appended.
#
# Only OpenJDK 17 runs Cassandra 5.0 here: newer JDKs removed the SecurityManager it installs.
# Environment: CASSANDRA_HOME (jar cache, default ~/.cache/cobrowse/cassandra-<version>),
# CASSANDRA_RUN_DIR (data/logs, default target/cassandra), CASSANDRA_PORT (9042),
# CASSANDRA_STORAGE_PORT (7000), CASSANDRA_HEAP (1G), CASSANDRA_JAVA (a JDK 17 java),
# CASSANDRA_TLS_DIR (test CA and keystore, default ~/.cache/cobrowse/cassandra-tls).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CASSANDRA_VERSION=5.0.8 # keep in sync with ci/cassandra/pom.xml
CASSANDRA_HOME="${CASSANDRA_HOME:-$HOME/.cache/cobrowse/cassandra-$CASSANDRA_VERSION}"
RUN_DIR="${CASSANDRA_RUN_DIR:-$ROOT/target/cassandra}"
PORT="${CASSANDRA_PORT:-9042}"
STORAGE_PORT="${CASSANDRA_STORAGE_PORT:-7000}"
HEAP="${CASSANDRA_HEAP:-1G}"
START_TIMEOUT="${CASSANDRA_START_TIMEOUT:-180}"
TLS_DIR="${CASSANDRA_TLS_DIR:-$HOME/.cache/cobrowse/cassandra-tls}"

log() { printf '[cassandra] %s\n' "$*" >&2; }

find_java17() {
  local candidate
  for candidate in "${CASSANDRA_JAVA:-}" /usr/lib/jvm/java-17-openjdk-amd64/bin/java /usr/lib/jvm/*17*/bin/java; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -version 2>&1 | grep -q 'version "17'; then
      echo "$candidate"
      return 0
    fi
  done
  log "no JDK 17 found (install Debian's openjdk-17-jre-headless or set CASSANDRA_JAVA)"
  return 1
}

fetch() {
  if [ -f "$CASSANDRA_HOME/lib/.complete" ]; then
    return 0
  fi
  command -v mvn >/dev/null || { log "mvn not found (apt-get install maven)"; return 1; }
  log "resolving cassandra-all $CASSANDRA_VERSION from Maven Central into $CASSANDRA_HOME/lib"
  mkdir -p "$CASSANDRA_HOME/lib"
  mvn -B -q -f "$ROOT/ci/cassandra/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$CASSANDRA_HOME/lib"
  touch "$CASSANDRA_HOME/lib/.complete"
}

# Test TLS material, made once: a CA, a server key + certificate signed by it (PEM keystore:
# unencrypted PKCS#8 key followed by the certificate), and an unrelated CA.
tls_material() {
  if [ -f "$TLS_DIR/.complete" ]; then
    return 0
  fi
  command -v openssl >/dev/null || { log "openssl not found (apt-get install openssl)"; return 1; }
  log "making test TLS material in $TLS_DIR"
  mkdir -p "$TLS_DIR"
  (
    cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
      -subj "/CN=Cobrowse test CA" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 3650 \
      -subj "/CN=Unrelated test CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
      -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt \
      -days 3650 -extfile server.ext 2>/dev/null
    cat server.key server.crt >server.pem
    rm -f server.csr server.ext ca.srl
  ) || { log "openssl failed in $TLS_DIR"; return 1; }
  touch "$TLS_DIR/.complete"
}

cql_answers() {
  # The native protocol port accepting connections is the readiness signal the driver needs;
  # the store's own connect retries cover the short gap until "Startup complete".
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

start() {
  fetch
  local java jamm pid started
  java="$(find_java17)"
  if [ -f "$RUN_DIR/java.pid" ] && kill -0 "$(cat "$RUN_DIR/java.pid")" 2>/dev/null; then
    log "already running (pid $(cat "$RUN_DIR/java.pid"))"
    return 0
  fi
  if cql_answers; then
    log "port $PORT is already taken by another process"
    return 1
  fi
  tls_material
  rm -rf "$RUN_DIR"
  mkdir -p "$RUN_DIR"/{data,logs,tmp}
  # Plain and TLS on the same native port, so every test can choose.
  cp "$ROOT/ci/cassandra/cassandra.yaml" "$RUN_DIR/cassandra.yaml"
  cat >>"$RUN_DIR/cassandra.yaml" <<EOF
client_encryption_options:
  enabled: true
  optional: true
  require_client_auth: false
  ssl_context_factory:
    class_name: org.apache.cassandra.security.PEMBasedSslContextFactory
  keystore: $TLS_DIR/server.pem
EOF
  jamm="$(find "$CASSANDRA_HOME/lib" -maxdepth 1 -name 'jamm-*.jar' | sort | head -n 1)"
  mapfile -t module_flags < <(grep '^-' "$ROOT/ci/cassandra/jvm17.options")
  started=$(date +%s%N)
  "$java" -Xms"$HEAP" -Xmx"$HEAP" -Xss256k -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
    -XX:+PerfDisableSharedMem -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true \
    -Djava.io.tmpdir="$RUN_DIR/tmp" -Djna.tmpdir="$RUN_DIR/tmp" \
    -javaagent:"$jamm" "${module_flags[@]}" \
    -Dcassandra.config="file://$RUN_DIR/cassandra.yaml" \
    -Dcassandra.storagedir="$RUN_DIR/data" -Dcassandra.logdir="$RUN_DIR/logs" \
    -Dlogback.configurationFile="$ROOT/ci/cassandra/logback.xml" \
    -Dcassandra-foreground=yes \
    -Dcassandra.native_transport_port="$PORT" -Dcassandra.storage_port="$STORAGE_PORT" \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.ring_delay_ms=1000 \
    -Dcassandra.superuser_setup_delay_ms=0 -Dcassandra.unsafesystem=true -Dcassandra.skip_sync=true \
    -Dcassandra.test.flush_local_schema_changes=false -Dcassandra.libjemalloc=- \
    -cp "$ROOT/ci/cassandra:$CASSANDRA_HOME/lib/*" org.apache.cassandra.service.CassandraDaemon \
    >"$RUN_DIR/logs/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$RUN_DIR/java.pid"
  local deadline=$(( $(date +%s) + START_TIMEOUT ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "cassandra exited during start; last log lines:"
      tail -n 60 "$RUN_DIR/logs/stdout.log" "$RUN_DIR/logs/system.log" >&2 2>/dev/null || true
      return 1
    fi
    if cql_answers; then
      local rss
      rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      log "ready on 127.0.0.1:$PORT after $(( ($(date +%s%N) - started) / 1000000 )) ms, RSS $((rss / 1024)) MiB (pid $pid)"
      return 0
    fi
    sleep 0.5
  done
  log "not ready after ${START_TIMEOUT}s; last log lines:"
  tail -n 60 "$RUN_DIR/logs/system.log" >&2 2>/dev/null || true
  stop
  return 1
}

stop() {
  local pid
  [ -f "$RUN_DIR/java.pid" ] || return 0
  pid="$(cat "$RUN_DIR/java.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
    log "stopped (pid $pid)"
  fi
  rm -f "$RUN_DIR/java.pid"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) cql_answers ;;
  tls-dir) tls_material && echo "$TLS_DIR" ;;
  *) echo "usage: $0 fetch|start|stop|status|tls-dir" >&2; exit 2 ;;
esac
