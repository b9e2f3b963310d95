#!/usr/bin/env bash
# One command to try Cobrowse locally: installs what is missing, builds the wasm bundle and starts
# the server with embedded storage in ./data, serving www/.
#
#   ./scripts/run.sh                 → http://localhost:8700/cobrowse/demo/  (customer demo)
#                                      http://localhost:8700/cobrowse/slave.html#auth=…  (agent page,
#                                      with the agent credential the server generated, printed)
#
# Environment: PORT (default 8700), DATA_DIR (default ./data), CARGO_TARGET_DIR (default target/).
# Extra arguments are passed to the server (see server/README.md, or `--help`).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port="${PORT:-8700}"
data_dir="${DATA_DIR:-$ROOT/data}"

stage "setup"
"$ROOT/scripts/setup.sh" run

stage "build the browser bundle (wasm + loader)"
"$ROOT/scripts/build-all.sh"

stage "build and start the server"
mkdir -p "$data_dir"
cd "$ROOT"
# Static dir and data dir through the server's environment layer (COBROWSE_<OPTION>, which
# overrides a --config file); flags passed to run.sh override both.
export COBROWSE_STATIC_DIR="${COBROWSE_STATIC_DIR:-$ROOT/www}"
export COBROWSE_STORAGE_TYPE="${COBROWSE_STORAGE_TYPE:-embedded}"
export COBROWSE_STORAGE_DATA_DIR="${COBROWSE_STORAGE_DATA_DIR:-$data_dir}"
cargo build --release -p cobrowse-server
"$CARGO_TARGET_DIR/release/cobrowse-server" --port "$port" "$@" &
server_pid=$!
# Ctrl-C / SIGTERM go to the server, which stops gracefully; run.sh exits with it.
trap 'kill -TERM "$server_pid" 2>/dev/null || true' INT TERM

# With no agent credential configured the server generates one into the data directory on its
# first start (and logs the agent page URL); print that URL where it cannot be missed. An
# operator who configured auth.* (environment or flags) hands out their own credential.
token_file="$COBROWSE_STORAGE_DATA_DIR/agent-token"
configured_auth=0
if env | grep -q '^COBROWSE_AUTH_' || [[ " $* " == *" auth."* ]] || [[ " $* " == *"--config"* ]]; then
  configured_auth=1
fi
for _ in $(seq 1 300); do
  [ -s "$token_file" ] || [ "$configured_auth" = 1 ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
log "customer demo: http://localhost:$port/cobrowse/demo/"
if [ "$configured_auth" = 0 ] && [ -s "$token_file" ]; then
  log "agent page:    http://localhost:$port/cobrowse/slave.html#auth=$(tr -d '[:space:]' < "$token_file")"
  log "               (the #auth=… part is the agent credential: share it only with your agents)"
else
  log "agent page:    http://localhost:$port/cobrowse/slave.html#auth=<your agent credential>"
fi
status=0
wait "$server_pid" || status=$?
# A signal interrupts the first wait; the server is still shutting down.
if kill -0 "$server_pid" 2>/dev/null; then
  status=0
  wait "$server_pid" || status=$?
fi
exit "$status"
