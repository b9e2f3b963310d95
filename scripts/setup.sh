#!/usr/bin/env bash
# Installs what building, running and testing Cobrowse needs. Idempotent: each step first checks
# whether its tool is already there at the right version and does nothing if so, so a warm run
# takes a second or two. Installs come only from the package registries (crates.io, npm, Debian).
#
#   scripts/setup.sh [run|test]      (default: run)
#
#   run   Rust wasm target, wasm-bindgen-cli at the Cargo.lock version, npm build tools
#         (binaryen's wasm-opt) and js-shim's npm packages.
#   test  everything above, plus Debian chromium + chromium-driver (wasm-bindgen-test and the
#         end-to-end tests drive them), firefox-esr, webkit2gtk-driver and xvfb (the customer
#         in other browsers), the npm packages of tests/, schemathesis (PyPI; the REST API
#         fuzzer) and cargo-fuzz with a nightly toolchain (the protocol fuzz targets).
#
# Expects a Debian-like machine with Rust installed through rustup and Node.js 20+ with npm.
# apt-get runs only when a package is missing (as root, or through sudo when available).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode="${1:-run}"
case "$mode" in
  run|test) ;;
  -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown mode '$mode' (expected: run or test)" ;;
esac

started=$(date +%s)
log "mode: $mode"

# ---- apt (collected first, installed in one go, apt-get update at most once) -------------------
apt_missing=()
need_cmd_pkg() { have "$1" || apt_missing+=("$2"); }
need_cmd_pkg python3 python3
need_cmd_pkg gzip gzip
need_cmd_pkg cc gcc
# The server links the system OpenSSL for TLS to Cassandra/ScyllaDB (scylla's openssl-010 feature).
[ -f /usr/include/openssl/ssl.h ] || apt_missing+=(libssl-dev)
need_cmd_pkg pkg-config pkg-config
if [ "$mode" = test ]; then
  [ -x /usr/bin/chromium ] || apt_missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || apt_missing+=(chromium-driver)
  # The customer in other browsers (tests/cases/customer-browsers): Firefox ESR over WebDriver
  # BiDi, WebKitGTK's WebDriver and MiniBrowser, which has no headless mode and runs under Xvfb.
  [ -x /usr/bin/firefox-esr ] || apt_missing+=(firefox-esr)
  [ -x /usr/bin/WebKitWebDriver ] || apt_missing+=(webkit2gtk-driver)
  need_cmd_pkg xvfb-run xvfb
  need_cmd_pkg xauth xauth
  # The Cassandra store and cluster tests: a JDK 17 runs Cassandra 5.0, Maven fetches
  # its jars from Maven Central once (scripts/cassandra.sh), nginx is the sticky load balancer.
  ls /usr/lib/jvm/*17*/bin/java >/dev/null 2>&1 || apt_missing+=(openjdk-17-jre-headless)
  need_cmd_pkg mvn maven
  [ -x /usr/sbin/nginx ] || apt_missing+=(nginx)
  # The lint stage checks the scripts themselves.
  need_cmd_pkg shellcheck shellcheck
  # scripts/cassandra.sh makes the test CA and the node's PEM keystore with the openssl CLI.
  need_cmd_pkg openssl openssl
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  have apt-get || die "missing ${apt_missing[*]} and no apt-get to install them; install them by hand"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    have sudo || die "missing ${apt_missing[*]}: run as root or install sudo"
    sudo=(sudo -n)
  fi
  log "apt-get install ${apt_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" </dev/null \
    || die "apt-get install ${apt_missing[*]} failed"
fi
python3 -c 'import tomllib' 2>/dev/null || die "python3 is older than 3.11 (no tomllib); the scripts read TOML with it"

