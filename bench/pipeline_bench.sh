#!/usr/bin/env bash
# Runs the pipeline benchmark (bench/pipeline_bench.py) from the repo root after a release build
# of photopipe. Needs MariaDB on 127.0.0.1:3306 (`bash .ci/services` starts it) and its `mysql`
# client, unless --no-mariadb. Arguments go to the script, e.g.:
#   bench/pipeline_bench.sh --rounds 3 --uploads 2000 --write BENCHMARKS.md
#   PHOTOPIPE_BENCH_NO_BUILD=1 bench/pipeline_bench.sh ...   (use the binary as it is)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# The script finds the binary through the same variable (or PHOTOPIPE_BIN).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
if [ -z "${PHOTOPIPE_BENCH_NO_BUILD:-}" ] && [ -z "${PHOTOPIPE_BIN:-}" ]; then
    cargo build --release -p photopipe
fi
exec python3 bench/pipeline_bench.py "$@"
