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
# JSON must parse (checked where python3 is installed; the grep checks below run everywhere).
is_json() {
  if command -v python3 >/dev/null; then
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" || fail "$1 is not valid JSON: $(cat "$1")"
  fi
}

run help >/dev/null
run train --help | grep -q -- "--binarize" || fail "train --help lists no --binarize"
if "$E" train --model bogus "${SPRITES[@]}" --out "$T/x.ember" 2>"$T/err"; then fail "--model bogus accepted"; fi
grep -q "one of: ae vae gan dcgan cgan classifier" "$T/err" || fail "bad --model message: $(cat "$T/err")"

run train --model vae "${SPRITES[@]}" --epochs 2 --batch 50 --out "$T/v.ember"
for f in samples recon traverse; do is_png "$T/v.$f.png"; done
is_svg "$T/v.loss.svg"
[ "$(wc -l <"$T/v.log.csv")" = 3 ] || fail "log has not 2 epochs"
run train --model vae "${SPRITES[@]}" --epochs 3 --batch 50 --out "$T/v.ember" --resume | tee "$T/resume"
grep -q "resuming .* at step 80 (epoch 3)" "$T/resume" || fail "did not resume at epoch 3"
[ "$(wc -l <"$T/v.log.csv")" = 4 ] || fail "log has not 3 epochs after resuming"

run sample --model "$T/v.ember" --n 16 --out "$T/s.png" && is_png "$T/s.png"
# A VAE's sampler file: the decoder alone, the same samples; reconstructing needs the encoder.
run export --model "$T/v.ember" --out "$T/vd.ember"
[ "$(wc -c <"$T/vd.ember")" -lt "$(wc -c <"$T/v.ember")" ] || fail "the VAE sampler file is not smaller"
run sample --model "$T/vd.ember" --n 16 --out "$T/sd.png" && cmp -s "$T/s.png" "$T/sd.png" || fail "VAE sampler file draws other samples"
if "$E" reconstruct --model "$T/vd.ember" "${SPRITES[@]}" --out "$T/x.png" 2>"$T/err"; then fail "reconstructed without an encoder"; fi
run reconstruct --model "$T/v.ember" "${SPRITES[@]}" --n 8 --out "$T/r.png" && is_png "$T/r.png"
run interpolate --model "$T/v.ember" "${SPRITES[@]}" --pairs 3 --steps 5 --out "$T/i.png" && is_png "$T/i.png"
run traverse --model "$T/v.ember" --dims 4 --out "$T/t.png" && is_png "$T/t.png"
run latent-map --model "$T/v.ember" "${SPRITES[@]}" --n 200 --out "$T/m.svg" && is_svg "$T/m.svg"
run eval --model "$T/v.ember" "${SPRITES[@]}" --metric all --k 16 --n 40 --json "$T/e.json" && is_json "$T/e.json"
for key in recon_sq_err pca_sq_err neg_elbo nll_iwae nll_naive; do
  grep -q "\"$key\": [0-9]" "$T/e.json" || fail "eval JSON lacks $key"
done
run semisup --encoder "$T/v.ember" "${SPRITES[@]}" --labels 20 --draws 2 --epochs 100 --self-train 1 \
  --json "$T/ss.json" | tee "$T/ss.out"
is_json "$T/ss.json"
grep -q "^mean .*+-" "$T/ss.out" || fail "semisup prints no mean +- std"
for key in codes codes_self_train scratch_pixels; do
  grep -q "\"$key\": {\"mean\": 0\.[0-9]*, \"std\": [0-9.]*, \"errors\": \[[0-9.]*, [0-9.]*\]}" "$T/ss.json" ||
    fail "semisup JSON lacks $key with 2 errors: $(cat "$T/ss.json")"
done
if "$E" semisup --encoder "$T/v.ember" "${SPRITES[@]}" --labels 4000 2>"$T/err"; then fail "semisup drew 1000 of a class"; fi
grep -q "fewer than 1000" "$T/err" || fail "semisup: bad message for too many labels: $(cat "$T/err")"
run info --model ae --widths 1000,500,250 --latent 30 | grep -q "total" || fail "info prints no total"

head -c 200 "$T/v.ember" >"$T/bad.ember"
if "$E" sample --model "$T/bad.ember" --out "$T/b.png" 2>"$T/err"; then fail "a truncated checkpoint was accepted"; fi
grep -q "checkpoint" "$T/err" || fail "bad-checkpoint message: $(cat "$T/err")"
[ ! -e "$T/b.png" ] || fail "a picture was written from a bad checkpoint"

run train --model ae --arch conv --latent 8 "${SPRITES[@]}" --epochs 1 --batch 50 --out "$T/c.ember" --no-pictures
run train --model ae --arch linear --lik gaussian --latent 8 "${SPRITES[@]}" --epochs 1 --out "$T/l.ember" --no-pictures

