#!/usr/bin/env bash
# One command to try Cobrowse locally: installs what is missing, builds the wasm bundle and starts
# the server with embedded storage in ./data, serving www/.
#
#   ./scripts/run.sh                 → http://localhost:8700/cobrowse/demo/  (customer demo)
#                                      http://localhost:8700/cobrowse/slave.html  (agent page)
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
log "customer demo: http://localhost:$port/cobrowse/demo/"
log "agent page:    http://localhost:$port/cobrowse/slave.html"
# Static dir and data dir through the server's environment layer (COBROWSE_<OPTION>, which
# overrides a --config file); flags passed to run.sh override both.
export COBROWSE_STATIC_DIR="${COBROWSE_STATIC_DIR:-$ROOT/www}"
export COBROWSE_STORAGE_TYPE="${COBROWSE_STORAGE_TYPE:-embedded}"
export COBROWSE_STORAGE_DATA_DIR="${COBROWSE_STORAGE_DATA_DIR:-$data_dir}"
exec cargo run --release -p cobrowse-server -- --port "$port" "$@"
