#!/usr/bin/env bash
# Runs the cargo-fuzz targets of protocol/fuzz (decoder, stream reader, message round trip, the
# server's first-frame path, the DOM restriction document, the CSS rewriter), one after another.
#
#   scripts/fuzz.sh ci [TARGET...]        each target for FUZZ_SECONDS (default 20) seconds from
#                                         its seeds, in a scratch corpus (test.sh's `fuzz` stage)
#   scripts/fuzz.sh runs N [TARGET...]    each target for N executions, growing the corpus kept in
#                                         protocol/fuzz/corpus/ (the documented 10 M run:
#                                         `scripts/fuzz.sh runs 10000000`)
#
# Needs a nightly toolchain and cargo-fuzz (scripts/setup.sh test installs both). Builds once
# (release, debug assertions, AddressSanitizer) into $CARGO_TARGET_DIR/fuzz. Prints one line of
# figures per target (executions, seconds, executions per second) and a cargo-style
# "test result:" line that test.sh's summary counts. A crash stops the run: its input is in
# protocol/fuzz/artifacts/<target>/, replayed with `cargo +nightly fuzz run <target> <file>`.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode="${1:-}"
case "$mode" in
  ci) shift; limit=(-max_total_time="${FUZZ_SECONDS:-20}") ;;
  runs)
    [ $# -ge 2 ] || die "usage: scripts/fuzz.sh runs N [TARGET...]"
    limit=(-runs="$2")
    shift 2
    ;;
  *) die "usage: scripts/fuzz.sh ci|runs N [TARGET...]" ;;
esac

fuzz_dir="$ROOT/protocol/fuzz"
all_targets=()
while read -r t; do all_targets+=("$t"); done < <(python3 -c '
import tomllib, sys
for b in tomllib.load(open(sys.argv[1], "rb"))["bin"]: print(b["name"])' "$fuzz_dir/Cargo.toml")
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || die "no fuzz target '$t' (targets: ${all_targets[*]})"
done

rustup toolchain list 2>/dev/null | grep -q '^nightly' || die "no nightly toolchain: run ./scripts/setup.sh test"
cargo fuzz --version >/dev/null 2>&1 || die "cargo-fuzz is missing: run ./scripts/setup.sh test"

work="$(mktemp -d "${TMPDIR:-/tmp}/cobrowse-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
target_dir="$CARGO_TARGET_DIR/fuzz"

cd "$fuzz_dir"
log "building ${#all_targets[@]} targets (nightly, AddressSanitizer) into $target_dir"
cargo +nightly fuzz build --target-dir "$target_dir"

passed=0
for t in "${targets[@]}"; do
  if [ "$mode" = ci ]; then
    corpus="$work/corpus/$t"
  else
    corpus="$fuzz_dir/corpus/$t"
  fi
  mkdir -p "$corpus"
  dirs=("$corpus")
  [ -d "seeds/$t" ] && dirs+=("seeds/$t")
  started=$(date +%s.%N)
  rc=0
  cargo +nightly fuzz run --target-dir "$target_dir" "$t" "${dirs[@]}" -- "${limit[@]}" \
    >"$work/$t.log" 2>&1 || rc=$?
  ended=$(date +%s.%N)
  if [ "$rc" -ne 0 ]; then
    tail -n 60 "$work/$t.log" >&2
    printf 'test result: FAILED. %s passed; 1 failed; 0 ignored (fuzz targets)\n' "$passed"
    die "fuzz target $t failed (exit $rc); the input is in protocol/fuzz/artifacts/$t/"
  fi
  python3 - "$t" "$work/$t.log" "$started" "$ended" <<'PY'
import re, sys
name, log, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
text = open(log, encoding="utf-8", errors="replace").read()
done = re.findall(r"Done (\d+) runs in (\d+) second", text)
runs = int(done[-1][0]) if done else 0
cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", text)
secs = t1 - t0
extra = f", cov {cov[-1][0]}, corpus {cov[-1][2]}" if cov else ""
print(f"fuzz {name}: {runs:,} executions in {secs:.0f} s ({runs / max(secs, 1e-9):,.0f}/s), 0 crashes{extra}")
PY
  passed=$((passed + 1))
done
printf 'test result: ok. %s passed; 0 failed; 0 ignored (fuzz targets)\n' "$passed"
