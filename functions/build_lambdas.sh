#!/usr/bin/env bash
# The five Lambda binaries as they are deployed: `cargo lambda build --release` for arm64
# (Graviton, the template's default) or x86_64, without debug info and with symbols stripped
# (the workspace's release profile keeps line tables for the tests' backtraces: 100+ MiB per
# binary instead of ~12-20 MiB). The same CARGO_PROFILE_RELEASE_* variables are exported by
# buildspec.yml before `sam build`, whose rust-cargolambda method runs `cargo lambda build
# --release [--arm64]` itself: so CI's deployment and this script build the same binaries.
# Each bootstrap lands in $CARGO_TARGET_DIR/lambda-<arch>/<bin>/bootstrap, next to
# bootstrap.zip (what Lambda downloads at cold start), and a size table is printed.
#
#   bash functions/build_lambdas.sh [arm64|x86_64]...     (default: arm64)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/photopipe-target}"
# Deployment settings: no debug info to strip in the first place, symbols stripped.
export CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols

source functions/cargo_lambda.sh

bins=(trigger validate resize catalog on_failure)
[ $# -gt 0 ] || set -- arm64
for arch in "$@"; do
    case "$arch" in
        arm64) flag=--arm64 target=aarch64-unknown-linux-gnu ;;
        x86_64) flag=--x86-64 target=x86_64-unknown-linux-gnu ;;
        *) echo "build_lambdas.sh: unknown architecture '$arch' (arm64 or x86_64)" >&2; exit 2 ;;
    esac
    rustup target list --installed | grep -qx "$target" || rustup target add "$target"
    out="$CARGO_TARGET_DIR/lambda-$arch"
    # Own lambda dir per architecture: both would otherwise write target/lambda/<bin>/.
    cargo lambda build --release "$flag" --lambda-dir "$out" \
        $(printf -- '-p photopipe-%s ' "${bins[@]}")
    printf '\n%s (%s)\n| function | bootstrap | bootstrap.zip |\n|---|---:|---:|\n' "$arch" "$out" >&2
    for bin in "${bins[@]}"; do
        # Deflate at the default level, as `sam package` zips a function's directory.
        rm -f "$out/$bin/bootstrap.zip"
        (cd "$out/$bin" && zip -q -X bootstrap.zip bootstrap)
        printf '| %s | %s | %s |\n' "$bin" \
            "$(stat -c %s "$out/$bin/bootstrap" | awk '{printf "%.1f MiB", $1 / 1048576}')" \
            "$(stat -c %s "$out/$bin/bootstrap.zip" | awk '{printf "%.1f MiB", $1 / 1048576}')" >&2
    done
done
