#!/usr/bin/env bash
# The one benchmark command: Cobrowse next to rrweb in the same Chromium, the relay load
# test against the bare baseline relay, and the protocol microbenchmarks. Prints markdown tables and
# writes them, with the machine and versions, to bench/results/latest.md.
#
#   scripts/bench.sh [--skip-browser] [--skip-relay] [--skip-micro] [--quick]
#
#   --quick   shorter relay steps (1 s warm-up, 3 s measured) and fewer criterion samples; for
#             trying the command, not for figures.
#
# Separate from scripts/test.sh: benchmarks report figures and ratios and never fail because the
# machine is slow. Takes about 10 minutes on 2 cores. Honours CARGO_TARGET_DIR (default target/).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

browser=1 relay=1 micro=1 quick=0
for a in "$@"; do
  case "$a" in
    --skip-browser) browser=0 ;;
    --skip-relay) relay=0 ;;
    --skip-micro) micro=0 ;;
    --quick) quick=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$a'" ;;
  esac
done

started=$(date +%s)
results="$ROOT/bench/results"
mkdir -p "$results"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

stage "setup (scripts/setup.sh test)"
"$ROOT/scripts/setup.sh" test
ensure_npm_deps "$ROOT/bench/browser"

stage "build (release server and load generator; wasm bundle)"
(cd "$ROOT" && cargo build --release --locked -p cobrowse-server -p cobrowse-loadgen)
export COBROWSE_SERVER_BIN="$CARGO_TARGET_DIR/release/cobrowse-server"
loadgen="$CARGO_TARGET_DIR/release/cobrowse-loadgen"
if [ "$browser" = 1 ]; then
  "$ROOT/scripts/build-all.sh"
fi

chromium_version="$(/usr/bin/chromium --version 2>/dev/null | head -1 || echo 'chromium: not found')"
rrweb_version="$(node -p 'require(process.argv[1]).version' "$ROOT/bench/browser/node_modules/rrweb/package.json" 2>/dev/null || echo '?')"
rrweb_record_version="$(node -p 'require(process.argv[1]).version' "$ROOT/bench/browser/node_modules/@rrweb/record/package.json" 2>/dev/null || echo '?')"

if [ "$browser" = 1 ]; then
  stage "browser benchmarks (bytes, customer cost, agent cost, latency)"
  BENCH_CHROMIUM="$chromium_version" node "$ROOT/bench/browser/run.mjs" \
    --out "$work/browser.md" --json "$results/browser.json" >/dev/null \
    || { warn "browser benchmarks failed"; echo "Browser benchmarks failed; see the log above." >"$work/browser.md"; }
fi

if [ "$browser" = 1 ]; then
  stage "mutation storms (customer main thread and bytes, ours vs rrweb)"
  node "$ROOT/bench/browser/storms.mjs" --out "$work/storms.md" >/dev/null \
    || { warn "storm benchmarks failed"; echo "Storm benchmarks failed; see the log above." >"$work/storms.md"; }
fi

if [ "$relay" = 1 ]; then
  stage "relay load test"
  relay_args=()
  [ "$quick" = 1 ] && relay_args=(--warmup 1 --measure 3 --grace 1)
  # Thousands of loopback sockets: raise the soft descriptor limit as far as the hard one allows.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  (cd "$ROOT" && "$loadgen" run --server-bin "$COBROWSE_SERVER_BIN" --static-dir www \
    "${relay_args[@]}" --out "$work/relay.md" --json "$results/relay.json" >/dev/null) \
    || { warn "relay load test failed"; echo "Relay load test failed; see the log above." >"$work/relay.md"; }
fi

if [ "$micro" = 1 ]; then
  stage "protocol microbenchmarks (criterion)"
  crit_args=(--warm-up-time 1 --measurement-time 3)
  [ "$quick" = 1 ] && crit_args=(--warm-up-time 0.5 --measurement-time 1 --sample-size 10)
  { (cd "$ROOT" && cargo bench --locked -p cobrowse-protocol --bench codec -- "${crit_args[@]}") \
      || warn "protocol criterion benchmarks failed"
    (cd "$ROOT" && cargo bench --locked -p cobrowse-loadgen --bench coalesce -- "${crit_args[@]}") \
      || warn "coalescer criterion benchmark failed"
  } 2>&1 | tee "$work/criterion.txt" >&2
  python3 - "$work/criterion.txt" >"$work/micro.md" <<'PY'
import re, sys
# criterion prints `name  time: [low median high]`, the name alone on the line before when it is
# long, then `thrpt: [...]` on the next line.
rows, name, skip_thrpt = [], None, False
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.rstrip()
    m = re.match(r"^(\S.*?)?\s+time:\s+\[(.*)\]", line)
    if m and "%" in m.group(2):
        skip_thrpt = True  # the "change:" block comparing with the previous run
        continue
    if m:
        skip_thrpt = False
        rows.append([(m.group(1) or name or "?").strip(), m.group(2), ""])
        continue
    t = re.match(r"^\s+thrpt:\s+\[(.*)\]", line)
    if t and "%" in t.group(1):
        continue
    if t and rows:
        rows[-1][2] = t.group(1)
        continue
    if line and not line.startswith((" ", "Benchmarking", "Found", "Running", "Compiling", "Finished", "warning", "Gnuplot")):
        name = line.strip()
print("| benchmark | time [low median high] | throughput [low median high] |")
print("|---|---|---|")
for n, t, th in rows:
    print(f"| {n} | {t} | {th} |")
if not rows:
    print("| (no criterion output) | | |")
PY
fi

elapsed=$(( $(date +%s) - started ))
{
  echo "# Benchmark results"
  echo
  echo "Command: \`scripts/bench.sh $*\` · finished $(date -u '+%Y-%m-%d %H:%M UTC') · run time ${elapsed} s · commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPU | $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo '?') × $(nproc) cores |"
  echo "| memory | $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null) |"
  echo "| kernel | $(uname -sr) |"
  echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) |"
  echo "| rustc | $(rustc --version 2>/dev/null) |"
  echo "| node | $(node --version) |"
  echo "| browser | $chromium_version |"
  echo "| rrweb | $rrweb_version; record-only bundle @rrweb/record $rrweb_record_version (npm, both pinned in bench/browser/package.json) |"
  echo
  if [ -f "$work/browser.md" ]; then echo "## Browser: Cobrowse vs rrweb"; echo; cat "$work/browser.md"; echo; fi
  if [ -f "$work/storms.md" ]; then
    echo "## Mutation storms: Cobrowse vs rrweb (bench/browser/storms.mjs)"; echo
    echo "Each workload in one task on a small page; main thread = Chromium's TaskDuration from the"
    echo "workload to the task after it; bytes = what the recorder produced for it (ours: frames on"
    echo "the socket, a held burst's resync snapshot after the arrow; rrweb: events as JSON)."
    echo; cat "$work/storms.md"; echo
  fi
  if [ -f "$work/relay.md" ]; then echo "## Relay load test"; echo; cat "$work/relay.md"; echo; fi
  if [ -f "$work/micro.md" ]; then
    echo "## Microbenchmarks (criterion)"; echo; cat "$work/micro.md"; echo
    echo "protocol/benches/codec.rs (encode/decode) and bench/loadgen/benches/coalesce.rs (client-wasm's"
    echo "mutation coalescer on a native arena DOM)."
  fi
} >"$results/latest.md"

cat "$results/latest.md"
log "wrote bench/results/latest.md (${elapsed} s)"
