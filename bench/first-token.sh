#!/usr/bin/env bash
# The added first-token time of nginx and of Sluice, in alternating rounds: each round
# measures direct, nginx and Sluice back to back (a few seconds each), takes each
# gateway's first-token p50 minus the same round's direct p50, and the script reports
# the median over the rounds. bench/run.sh measures each target once for 10 s, so a
# drift of this VM between its direct and nginx runs (the direct p50 moved from 0.12 to
# 0.20 ms between runs) lands whole on nginx's small added figure and swings the ratio
# from 1.4x to 6.8x; rounds let the drift hit all three alike.
#
#   bench/first-token.sh                 # 7 rounds of 3 s at 100 streams/s
#   BENCH_FT_TOGETHER=1 bench/first-token.sh   # the three loads of a round at once
#
# Together, each round runs the three loads at the same time (each at the rate), so a
# change in how fast this VM wakes an idle vCPU, which moved the direct p50 between 141
# and 413 µs from one 3 s round to the next, hits all three alike; the gateways then
# share CPU 1, each at a few per cent of it.
#
# Env: BENCH_FT_ROUNDS (7), BENCH_FT_DURATION (3s), BENCH_FT_RATE (100), BENCH_FT_TOGETHER (0),
# BENCH_FT_CONFIG (default bench/sluice-bench-limits.toml, the whole pipeline),
# BENCH_FT_HEADER (that config's virtual key), BENCH_SLUICE_BIN.
# Needs nginx (Debian: nginx) and the release build (cargo build --release -p sluice
# -p sluice-loadgen). Pinning as in bench/run.sh: gateways on CPU 1, the rest on CPU 0.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ROUNDS=${BENCH_FT_ROUNDS:-7}
DURATION=${BENCH_FT_DURATION:-3s}
RATE=${BENCH_FT_RATE:-100}
CONFIG=${BENCH_FT_CONFIG:-$ROOT/bench/sluice-bench-limits.toml}
HEADER=${BENCH_FT_HEADER-Authorization: Bearer sk-bench-limits-0123456789}

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_binaries
start_three ft "$CONFIG"

declare -A PORT=([direct]=$MOCK_PORT [nginx]=$NGINX_PORT [sluice]=$SLUICE_PORT)
# measure ROUND TARGET: one load of streams against one target.
measure() {
    local hdr=()
    [[ $2 == sluice && -n $HEADER ]] && hdr=(--header "$HEADER")
    taskset -c 0 "$LOADGEN" streams --rps "$RATE" --chunks 30 --chunk-delay-ms 5 \
        --url "http://127.0.0.1:${PORT[$2]}/v1/chat/completions" "${hdr[@]}" \
        --duration "$DURATION" --warmup 1s --label "$2" \
        --out "$WORK/r$1-$2.json" >/dev/null 2>&1
}
for round in $(seq 1 "$ROUNDS"); do
    if [[ ${BENCH_FT_TOGETHER:-0} == 1 ]]; then
        loads=()
        for target in direct nginx sluice; do
            measure "$round" "$target" &
            loads+=($!)
        done
        for pid in "${loads[@]}"; do wait "$pid"; done
    else
        for target in direct nginx sluice; do measure "$round" "$target"; done
    fi
done

python3 - "$WORK" "$ROUNDS" <<'EOF'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
p50 = {t: [] for t in ("direct", "nginx", "sluice")}
for r in range(1, rounds + 1):
    for t in p50:
        result = json.load(open(f"{work}/r{r}-{t}.json"))
        if result["error_total"]:
            sys.exit(f"round {r}, {t}: {result['error_total']} errors")
        p50[t].append(result["ttft_us"]["p50"])
added = {t: [g - d for g, d in zip(p50[t], p50["direct"])] for t in ("nginx", "sluice")}
print("round   direct p50   nginx added   sluice added   ratio")
for r in range(rounds):
    n, s = added["nginx"][r], added["sluice"][r]
    ratio = f"{s / n:.2f}x" if n > 0 else "n/a"
    print(f"{r + 1:>5}   {p50['direct'][r]:8.1f} µs   {n:8.1f} µs   {s:9.1f} µs   {ratio}")
n, s = statistics.median(added["nginx"]), statistics.median(added["sluice"])
print(f"median added first token: nginx +{n:.1f} µs, sluice +{s:.1f} µs: "
      + (f"{s / n:.2f}x (target at most 1.5x)" if n > 0 else "ratio n/a"))
EOF
