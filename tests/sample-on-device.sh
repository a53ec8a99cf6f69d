#!/usr/bin/env bash
# The on-device sampling demo (examples/api/sample-on-device.cpp) end to end: the native ember
# tool trains a tiny VAE and a tiny DCGAN on the built-in sprites (one epoch of 512 images,
# a few seconds), then the demo — native, or a cross build under an emulator — samples each
# as a PNG and as ASCII art, and refuses what it must (a buffer too small, a bad --label).
#
#   tests/sample-on-device.sh EMBER DEMO [EMULATOR [ARGS...]]
#   tests/sample-on-device.sh build/ember build/example-sample-on-device
#   tests/sample-on-device.sh build/ember build-aarch64/example-sample-on-device qemu-aarch64 -L /usr/aarch64-linux-gnu
set -euo pipefail
EMBER=$1 DEMO=$2
shift 2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

fail() { echo "sample-on-device: FAILED: $*" >&2; exit 1; }
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$1 is not a PNG"; }
RUN=("$@" "$DEMO")
run() { echo "+ ${RUN[*]} $*" >&2; "${RUN[@]}" "$@"; }
SPRITES=(--data sprites --sprites-train 512 --sprites-test 64 --epochs 1)
ART_LINES=58  # --n 4: a 2 x 2 grid of 28-row sprites, each grid row followed by a blank line

"$EMBER" train --model vae "${SPRITES[@]}" --out "$T/vae.ember" --no-pictures >/dev/null
"$EMBER" train --model dcgan "${SPRITES[@]}" --batch 64 --out "$T/gan.ember" >/dev/null
for m in vae gan; do
  run "$T/$m.ember" --n 4 --seed 1 --png "$T/$m.png" --ascii >"$T/$m.txt" || fail "$m: exit status $?"
  is_png "$T/$m.png"
  [ "$(wc -l <"$T/$m.txt")" = $ART_LINES ] || fail "$m: $(wc -l <"$T/$m.txt") lines of ASCII art, not $ART_LINES"
done

if run "$T/vae.ember" --n 4096 2>"$T/err"; then fail "4096 samples fit the buffer"; fi
grep -q "bytes short" "$T/err" || fail "too-small buffer message: $(cat "$T/err")"
if run "$T/gan.ember" --label 1 2>"$T/err"; then fail "--label accepted by an unconditional GAN"; fi
grep -q "not conditional" "$T/err" || fail "--label message: $(cat "$T/err")"
echo "sample-on-device: passed"
