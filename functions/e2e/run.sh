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

# This machine's (x86_64) release binaries: the code `cargo lambda build` compiles, without
# its target-cpu flag (haswell, neoverse-n1) and stripping; functions/build_lambdas.sh builds
# the deployed arm64 ones, which cannot run here without qemu (functions/e2e/arm64_smoke.py).
cargo build --release -p photopipe-trigger -p photopipe-validate -p photopipe-resize \
    -p photopipe-catalog -p photopipe-on_failure

export PHOTOPIPE_LAMBDA_BIN_DIR="$CARGO_TARGET_DIR/release"
# One test at a time: the emulator knows each function by its binary's name, and the Data
# API stand-in's "resuming" switch is shared.
bash functions/e2e/emulator.sh bash functions/aws/tests/moto.sh \
    cargo test --release -p photopipe-e2e --test e2e -- --ignored --test-threads 1
