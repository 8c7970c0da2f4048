#!/usr/bin/env bash
# Runs every test of the solution; the one command a fresh machine needs. The tests start private redis-server processes
# of their own, so this script only makes sure redis-server (and openssl, for the TLS tests, and iproute2, for the test
# that cuts a consumer off in a network namespace, chromium, which the dashboard's browser tests drive through Playwright,
# and rabbitmq-server, for the test of a cut-over from RabbitMQ; and s3rver, with npm, for the S3 archive)
# is installed, with apt-get when it is missing. Playwright's own browser download is never used.
# Extra arguments go to `dotnet test`, e.g. ./test.sh --filter "FullyQualifiedName~Smoke".
# Results: console output, plus TestResults/results_*.trx (one per test project) for CI.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

# The TLS tests make their certificates with openssl.
packages=()
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
command -v openssl >/dev/null 2>&1 || packages+=(openssl)
command -v ip >/dev/null 2>&1 || [[ -x /usr/sbin/ip || -x /sbin/ip ]] || packages+=(iproute2)
# The dashboard's tests launch /usr/bin/chromium headless (tests/MassTransit.RedisStreams.Dashboard.Tests/BrowserFixture.cs).
[[ -x /usr/bin/chromium ]] || packages+=(chromium)

if [[ ${#packages[@]} -gt 0 ]]; then
    sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "test.sh: ${packages[*]} missing and installing needs root (no sudo found)" >&2
            exit 1
        fi
        sudo=(sudo)
    fi
    echo "==> installing ${packages[*]}: apt-get update && apt-get install -y ${packages[*]}"
    if ! ${sudo[@]+"${sudo[@]}"} apt-get update ||
        ! ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y "${packages[@]}"; then
        echo "test.sh: installing ${packages[*]} failed" >&2
        exit 1
    fi
fi

# The cut-over test from RabbitMQ starts a private rabbitmq-server (tests/.../Migration/CutOverTests.cs). Installed on its
# own: should its package fail to install (its service may not start everywhere), only that test fails, and says why.
if [[ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
    sudo=()
    [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
    echo "==> installing rabbitmq-server: apt-get install -y rabbitmq-server"
    { ${sudo[@]+"${sudo[@]}"} apt-get update && ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server; } ||
        echo "test.sh: installing rabbitmq-server failed; the cut-over test will fail and say so" >&2
fi

# The S3 archive's tests run s3rver, a fake S3 server for Node (tests/.../Infrastructure/S3rverProcess.cs), installed with npm
# into the folder the tests look in; they install it themselves when it is missing, and are skipped, saying why, without node.
s3rver_dir="${S3RVER_DIR:-${TMPDIR:-/tmp}/mt-redis-streams-tools/s3rver-3.7.1}"
if command -v npm >/dev/null 2>&1 && [[ ! -f "$s3rver_dir/node_modules/s3rver/bin/s3rver.js" ]]; then
    echo "==> installing s3rver: npm install --prefix $s3rver_dir s3rver@3.7.1"
    npm install --prefix "$s3rver_dir" --no-audit --no-fund s3rver@3.7.1 ||
        echo "test.sh: installing s3rver failed; the S3 archive tests will be skipped and say why" >&2
fi

echo "==> dotnet test MassTransit.RedisStreams.sln -c Release $*"
# -m:1 runs the test projects one after the other: the browser tests would otherwise share the two cores with the
# timing tests of the transport. Each project writes its own results_*.trx.
exec dotnet test MassTransit.RedisStreams.sln -c Release -m:1 \
    --results-directory TestResults \
    --logger "trx;LogFilePrefix=results" \
    --logger "console;verbosity=normal" \
    "$@"
