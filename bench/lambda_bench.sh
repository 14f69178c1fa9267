#!/usr/bin/env bash
# The Lambda benchmark (bench/lambda_bench.py): builds the five Lambda binaries (release), then
# runs the script with cargo-lambda's runtime emulator (functions/e2e/emulator.sh) and moto
# (functions/aws/tests/moto.sh) up, in moto's venv (for boto3). Arguments go to the script:
#   bash bench/lambda_bench.sh --write BENCHMARKS.md
#   PHOTOPIPE_BENCH_NO_BUILD=1 bash bench/lambda_bench.sh   (the binaries as they are)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/photopipe-target}"
if [ -z "${PHOTOPIPE_BENCH_NO_BUILD:-}" ]; then
    cargo build --release -p photopipe-trigger -p photopipe-validate -p photopipe-resize \
        -p photopipe-catalog -p photopipe-on_failure
fi
export PHOTOPIPE_LAMBDA_BIN_DIR="$CARGO_TARGET_DIR/release"
bash functions/e2e/emulator.sh bash functions/aws/tests/moto.sh \
    "${PHOTOPIPE_MOTO_VENV:-$HOME/.cache/photopipe-moto-venv}/bin/python" bench/lambda_bench.py "$@"
