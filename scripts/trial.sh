#!/usr/bin/env bash
# Try Cobrowse on an existing site without changing it — a trial tool, not for production:
#
#   ./scripts/trial.sh http://localhost:3000          # your dev server, or a staging URL
#   ./scripts/trial.sh https://staging.example --insecure-upstream-tls
#
# Installs what is missing, builds the browser bundle, the server and cobrowse-trial, starts the
# co-browse server (embedded storage in ./data) and, in front of your site, the trial proxy
# (trial-proxy/README.md), which serves the site with the co-browse snippet injected into its
# pages and /cobrowse/ on the same origin. Prints where to open the site and the agent page;
# Ctrl-C stops both.
#
# Environment: PORT (server, default 8700), TRIAL_LISTEN (default 127.0.0.1), TRIAL_PORT (default
# 8780), DATA_DIR (default ./data), CARGO_PROFILE (default release; `dev` builds faster and runs
# slower), CARGO_TARGET_DIR (default target/). Arguments after the URL go to cobrowse-trial.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 <site URL, e.g. http://localhost:3000> [cobrowse-trial options]"
upstream="$1"
shift
port="${PORT:-8700}"
trial_listen="${TRIAL_LISTEN:-127.0.0.1}"
trial_port="${TRIAL_PORT:-8780}"
data_dir="${DATA_DIR:-$ROOT/data}"
profile="${CARGO_PROFILE:-release}"
case "$profile" in
  dev) bin_dir="$CARGO_TARGET_DIR/debug" ;;
  *) bin_dir="$CARGO_TARGET_DIR/$profile" ;;
esac
have curl || die "curl is needed to wait for the server (apt-get install curl)"

stage "setup"
"$ROOT/scripts/setup.sh" run

stage "build the browser bundle (wasm + loader)"
"$ROOT/scripts/build-all.sh"

stage "build the server and the trial proxy ($profile)"
(cd "$ROOT" && cargo build --locked --profile "$profile" -p cobrowse-server -p cobrowse-trial)

pids=()
# Stops what this script started (and only that), whichever way it ends.
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

stage "start the co-browse server"
mkdir -p "$data_dir"
# As run.sh: static dir and storage through the server's environment layer. Its output stays on
# this terminal: it prints the agent page's address (and the agent credential, when it makes one).
COBROWSE_STATIC_DIR="${COBROWSE_STATIC_DIR:-$ROOT/www}" \
COBROWSE_STORAGE_TYPE="${COBROWSE_STORAGE_TYPE:-embedded}" \
COBROWSE_STORAGE_DATA_DIR="${COBROWSE_STORAGE_DATA_DIR:-$data_dir}" \
  "$bin_dir/cobrowse-server" --listen 127.0.0.1 --port "$port" &
pids+=("$!")
server="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "$server/cobrowse/health" 2>/dev/null && break
  kill -0 "${pids[0]}" 2>/dev/null || die "the server exited; see its output above"
  sleep 0.1
done
curl -fsS -o /dev/null "$server/cobrowse/health" || die "the server did not answer $server/cobrowse/health within 30 s"

stage "start the trial proxy in front of $upstream"
"$bin_dir/cobrowse-trial" "$upstream" --cobrowse "$server" --listen "$trial_listen" --port "$trial_port" "$@" &
pids+=("$!")
proxy="http://$trial_listen:$trial_port"
for _ in $(seq 1 100); do
  curl -s -o /dev/null "$proxy/cobrowse/health" 2>/dev/null && break
  kill -0 "${pids[1]}" 2>/dev/null || die "the trial proxy exited; see its output above"
  sleep 0.1
done

cat >&2 <<EOF

  Your site, with co-browsing:  $proxy/
      press the co-browse button at the bottom right and note the 9-digit number
  Agent page:                   $server/cobrowse/slave.html
      type that number (the server's output above names the agent page with its credential)

  A trial tool, not for production: the proxy logs every header it adjusts (once each).
  Ctrl-C stops both.

EOF
# Until either exits (or Ctrl-C): then the trap stops the other.
wait -n "${pids[@]}"
