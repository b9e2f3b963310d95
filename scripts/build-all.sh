#!/usr/bin/env bash
# Builds everything the browser needs into www/js/: both wasm crates and the loader.
#
#   scripts/build-all.sh
#
# js-shim owns the loader build: when js-shim/package.json has a `build` script it is used (it
# calls scripts/build-wasm.sh itself, then places the loader at www/js/cobrowse.js); otherwise
# only the wasm crates are built. Used by run.sh and test.sh so both serve the same bundle.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ -f "$ROOT/js-shim/package.json" ] \
  && node -e 'process.exit(require(process.argv[1]).scripts?.build ? 0 : 1)' "$ROOT/js-shim/package.json"; then
  ensure_npm_deps "$ROOT/js-shim"
  log "npm run build in js-shim (wasm + loader)"
  (cd "$ROOT/js-shim" && npm run --silent build)
else
  log "js-shim has no build script yet: building the wasm crates only"
  "$ROOT/scripts/build-wasm.sh"
fi

missing=()
for f in js/client/cobrowse_client.js js/client/cobrowse_client_bg.wasm \
         js/agent/cobrowse_agent.js js/agent/cobrowse_agent_bg.wasm js/cobrowse.js; do
  [ -f "$ROOT/www/$f" ] || missing+=("www/$f")
done
if [ ${#missing[@]} -gt 0 ]; then
  warn "not built: ${missing[*]}"
fi
