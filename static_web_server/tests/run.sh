#!/usr/bin/env bash
# Headless Chromium tests of the gallery website (static_web_server/).
# Installs what is missing (setup.sh: Debian's chromium, the npm packages), then:
#  1. serves a generated copy of the site with a static server and runs gallery.test.mjs;
#  2. starts the real `photopipe serve` on a fresh data dir, uploads upload_files/ to it with
#     `PUT /uploads/…` (one photo also under the name `<img src=x onerror=alert(1)>.jpg`),
#     and runs live.test.mjs against it.
# Every server it starts is stopped on exit.
#   SCREENSHOT_DIR=DIR  where screenshots go (default: static_web_server/tests/artifacts)
#   PHOTOPIPE_BIN=FILE  the photopipe binary (default: $CARGO_TARGET_DIR/release/photopipe, else
#                       ~/.cache/photopipe-target/release/photopipe; the project's test command builds it first)
set -euo pipefail
cd "$(dirname "$0")"

bash setup.sh
source serve.sh

work="$(mktemp -d)"
server_pid=""
serve_pid=""
stop() { # stop PID: ends a server this script started
  if [ -n "$1" ]; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi
}
cleanup() {
  stop "$server_pid"
  stop "$serve_pid"
  rm -rf "$work"
}
trap cleanup EXIT

site="$work/site"
node fixtures.mjs "$site"

port="$(free_port)"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/index.html', timeout=1)" 2>/dev/null; then break; fi
  sleep 0.1
done

export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$PWD/artifacts}"
status=0
echo "== static site (generated fixtures)"
BASE_URL="http://127.0.0.1:$port/" FIXTURE_DIR="$site" \
  node --test --test-reporter=spec gallery.test.mjs || status=$?
stop "$server_pid"
server_pid=""

echo "== live site (photopipe serve)"
repo="$(cd .. && cd .. && pwd)"
bin="$(photopipe_bin)"
uploads="$repo/upload_files"
page_upload="fallen leaf (transparent).png" # held back: live.test.mjs uploads it through the page
xss_name='<img src=x onerror=alert(1)>.jpg'
serve_photopipe "$bin" "$work/live-data" "$work/live-server.log"

encode() { node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$1"; }
put() { # put FILE NAME: uploads FILE as NAME, expects 201 and prints the outcome
  local code
  code=$(curl -sS -o "$work/put.json" -w '%{http_code}' --max-time 120 -X PUT \
    -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$serve_url/uploads/$(encode "$2")")
  printf '  PUT %-36s %s %s\n' "$2" "$code" "$(head -c 160 "$work/put.json")"
  [ "$code" = 201 ]
}
uploads_ok=1
for f in "$uploads"/*; do
  name="$(basename "$f")"
  [ "$name" = SOURCES.md ] || [ "$name" = "$page_upload" ] && continue
  put "$f" "$name" || uploads_ok=0
done
put "$uploads/dragonfly by Bolly.jpg" "$xss_name" || uploads_ok=0
if [ "$uploads_ok" != 1 ]; then
  echo "an upload was not answered with 201" >&2
  status=1
fi

LIVE_URL="$serve_url/" UPLOAD_DIR="$uploads" PAGE_UPLOAD="$page_upload" \
  node --test --test-reporter=spec live.test.mjs || status=$?
stop "$serve_pid"
serve_pid=""
if [ "$status" != 0 ]; then
  echo "-- photopipe serve log (last 40 lines):"
  tail -n 40 "$work/live-server.log"
fi
echo "screenshots: $SCREENSHOT_DIR"
exit "$status"
