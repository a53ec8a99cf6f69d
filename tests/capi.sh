#!/usr/bin/env bash
# The C interface from C and from Python: examples/c-api/sample.c compiled as C99 with
# -Wall -Werror against the static library and against build/libember.so, and
# examples/c-api/sample.py through ctypes, must print the same digest (hash and pixel sums)
# as example-sample-on-device for a VAE decoder, a DCGAN generator and a conditional GAN
# (and int8 samplers of the VAE and the conditional GAN).
#
#   tests/capi.sh [BUILD_DIR]      (after make and make shared)
set -euo pipefail
BIN=${1:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "capi: FAILED: $*" >&2; exit 1; }
SPRITES=(--data sprites --sprites-train 640 --sprites-test 100 --epochs 1)

CC=${CC:-gcc}
"$CC" -std=c99 -Wall -Wextra -Werror -pedantic -I capi examples/c-api/sample.c "$BIN/libember.a" -lstdc++ -lm -pthread \
  -o "$T/sample-static"
"$CC" -std=c99 -Wall -Wextra -Werror -pedantic -I capi examples/c-api/sample.c -L "$BIN" -lember -lm -o "$T/sample-shared"

"$BIN/ember" train --model vae "${SPRITES[@]}" --widths 64 --latent 8 --out "$T/vae.ember" >/dev/null
"$BIN/ember" export --model "$T/vae.ember" --out "$T/vae-dec.ember" >/dev/null
"$BIN/ember" train --model dcgan "${SPRITES[@]}" --channels 8,16 --z 16 --out "$T/dcgan.ember" >/dev/null
"$BIN/ember" train --model cgan "${SPRITES[@]}" --channels 8,16 --z 16 --out "$T/cgan.ember" >/dev/null
"$BIN/ember" export --model "$T/vae.ember" --weights int8 --out "$T/vae-dec8.ember" >/dev/null  # int8 samplers
"$BIN/ember" export --model "$T/cgan.ember" --weights int8 --out "$T/cgan8.ember" >/dev/null

check() {  # check MODEL N SEED [LABEL]
  local model=$1 n=$2 seed=$3 label=${4:-} want
  local flags=(--n "$n" --seed "$seed" --digest)
  [ -n "$label" ] && flags+=(--label "$label")
  want=$("$BIN/example-sample-on-device" "$model" "${flags[@]}" 2>/dev/null | grep -E '^(hash|sum)')
  [ "$(grep -c '^sum' <<<"$want")" = "$n" ] || fail "no digest from example-sample-on-device $model"
  local args=("$model" "$n" "$seed")
  [ -n "$label" ] && args+=("$label")
  [ "$("$T/sample-static" "${args[@]}" | grep -E '^(hash|sum)')" = "$want" ] || fail "C (static) differs on $model"
  [ "$(LD_LIBRARY_PATH="$BIN" "$T/sample-shared" "${args[@]}" | grep -E '^(hash|sum)')" = "$want" ] ||
    fail "C (shared) differs on $model"
  if command -v python3 >/dev/null; then
    [ "$(python3 examples/c-api/sample.py "$BIN/libember.so" "${args[@]}" 2>/dev/null)" = "$want" ] ||
      fail "Python (ctypes) differs on $model"
  fi
  echo "capi: $(basename "$model") n=$n seed=$seed ${label:+label=$label }: C static, C shared$(command -v python3 >/dev/null && echo ", Python") = sample-on-device ($(head -1 <<<"$want"))"
}
check "$T/vae-dec.ember" 4 7
check "$T/dcgan.ember" 3 2
check "$T/cgan.ember" 8 3
check "$T/cgan.ember" 5 3 2
check "$T/vae-dec8.ember" 4 7
check "$T/cgan8.ember" 5 3 2
# A bad file is refused with its code.
head -c 300 "$T/vae-dec.ember" >"$T/cut.ember"
if "$T/sample-static" "$T/cut.ember" 2>"$T/err"; then fail "a cut file was accepted"; fi
grep -q "EMBER_CORRUPT_DATA" "$T/err" || fail "cut file: $(cat "$T/err")"
echo "capi: ok"
