#!/usr/bin/env bash
# Runs the examples end to end; the one command a fresh machine needs:
#   1. examples/AuctionHouse publishes five AuctionEnded events, which two consumers each receive;
#   2. with a private redis-server, Redis is restarted: it reloads the log from its append-only file;
#   3. examples/AuctionReplay reads the history that survived, and replays it to rebuild a sales report.
#
# Redis, in order of preference:
#   1. REDIS_CONNECTION, when set (a StackExchange.Redis configuration string, e.g. "redis1:6379,password=secret");
#   2. a Redis answering PING on localhost:6379 (e.g. `docker compose up -d`);
#   3. a private redis-server on a free port of 127.0.0.1, in a temp directory of its own, stopped and removed on exit.
#      redis-server is installed with apt-get when it is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

step() { echo "==> $*"; }
fail() { echo "run-example: $*" >&2; exit 1; }

# True when host:port answers PING with PONG.
redis_answers() {
    local host=$1 port=$2
    if command -v redis-cli >/dev/null 2>&1; then
        [[ "$(timeout 3 redis-cli -h "$host" -p "$port" ping 2>/dev/null)" == "PONG" ]]
    else
        timeout 3 bash -c '
            exec 3<>"/dev/tcp/$1/$2" || exit 1
            printf "PING\r\n" >&3
            IFS= read -r reply <&3 && [[ "$reply" == "+PONG"* ]]
        ' _ "$host" "$port" 2>/dev/null
    fi
}

# True when nothing accepts connections on 127.0.0.1:port.
port_free() {
    ! timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

install_redis_server() {
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || fail "redis-server is missing and installing it needs root (no sudo found)"
        sudo=(sudo)
    fi
    step "installing redis-server: apt-get update && apt-get install -y redis-server"
    ${sudo[@]+"${sudo[@]}"} apt-get update || fail "apt-get update failed"
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server || fail "apt-get install redis-server failed"
}

redis_dir=""
redis_pid=""

stop_private_redis() {
    if [[ -n "$redis_pid" ]] && kill -0 "$redis_pid" 2>/dev/null; then
        step "stopping the private redis-server (pid $redis_pid)"
        kill "$redis_pid" 2>/dev/null || true
        # SIGTERM lets it flush the AOF; give it 10 s, then kill it.
        for _ in $(seq 1 100); do
            kill -0 "$redis_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    if [[ -n "$redis_dir" && -d "$redis_dir" ]]; then
        rm -rf "$redis_dir"
    fi
}

start_private_redis() {
    command -v redis-server >/dev/null 2>&1 || install_redis_server
    command -v redis-server >/dev/null 2>&1 || fail "redis-server is still not on PATH after installing it"

    redis_dir="$(mktemp -d "${TMPDIR:-/tmp}/auction-house-redis.XXXXXX")"
    trap stop_private_redis EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local attempt port
    for attempt in 1 2 3 4 5; do
        port=$(( 20000 + RANDOM % 40000 ))
        port_free "$port" || continue

        step "starting a private redis-server on 127.0.0.1:$port (data and log in $redis_dir)"
        redis-server --bind 127.0.0.1 --port "$port" --dir "$redis_dir" \
            --appendonly yes --appendfsync everysec --save "" \
            --daemonize no --logfile "$redis_dir/redis.log" \
            >"$redis_dir/redis.stdout" 2>&1 &
        redis_pid=$!

        # Poll for up to 10 s until it answers PING, or stop early if it exits (e.g. the port was taken meanwhile).
        local tries
        for tries in $(seq 1 100); do
            if redis_answers 127.0.0.1 "$port"; then
                export REDIS_CONNECTION="127.0.0.1:$port"
                step "redis-server is up: REDIS_CONNECTION=$REDIS_CONNECTION"
                return 0
            fi
            kill -0 "$redis_pid" 2>/dev/null || break
            sleep 0.1
        done

        echo "redis-server on port $port did not come up (attempt $attempt); its log:" >&2
        tail -n 20 "$redis_dir/redis.log" "$redis_dir/redis.stdout" >&2 2>/dev/null || true
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
        redis_pid=""
    done

    fail "could not start a private redis-server"
}

# Stops the private redis-server (SIGTERM: it flushes its append-only file) and starts it again on the same port and
# directory, so that it reloads its data from the file.
restart_private_redis() {
    local port=${REDIS_CONNECTION##*:}
    step "restarting the private redis-server (pid $redis_pid): it reloads the log from its append-only file"
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true

    redis-server --bind 127.0.0.1 --port "$port" --dir "$redis_dir" \
        --appendonly yes --appendfsync everysec --save "" \
        --daemonize no --logfile "$redis_dir/redis.log" \
        >>"$redis_dir/redis.stdout" 2>&1 &
    redis_pid=$!

    local tries
    for tries in $(seq 1 100); do
        redis_answers 127.0.0.1 "$port" && return 0
        kill -0 "$redis_pid" 2>/dev/null || break
        sleep 0.1
    done
    fail "the private redis-server did not come back after the restart; its log: $(tail -n 5 "$redis_dir/redis.log" 2>/dev/null)"
}

command -v dotnet >/dev/null 2>&1 || fail "dotnet is not on PATH; install the .NET 10 SDK (https://dot.net)"

if [[ -n "${REDIS_CONNECTION:-}" ]]; then
    step "using Redis from REDIS_CONNECTION: $(sed -E 's/password=[^,]*/password=*****/g' <<<"$REDIS_CONNECTION")"
elif redis_answers localhost 6379; then
    export REDIS_CONNECTION="localhost:6379"
    step "using the Redis answering on localhost:6379"
else
    step "no Redis on localhost:6379; starting a private one"
    start_private_redis
fi

step "running: dotnet run --project examples/AuctionHouse -c Release"
status=0
dotnet run --project examples/AuctionHouse -c Release || status=$?
if [[ $status -ne 0 ]]; then
    echo "run-example: the AuctionHouse example exited with code $status" >&2
    exit "$status"
fi

if [[ -n "$redis_pid" ]]; then
    restart_private_redis
else
    step "not restarting Redis: it is not this script's own (REDIS_CONNECTION or localhost:6379)"
fi

step "running: dotnet run --project examples/AuctionReplay -c Release"
dotnet run --project examples/AuctionReplay -c Release || status=$?

if [[ $status -eq 0 ]]; then
    step "the examples finished successfully"
else
    echo "run-example: the AuctionReplay example exited with code $status" >&2
fi
exit "$status"
