#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#
#   ./scripts/test.sh [STAGE...] [e2e:CASE...]
#
# Stages, in order (all by default; naming some runs only those, in this order):
#   setup       scripts/setup.sh test (installs what is missing: wasm target, wasm-bindgen-cli,
#               chromium + chromedriver, shellcheck, npm packages)
#   fmt         cargo fmt --all --check
#   lint        shellcheck on scripts/ and .ci/run; cargo doc --workspace --no-deps with
#               warnings as errors
#   clippy      cargo clippy --workspace --all-targets -D warnings, natively and for the wasm crates
#               on wasm32 (their browser code only compiles there)
#   cassandra   start a real single-node Apache Cassandra (scripts/cassandra.sh) for the rest of the
#               run (stopped on exit) and export COBROWSE_TEST_CASSANDRA for the tests
#   unit        cargo test --workspace (native), with the server's Cassandra-backed store suite and
#               cluster tests enabled (feature cobrowse-server/cassandra-tests) when a database is
#               configured or CI is set (so in CI a missing database fails, never skips)
#   fuzz        a short run of every cargo-fuzz target of protocol/fuzz (scripts/fuzz.sh; nightly)
#   bundle      wasm crates + loader into www/js/ (scripts/build-all.sh)
#   js          js-shim's own tests (`npm test`: the loader in real Chromium)
#   wasm        wasm-bindgen-test suites of the wasm crates (and web-glue) in headless Chromium
#   server      cargo build -p cobrowse-server -p cobrowse-trial (the binaries the e2e cases start)
#   schemathesis  the REST API fuzzed against its OpenAPI document by schemathesis, on a real
#               server (scripts/schemathesis.sh): 0 server errors, 0 answers off the document
#   e2e         node --test in tests/ (real server, real bundle, real Chromium)
#   corpus      the TodoMVC corpus (tests/corpus/todomvc.mjs): real third-party apps driven on the
#               customer's side, customer and replica compared by identical ink after each step
#
# `e2e:CASE` runs only that end-to-end case (a folder of tests/cases/, or `fidelity`, `harness`),
# and implies the e2e stage: `./scripts/test.sh server e2e:write-mode` rebuilds the server and runs
# one case against the bundle already in www/js/.
#
# Cargo runs with --locked: CI tests the Cargo.lock that was committed, never a fresh resolution.
#
# Stops at the first failing stage and exits non-zero. The last line sums the test counts of every
# runner (cargo test, wasm-bindgen-test, node --test) as "N passed, N failed".
# Honours CARGO_TARGET_DIR (default target/).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_STAGES=(setup fmt lint clippy cassandra unit fuzz bundle js wasm server schemathesis e2e corpus)
e2e_files=()
if [ $# -gt 0 ]; then
  stages=()
  for s in "$@"; do
    if [[ "$s" == e2e:* ]]; then
      name="${s#e2e:}"
      case "$name" in
        fidelity|harness) dir="$ROOT/tests/$name" ;;
        *) dir="$ROOT/tests/cases/$name" ;;
      esac
      if [ -z "$name" ] || [ ! -d "$dir" ]; then
        die "no e2e case '$name' (cases: $(cd "$ROOT/tests/cases" && printf '%s ' */ | tr -d /)fidelity harness)"
      fi
      for f in "$dir"/*.test.mjs; do e2e_files+=("${f#"$ROOT/tests/"}"); done
      stages+=(e2e)
      continue
    fi
    [[ " ${ALL_STAGES[*]} " == *" $s "* ]] || die "unknown stage '$s' (stages: ${ALL_STAGES[*]})"
    stages+=("$s")
  done
  wanted=" ${stages[*]} "
else
  wanted=" ${ALL_STAGES[*]} "
fi

# A CI run builds everything once: incremental caches would only add their own copy of every
# workspace crate's objects to a target directory that must fit on the machine's disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

# Free space where the build goes, in MiB: printed after every stage, so a run that runs out of
# disk shows which stage ate it.
disk_free() { df -Pm "$CARGO_TARGET_DIR" 2>/dev/null | awk 'NR == 2 { print $4 }'; }

log_dir="$(mktemp -d "${TMPDIR:-/tmp}/cobrowse-test.XXXXXX")"
suite_started=$(date +%s)
passed=0
failed=0
ignored=0
current=""
timings=()

# Adds the counts a test runner printed to the totals. cargo and wasm-bindgen-test print
# "test result: ok. N passed; N failed; N ignored; …"; node's runner prints "# pass N" (TAP) or
# "ℹ pass N" (spec reporter).
count_results() {
  local file="$1" p f i
  read -r p f i < <(python3 - "$file" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
p = f = i = 0
for m in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", text):
    p += int(m[1]); f += int(m[2]); i += int(m[3])
for key, val in re.findall(r"^(?:# |ℹ )(pass|fail|skipped|todo|cancelled) (\d+)\s*$", text, re.M):
    if key == "pass": p += int(val)
    elif key in ("fail", "cancelled"): f += int(val)
    else: i += int(val)
print(p, f, i)
PY
)
  passed=$((passed + p))
  failed=$((failed + f))
  ignored=$((ignored + i))
}

summary() {
  local rc="$1"
  printf '\n==== summary ====\n'
  if [ ${#timings[@]} -gt 0 ]; then printf '%s\n' "${timings[@]}"; fi
  printf 'total time %ss; logs in %s\n' "$(( $(date +%s) - suite_started ))" "$log_dir"
  if [ -d "$CARGO_TARGET_DIR" ]; then
    printf 'target directory %s\n' "$(du -sh "$CARGO_TARGET_DIR" 2>/dev/null | cut -f1)"
  fi
  if [ "$rc" -ne 0 ]; then
    printf 'FAILED in stage: %s (exit %s)\n' "${current:-?}" "$rc"
  fi
  # Keep this the last line: the counts of all test runners together.
  printf '%s passed, %s failed, %s skipped\n' "$passed" "$failed" "$ignored"
}
cassandra_started=0
stop_cassandra() {
  if [ "$cassandra_started" = 1 ]; then "$ROOT/scripts/cassandra.sh" stop || true; fi
}
# The exit status is passed, not restored with `(exit $rc)`: under `set -e` that subshell's failure
# ended the trap before the summary of a failed run was printed.
trap 'rc=$?; stop_cassandra; summary "$rc"' EXIT

# run_stage NAME COMMAND... — prints a header, runs the command with its output shown and kept in
# the log dir, records the time, and (through set -e) stops the suite when it fails.
run_stage() {
  local name="$1"; shift
  current="$name"
  local started; started=$(date +%s)
  stage "$name: $*"
  local log="$log_dir/$name.log"
  set +e
  "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  count_results "$log"
  timings+=("$(printf '%-12s %5ss  %-11s %s MiB free' "$name" "$(( $(date +%s) - started ))" \
    "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED ($rc)")" "$(disk_free)")")
  if [ "$rc" -ne 0 ]; then
    exit "$rc"
  fi
}

want() { [[ "$wanted" == *" $1 "* ]]; }

cd "$ROOT"
wasm_packages=()
while read -r pkg; do wasm_packages+=("$pkg"); done < <(python3 -c '
import tomllib, sys
for c in tomllib.load(open(sys.argv[1], "rb"))["crate"]: print(c["package"])' "$ROOT/wasm-pack.toml")
# Browser-only crates that are not bundles of their own but have wasm tests and wasm-only code.
wasm_packages+=(cobrowse-web-glue)

want setup && run_stage setup "$ROOT/scripts/setup.sh" test
want fmt && run_stage fmt cargo fmt --all --check
if want lint; then
  run_stage shellcheck shellcheck -x "$ROOT"/scripts/*.sh "$ROOT/.ci/run"
  run_stage doc env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
fi
if want clippy; then
  run_stage clippy cargo clippy --locked --workspace --all-targets -- -D warnings
  wasm_args=()
  for p in "${wasm_packages[@]}"; do wasm_args+=(-p "$p"); done
  run_stage clippy-wasm cargo clippy --locked --target wasm32-unknown-unknown "${wasm_args[@]}" --all-targets -- -D warnings
fi
# ---- Cassandra: one database for the whole run ------------------------------------
if want cassandra; then
  cassandra_started=1
  run_stage cassandra "$ROOT/scripts/cassandra.sh" start
  export COBROWSE_TEST_CASSANDRA="127.0.0.1:${CASSANDRA_PORT:-9042}"
  # The node also speaks TLS on the same port; the tests find its CA (and an unrelated one) here.
  COBROWSE_TEST_CASSANDRA_TLS="$("$ROOT/scripts/cassandra.sh" tls-dir)"
  export COBROWSE_TEST_CASSANDRA_TLS
fi
unit_features=()
if [ -n "${COBROWSE_TEST_CASSANDRA:-}" ] || [ -n "${CI:-}" ]; then
  unit_features=(--features cobrowse-server/cassandra-tests)
fi
want unit && run_stage unit cargo test --locked --workspace "${unit_features[@]}"
want fuzz && run_stage fuzz "$ROOT/scripts/fuzz.sh" ci

want bundle && run_stage bundle "$ROOT/scripts/build-all.sh"
if want js && [ -f "$ROOT/js-shim/package.json" ] \
  && node -e 'process.exit(require(process.argv[1]).scripts?.test ? 0 : 1)' "$ROOT/js-shim/package.json"; then
  # shellcheck disable=SC2016 # expanded by the inner bash, which inherits ROOT
  run_stage js bash -c 'cd "$ROOT/js-shim" && npm test --silent'
fi
if want wasm; then
  for p in "${wasm_packages[@]}"; do
    run_stage "wasm-$p" cargo test --locked -p "$p" --target wasm32-unknown-unknown
  done
fi
want server && run_stage server build_server_binaries
want schemathesis && run_stage schemathesis "$ROOT/scripts/schemathesis.sh"
if want e2e; then
  export COBROWSE_SERVER_BIN="$CARGO_TARGET_DIR/debug/cobrowse-server"
  export COBROWSE_TRIAL_BIN="$CARGO_TARGET_DIR/debug/cobrowse-trial"
  # shellcheck disable=SC2016 # expanded by the inner bash, which inherits ROOT
  run_stage e2e bash -c 'cd "$ROOT/tests" && node --test --test-concurrency=1 --test-reporter=spec "$@"' e2e "${e2e_files[@]}"
fi
if want corpus; then
  export COBROWSE_SERVER_BIN="$CARGO_TARGET_DIR/debug/cobrowse-server"
  # shellcheck disable=SC2016 # expanded by the inner bash, which inherits ROOT
  run_stage corpus bash -c 'cd "$ROOT/tests" && node --test --test-reporter=spec corpus/todomvc.mjs'
fi
current=""
