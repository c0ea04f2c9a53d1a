#!/usr/bin/env bash
# Instructions per request of a Sluice binary, counted by valgrind's callgrind: exact and
# free of this VM's scheduler noise, so two builds can be compared to the percent.
# One connection, closed loop (loadgen `seq`), the routing-only config; a short and a
# long run, and the difference between them, so start-up and shutdown cancel out.
#
#   bench/instructions.sh [SLUICE_BIN]...    # default: target/release/sluice
#
# Needs valgrind (Debian: valgrind) and the release loadgen (cargo build --release -p
# sluice-loadgen). Prints one line per binary: instructions per request.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOADGEN=$ROOT/target/release/sluice-loadgen
SHORT=${BENCH_INSN_SHORT:-4s}
LONG=${BENCH_INSN_LONG:-12s}
# The config under test (default: routing only) and a header every request carries
# (e.g. the virtual key of bench/sluice-bench-limits.toml).
CONFIG=${BENCH_INSN_CONFIG:-$ROOT/bench/sluice-bench.toml}
HEADER=${BENCH_INSN_HEADER:-}
# Prompt size in bytes (0: one short sentence), for stages that scale with it (the guard).
PROMPT_BYTES=${BENCH_INSN_PROMPT_BYTES:-0}
# `seq` (non-stream, one connection), `max` (non-stream, 64 connections: the journal
# writes batches as under real load, which changes what a row costs) or `streams` (20
# streams/s of 30 chunks 1 ms apart: instructions per whole stream; BENCH_INSN_CHUNKS=1
# and BENCH_INSN_RATE=50 for the first-token path alone).
WORKLOAD=${BENCH_INSN_WORKLOAD:-seq}
CHUNKS=${BENCH_INSN_CHUNKS:-30}
RATE=${BENCH_INSN_RATE:-20}
command -v valgrind >/dev/null || { echo "valgrind missing (apt-get install valgrind)" >&2; exit 1; }
[[ -x $LOADGEN ]] || { echo "$LOADGEN missing" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# run BIN DURATION -> "requests instructions"
run() {
    local bin=$1 dur=$2 mock_port gw_port mock vg
    read -r mock_port gw_port < <("$LOADGEN" free-port --count 2)
    "$bin" mock --listen "127.0.0.1:$mock_port" >"$WORK/mock.log" 2>&1 &
    mock=$!
    "$LOADGEN" wait-ready --url "http://127.0.0.1:$mock_port/v1/models" --timeout 10s >/dev/null
    BENCH_MOCK_PORT=$mock_port BENCH_WORK="$WORK" valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
        "$bin" serve --config "$CONFIG" --listen "127.0.0.1:$gw_port" \
        >"$WORK/sluice.log" 2>&1 &
    vg=$!
    "$LOADGEN" wait-ready --url "http://127.0.0.1:$gw_port/healthz" --timeout 60s >/dev/null
    local shape=()
    [[ $WORKLOAD == streams ]] && shape=(--rps "$RATE" --chunks "$CHUNKS" --chunk-delay-ms 1 --warmup 0s)
    "$LOADGEN" "$WORKLOAD" --url "http://127.0.0.1:$gw_port/v1/chat/completions" --duration "$dur" "${shape[@]}" \
        ${HEADER:+--header "$HEADER"} --prompt-bytes "$PROMPT_BYTES" \
        --out "$WORK/seq.json" >/dev/null
    kill -TERM "$vg"
    wait "$vg" || true
    kill "$mock"
    wait "$mock" 2>/dev/null || true
    local ok ir
    ok=$(grep -o '"ok": *[0-9]*' "$WORK/seq.json" | head -1 | grep -o '[0-9]*$')
    ir=$(grep -E '^(summary|totals):' "$WORK/cg.out" | head -1 | awk '{print $2}')
    echo "$ok $ir"
}

for bin in "${@:-$ROOT/target/release/sluice}"; do
    read -r n1 i1 < <(run "$bin" "$SHORT")
    read -r n2 i2 < <(run "$bin" "$LONG")
    echo "$bin: $(( (i2 - i1) / (n2 - n1) )) instructions per request ($n1 and $n2 requests)"
done