# ---- Rust ---------------------------------------------------------------------------------------
have rustup || die "rustup not found: install Rust with rustup (https://rustup.rs), then rerun"
have cargo || die "cargo not found on PATH (add ~/.cargo/bin to PATH)"
# rust-toolchain.toml pins the channel; ask rustup from the repo root so that toolchain is the one
# that gets the target.
if ! (cd "$ROOT" && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown); then
  log "rustup target add wasm32-unknown-unknown"
  (cd "$ROOT" && rustup target add wasm32-unknown-unknown) \
    || die "cannot add the wasm32-unknown-unknown target (is the Rust registry reachable?)"
fi
if [ "$mode" = test ]; then
  for comp in rustfmt clippy; do
    if ! (cd "$ROOT" && rustup component list --installed 2>/dev/null | grep -q "^$comp"); then
      log "rustup component add $comp"
      (cd "$ROOT" && rustup component add "$comp") || die "cannot add rustup component $comp"
    fi
  done
fi

# wasm-bindgen-cli must be exactly the library's version: the CLI refuses (or silently
# mis-generates) glue for a different schema version.
want="$(wasm_bindgen_version)" || die "cannot determine the wasm-bindgen version from Cargo.lock / Cargo.toml"
got=""
if have wasm-bindgen; then got="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')"; fi
if [ "$got" != "$want" ] || ! have wasm-bindgen-test-runner; then
  log "cargo install wasm-bindgen-cli --version $want (have: ${got:-none}; takes a few minutes)"
  # No --locked: the registry mirror lacks one version pinned in the CLI's own lockfile.
  cargo install wasm-bindgen-cli --version "$want" --force \
    || die "cargo install wasm-bindgen-cli --version $want failed"
  hash -r
  got="$(wasm-bindgen --version | awk '{print $2}')"
  [ "$got" = "$want" ] || die "installed wasm-bindgen is $got, expected $want (is another one earlier on PATH?)"
fi

# ---- npm ----------------------------------------------------------------------------------------
have node || die "node not found: install Node.js 20+ (Debian: apt-get install -y nodejs npm)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 18 ] || die "Node.js $node_major is too old; need 18+ (node --test, fetch)"
ensure_npm_deps "$ROOT/scripts"
ensure_npm_deps "$ROOT/js-shim"
if [ "$mode" = test ]; then
  ensure_npm_deps "$ROOT/tests"
fi

# ---- test-only fuzzers --------------------------------------------------------------------------
if [ "$mode" = test ]; then
  # schemathesis (PyPI) fuzzes the REST API against its OpenAPI document (scripts/schemathesis.sh):
  # a 4.x on PATH is used as it is; otherwise it goes into a virtualenv of the repository's own.
  if ! schemathesis_bin >/dev/null; then
    log "pip install '$SCHEMATHESIS_SPEC' into ${SCHEMATHESIS_VENV#"$ROOT"/}"
    [ -x "$SCHEMATHESIS_VENV/bin/pip" ] || python3 -m venv "$SCHEMATHESIS_VENV" \
      || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$SCHEMATHESIS_VENV/bin/pip" install --quiet --disable-pip-version-check "$SCHEMATHESIS_SPEC" \
      || die "pip install '$SCHEMATHESIS_SPEC' failed"
    schemathesis_bin >/dev/null || die "schemathesis installed, but no 4.32+ answers"
  fi
  # cargo-fuzz runs the protocol's fuzz targets (scripts/fuzz.sh); it builds them with nightly
  # Rust (sanitizer flags), installed only when no nightly toolchain is there.
  if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    log "rustup toolchain install nightly (minimal profile)"
    rustup toolchain install nightly --profile minimal || die "cannot install the nightly toolchain"
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    log "cargo install cargo-fuzz --locked"
    cargo install cargo-fuzz --locked || die "cargo install cargo-fuzz failed"
  fi
fi

log "ready ($mode) in $(( $(date +%s) - started ))s: wasm-bindgen $got, wasm-opt $("$ROOT/scripts/node_modules/.bin/wasm-opt" --version | awk '{print $3}'), node $(node --version)"
