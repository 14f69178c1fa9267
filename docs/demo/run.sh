#!/usr/bin/env bash
# The screenshots of docs/demo.md (docs/images/demo-*.png), taken by headless Chromium from a
# real local run that follows the page: `photopipe serve` on a fresh data dir, a photo and an
# empty file uploaded with `curl -T`, then the other sample photos; then the gallery, a
# thumbnail, the five smallest, a failed upload in the page and the executions page. Uses the website tests' machinery (static_web_server/tests: setup.sh installs
# Chromium and playwright-core, browser.mjs launches it and guards each page).
#   SCREENSHOT_DIR=DIR  where the PNGs go (default: docs/images)
#   PHOTOPIPE_BIN=FILE  the photopipe binary (default: $CARGO_TARGET_DIR/release/photopipe)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"

bash static_web_server/tests/setup.sh
target="${CARGO_TARGET_DIR:-${PHOTOPIPE_TARGET_DIR:-$HOME/.cache/photopipe-target}}"
bin="${PHOTOPIPE_BIN:-$target/release/photopipe}"
if [ ! -x "$bin" ]; then
  echo "no photopipe binary at $bin: build it (cargo build --release -p photopipe) or set PHOTOPIPE_BIN" >&2
  exit 1
fi
out="${SCREENSHOT_DIR:-$repo/docs/images}"
mkdir -p "$out"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
data="$work/demo-data"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
"$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null --max-time 1 "$url/healthz" 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if ! curl -fsS -o /dev/null --max-time 2 "$url/healthz"; then
  echo "photopipe serve did not come up:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi

echo "== uploads with curl -T"
put() { # put FILE NAME-IN-URL: expects 201
  local code
  code=$(curl -sS -o "$work/put.json" -w '%{http_code}' --max-time 120 -T "$1" "$url/uploads/$2")
  printf '  PUT %s -> %s %s\n' "$2" "$code" "$(head -c 200 "$work/put.json")"
  [ "$code" = 201 ]
}
put upload_files/flower.jpg flower.jpg
put upload_files/empty.jpg empty.jpg
for f in upload_files/*.jpg upload_files/*.png; do
  name="$(basename "$f")"
  [ "$name" = flower.jpg ] || [ "$name" = empty.jpg ] && continue
  put "$f" "${name// /%20}"
done

echo "== screenshots"
BASE_URL="$url/" SCREENSHOT_DIR="$out" node docs/demo/screenshots.mjs
ls -l "$out"/demo-*.png
