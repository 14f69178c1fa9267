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
source static_web_server/tests/serve.sh
bin="$(photopipe_bin)"
out="${SCREENSHOT_DIR:-$repo/docs/images}"
mkdir -p "$out"

work="$(mktemp -d)"
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
data="$work/demo-data"

serve_photopipe "$bin" "$data" "$work/serve.log"

echo "== uploads with curl -T"
put() { # put FILE NAME-IN-URL: expects 201
  local code
  code=$(curl -sS -o "$work/put.json" -w '%{http_code}' --max-time 120 -T "$1" "$serve_url/uploads/$2")
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
BASE_URL="$serve_url/" SCREENSHOT_DIR="$out" node docs/demo/screenshots.mjs
ls -l "$out"/demo-*.png
