#!/usr/bin/env bash
# The soak run (not part of ./test.sh): 100,000 messages through three consumer processes on a private redis-server with
# AOF, with consumers killed (kill -9) every few seconds and one kill and restart of redis-server; reports sent, processed,
# duplicated and lost, and exits 1 if anything accepted was lost. Options go to the soak program, e.g.
#   ./soak.sh --messages 200000 --consumers 5 --kill-every-ms 2000
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v redis-server >/dev/null 2>&1; then
    sudo=()
    [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
    echo "==> installing redis-server: apt-get update && apt-get install -y redis-server"
    ${sudo[@]+"${sudo[@]}"} apt-get update
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
fi

echo "==> dotnet run -c Release --project tests/MassTransit.RedisStreams.Soak -- $*"
exec dotnet run -c Release --project tests/MassTransit.RedisStreams.Soak -- "$@"
