#!/usr/bin/env bash
# Many concurrent open streams through Sluice: the memory an open stream costs, and the
# slope toward 100,000. For each count, a fresh Sluice (so idle and open RSS are its own)
# in front of the mock provider reached over cleartext HTTP/2 (prior knowledge), so that
# every stream shares one upstream connection and costs Sluice one socket, not two.
# The streams come from several load generators, each from its own loopback address
# (127.0.0.2, 127.0.0.3, ...), each address with its own ephemeral ports.
#
#   bench/streams.sh                          # 1000 5000 10000 and the most the fd limit allows
#   BENCH_STREAM_COUNTS="1000 2000" bench/streams.sh
#
# Knobs: BENCH_STREAM_COUNTS ("max" is the open-files limit less a margin),
# BENCH_STREAM_PROCS (load generators, default 4), BENCH_HOLD (default 10s),
# BENCH_HOLD_CHUNKS / BENCH_HOLD_DELAY_MS (the stream's shape: 20 chunks 1 s apart),
# BENCH_PROMPT_BYTES (the prompt's size; default 0, one short sentence),
# BENCH_SLUICE_CONFIG (default bench/sluice-bench-h2.toml), BENCH_SLUICE_HEADER (default:
# the default config's virtual key; empty for a config without keys),
# BENCH_CLIENT_H2 (0: each client stream is its own HTTP/1.1 connection, the default;
# N: clients speak cleartext HTTP/2 with N streams on each connection, as behind an
# HTTP/2 load balancer), BENCH_SKIP_BUILD=1.
# Results: bench/results/<stamp>-streams/ (raw JSON and summary.md).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

COUNTS=${BENCH_STREAM_COUNTS:-1000 5000 10000 max}
PROCS=${BENCH_STREAM_PROCS:-4}
HOLD=${BENCH_HOLD:-10s}
CHUNKS=${BENCH_HOLD_CHUNKS:-20}
DELAY_MS=${BENCH_HOLD_DELAY_MS:-1000}
PROMPT_BYTES=${BENCH_PROMPT_BYTES:-0}
CONFIG=${BENCH_SLUICE_CONFIG:-$ROOT/bench/sluice-bench-h2.toml}
# The default config turns auth on; without its key every stream is a 401.
HEADER=${BENCH_SLUICE_HEADER-"Authorization: Bearer sk-bench-limits-0123456789"}
CLIENT_H2=${BENCH_CLIENT_H2:-0}
SLUICE=${BENCH_SLUICE_BIN:-$ROOT/target/release/sluice}
LOADGEN=$ROOT/target/release/sluice-loadgen
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=$ROOT/bench/results/$STAMP-streams

log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "building (release): sluice, sluice-loadgen"
    cargo build --release -p sluice -p sluice-loadgen
fi
[[ -x $SLUICE && -x $LOADGEN ]] || die "build sluice and sluice-loadgen first"

# Every process started below inherits the highest open-files limit this shell may set.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
# Sluice's own descriptors besides the client sockets: listener, upstream connection,
# journal, log, epoll, eventfds. 100 is ample.
MAX=$((NOFILE - 100))
# Over HTTP/2 a socket carries CLIENT_H2 streams: "max" is then the seed's 100,000, as far
# as the connections it needs fit under the limit.
if ((CLIENT_H2 > 0)); then
    MAX=$((MAX * CLIENT_H2))
    ((MAX > 100000)) && MAX=100000
fi

