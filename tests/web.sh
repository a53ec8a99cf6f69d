#!/usr/bin/env bash
# The web page (examples/web/) in a real browser: builds the page's WebAssembly module, trains
# a small VAE and a conditional GAN on the built-in sprites with the native tool, serves the
# page on localhost and drives headless Chromium through tests/web-page.js: samples drawn, no
# console errors, a non-blank screenshot, sliders and the class picker working.
#
#   tests/web.sh [BUILD_DIR]      (after make; needs em++, node, chromium, python3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${1:-build}
WEB=build-wasm/web
T=$(mktemp -d)
server=
# Stop the server before removing its folder (it logs there), and let the clean-up never
# decide the exit status: bash exits with the status of an EXIT trap's last command.
cleanup() {
  local rc=$?
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$T"
  return $rc
}
trap cleanup EXIT

examples/web/build.sh "$WEB"
E="$BIN/ember"
"$E" train --model vae --data sprites --epochs 8 --out "$T/vae.ember" >/dev/null
"$E" export --model "$T/vae.ember" --out "$WEB/model.ember" >/dev/null
"$E" train --model cgan --data sprites --sprites-train 2000 --sprites-test 100 --epochs 4 --channels 16,32 --z 16 \
  --out "$T/cgan.ember" >/dev/null
"$E" export --model "$T/cgan.ember" --out "$WEB/cgan.ember" >/dev/null

port=$((8400 + $$ % 500))
python3 -m http.server --bind 127.0.0.1 "$port" -d "$WEB" >"$T/http.log" 2>&1 &
server=$!
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break
  sleep 0.1
done
node --experimental-websocket tests/web-page.js "http://127.0.0.1:$port/" "$WEB/screenshot-vae.png"
node --experimental-websocket tests/web-page.js "http://127.0.0.1:$port/?model=cgan.ember" "$WEB/screenshot-cgan.png" --classes
echo "web: ember.wasm $(stat -c %s "$WEB/ember.wasm") bytes, ember.js $(stat -c %s "$WEB/ember.js") bytes"
