#!/usr/bin/env bash
# Runs a command with a moto server (AWS emulated on loopback) for photopipe-aws's
# integration tests (tests/moto.rs): creates moto's venv when missing, starts moto on a free
# port, exports its URL, runs the command — by default `cargo test --release -p
# photopipe-aws` — and stops moto, whatever the outcome.
#
# It also starts tests/data_api_standin.py, a stand-in for the RDS Data API (none can run
# here) executing the statements on the MariaDB at 127.0.0.1:3306, on a free port, exports
# PHOTOPIPE_DATA_API_URL for tests/data_api.rs, and stops it at the end too. Its venv
# (PyMySQL) is created at ~/.cache/photopipe-venvs/dataapi when missing.
#
#   bash functions/aws/tests/moto.sh                                   # the AWS adapter tests
#   bash functions/aws/tests/moto.sh cargo test --release --workspace  # everything, moto up
set -euo pipefail
cd "$(dirname "$0")/../../.."

venv="${PHOTOPIPE_MOTO_VENV:-$HOME/.cache/photopipe-moto-venv}"
if [ ! -x "$venv/bin/moto_server" ]; then
    echo "moto.sh: installing moto[server] into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "moto[server]"
fi

source .ci/await_port.sh
# A port the kernel says is free now (moto binds it right after).
port=$(free_port)
log=$(mktemp -t photopipe-moto.XXXXXX.log)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
standin_pid=
standin_log=
stop_moto() {
    if [ -n "$standin_pid" ]; then
        kill "$standin_pid" 2>/dev/null || true
        wait "$standin_pid" 2>/dev/null || true
    fi
    [ -z "$standin_log" ] || rm -f "$standin_log"
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
    rm -f "$log"
}
trap stop_moto EXIT

await_port "moto.sh: moto_server" "$port" "$moto_pid" "$log"

# 127.0.0.1, not localhost: with an IP address the S3 client uses path-style URLs, so
# bucket names need no DNS.
export PHOTOPIPE_MOTO_URL="http://127.0.0.1:$port"
export AWS_ENDPOINT_URL="$PHOTOPIPE_MOTO_URL"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
echo "moto.sh: moto on $PHOTOPIPE_MOTO_URL" >&2

# The RDS Data API stand-in: it binds a free port itself and prints its URL first.
standin_venv="${PHOTOPIPE_DATA_API_VENV:-$HOME/.cache/photopipe-venvs/dataapi}"
if [ ! -x "$standin_venv/bin/python" ] || ! "$standin_venv/bin/python" -c 'import pymysql' 2>/dev/null; then
    echo "moto.sh: installing PyMySQL into $standin_venv" >&2
    python3 -m venv "$standin_venv"
    "$standin_venv/bin/pip" install --quiet PyMySQL
fi
standin_log=$(mktemp -t photopipe-data-api.XXXXXX.log)
"$standin_venv/bin/python" functions/aws/tests/data_api_standin.py 0 >"$standin_log" 2>&1 &
standin_pid=$!
standin_url=
for _ in $(seq 100); do
    standin_url=$(sed -n 's/^data_api_standin: \(http:[^ ]*\)$/\1/p' "$standin_log" | head -n 1)
    if [ -n "$standin_url" ]; then break; fi
    if ! kill -0 "$standin_pid" 2>/dev/null; then
        echo "moto.sh: the Data API stand-in exited:" >&2
        cat "$standin_log" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$standin_url" ]; then
    echo "moto.sh: the Data API stand-in did not start:" >&2
    cat "$standin_log" >&2
    exit 1
fi
export PHOTOPIPE_DATA_API_URL="$standin_url"
echo "moto.sh: RDS Data API stand-in (on MariaDB) on $PHOTOPIPE_DATA_API_URL" >&2

if [ "$#" -eq 0 ]; then
    set -- cargo test --release -p photopipe-aws
fi
"$@"
