# shellcheck shell=bash
# Helpers shared by scripts/*.sh. Source it; it sets ROOT and defines logging, the cargo target
# directory, and the idempotent npm install used by setup.sh and build-wasm.sh.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# Honour a caller's CARGO_TARGET_DIR (engineers share one tree and keep separate target dirs);
# default to the workspace's own `target/`.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$CARGO_TARGET_DIR" in
  /*) ;;
  *) CARGO_TARGET_DIR="$ROOT/$CARGO_TARGET_DIR" ;;
esac
export CARGO_TARGET_DIR

_script_name="$(basename "${0:-cobrowse}")"

log() { printf '[%s] %s\n' "$_script_name" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$_script_name" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "$_script_name" "$*" >&2
  exit 1
}

# A visible stage header, so a long log shows where a failure happened.
stage() {
  printf '\n==== %s ====\n' "$*" >&2
}

have() { command -v "$1" >/dev/null 2>&1; }

# The debug server and trial-proxy binaries the e2e cases and schemathesis start. One package
# set for every caller: cargo unifies dependency features per set, so building the server alone
# would compile some twenty dependencies and the server a second time, with other features.
build_server_binaries() {
  (cd "$ROOT" && cargo build --locked -p cobrowse-server -p cobrowse-trial)
}

# The wasm-bindgen version the workspace builds against: Cargo.lock when it has the crate,
# else the exact pin `=X.Y.Z` in the root Cargo.toml. The CLI must match it exactly.
wasm_bindgen_version() {
  python3 - "$ROOT" <<'PY'
import re, sys, tomllib, pathlib
root = pathlib.Path(sys.argv[1])
lock = root / "Cargo.lock"
if lock.exists():
    with lock.open("rb") as f:
        pkgs = tomllib.load(f).get("package", [])
    versions = sorted({p["version"] for p in pkgs if p.get("name") == "wasm-bindgen"})
    if len(versions) > 1:
        sys.exit("Cargo.lock has several wasm-bindgen versions: " + ", ".join(versions))
    if versions:
        print(versions[0]); sys.exit(0)
with (root / "Cargo.toml").open("rb") as f:
    spec = tomllib.load(f).get("workspace", {}).get("dependencies", {}).get("wasm-bindgen")
if isinstance(spec, dict):
    spec = spec.get("version")
m = re.fullmatch(r"=\s*(\d+\.\d+\.\d+)", spec or "")
if not m:
    sys.exit("cannot find the wasm-bindgen version (Cargo.lock, or an exact '=X.Y.Z' pin in Cargo.toml)")
print(m.group(1))
PY
}

# Installs the npm packages of folder $1 when node_modules is missing or was installed from a
# different lockfile (a hash of package.json + package-lock.json is stored in node_modules).
# Uses `npm ci` when there is a lockfile so CI gets exactly the pinned versions.
ensure_npm_deps() {
  local dir="$1" stamp hash
  [ -f "$dir/package.json" ] || return 0
  have npm || die "npm is not installed; install Node.js 20+ with npm (Debian: apt-get install -y nodejs npm)"
  local f files=()
  for f in "$dir/package.json" "$dir/package-lock.json"; do [ -f "$f" ] && files+=("$f"); done
  hash="$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)"
  stamp="$dir/node_modules/.cobrowse-deps-hash"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    return 0
  fi
  if [ -f "$dir/package-lock.json" ]; then
    log "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in $dir"
  else
    log "npm install in ${dir#"$ROOT"/} (no package-lock.json)"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2) || die "npm install failed in $dir"
  fi
  mkdir -p "$dir/node_modules"
  printf '%s\n' "$hash" >"$stamp"
}

# Path of a wasm-opt new enough for current wasm-bindgen output: $WASM_OPT, else the npm
# `binaryen` in scripts/node_modules (installed on demand). Debian's binaryen is deliberately
# not used: version 108 rejects modules that use reference types / multivalue.
wasm_opt_path() {
  if [ -n "${WASM_OPT:-}" ]; then
    printf '%s\n' "$WASM_OPT"
    return 0
  fi
  ensure_npm_deps "$ROOT/scripts"
  local p="$ROOT/scripts/node_modules/.bin/wasm-opt"
  [ -x "$p" ] || die "wasm-opt not found at $p; run ./scripts/setup.sh"
  printf '%s\n' "$p"
}

# The schemathesis release scripts/schemathesis.sh is written for (its CLI and check names).
# shellcheck disable=SC2034 # read by setup.sh
SCHEMATHESIS_SPEC='schemathesis>=4.32,<5'
# Where setup.sh installs it when no 4.x is on PATH: a virtualenv of the repository's own, so the
# system Python is not touched (Debian's refuses pip installs outside one).
SCHEMATHESIS_VENV="$ROOT/scripts/.venv"

# Path of a schemathesis 4.x (4.32 or later): the one in $SCHEMATHESIS_VENV, else one on PATH; fails if neither.
schemathesis_bin() {
  local candidate
  for candidate in "$SCHEMATHESIS_VENV/bin/schemathesis" "$(command -v schemathesis || true)"; do
    if [ -z "$candidate" ] || [ ! -x "$candidate" ]; then continue; fi
    # 4.32 or a later 4.x (the check names scripts/schemathesis.sh passes).
    if "$candidate" --version 2>/dev/null | grep -Eq 'version 4\.(3[2-9]|[4-9][0-9]|[1-9][0-9]{2,})\.'; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}
