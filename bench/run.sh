#!/usr/bin/env bash
# Runs the thumbnail benchmark (bench/thumbnail_bench.py) from the repo root, after making sure
# that what it compares is there: a venv with Pillow 13, numpy and scipy; vipsthumbnail
# (libvips-tools) and GNU time from apt; and a release build of photopipe.
# Arguments go to the script, e.g.: bench/run.sh --rounds 10 --write BENCHMARKS.md
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
venv="${PHOTOPIPE_BENCH_VENV:-$HOME/.cache/photopipe-bench-venv}"
# The script finds the binary through the same variable.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

missing=()
command -v vipsthumbnail >/dev/null || missing+=(libvips-tools)
[ -x /usr/bin/time ] || missing+=(time)
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check 'Pillow==13.*' 'numpy>=2' 'scipy>=1.11'

# Build photopipe unless --tools leaves it out (e.g. to measure the anchors alone).
build=1
args=("$@")
for i in "${!args[@]}"; do
    case "${args[$i]}" in
        --tools) [[ "${args[$((i + 1))]:-}" == *photopipe* ]] || build=0 ;;
        --tools=*) [[ "${args[$i]}" == *photopipe* ]] || build=0 ;;
    esac
done
if ((build)); then
    cargo build --release -p photopipe
fi

exec "$venv/bin/python" bench/thumbnail_bench.py "$@"
