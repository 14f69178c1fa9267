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

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# serve_photopipe BIN DATA_DIR LOG: starts `BIN serve` on a free port, sets serve_pid (for the
# caller's cleanup, even on failure) and serve_url, and returns once GET /healthz answers;
# fails with the server's log if it exits or stays silent for ~10 s.
serve_photopipe() {
  local bin=$1 data=$2 log=$3 port
  port="$(free_port)"
  serve_url="http://127.0.0.1:$port"
  "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" >"$log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null --max-time 1 "$serve_url/healthz" 2>/dev/null; then return 0; fi
    if ! kill -0 "$serve_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "photopipe serve did not come up:" >&2
  cat "$log" >&2
  return 1
}