mkdir -p "$RES"
WORK=$(mktemp -d /tmp/sluice-streams.XXXXXX)
PIDS=()
cleanup() {
    local rc=$?
    trap - EXIT
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

read -r MOCK_PORT < <("$LOADGEN" free-port --count 1)
export BENCH_MOCK_PORT=$MOCK_PORT BENCH_WORK=$WORK
"$SLUICE" mock --listen "127.0.0.1:$MOCK_PORT" >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
"$LOADGEN" wait-ready --url "http://127.0.0.1:$MOCK_PORT/v1/models" --timeout 10s >/dev/null

ROWS=()
for count in $COUNTS; do
    [[ $count == max ]] && count=$MAX
    ((count > MAX)) && { log "$count streams exceed what the open-files limit ($NOFILE) allows: $MAX"; count=$MAX; }
    read -r GW_PORT < <("$LOADGEN" free-port --count 1)
    rm -rf "$WORK/journal.db" "$WORK/spool"
    "$SLUICE" serve --config "$CONFIG" --listen "127.0.0.1:$GW_PORT" >"$WORK/sluice-$count.log" 2>&1 &
    GW_PID=$!
    PIDS+=("$GW_PID")
    "$LOADGEN" wait-ready --url "http://127.0.0.1:$GW_PORT/healthz" --timeout 20s >/dev/null
    # One request first, so the idle figure includes the warmed upstream connection.
    "$LOADGEN" seq --url "http://127.0.0.1:$GW_PORT/v1/chat/completions" --duration 1s \
        ${HEADER:+--header "$HEADER"} >/dev/null 2>&1 || true
    sleep 1
    IDLE_KB=$(rss_kb "$GW_PID")
    log "$count streams from $PROCS load generators (sluice idle: $IDLE_KB kB)"
    per=$(((count + PROCS - 1) / PROCS))
    left=$count
    LG=()
    for i in $(seq 0 $((PROCS - 1))); do
        n=$((left < per ? left : per))
        ((n > 0)) || break
        left=$((left - n))
        "$LOADGEN" hold --url "http://127.0.0.1:$GW_PORT/v1/chat/completions" --streams "$n" \
            --source-ip "127.0.0.$((i + 2))" --chunks "$CHUNKS" --chunk-delay-ms "$DELAY_MS" \
            --hold "$HOLD" --timeout 60s --ramp-timeout 120s --gateway-pid "$GW_PID" \
            --h2-streams-per-connection "$CLIENT_H2" --prompt-bytes "$PROMPT_BYTES" \
            ${HEADER:+--header "$HEADER"} --label "hold $count/$i" \
            --out "$RES/hold-$count-$i.json" >"$WORK/hold-$count-$i.out" 2>"$WORK/hold-$count-$i.err" &
        LG+=($!)
        PIDS+=($!)
    done
    # All open: every generator printed its ALL_OPEN / NOT_ALL_OPEN line.
    for _ in $(seq 1 1800); do # at most 180 s
        done_n=0
        for i in $(seq 0 $((${#LG[@]} - 1))); do
            grep -q 'ALL_OPEN' "$WORK/hold-$count-$i.out" 2>/dev/null && done_n=$((done_n + 1))
        done
        ((done_n == ${#LG[@]})) && break
        sleep 0.1
    done
    OPEN_KB=$(rss_kb "$GW_PID")
    FDS=$(ls "/proc/$GW_PID/fd" 2>/dev/null | wc -l)
    for pid in "${LG[@]}"; do wait "$pid" || log "a load generator exited with an error"; done
    kill -TERM "$GW_PID" 2>/dev/null || true
    wait "$GW_PID" 2>/dev/null || true
    ROWS+=("$(python3 - "$RES" "$count" "$IDLE_KB" "$OPEN_KB" "$FDS" <<'EOF'
import glob, json, sys
res, count, idle, open_kb, fds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
files = sorted(glob.glob(f"{res}/hold-{count}-*.json"))
runs = [json.load(open(f)) for f in files]
opened = sum(r["hold"]["opened"] for r in runs if r.get("hold"))
ok = sum(r["ok"] for r in runs)
errors = sum(r["error_total"] for r in runs)
p99 = max((r["ttft_us"]["p99"] for r in runs if r.get("ttft_us")), default=0) / 1000
p50 = max((r["ttft_us"]["p50"] for r in runs if r.get("ttft_us")), default=0) / 1000
per_stream = (open_kb - idle) * 1024 / max(opened, 1)
print(json.dumps({"streams": count, "opened": opened, "completed": ok, "errors": errors,
                  "rss_idle_kb": idle, "rss_open_kb": open_kb, "bytes_per_stream": round(per_stream),
                  "fds_open": fds, "ttft_p50_ms": round(p50, 1), "ttft_p99_ms": round(p99, 1)}))
EOF
)")
    log "${ROWS[-1]}"
    # A run where no stream opened measures nothing: say so instead of printing a table.
    python3 -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["opened"] > 0 else 1)' "${ROWS[-1]}" ||
        die "no stream opened at $count (see $RES/hold-$count-*.json: error samples)"
done

python3 - "$RES" "$NOFILE" "$CLIENT_H2" "$PROMPT_BYTES" "${ROWS[@]}" <<'EOF' | tee "$RES/summary.md"
import json, sys
res, nofile, h2, prompt = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(r) for r in sys.argv[5:]]
clients = f"clients over HTTP/2, {h2} streams per connection" if h2 else "clients over HTTP/1.1, one connection per stream"
size = f"a prompt of about {prompt:,} bytes" if prompt else "a one-sentence prompt"
print(f"# Many open streams through Sluice ({clients}; {size}; upstream over HTTP/2; open-files limit {nofile})\n")
print("| streams | opened | completed | errors | RSS idle | RSS open | bytes per stream | fds | first token p50 | p99 |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['streams']} | {r['opened']} | {r['completed']} | {r['errors']} | {r['rss_idle_kb']/1024:.1f} MB "
          f"| {r['rss_open_kb']/1024:.1f} MB | {r['bytes_per_stream']} | {r['fds_open']} | {r['ttft_p50_ms']} ms | {r['ttft_p99_ms']} ms |")
if len(rows) >= 2:
    # Least-squares slope of RSS against streams: the cost of one more stream.
    xs = [r["opened"] for r in rows]; ys = [r["rss_open_kb"] * 1024 for r in rows]
    n = len(xs); mx = sum(xs) / n; my = sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    if den > 0:
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den
        base = my - slope * mx
        print(f"\nSlope: {slope:.0f} bytes per open stream (intercept {base/2**20:.1f} MB); "
              f"100,000 streams: {(base + slope * 100_000)/2**20:.0f} MB RSS.")
json.dump(rows, open(f"{res}/rows.json", "w"), indent=1)
EOF
