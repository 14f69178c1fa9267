#!/usr/bin/env bash
# Runs a command with cargo-lambda's runtime emulator (`cargo lambda watch
# --only-lambda-apis`) on a free loopback port, its URL exported as
# PHOTOPIPE_LAMBDA_EMULATOR_URL, and stops the emulator afterwards, whatever the outcome.
# cargo-lambda comes from the venv functions/cargo_lambda.sh keeps (installed when missing).
# The functions are started by the command itself (the e2e tests, bench/lambda_bench.py).
#
#   bash functions/e2e/emulator.sh COMMAND...
set -euo pipefail
cd "$(dirname "$0")/../.."

source functions/cargo_lambda.sh

source .ci/await_port.sh
port=$(free_port)
log=$(mktemp -t photopipe-cargo-lambda.XXXXXX.log)
cargo-lambda lambda watch --only-lambda-apis -A 127.0.0.1 -P "$port" >"$log" 2>&1 &
emulator_pid=$!
stop_emulator() {
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
    rm -f "$log"
}
trap stop_emulator EXIT
await_port "emulator.sh: cargo lambda watch" "$port" "$emulator_pid" "$log"
export PHOTOPIPE_LAMBDA_EMULATOR_URL="http://127.0.0.1:$port"
echo "emulator.sh: cargo-lambda's runtime emulator on $PHOTOPIPE_LAMBDA_EMULATOR_URL" >&2

"$@"
