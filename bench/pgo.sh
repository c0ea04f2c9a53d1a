#!/usr/bin/env bash
# A profile-guided build of the shipped binary (`--profile dist`), trained on the
# benchmark's own workloads: what the gateway does on every request is laid out together
# and the rest moved aside, which matters most where each request finds the caches cold
# (BENCHMARKS.md, eleventh pass, says what it bought).
#
#   bench/pgo.sh            # writes target/pgo/x86_64-unknown-linux-gnu/dist/sluice
#
# Steps: an instrumented `dist` build; the instrumented Sluice serves the training load
# (sluice-loadgen against the mock: one connection, open-loop requests, streams, 64
# connections, OpenAI and Anthropic providers, the whole pipeline, then the guard with
# every detector); the counts merged with the llvm-profdata of rustc's own LLVM version;
# the `dist` build again with them.
# Needs llvm-profdata of the same LLVM major version as rustc (`rustc -vV`; Debian:
# llvm-NN). The build flags go through RUSTFLAGS with an explicit --target, so build
# scripts and proc-macros are neither instrumented nor optimised with the profile.
# Env: BENCH_PGO_DURATION (3s per workload), LLVM_PROFDATA (the tool's path).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DURATION=${BENCH_PGO_DURATION:-3s}
TARGET=$(rustc -vV | sed -n 's/^host: //p')
LLVM_MAJOR=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
PROFDATA=${LLVM_PROFDATA:-$(command -v "llvm-profdata-$LLVM_MAJOR" || true)}
[[ -x $PROFDATA ]] || {
    echo "llvm-profdata-$LLVM_MAJOR not found (Debian: apt-get install llvm-$LLVM_MAJOR)" >&2
    exit 1
}
PROFILES=$ROOT/target/pgo-profiles
log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

log "release build of the mock and the load generator"
cargo build --release --locked -p sluice -p sluice-loadgen
LOADGEN=$ROOT/target/release/sluice-loadgen
MOCK_BIN=$ROOT/target/release/sluice

log "instrumented dist build"
rm -rf "$PROFILES"
mkdir -p "$PROFILES"
RUSTFLAGS="-Cprofile-generate=$PROFILES" \
    cargo build --profile dist --locked -p sluice --target "$TARGET" --target-dir target/pgo-gen
SLUICE=$ROOT/target/pgo-gen/$TARGET/dist/sluice

WORK=$(mktemp -d /tmp/sluice-pgo.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
read -r MOCK_PORT SLUICE_PORT < <("$LOADGEN" free-port --count 2)
export BENCH_MOCK_PORT=$MOCK_PORT BENCH_WORK=$WORK
# Not pinned to CPUs as the benchmark is: a builder may have one.
"$MOCK_BIN" mock --listen "127.0.0.1:$MOCK_PORT" >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
"$LOADGEN" wait-ready --url "http://127.0.0.1:$MOCK_PORT/v1/models" --timeout 10s >/dev/null

# train CONFIG HEADER: the workloads against one instrumented Sluice, which then stops
# on SIGTERM (its counts are written when it exits).
train() {
    local config=$1 header=$2 url="http://127.0.0.1:$SLUICE_PORT/v1/chat/completions"
    local key=(--header "$header")
    "$SLUICE" serve --config "$config" --listen "127.0.0.1:$SLUICE_PORT" >"$WORK/sluice.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    "$LOADGEN" wait-ready --url "http://127.0.0.1:$SLUICE_PORT/healthz" --timeout 10s >/dev/null
    local common=(--url "$url" "${key[@]}" --duration "$DURATION" --warmup 0s)
    "$LOADGEN" seq "${common[@]}" >/dev/null
    "$LOADGEN" rate --rps 500 "${common[@]}" >/dev/null
    "$LOADGEN" streams --rps 100 --chunks 30 --chunk-delay-ms 5 "${common[@]}" >/dev/null
    "$LOADGEN" max --connections 64 "${common[@]}" >/dev/null
    "$LOADGEN" seq "${common[@]}" --model bench-anthropic >/dev/null
    "$LOADGEN" streams --rps 100 --chunks 30 --chunk-delay-ms 5 "${common[@]}" \
        --model "bench-anthropic@chunks=30,chunk_delay_ms=5" >/dev/null
    kill -TERM "$pid"
    wait "$pid" || { tail -n 20 "$WORK/sluice.log" >&2; echo "the instrumented Sluice did not stop cleanly" >&2; exit 1; }
}

log "training: the whole pipeline"
train bench/sluice-bench-limits.toml "Authorization: Bearer sk-bench-limits-0123456789"
log "training: the guard, every detector"
train bench/sluice-bench-full-guard.toml "Authorization: Bearer sk-bench-limits-0123456789"

ls "$PROFILES"/*.profraw >/dev/null 2>&1 || { echo "no profile was written" >&2; exit 1; }
"$PROFDATA" merge -o "$PROFILES/merged.profdata" "$PROFILES"
log "profile-guided dist build"
RUSTFLAGS="-Cprofile-use=$PROFILES/merged.profdata -Cllvm-args=-pgo-warn-missing-function=false" \
    cargo build --profile dist --locked -p sluice --target "$TARGET" --target-dir target/pgo
log "built target/pgo/$TARGET/dist/sluice"
