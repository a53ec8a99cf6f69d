#!/usr/bin/env bash
# Smoke test of the ember tool and the API examples: the README's commands, small. Every
# picture must be a real PNG/SVG, resume must resume, a damaged checkpoint must be refused.
#
#   tests/tool-smoke.sh [BUILD_DIR]      (default build; MNIST checks run when EMBER_DATA is set)
set -euo pipefail
BIN=${1:-build}
E="$BIN/ember"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SPRITES=(--data sprites --sprites-train 2000 --sprites-test 300)

fail() { echo "tool smoke: FAILED: $*" >&2; exit 1; }
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$1 is not a PNG"; }
is_svg() { grep -q '</svg>' "$1" || fail "$1 is not a finished SVG"; }
run() { echo "+ ember $*"; "$E" "$@"; }

run help >/dev/null
run train --help | grep -q -- "--binarize" || fail "train --help lists no --binarize"
if "$E" train --model gan "${SPRITES[@]}" --out "$T/x.ember" 2>"$T/err"; then fail "--model gan accepted"; fi
grep -q "one of: ae vae" "$T/err" || fail "bad --model message: $(cat "$T/err")"

run train --model vae "${SPRITES[@]}" --epochs 2 --batch 50 --out "$T/v.ember"
for f in samples recon traverse; do is_png "$T/v.$f.png"; done
is_svg "$T/v.loss.svg"
[ "$(wc -l <"$T/v.log.csv")" = 3 ] || fail "log has not 2 epochs"
run train --model vae "${SPRITES[@]}" --epochs 3 --batch 50 --out "$T/v.ember" --resume | tee "$T/resume"
grep -q "resuming .* at step 80 (epoch 3)" "$T/resume" || fail "did not resume at epoch 3"
[ "$(wc -l <"$T/v.log.csv")" = 4 ] || fail "log has not 3 epochs after resuming"

run sample --model "$T/v.ember" --n 16 --out "$T/s.png" && is_png "$T/s.png"
run reconstruct --model "$T/v.ember" "${SPRITES[@]}" --n 8 --out "$T/r.png" && is_png "$T/r.png"
run interpolate --model "$T/v.ember" "${SPRITES[@]}" --pairs 3 --steps 5 --out "$T/i.png" && is_png "$T/i.png"
run traverse --model "$T/v.ember" --dims 4 --out "$T/t.png" && is_png "$T/t.png"
run latent-map --model "$T/v.ember" "${SPRITES[@]}" --n 200 --out "$T/m.svg" && is_svg "$T/m.svg"
run eval --model "$T/v.ember" "${SPRITES[@]}" --metric all --k 16 --n 40 --json "$T/e.json"
for key in recon_sq_err pca_sq_err neg_elbo nll_iwae nll_naive; do
  grep -q "\"$key\": [0-9]" "$T/e.json" || fail "eval JSON lacks $key"
done
run info --model ae --widths 1000,500,250 --latent 30 | grep -q "total" || fail "info prints no total"

head -c 200 "$T/v.ember" >"$T/bad.ember"
if "$E" sample --model "$T/bad.ember" --out "$T/b.png" 2>"$T/err"; then fail "a truncated checkpoint was accepted"; fi
grep -q "checkpoint" "$T/err" || fail "bad-checkpoint message: $(cat "$T/err")"
[ ! -e "$T/b.png" ] || fail "a picture was written from a bad checkpoint"

run train --model ae --arch conv --latent 8 "${SPRITES[@]}" --epochs 1 --batch 50 --out "$T/c.ember" --no-pictures
run train --model ae --arch linear --lik gaussian --latent 8 "${SPRITES[@]}" --epochs 1 --out "$T/l.ember" --no-pictures

run train --model classifier "${SPRITES[@]}" --epochs 1 --out "$T/clf.ember"
run eval --model "$T/clf.ember" "${SPRITES[@]}" --json "$T/clf.json"
grep -q '"accuracy": 0\.[0-9]' "$T/clf.json" || fail "classifier eval JSON has no accuracy: $(cat "$T/clf.json")"

echo "+ tests/sample-on-device.sh"
"$(dirname "$0")/sample-on-device.sh" "$E" "$BIN/example-sample-on-device"
echo "+ example-train-and-sample"
"$BIN/example-train-and-sample" "$T/ex.png" | tail -1 && is_png "$T/ex.png"

if [ -n "${EMBER_DATA:-}" ] && [ -d "$EMBER_DATA" ]; then
  run train --model vae --data "$EMBER_DATA" --epochs 1 --test-n 1000 --out "$T/mnist.ember" --no-pictures
  run eval --model "$T/mnist.ember" --data "$EMBER_DATA" --metric recon_sq_err,neg_elbo --n 500
else
  echo "tool smoke: EMBER_DATA not set, MNIST checks skipped"
fi
echo "tool smoke: passed"
