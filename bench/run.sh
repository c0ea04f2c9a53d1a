#!/usr/bin/env bash
# Sluice's end-to-end benchmark: the same workloads straight to the mock provider (the
# floor), through nginx (the dumb-proxy limit) and through Sluice, in one run, with the
# gateway under test alone on CPU 1 and mock + load generator on CPU 0.
# Method: /work/shared/BENCHMARKING.md; usage and knobs: bench/README.md.
#
#   bench/run.sh                      # full run (about 7 minutes)
#   BENCH_DURATION=3s bench/run.sh    # quick run
#
# Results: bench/results/<UTC timestamp>/ (raw JSON + summary.md) and
# bench/results/latest.md. Every load targets 127.0.0.1; every wait is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# ---- knobs -----------------------------------------------------------------------------
DURATION=${BENCH_DURATION:-10s}             # measured time of every workload
WARMUP=${BENCH_WARMUP:-2s}                  # unmeasured lead-in of rate and streams runs
CLOSED_WARMUP=${BENCH_CLOSED_WARMUP:-1s}    # same for seq and max (connections, caches)
RATES=${BENCH_RATES-200 500 1000}           # empty: none
STREAM_RATES=${BENCH_STREAM_RATES-100 300}   # empty: none
STREAM_CHUNKS=${BENCH_STREAM_CHUNKS:-30}
STREAM_DELAY_MS=${BENCH_STREAM_DELAY_MS:-5}
MAX_CONNECTIONS=${BENCH_MAX_CONNECTIONS:-64}
HOLD_STREAMS=${BENCH_HOLD_STREAMS:-10000}   # 0 skips the many-open-streams run
HOLD_TIME=${BENCH_HOLD:-10s}
HOLD_CHUNKS=${BENCH_HOLD_CHUNKS:-20}
HOLD_DELAY_MS=${BENCH_HOLD_DELAY_MS:-1000}
TARGETS=${BENCH_TARGETS:-direct nginx sluice}
LOAD_CPU=${BENCH_LOAD_CPU:-0}
GATEWAY_CPU=${BENCH_GATEWAY_CPU:-1}
WORKERS=${BENCH_WORKER_THREADS:-1}         # Sluice's tokio workers (2 with BENCH_GATEWAY_CPU=0,1)
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
# Mock command; @PORT@ is replaced by its port. Default: Sluice's own mock provider.
MOCK_CMD=${BENCH_MOCK_CMD:-}
# Sluice binary, for `serve` and `mock` (default: the release build made above).
SLUICE=${BENCH_SLUICE_BIN:-$ROOT/target/release/sluice}
# Sluice config (default: routing only). bench/sluice-bench-journal.toml adds the journal
# (SQLite in the run's work dir), bench/sluice-bench-journal-bodies.toml with bodies.
SLUICE_CONFIG=${BENCH_SLUICE_CONFIG:-$ROOT/bench/sluice-bench.toml}
# A header every request to Sluice carries, e.g. the virtual key of
# bench/sluice-bench-limits.toml: "Authorization: Bearer sk-bench-limits-0123456789".
SLUICE_HEADER=${BENCH_SLUICE_HEADER:-}
# Prompt size in bytes of every request (0: one short sentence); for the guard's scan.
PROMPT_BYTES=${BENCH_PROMPT_BYTES:-0}


LOADGEN=$ROOT/target/release/sluice-loadgen
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=$ROOT/bench/results/$STAMP
CLK_TCK=$(getconf CLK_TCK)

log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
has_target() { [[ " $TARGETS " == *" $1 "* ]]; }

# ---- build and tools ----------------------------------------------------------------------
if [[ $SKIP_BUILD != 1 ]]; then
    log "building (release): sluice, sluice-loadgen"
    cargo build --release -p sluice -p sluice-loadgen
fi
[[ -x $LOADGEN ]] || die "$LOADGEN missing (build it or unset BENCH_SKIP_BUILD)"
if [[ -z $MOCK_CMD || " $TARGETS " == *" sluice "* ]]; then
    [[ -x $SLUICE ]] || die "$SLUICE missing"
fi
command -v taskset >/dev/null || die "taskset not found (Debian package util-linux)"

