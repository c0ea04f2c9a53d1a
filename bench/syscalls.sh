#!/usr/bin/env bash
# System calls per request of a Sluice binary, counted by strace over a closed-loop run:
# what each request costs the kernel (socket writes and reads, the journal's file writes,
# thread wake-ups), exact where CPU time is noisy.
#
#   bench/syscalls.sh [SLUICE_BIN]       # default: target/release/sluice
#
# Env: BENCH_SYSCALLS_CONFIG (default bench/sluice-bench-limits.toml, the whole pipeline),
# BENCH_SYSCALLS_HEADER (default that config's virtual key), BENCH_SYSCALLS_CONNECTIONS (8),
# BENCH_SYSCALLS_DURATION (3s). Needs strace (Debian: strace) and the release loadgen.
# strace slows every call down, so throughput under it says nothing; the counts do.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/target/release/sluice}
LOADGEN=$ROOT/target/release/sluice-loadgen
CONFIG=${BENCH_SYSCALLS_CONFIG:-$ROOT/bench/sluice-bench-limits.toml}
HEADER=${BENCH_SYSCALLS_HEADER-Authorization: Bearer sk-bench-limits-0123456789}
CONNECTIONS=${BENCH_SYSCALLS_CONNECTIONS:-8}
DURATION=${BENCH_SYSCALLS_DURATION:-3s}
command -v strace >/dev/null || { echo "strace missing (apt-get install strace)" >&2; exit 1; }
[[ -x $LOADGEN ]] || { echo "$LOADGEN missing" >&2; exit 1; }
WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

read -r mock_port gw_port < <("$LOADGEN" free-port --count 2)
"$BIN" mock --listen "127.0.0.1:$mock_port" >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
"$LOADGEN" wait-ready --url "http://127.0.0.1:$mock_port/v1/models" --timeout 10s >/dev/null
BENCH_MOCK_PORT=$mock_port BENCH_WORK="$WORK" SLUICE_WORKER_THREADS=1 \
    "$BIN" serve --config "$CONFIG" --listen "127.0.0.1:$gw_port" >"$WORK/sluice.log" 2>&1 &
GW=$!
PIDS+=("$GW")
"$LOADGEN" wait-ready --url "http://127.0.0.1:$gw_port/healthz" --timeout 60s >/dev/null
load() {
    "$LOADGEN" max --connections "$CONNECTIONS" --url "http://127.0.0.1:$gw_port/v1/chat/completions" \
        --duration "$1" --warmup 0s ${HEADER:+--header "$HEADER"} --out "$2" >/dev/null 2>&1
}
# Warm: pooled connections, the journal's first pages, the tokenizer.
load 2s "$WORK/warm.json"
strace -c -f -p "$GW" -o "$WORK/strace.txt" 2>/dev/null &
TRACER=$!
sleep 0.5
load "$DURATION" "$WORK/run.json"
sleep 0.5
kill -INT "$TRACER"
wait "$TRACER" 2>/dev/null || true
ok=$(grep -o '"ok": *[0-9]*' "$WORK/run.json" | head -1 | grep -o '[0-9]*$')
echo "$ok requests; system calls per request (config $(basename "$CONFIG")):"
awk -v n="$ok" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
    printf "  %-16s %8.2f\n", $NF, $4 / n }' "$WORK/strace.txt" | sort -k2 -rn
