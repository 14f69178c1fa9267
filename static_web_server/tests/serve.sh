# Sourced by run.sh here and by docs/demo/run.sh: a real `photopipe serve` for a browser to
# talk to, on a free loopback port.

# photopipe_bin: the release binary the test command built (PHOTOPIPE_BIN to use another), or
# a clear error naming how to build it.
photopipe_bin() {
  local bin="${PHOTOPIPE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/photopipe-target}/release/photopipe}"
  if [ ! -x "$bin" ]; then
    echo "no photopipe binary at $bin: build it (cargo build --release -p photopipe) or set PHOTOPIPE_BIN" >&2
    return 1
  fi
  echo "$bin"
}

source "$(dirname "${BASH_SOURCE[0]}")/../../.ci/await_port.sh"

# serve_photopipe BIN DATA_DIR LOG: starts `BIN serve` on a free port, sets serve_pid (for the
# caller's cleanup, even on failure) and serve_url, and returns once it accepts connections;
# fails with the server's log if it exits or stays silent for ~10 s.
serve_photopipe() {
  local bin=$1 data=$2 log=$3 port
  port="$(free_port)"
  serve_url="http://127.0.0.1:$port"
  "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" >"$log" 2>&1 &
  serve_pid=$!
  await_port "photopipe serve" "$port" "$serve_pid" "$log"
}