run train --model classifier "${SPRITES[@]}" --epochs 1 --out "$T/clf.ember"
run eval --model "$T/clf.ember" "${SPRITES[@]}" --json "$T/clf.json" && is_json "$T/clf.json"
grep -q '"accuracy": 0\.[0-9]' "$T/clf.json" || fail "classifier eval JSON has no accuracy: $(cat "$T/clf.json")"
grep -q '"is": [1-4]\.[0-9]' "$T/clf.json" || fail "classifier eval JSON: no test-set is in [1, 4] (4 sprite classes): $(cat "$T/clf.json")"

# GANs: rings (figures, scatter), DCGAN and conditional GAN on sprites (grids, slerp, resume, scores).
RINGS=(--data rings --rings-n 2560 --widths 32,32 --z 8 --batch 64 --lr 1e-3)
run train --model gan "${RINGS[@]}" --epochs 2 --mbstd --out "$T/r.ember" | tee "$T/r.out"
grep -q "modes [0-8]/8  high quality" "$T/r.out" || fail "rings training prints no mode figures"
is_svg "$T/r.samples.svg" && is_svg "$T/r.loss.svg"
[ "$(wc -l <"$T/r.log.csv")" = 3 ] && head -1 "$T/r.log.csv" | grep -q "modes_covered,high_quality" || fail "rings log"
run eval --model "$T/r.ember" --n 2000 --json "$T/r.json"
grep -q '"modes_covered": [0-8],' "$T/r.json" && grep -q '"high_quality": [01]\.' "$T/r.json" || fail "rings JSON"
# A model path with a quote and a backslash must still give valid JSON (escaped strings).
cp "$T/r.ember" "$T/q\"b\\.ember"
run eval --model "$T/q\"b\\.ember" --n 500 --json "$T/q.json" && is_json "$T/q.json"
grep -qF 'q\"b\\.ember' "$T/q.json" || fail "model path not escaped in JSON: $(cat "$T/q.json")"
run sample --model "$T/r.ember" --n 500 --out "$T/rs.svg" && is_svg "$T/rs.svg"
GSPRITES=(--data sprites --sprites-train 256 --sprites-test 64 --batch 32 --channels 8,16 --z 16)
run train --model dcgan "${GSPRITES[@]}" --epochs 1 --out "$T/d.ember" && is_png "$T/d.samples.png"
run train --model dcgan "${GSPRITES[@]}" --epochs 3 --out "$T/d.ember" --resume --g-steps 2 --topk 0.5 \
  --lr-final 1e-4 --decay-from 1 | tee "$T/d.out"
grep -q "resuming .* at step 8 (epoch 2)" "$T/d.out" || fail "dcgan did not resume at epoch 2"
grep -q "g_steps=2 .*topk=0.5" "$T/d.out" || fail "--g-steps, --topk given on resume not taken: $(cat "$T/d.out")"
run sample --model "$T/d.ember" --n 8 --out "$T/ds.png" && is_png "$T/ds.png"
run sample --model "$T/d.ember" --n 8 --truncation 0.5 --out "$T/dt.png" && is_png "$T/dt.png"
# The sampler file: G alone, smaller, the same samples; training refuses it, and a VAE has none.
run export --model "$T/d.ember" --out "$T/dg.ember"
[ "$(wc -c <"$T/dg.ember")" -lt "$(wc -c <"$T/d.ember")" ] || fail "the sampler file is not smaller"
run sample --model "$T/dg.ember" --n 8 --out "$T/dgs.png" && cmp -s "$T/ds.png" "$T/dgs.png" || fail "sampler file draws other samples"
"$BIN/example-sample-on-device" "$T/dg.ember" --n 2 >/dev/null 2>"$T/err" || fail "demo on a sampler file: $(cat "$T/err")"
if "$E" train --model dcgan "${GSPRITES[@]}" --epochs 4 --out "$T/dg.ember" --resume 2>"$T/err"; then fail "resumed training from a sampler file"; fi
if "$E" export --model "$T/clf.ember" --out "$T/x.ember" 2>"$T/err"; then fail "export took a classifier"; fi
cmp -s "$T/ds.png" "$T/dt.png" && fail "--truncation 0.5 drew the same samples as no truncation"
if "$E" sample --model "$T/d.ember" --truncation 0.01 --out "$T/dt.png" 2>"$T/err"; then fail "--truncation 0.01 accepted"; fi
grep -q "at least 0.05" "$T/err" || fail "--truncation 0.01: unclear error: $(cat "$T/err")"
run info --model "$T/d.ember" --inference | tee "$T/di.out"
grep -q "parameters  G [0-9]*, D [0-9]* trainable" "$T/di.out" && grep -q "^  total  *[0-9]" "$T/di.out" || fail "info on a GAN"
if "$E" sample --model "$T/d.ember" --label 1 --out "$T/dl.png" 2>"$T/err"; then fail "--label accepted by a plain GAN"; fi
run interpolate --model "$T/d.ember" --pairs 2 --steps 4 --out "$T/di.png" && is_png "$T/di.png"
run train --model dcgan --info 4 "${GSPRITES[@]}" --epochs 1 --out "$T/di.ember" | tee "$T/dinfo.out"
grep -q "info=4" "$T/dinfo.out" && grep -q "  Q [0-9.]*  " "$T/dinfo.out" || fail "--info: $(cat "$T/dinfo.out")"
run sample --model "$T/di.ember" --label 3 --n 8 --out "$T/dis.png" && is_png "$T/dis.png"
if "$E" sample --model "$T/di.ember" --label 4 --out "$T/dl.png" 2>"$T/err"; then fail "--label 4 accepted by --info 4"; fi
grep -q "codes 0..3" "$T/err" || fail "bad --label message for an info GAN: $(cat "$T/err")"
run interpolate --model "$T/di.ember" --pairs 2 --steps 4 --label 1 --out "$T/dii.png" && is_png "$T/dii.png"
run train --model dcgan --info 4 --info-real "${GSPRITES[@]}" --epochs 1 --out "$T/dr.ember" | tee "$T/dr.out"
grep -q "pseudo-labels: k-means .* 4 clusters.*purity" "$T/dr.out" && grep -q "Q(x) [0-9.]" "$T/dr.out" || fail "--info-real: $(cat "$T/dr.out")"
if "$E" train --model dcgan --info-real "${GSPRITES[@]}" --epochs 1 --out "$T/dr2.ember" 2>"$T/err"; then fail "--info-real without --info"; fi
grep -q "info_real needs info" "$T/err" || fail "bad --info-real message: $(cat "$T/err")"
run train --model cgan --arch mlp --widths 32,64 "${GSPRITES[@]}" --epochs 1 --out "$T/cg.ember"
run sample --model "$T/cg.ember" --label 3 --n 8 --out "$T/cl.png" && is_png "$T/cl.png"
run eval --model "$T/cg.ember" "${SPRITES[@]}" --classifier "$T/clf.ember" --n 200 --pairs 4 --pairs-png "$T/pairs.png" \
  --json "$T/cg.json"
