#!/usr/bin/env bash
# shellcheck disable=SC2154 # target, typescript, opt_flags, crates … come from the eval of wasm-pack.toml below
# Builds the wasm crates listed in wasm-pack.toml into www/js/<part>/ and prints their sizes.
#
#   scripts/build-wasm.sh [--dev] [--no-opt] [PACKAGE...]
#
# For each crate: `cargo build --target wasm32-unknown-unknown -p <package>` → `wasm-bindgen
# --target web --out-dir <out-dir>` → `wasm-opt` (npm binaryen) in place on the `_bg.wasm`.
# PACKAGE limits the build to the named Cargo packages (default: all in wasm-pack.toml).
# --dev builds the dev profile (faster, bigger, debug assertions) and skips wasm-opt.
# --no-opt skips wasm-opt. Honours CARGO_TARGET_DIR (default target/) and WASM_OPT.
# Each out dir is then precompressed (.br and .gz next to each file: scripts/precompress.mjs).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

profile_override=""
opt_override=""
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) profile_override="dev"; opt_override="no" ;;
    --no-opt) opt_override="no" ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) only+=("$1") ;;
  esac
  shift
done

have cargo || die "cargo not found; install Rust with rustup, then run ./scripts/setup.sh"
have wasm-bindgen || die "wasm-bindgen not found; run ./scripts/setup.sh"
have python3 || die "python3 (3.11+, for tomllib) is needed to read wasm-pack.toml"

# Read the manifest once; the settings come out as shell-safe lines.
manifest="$(python3 - "$ROOT/wasm-pack.toml" <<'PY'
import shlex, sys, tomllib
with open(sys.argv[1], "rb") as f:
    m = tomllib.load(f)
b = m.get("build", {})
o = m.get("wasm-opt", {})
print("target=" + shlex.quote(b.get("target", "web")))
print("profile=" + shlex.quote(b.get("profile", "release")))
print("typescript=" + ("yes" if b.get("typescript", True) else "no"))
print("opt_enabled=" + ("yes" if o.get("enabled", True) else "no"))
print("opt_flags=(" + " ".join(shlex.quote(x) for x in o.get("flags", ["-Oz"])) + ")")
crates = m.get("crate", [])
if not crates:
    sys.exit("wasm-pack.toml lists no [[crate]]")
print("crates=(" + " ".join(shlex.quote(f"{c['package']}|{c['lib']}|{c['out-dir']}") for c in crates) + ")")
PY
)" || die "cannot read wasm-pack.toml"
eval "$manifest"

[ -n "$profile_override" ] && profile="$profile_override"
[ -n "$opt_override" ] && opt_enabled="$opt_override"
case "$profile" in
  dev) profile_dir="debug" ;;
  *) profile_dir="$profile" ;;
esac

want="$(wasm_bindgen_version)" || die "cannot determine the wasm-bindgen version"
got="$(wasm-bindgen --version | awk '{print $2}')"
[ "$got" = "$want" ] || die "wasm-bindgen CLI is $got but the workspace uses $want; run ./scripts/setup.sh"

wasm_opt=""
if [ "$opt_enabled" = "yes" ]; then
  wasm_opt="$(wasm_opt_path)"
fi

selected=()
for entry in "${crates[@]}"; do
  pkg="${entry%%|*}"
  if [ ${#only[@]} -eq 0 ]; then
    selected+=("$entry")
  else
    for o in "${only[@]}"; do [ "$o" = "$pkg" ] && selected+=("$entry"); done
  fi
done
[ ${#selected[@]} -gt 0 ] || die "no crate in wasm-pack.toml matches: ${only[*]}"

pkg_args=()
for entry in "${selected[@]}"; do pkg_args+=(-p "${entry%%|*}"); done
log "cargo build --profile $profile --target wasm32-unknown-unknown ${pkg_args[*]} (target dir $CARGO_TARGET_DIR)"
(cd "$ROOT" && cargo build --profile "$profile" --target wasm32-unknown-unknown "${pkg_args[@]}")

size_of() { stat -c %s "$1"; }
gz_size_of() { gzip -9 -c "$1" | wc -c | tr -d ' '; }

report=()
for entry in "${selected[@]}"; do
  IFS='|' read -r pkg lib out <<<"$entry"
  wasm_in="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile_dir/$lib.wasm"
  [ -f "$wasm_in" ] || die "$pkg built no $wasm_in (is its crate-type cdylib?)"
  out_dir="$ROOT/$out"
  mkdir -p "$out_dir"
  bindgen_args=(--target "$target" --out-dir "$out_dir")
  [ "$typescript" = "yes" ] || bindgen_args+=(--no-typescript)
  [ "$profile" = "dev" ] && bindgen_args+=(--debug --keep-debug)
  log "wasm-bindgen ${bindgen_args[*]} $lib.wasm"
  wasm-bindgen "${bindgen_args[@]}" "$wasm_in"
  bg="$out_dir/${lib}_bg.wasm"
  raw="$(size_of "$bg")"
  opt="-"
  if [ -n "$wasm_opt" ]; then
    log "wasm-opt ${opt_flags[*]} ${lib}_bg.wasm"
    "$wasm_opt" "${opt_flags[@]}" -o "$bg.opt" "$bg"
    mv "$bg.opt" "$bg"
    opt="$(size_of "$bg")"
  fi
  node "$ROOT/scripts/precompress.mjs" "$out_dir" >/dev/null || die "precompressing $out failed"
  gz="$(gz_size_of "$bg")"
  br="$(size_of "$bg.br")"
  js="$(size_of "$out_dir/$lib.js")"
  jsgz="$(gz_size_of "$out_dir/$lib.js")"
  report+=("$(printf '%-18s %10s %10s %10s %10s %10s %10s  %s' "$pkg" "$raw" "$opt" "$gz" "$br" "$js" "$jsgz" "$out")")
done

printf '\n%-18s %10s %10s %10s %10s %10s %10s  %s\n' "crate" "wasm raw" "wasm opt" "wasm gz" "wasm br" "glue js" "glue gz" "out dir"
printf '%s\n' "${report[@]}"
printf '(bytes; raw = wasm-bindgen output, opt = after wasm-opt, gz = gzip -9, br = the .br the server sends)\n'
