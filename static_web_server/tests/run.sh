#!/usr/bin/env bash
# Headless Chromium tests of the gallery website (static_web_server/).
# Installs what is missing (Debian's chromium, the npm packages), serves a generated copy of
# the site on a free loopback port, runs `node --test`, stops the server.
#   SCREENSHOT_DIR=DIR  where screenshots go (default: static_web_server/tests/artifacts)
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

site="$work/site"
node fixtures.mjs "$site"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/index.html', timeout=1)" 2>/dev/null; then break; fi
  sleep 0.1
done

export BASE_URL="http://127.0.0.1:$port/" FIXTURE_DIR="$site"
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$PWD/artifacts}"
status=0
node --test --test-reporter=spec gallery.test.mjs || status=$?
echo "screenshots: $SCREENSHOT_DIR"
exit "$status"