is_png "$T/pairs.png" && is_json "$T/cg.json"
for key in is fd fd_floor class_hist class_entropy label_accuracy class_spread nn_dist; do
  grep -q "\"$key\": [0-9[{]" "$T/cg.json" || fail "GAN eval JSON lacks $key: $(cat "$T/cg.json")"
done
# Images made elsewhere (raw float32): 50 black images are scored; a ragged file and a pixel
# outside [0, 1] are refused with what is wrong.
head -c $((50 * 784 * 4)) /dev/zero >"$T/black.f32"
run eval --samples "$T/black.f32" "${SPRITES[@]}" --classifier "$T/clf.ember" --json "$T/raw.json" && is_json "$T/raw.json"
grep -q '"n": 50,' "$T/raw.json" && grep -q '"is": 1\.' "$T/raw.json" || fail "raw samples JSON: $(cat "$T/raw.json")"
head -c 5000 /dev/zero >"$T/ragged.f32"
if "$E" eval --samples "$T/ragged.f32" "${SPRITES[@]}" --classifier "$T/clf.ember" 2>"$T/err"; then fail "ragged raw file accepted"; fi
grep -q "not a whole number of images" "$T/err" || fail "ragged raw file message: $(cat "$T/err")"
for i in $(seq 1568); do printf '\000\000\000\100'; done >"$T/bright.f32"  # 2.0f, little-endian
if "$E" eval --samples "$T/bright.f32" "${SPRITES[@]}" --classifier "$T/clf.ember" 2>"$T/err"; then fail "pixels of 2 accepted"; fi
grep -q "image 0, pixel 0 is 2: pixels must lie in \[0, 1\]" "$T/err" || fail "out-of-range message: $(cat "$T/err")"

echo "+ tests/sample-on-device.sh"
"$(dirname "$0")/sample-on-device.sh" "$E" "$BIN/example-sample-on-device"
echo "+ example-sample-on-device (conditional GAN)"
"$BIN/example-sample-on-device" "$T/cg.ember" --n 8 --ascii >"$T/cg.txt"  # a row per sprite class (4) of 2
[ "$(wc -l <"$T/cg.txt")" = 116 ] || fail "conditional GAN: $(wc -l <"$T/cg.txt") lines of ASCII art, not 4 x 29"
"$BIN/example-sample-on-device" "$T/cg.ember" --n 4 --label 3 --png "$T/cg3.png" && is_png "$T/cg3.png"
echo "+ example-train-and-sample"
"$BIN/example-train-and-sample" "$T/ex.png" | tail -1 && is_png "$T/ex.png"

if [ -n "${EMBER_DATA:-}" ] && [ -d "$EMBER_DATA" ]; then
  run train --model vae --data "$EMBER_DATA" --epochs 1 --test-n 1000 --out "$T/mnist.ember" --no-pictures
  run eval --model "$T/mnist.ember" --data "$EMBER_DATA" --metric recon_sq_err,neg_elbo --n 500
else
  echo "tool smoke: EMBER_DATA not set, MNIST checks skipped"
fi
echo "tool smoke: passed"
