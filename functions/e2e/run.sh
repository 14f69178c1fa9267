#!/usr/bin/env bash
# photopipe end to end on emulated AWS (tests/e2e.rs says what is real and what stands in):
# builds the five Lambda binaries (release), installs cargo-lambda into a venv when missing
# and starts its runtime emulator (`cargo lambda watch --only-lambda-apis`) on a free
# loopback port, then, with moto and the RDS Data API stand-in started by
# functions/aws/tests/moto.sh, runs the e2e tests, which start the binaries against the
# emulator. Everything it started is stopped at the end, whatever the outcome.
#
#   bash functions/e2e/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/photopipe-target}"

venv="${PHOTOPIPE_CARGO_LAMBDA_VENV:-$HOME/.cache/photopipe-venvs/cargo-lambda}"
if [ ! -x "$venv/bin/cargo-lambda" ]; then
    echo "e2e: installing cargo-lambda into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet cargo-lambda
fi

# The binaries as `cargo lambda build` makes them for this machine (it runs this same
# cargo build, then only renames each to `bootstrap`).
cargo build --release -p photopipe-trigger -p photopipe-validate -p photopipe-resize \
    -p photopipe-catalog -p photopipe-on_failure

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp -t photopipe-cargo-lambda.XXXXXX.log)
"$venv/bin/cargo-lambda" lambda watch --only-lambda-apis -A 127.0.0.1 -P "$port" >"$log" 2>&1 &
emulator_pid=$!
stop_emulator() {
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
    rm -f "$log"
}
trap stop_emulator EXIT
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    if ! kill -0 "$emulator_pid" 2>/dev/null; then
        echo "e2e: cargo lambda watch exited:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
export PHOTOPIPE_LAMBDA_EMULATOR_URL="http://127.0.0.1:$port"
export PHOTOPIPE_LAMBDA_BIN_DIR="$CARGO_TARGET_DIR/release"
echo "e2e: cargo-lambda's runtime emulator on $PHOTOPIPE_LAMBDA_EMULATOR_URL" >&2

# One test at a time: the Data API stand-in's "resuming" switch is shared.
bash functions/aws/tests/moto.sh \
    cargo test --release -p photopipe-e2e --test e2e -- --ignored --test-threads 1