NGINX=""
if has_target nginx; then
    NGINX=$(command -v nginx || true)
    [[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
    if [[ -z $NGINX ]]; then
        log "installing nginx from Debian"
        # RUNLEVEL=1 keeps the package's init script from starting a system nginx on :80.
        apt-get update
        DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y nginx
        NGINX=$(command -v nginx || echo /usr/sbin/nginx)
    fi
    [[ -x $NGINX ]] || die "nginx not found after install"
fi

# Open files: 10,000 streams need two sockets each in Sluice (client + upstream).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[[ $NOFILE == unlimited ]] && NOFILE=1048576
HOLD_NOTE=""
MAX_HOLD=$(((NOFILE - 200) / 2))
if has_target sluice && ((HOLD_STREAMS > MAX_HOLD)); then
    HOLD_NOTE="limited from $HOLD_STREAMS to $MAX_HOLD by the open-files limit ($NOFILE): Sluice needs two sockets per stream"
    log "note: $HOLD_NOTE"
    HOLD_STREAMS=$MAX_HOLD
fi

mkdir -p "$RES"
WORK=$(mktemp -d /tmp/sluice-bench.XXXXXX)

# ---- processes we start, and their cleanup ------------------------------------------------
PIDS=()
cleanup() {
    local rc=$?
    trap - EXIT
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
        local alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

loadgen() { taskset -c "$LOAD_CPU" "$LOADGEN" "$@"; }

status_kb() { # PID FIELD -> kB (0 if gone)
    awk -v k="$2:" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}
sum_status_kb() { # FIELD PID... -> summed kB
    local field=$1 total=0
    shift
    for pid in "$@"; do total=$((total + $(status_kb "$pid" "$field"))); done
    echo "$total"
}
alive() { # NAME PID LOG
    if ! kill -0 "$2" 2>/dev/null; then
        echo "---- last lines of $3:" >&2
        tail -n 30 "$3" >&2 || true
        die "$1 (pid $2) is not running"
    fi
}

read -r MOCK_PORT NGINX_PORT SLUICE_PORT < <("$LOADGEN" free-port --count 3)
export BENCH_MOCK_PORT=$MOCK_PORT

# ---- mock provider (CPU 0) ---------------------------------------------------------------
log "starting the mock on 127.0.0.1:$MOCK_PORT (CPU $LOAD_CPU)"
if [[ -n $MOCK_CMD ]]; then
    # shellcheck disable=SC2086
    SLUICE_WORKER_THREADS=1 taskset -c "$LOAD_CPU" ${MOCK_CMD//@PORT@/$MOCK_PORT} >"$WORK/mock.log" 2>&1 &
else
    SLUICE_WORKER_THREADS=1 taskset -c "$LOAD_CPU" "$SLUICE" mock --listen "127.0.0.1:$MOCK_PORT" >"$WORK/mock.log" 2>&1 &
fi
MOCK_PID=$!
PIDS+=("$MOCK_PID")
loadgen wait-ready --url "http://127.0.0.1:$MOCK_PORT/v1/models" --timeout 10s --out "$RES/mock-ready.json" >/dev/null ||
    { tail -n 30 "$WORK/mock.log" >&2; die "the mock did not answer"; }

# ---- nginx (CPU 1) -----------------------------------------------------------------------
NGINX_PIDS=()
NGINX_VERSION=none
NGINX_IDLE_KB=null
if has_target nginx; then
    NGINX_VERSION=$("$NGINX" -v 2>&1 | sed -n 's|.*nginx/||p')
    mkdir -p "$WORK/nginx"
    sed -e "s|@WORK@|$WORK/nginx|g" \
        -e "s|@LISTEN@|127.0.0.1:$NGINX_PORT|g" \
        -e "s|@UPSTREAM@|127.0.0.1:$MOCK_PORT|g" \
        bench/nginx.conf.template >"$WORK/nginx/nginx.conf"
    log "starting nginx $NGINX_VERSION on 127.0.0.1:$NGINX_PORT (CPU $GATEWAY_CPU, 1 worker)"
    taskset -c "$GATEWAY_CPU" "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" \
        >"$WORK/nginx/stdout.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    loadgen wait-ready --url "http://127.0.0.1:$NGINX_PORT/v1/models" --timeout 10s --out "$RES/nginx-ready.json" >/dev/null ||
        { cat "$WORK/nginx/error.log" "$WORK/nginx/stdout.log" >&2 || true; die "nginx did not answer"; }
    NGINX_PIDS=("$NGINX_PID")
    read -r -a children <"/proc/$NGINX_PID/task/$NGINX_PID/children" || true
    NGINX_PIDS+=("${children[@]}")
    ((${#NGINX_PIDS[@]} >= 2)) || die "nginx worker process not found"
    NGINX_IDLE_KB=$(sum_status_kb VmRSS "${NGINX_PIDS[@]}")
fi

# ---- Sluice (CPU 1) ----------------------------------------------------------------------
SLUICE_PID=""
SLUICE_IDLE_KB=null
if has_target sluice; then
    log "starting sluice serve on 127.0.0.1:$SLUICE_PORT (CPU $GATEWAY_CPU, SLUICE_WORKER_THREADS=$WORKERS, RUST_LOG=${RUST_LOG:-default})"
    T0=$(date +%s%N)
    SLUICE_WORKER_THREADS=$WORKERS BENCH_WORK="$WORK" taskset -c "$GATEWAY_CPU" "$SLUICE" serve --config "$SLUICE_CONFIG" \
        --listen "127.0.0.1:$SLUICE_PORT" >"$WORK/sluice.log" 2>&1 &
    SLUICE_PID=$!
    PIDS+=("$SLUICE_PID")
    loadgen wait-ready --url "http://127.0.0.1:$SLUICE_PORT/healthz" --since-unix-ns "$T0" --timeout 10s \
        --out "$RES/sluice-ready.json" >/dev/null ||
        { tail -n 30 "$WORK/sluice.log" >&2; die "sluice did not answer on /healthz"; }
    SLUICE_IDLE_KB=$(status_kb "$SLUICE_PID" VmRSS)
    log "sluice ready in $(sed -n 's/.*"elapsed_ms":\([0-9.]*\).*/\1/p' "$RES/sluice-ready.json") ms, idle RSS $SLUICE_IDLE_KB kB"
fi

# ---- workloads ---------------------------------------------------------------------------
PATH_CC=/v1/chat/completions
run() { # TARGET WORKLOAD SUBCOMMAND [ARGS...]
    local target=$1 workload=$2 url
    shift 2
    local gw=()
    case $target in
    direct) url=http://127.0.0.1:$MOCK_PORT$PATH_CC ;;
    nginx)
        url=http://127.0.0.1:$NGINX_PORT$PATH_CC
        for p in "${NGINX_PIDS[@]}"; do gw+=(--gateway-pid "$p"); done
        alive nginx "$NGINX_PID" "$WORK/nginx/error.log"
        ;;
    sluice | sluice-tr)
        url=http://127.0.0.1:$SLUICE_PORT$PATH_CC
        gw=(--gateway-pid "$SLUICE_PID")
        [ -n "$SLUICE_HEADER" ] && gw+=(--header "$SLUICE_HEADER")
        # sluice-tr: the same Sluice, a model whose provider speaks Anthropic's format.
        # The mock's `mock` body field does not survive translation: streams carry their
        # script in the model name instead (`bench-anthropic@chunks=30,...`).
        [ "$target" = sluice-tr ] && gw+=(--model "${TR_MODEL:-bench-anthropic}")
        alive sluice "$SLUICE_PID" "$WORK/sluice.log"
        ;;
    esac
    alive mock "$MOCK_PID" "$WORK/mock.log"
    loadgen "$@" --url "$url" --label "$target $workload" "${gw[@]}" --tested-pid "$MOCK_PID" \
        --prompt-bytes "$PROMPT_BYTES" \
        --clk-tck "$CLK_TCK" --out "$RES/$target-$workload.json" >/dev/null
    sleep 0.5
}

# Targets are interleaved per workload so that drifting background load hits all alike.
each() { # WORKLOAD SUBCOMMAND [ARGS...]
    local workload=$1
    shift
    for t in $TARGETS; do run "$t" "$workload" "$@"; done
}

log "seq: 1 connection, $DURATION"
each seq-c1 seq --duration "$DURATION" --warmup "$CLOSED_WARMUP"
for r in $RATES; do
    log "rate: $r req/s open loop, $DURATION (+$WARMUP warm-up)"
    each "rate-$r" rate --rps "$r" --duration "$DURATION" --warmup "$WARMUP"
done
for r in $STREAM_RATES; do
    log "streams: $r streams/s, $STREAM_CHUNKS chunks ${STREAM_DELAY_MS} ms apart, $DURATION (+$WARMUP warm-up)"
    each "streams-$r" streams --rps "$r" --duration "$DURATION" --warmup "$WARMUP" \
        --chunks "$STREAM_CHUNKS" --chunk-delay-ms "$STREAM_DELAY_MS"
done
log "max: $MAX_CONNECTIONS connections closed loop, $DURATION"
each "max-c$MAX_CONNECTIONS" max --connections "$MAX_CONNECTIONS" --duration "$DURATION" --warmup "$CLOSED_WARMUP"

# Translation against pass-through, same Sluice, same mock (OpenAI ingress, Anthropic provider).
if has_target sluice && [ "${BENCH_TRANSLATION:-1}" = 1 ]; then
    log "translation: OpenAI ingress to an Anthropic-format provider"
    run sluice-tr seq-c1 seq --duration "$DURATION" --warmup "$CLOSED_WARMUP"
    TR_MODEL="bench-anthropic@chunks=$STREAM_CHUNKS,chunk_delay_ms=$STREAM_DELAY_MS" \
        run sluice-tr streams-100 streams --rps 100 --duration "$DURATION" --warmup "$WARMUP" \
        --chunks "$STREAM_CHUNKS" --chunk-delay-ms "$STREAM_DELAY_MS"
    run sluice-tr "max-c$MAX_CONNECTIONS" max --connections "$MAX_CONNECTIONS" --duration "$DURATION" --warmup "$CLOSED_WARMUP"
fi

NGINX_PEAK_KB=null
SLUICE_PEAK_KB=null
has_target nginx && NGINX_PEAK_KB=$(sum_status_kb VmHWM "${NGINX_PIDS[@]}")
has_target sluice && SLUICE_PEAK_KB=$(status_kb "$SLUICE_PID" VmHWM)

# ---- many open streams through Sluice ----------------------------------------------------
HOLD_RSS_KB=null
if has_target sluice && ((HOLD_STREAMS > 0)); then
    log "hold: $HOLD_STREAMS concurrent streams through sluice for $HOLD_TIME"
    alive sluice "$SLUICE_PID" "$WORK/sluice.log"
    loadgen hold --url "http://127.0.0.1:$SLUICE_PORT$PATH_CC" --streams "$HOLD_STREAMS" \
        --chunks "$HOLD_CHUNKS" --chunk-delay-ms "$HOLD_DELAY_MS" --hold "$HOLD_TIME" --timeout 30s \
        --gateway-pid "$SLUICE_PID" --tested-pid "$MOCK_PID" --clk-tck "$CLK_TCK" --label "sluice hold" \
        ${SLUICE_HEADER:+--header "$SLUICE_HEADER"} \
        --out "$RES/sluice-hold.json" >"$WORK/hold.out" &
    HOLD_PID=$!
    PIDS+=("$HOLD_PID")
    for _ in $(seq 1 1200); do # at most 120 s
        grep -q 'ALL_OPEN' "$WORK/hold.out" 2>/dev/null && break
        kill -0 "$HOLD_PID" 2>/dev/null || break
        sleep 0.1
    done
    HOLD_RSS_KB=$(status_kb "$SLUICE_PID" VmRSS)
    log "sluice RSS with the streams open: $HOLD_RSS_KB kB ($(head -n 1 "$WORK/hold.out" 2>/dev/null))"
    wait "$HOLD_PID" || log "hold run exited with an error"
fi

# ---- optional cross-check with oha -------------------------------------------------------
BODY='{"model":"bench-model","messages":[{"role":"user","content":"Say hello to the benchmark"}]}'
if command -v oha >/dev/null; then
    for t in direct sluice; do
        has_target "$t" || continue
        case $t in
        direct) port=$MOCK_PORT ;;
        sluice) port=$SLUICE_PORT ;;
        esac
        log "oha cross-check: $t, c=1, $DURATION"
        oha_args=(-z "$DURATION" -c 1 --no-tui -m POST -H 'content-type: application/json' -d "$BODY")
        taskset -c "$LOAD_CPU" oha "${oha_args[@]}" --output-format json "http://127.0.0.1:$port$PATH_CC" \
            >"$RES/oha-$t.json" 2>/dev/null ||
            taskset -c "$LOAD_CPU" oha "${oha_args[@]}" --json "http://127.0.0.1:$port$PATH_CC" \
                >"$RES/oha-$t.json" 2>/dev/null ||
            { log "oha failed on $t"; rm -f "$RES/oha-$t.json"; }
    done
else
    log "oha not on PATH: cross-check skipped"
fi

# ---- logs, meta, summary -----------------------------------------------------------------
SLUICE_LOG_LINES=0
SLUICE_LOG_PROBLEMS=0
if has_target sluice; then
    SLUICE_LOG_LINES=$(wc -l <"$WORK/sluice.log")
    SLUICE_LOG_PROBLEMS=$(grep -Eci 'warn|error|panic' "$WORK/sluice.log" || true)
    tail -n 20 "$WORK/sluice.log" >"$RES/sluice-log-tail.txt"
    grep -Ei 'warn|error|panic' "$WORK/sluice.log" | head -n 50 >"$RES/sluice-log-problems.txt" || true
fi
[[ -s $WORK/mock.log ]] && tail -n 20 "$WORK/mock.log" >"$RES/mock-log-tail.txt"
[[ -s $WORK/nginx/error.log ]] && tail -n 50 "$WORK/nginx/error.log" >"$RES/nginx-error-log-tail.txt"
find "$RES" -type f -empty -delete

GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo none)
[[ -n $(git status --porcelain -- . ':!bench/results' 2>/dev/null) ]] && GIT_REV="$GIT_REV (with uncommitted changes)"
BIN_SIZE=null
[[ -x $SLUICE ]] && BIN_SIZE=$(stat -c %s "$SLUICE")
# The shipped build (bench/pgo.sh's, which the image ships, else `cargo build --profile
# dist`), when it is there and not older than the binary measured; the size target is
# about it, not the release build's symbols.
DIST=$ROOT/target/pgo/$(rustc -vV | sed -n 's/^host: //p')/dist/sluice
[[ -x $DIST ]] || DIST=$ROOT/target/dist/sluice
DIST_SIZE=null
[[ -x $DIST && -x $SLUICE && ! $DIST -ot $SLUICE ]] && DIST_SIZE=$(stat -c %s "$DIST")
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
cat >"$RES/meta.json" <<EOF
{
  "timestamp": $(json_str "$STAMP"),
  "duration": $(json_str "$DURATION"),
  "warmup": $(json_str "$WARMUP"),
  "closed_loop_warmup": $(json_str "$CLOSED_WARMUP"),
  "git_rev": $(json_str "$GIT_REV"),
  "nginx_version": $(json_str "$NGINX_VERSION"),
  "sluice_log": $(json_str "${RUST_LOG:-default (info, one line per request)}"),
  "results_dir": $(json_str "bench/results/$STAMP"),
  "kernel": $(json_str "$(uname -r)"),
  "cpus": $(nproc),
  "clk_tck": $CLK_TCK,
  "nofile": $NOFILE,
  "binary_size_bytes": $BIN_SIZE,
  "dist_binary_size_bytes": $DIST_SIZE,
  "hold_streams": $HOLD_STREAMS,
  "hold_note": $(json_str "$HOLD_NOTE"),
  "hold_rss_at_all_open_kb": $HOLD_RSS_KB,
  "sluice_log_lines": $SLUICE_LOG_LINES,
  "sluice_log_warn_error_lines": $SLUICE_LOG_PROBLEMS,
  "gateways": {
    "nginx": { "idle_rss_kb": $NGINX_IDLE_KB, "peak_rss_kb": $NGINX_PEAK_KB },
    "sluice": { "idle_rss_kb": $SLUICE_IDLE_KB, "peak_rss_kb": $SLUICE_PEAK_KB }
  }
}
EOF

"$LOADGEN" report --dir "$RES" >"$RES/summary.md"
cp "$RES/summary.md" "$ROOT/bench/results/latest.md"
echo
cat "$RES/summary.md"
echo
log "raw results: bench/results/$STAMP/  summary: bench/results/latest.md"
