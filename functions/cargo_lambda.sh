# Sourced by the scripts that need cargo-lambda (functions/build_lambdas.sh builds the
# deployed binaries with it, functions/e2e/emulator.sh runs its runtime emulator): puts
# cargo-lambda, and the zig it cross-compiles with, on PATH from one venv,
# ~/.cache/photopipe-venvs/cargo-lambda (PHOTOPIPE_CARGO_LAMBDA_VENV), installed from PyPI
# when missing.
cargo_lambda_venv="${PHOTOPIPE_CARGO_LAMBDA_VENV:-$HOME/.cache/photopipe-venvs/cargo-lambda}"
if [ ! -x "$cargo_lambda_venv/bin/cargo-lambda" ]; then
    echo "installing cargo-lambda into $cargo_lambda_venv" >&2
    python3 -m venv "$cargo_lambda_venv"
    "$cargo_lambda_venv/bin/pip" install --quiet cargo-lambda
fi
export PATH="$cargo_lambda_venv/bin:$PATH"
