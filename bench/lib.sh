# Shared by the bench scripts that start their own processes (paths.sh, first-token.sh,
# cpu.sh): the binaries they run, a work directory removed on exit with everything
# started, and the mock, nginx and Sluice started pinned as bench/run.sh pins them (the
# mock on CPU 0, a gateway alone on CPU 1, one worker thread each). Source it from the
# repository's root, then call bench_binaries.
#
# Each start function waits until its process answers and leaves its PID in $! and
# PIDS; none runs in a subshell, so that the cleanup knows what to stop.

# bench_binaries [nginx]: SLUICE (BENCH_SLUICE_BIN, or the release build), LOADGEN and
# NGINX, or stop with what to install or build. nginx is required only when the first
# argument is `nginx` or absent (paths.sh passes its targets: a Sluice-only run needs none).
bench_binaries() {
    SLUICE=${BENCH_SLUICE_BIN:-$PWD/target/release/sluice}
    LOADGEN=$PWD/target/release/sluice-loadgen
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
    if [[ ${1-nginx} == *nginx* ]]; then
        [[ -x $NGINX ]] || { echo "nginx missing (apt-get install nginx)" >&2; exit 1; }
    fi
    [[ -x $LOADGEN && -x $SLUICE ]] || { echo "build sluice and sluice-loadgen (release) first" >&2; exit 1; }
}

# bench_work NAME: WORK (a fresh directory), PIDS, and the cleanup trap.
bench_work() {
    WORK=$(mktemp -d "/tmp/sluice-$1.XXXXXX")
    PIDS=()
    trap bench_cleanup EXIT
}

bench_cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}

# start_mock PORT
start_mock() {
    SLUICE_WORKER_THREADS=1 taskset -c 0 "$SLUICE" mock --listen "127.0.0.1:$1" >"$WORK/mock.log" 2>&1 &
    PIDS+=($!)
    "$LOADGEN" wait-ready --url "http://127.0.0.1:$1/v1/models" --timeout 10s >/dev/null
}

# start_nginx PORT UPSTREAM_PORT (bench/nginx.conf.template, rendered into WORK)
start_nginx() {
    mkdir -p "$WORK/nginx"
    sed -e "s|@WORK@|$WORK/nginx|g" -e "s|@LISTEN@|127.0.0.1:$1|g" \
        -e "s|@UPSTREAM@|127.0.0.1:$2|g" bench/nginx.conf.template >"$WORK/nginx/nginx.conf"
    taskset -c 1 "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" \
        >/dev/null 2>&1 &
    PIDS+=($!)
    "$LOADGEN" wait-ready --url "http://127.0.0.1:$1/v1/models" --timeout 10s >/dev/null
}

# start_sluice PORT CONFIG
start_sluice() {
    SLUICE_WORKER_THREADS=1 taskset -c 1 "$SLUICE" serve --config "$2" \
        --listen "127.0.0.1:$1" >"$WORK/sluice.log" 2>&1 &
    PIDS+=($!)
    "$LOADGEN" wait-ready --url "http://127.0.0.1:$1/healthz" --timeout 10s >/dev/null
}

# start_three NAME CONFIG: a work directory named NAME, then the mock, nginx in front of it
# and Sluice with CONFIG; sets MOCK_PORT, NGINX_PORT, SLUICE_PORT and MOCK_PID, NGINX_PID
# (its master), SLUICE_PID.
start_three() {
    bench_work "$1"
    read -r MOCK_PORT NGINX_PORT SLUICE_PORT < <("$LOADGEN" free-port --count 3)
    export BENCH_MOCK_PORT=$MOCK_PORT BENCH_WORK=$WORK
    start_mock "$MOCK_PORT"
    MOCK_PID=$!
    start_nginx "$NGINX_PORT" "$MOCK_PORT"
    NGINX_PID=$!
    start_sluice "$SLUICE_PORT" "$2"
    SLUICE_PID=$!
}
