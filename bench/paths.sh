#!/usr/bin/env bash
# Where the time to first token goes: for each streamed request at a low rate (cold
# caches, as in the first-token figure of bench/run.sh), the gateway's request path
# (the client's request read -> the upstream request written), the upstream wait (-> the
# upstream's response head read: the provider's time and the gateway's wake-up) and the
# response path (-> the client's response head written), taken from
# system call timestamps with bpftrace, for nginx and for Sluice in one run. Also counts
# the gateway's system calls during the run, which shows work that should not be there
# (a new upstream connection per request, files read while serving).
#
#   bench/paths.sh                       # 100 streams/s, 8 s, nginx then Sluice
#
# Env: BENCH_PATHS_RATE (100), BENCH_PATHS_DURATION (8s), BENCH_PATHS_TARGETS
# ("nginx sluice"), BENCH_PATHS_CONFIG (default bench/sluice-bench-limits.toml, the whole
# pipeline), BENCH_PATHS_HEADER (that config's virtual key), BENCH_SLUICE_BIN.
# Needs root, bpftrace (Debian: bpftrace), tracefs (mounted here if missing) and the
# release build. eBPF adds about a microsecond per traced call: compare the two
# gateways, not these figures with bench/run.sh's.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RATE=${BENCH_PATHS_RATE:-100}
DURATION=${BENCH_PATHS_DURATION:-8s}
TARGETS=${BENCH_PATHS_TARGETS:-nginx sluice}
CONFIG=${BENCH_PATHS_CONFIG:-$ROOT/bench/sluice-bench-limits.toml}
HEADER=${BENCH_PATHS_HEADER-Authorization: Bearer sk-bench-limits-0123456789}

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_binaries "$TARGETS"
command -v bpftrace >/dev/null || { echo "bpftrace missing (apt-get install bpftrace)" >&2; exit 1; }
if [[ ! -d /sys/kernel/tracing/events/syscalls ]]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi
[[ -d /sys/kernel/tracing/events/syscalls ]] || { echo "no syscall tracepoints (tracefs)" >&2; exit 1; }

bench_work paths
read -r MOCK_PORT < <("$LOADGEN" free-port --count 1)
export BENCH_MOCK_PORT=$MOCK_PORT BENCH_WORK=$WORK
start_mock "$MOCK_PORT"

# start TARGET PORT -> prints the PID whose system calls to trace (nginx: its worker)
start() {
    case $1 in
    nginx)
        start_nginx "$2" "$MOCK_PORT"
        awk '{print $1}' "/proc/$!/task/$!/children"
        ;;
    sluice)
        start_sluice "$2" "$CONFIG"
        echo $!
        ;;
    esac
}

for target in $TARGETS; do
    read -r port < <("$LOADGEN" free-port --count 1)
    start "$target" "$port" >"$WORK/pid"
    pid=$(cat "$WORK/pid")
    url=http://127.0.0.1:$port/v1/chat/completions
    hdr=()
    [[ $target == sluice && -n $HEADER ]] && hdr=(--header "$HEADER")
    stream=(streams --rps "$RATE" --chunks 30 --chunk-delay-ms 5 --url "$url" "${hdr[@]}")
    # Warm: pooled upstream connections, the journal's first pages.
    taskset -c 0 "$LOADGEN" "${stream[@]}" --duration 2s --warmup 0s >/dev/null 2>&1
    bpftrace -e "
tracepoint:syscalls:sys_enter_recvfrom /pid == $pid/ { @buf[tid] = args->ubuf; @fd[tid] = args->fd; }
tracepoint:syscalls:sys_exit_recvfrom /pid == $pid && args->ret > 0/ {
    printf(\"R %d %llu %s\n\", @fd[tid], nsecs, str(@buf[tid], 12)); }
tracepoint:syscalls:sys_enter_writev /pid == $pid/ { printf(\"W %d %llu\n\", args->fd, nsecs); }
tracepoint:syscalls:sys_enter_sendto /pid == $pid/ { printf(\"W %d %llu\n\", args->fd, nsecs); }
tracepoint:raw_syscalls:sys_enter /pid == $pid/ { @calls[args->id] = count(); }
END { clear(@buf); clear(@fd); }
" >"$WORK/trace-$target.txt" 2>/dev/null &
    tracer=$!
    sleep 3 # bpftrace attaches its probes
    taskset -c 0 "$LOADGEN" "${stream[@]}" --duration "$DURATION" --warmup 0s --label "$target" \
        --out "$WORK/run-$target.json" >/dev/null 2>&1
    kill -INT "$tracer"
    wait "$tracer" 2>/dev/null || true
    python3 - "$target" "$WORK/trace-$target.txt" "$WORK/run-$target.json" <<'EOF'
import json, statistics, sys
target, trace, run = sys.argv[1], sys.argv[2], sys.argv[3]
events, calls = [], {}
for line in open(trace, errors="replace"):
    parts = line.rstrip("\n").split(" ", 3)
    if parts[0] in ("R", "W") and len(parts) >= 3:
        events.append((parts[0], int(parts[1]), int(parts[2]), parts[3] if len(parts) > 3 else ""))
    elif line.startswith("@calls["):
        key, value = line.split(":", 1)
        calls[int(key[7:-1])] = int(value)
paths = {"request path": [], "upstream wait": [], "response path": []}
for i, (kind, fd, t, data) in enumerate(events):
    if kind != "R" or not (data.startswith("POST ") or data.startswith("HTTP/1.1 200")):
        continue
    # The path ends at the next write to another socket, before anything else is read.
    for j, (kind2, fd2, t2, _) in enumerate(events[i + 1:i + 8], start=i + 1):
        if kind2 == "R":
            break
        if fd2 != fd:
            paths["request path" if data.startswith("POST ") else "response path"].append((t2 - t) / 1000)
            # After a request path: how long until the upstream's response head is read
            # (the provider's time and the gateway's wake-up, not the gateway's work).
            if data.startswith("POST "):
                for kind3, fd3, t3, data3 in events[j + 1:j + 40]:
                    if kind3 == "R" and fd3 == fd2 and data3.startswith("HTTP/1.1"):
                        paths["upstream wait"].append((t3 - t2) / 1000)
                        break
            break
result = json.load(open(run))
streams = result["ok"]
names = {41: "socket", 42: "connect", 257: "openat", 332: "statx", 0: "read"}
extra = ", ".join(f"{calls.get(n, 0) / max(streams, 1):.2f} {name}" for n, name in names.items())
ttft = result.get("ttft_us") or {}
print(f"{target}: {streams} streams, first token p50 {ttft.get('p50', 0) / 1000:.3f} ms; "
      f"per stream: {extra}")
for name, xs in paths.items():
    if xs:
        xs.sort()
        print(f"  {name}: p50 {statistics.median(xs):.1f} µs, p10 {xs[len(xs) // 10]:.1f}, "
              f"p90 {xs[len(xs) * 9 // 10]:.1f} ({len(xs)} of {streams})")
EOF
    for p in "${PIDS[@]:1}"; do kill "$p" 2>/dev/null || true; done
    PIDS=("${PIDS[0]}")
    sleep 0.5
done
