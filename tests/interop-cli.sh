#!/usr/bin/env bash
# The interop commands without PyTorch: export --format safetensors, import and sample's .npy
# files. Round trips must give the same samples bit for bit (ember -> safetensors -> ember, the
# whole model and the sampler part, a VAE and a DCGAN with a weight average); bad files and
# mismatched architectures are refused naming the cause, and nothing is written.
# (tests/interop/parity.py checks the same files against PyTorch.)
#
#   tests/interop-cli.sh [BUILD_DIR]      (default build)
set -euo pipefail
BIN=${1:-build}
E="$BIN/ember"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SPRITES=(--data sprites --sprites-train 640 --sprites-test 100 --epochs 1)

fail() { echo "interop cli: FAILED: $*" >&2; exit 1; }
run() { echo "+ ember $*"; "$E" "$@"; }
refused() {  # refused PATTERN ARGS...: the command fails, with PATTERN in its message
  local pattern=$1; shift
  echo "+ ember $* (must fail: $pattern)"
  if "$E" "$@" >"$T/out" 2>"$T/err"; then fail "accepted: $*"; fi
  grep -q -- "$pattern" "$T/err" || fail "ember $*: message lacks '$pattern': $(cat "$T/err")"
}
same() { cmp -s "$1" "$2" || fail "$1 and $2 differ"; }

# ---- round trips: a VAE, and a DCGAN whose sampler is its weight average ----
run train --model vae "${SPRITES[@]}" --widths 64 --latent 8 --out "$T/vae.ember" >/dev/null
run train --model dcgan "${SPRITES[@]}" --channels 8,16 --z 16 --ema 0.9 --out "$T/dc.ember" >/dev/null
for m in vae dc; do
  run export --model "$T/$m.ember" --format safetensors --out "$T/$m.safetensors"
  run export --model "$T/$m.ember" --format safetensors --sampler --out "$T/$m-s.safetensors"
  run import "$T/$m.safetensors" --out "$T/$m-in.ember"
  run import "$T/$m-s.safetensors" --out "$T/$m-s-in.ember"
  run sample --model "$T/$m.ember" --n 6 --save-z "$T/$m-z.npy" --save-x "$T/$m-x.npy" --out "$T/$m.png"
  for f in "$m-in" "$m-s-in"; do
    run sample --model "$T/$f.ember" --z "$T/$m-z.npy" --save-x "$T/$f-x.npy"
    same "$T/$m-x.npy" "$T/$f-x.npy"
  done
  # A sampler file exported again: its sampler part, the same tensors.
  run export --model "$T/$m-s-in.ember" --format safetensors --out "$T/$m-again.safetensors" | grep -q "sampler part" ||
    fail "a sampler file did not export as its sampler part"
done
# The samples' shape: [6, 1, 28, 28] float32.
grep -q "'shape': (6, 1, 28, 28)" "$T/vae-x.npy" || fail "vae-x.npy: not [6, 1, 28, 28]"
grep -q "'shape': (6, 8)" "$T/vae-z.npy" || fail "vae-z.npy: not [6, 8]"

# ---- a dataset as IDX files: training on them is training on the sprites themselves ----
run dataset --data sprites --sprites-train 640 --sprites-test 100 --out "$T/idx"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [ -s "$T/idx/$f" ] || fail "ember dataset wrote no $f"
done
refused "exists; --force replaces" dataset --data sprites --sprites-train 64 --sprites-test 8 --out "$T/idx"
run train --model vae --data "$T/idx" --epochs 1 --widths 64 --latent 8 --out "$T/from-idx.ember" >/dev/null
run sample --model "$T/from-idx.ember" --z "$T/vae-z.npy" --save-x "$T/from-idx-x.npy"
same "$T/vae-x.npy" "$T/from-idx-x.npy"

# ---- int8 samplers (nn/quantize.h): a quarter of the bytes, the same commands ----
run export --model "$T/vae.ember" --weights int8 --out "$T/vae8.ember" | grep -q "int8 weights" || fail "no int8 export"
run export --model "$T/dc.ember" --weights int8 --out "$T/dc8.ember" >/dev/null
run export --model "$T/vae.ember" --out "$T/vae32.ember" >/dev/null
[ $(( $(stat -c %s "$T/vae8.ember") * 3 )) -lt "$(stat -c %s "$T/vae32.ember")" ] || fail "the int8 file is not small"
for m in vae8 dc8; do
  run sample --model "$T/$m.ember" --n 6 --out "$T/$m.png" >/dev/null
  run interpolate --model "$T/$m.ember" --pairs 2 --steps 4 --out "$T/$m-i.png" >/dev/null
  run info --model "$T/$m.ember" | grep -q "weights=int8" || fail "info: $m is not int8"
done
run eval --model "$T/vae.ember" --data sprites --sprites-train 640 --sprites-test 100 --metric neg_elbo \
  --decoder "$T/vae8.ember" | grep -q "^neg_elbo" || fail "eval --decoder printed no neg_elbo"
run export --model "$T/vae8.ember" --c-array VAE8 --out "$T/vae8.h" >/dev/null  # as it is: int8
grep -q "VAE8" "$T/vae8.h" || fail "no C array"
refused "holds int8 weights" export --model "$T/vae8.ember" --weights f32 --out "$T/x.ember"
refused "holds int8 weights" export --model "$T/vae8.ember" --format safetensors --out "$T/x.safetensors"
refused "not with --format safetensors" export --model "$T/vae.ember" --weights int8 --format safetensors \
  --out "$T/x.safetensors"
refused "not an autoencoder" eval --model "$T/vae.ember" --data sprites --metric neg_elbo --decoder "$T/dc8.ember"

# ---- refusals ----
refused "exists; --force replaces it" import "$T/vae.safetensors" --out "$T/vae-in.ember"
run import "$T/vae.safetensors" --out "$T/vae-in.ember" --force >/dev/null
refused "records its architecture" import "$T/vae.safetensors" --out "$T/x.ember" --latent 3
refused "latents must be \[n, 16\]" sample --model "$T/dc.ember" --z "$T/vae-z.npy" --save-x "$T/x.npy"
refused "the name must end in .npy" sample --model "$T/vae.ember" --save-x "$T/x.png"
head -c 100 "$T/vae.safetensors" >"$T/cut.safetensors"
refused "truncated" import "$T/cut.safetensors" --out "$T/x.ember"
refused "not an ember checkpoint" export --model "$T/vae.safetensors" --format safetensors --out "$T/x.safetensors"
refused "no sampler part\|not a GAN or VAE" export --model "$T/vae.safetensors" --out "$T/x.ember"
[ ! -e "$T/x.ember" ] || fail "a refused import wrote its output"

# Files without ember's metadata, or with other names (python3 rewrites the header).
if command -v python3 >/dev/null; then
  rewrite() {  # rewrite IN OUT [old=new ...] [-drop ...]: metadata removed, tensors renamed or dropped
    python3 - "$@" <<'PY'
import json, struct, sys
src, dst, *edits = sys.argv[1:]
rename = dict(e.split('=', 1) for e in edits if '=' in e)
drop = {e[1:] for e in edits if e.startswith('-')}
b = open(src, 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
head, data = json.loads(b[8:8 + n]), b[8 + n:]
head.pop('__metadata__', None)
out, parts, off = {}, [], 0
for k, v in sorted(head.items(), key=lambda kv: kv[1]['data_offsets'][0]):
    if k in drop:
        continue
    s, e = v['data_offsets']
    parts.append(data[s:e])
    out[rename.get(k, k)] = dict(v, data_offsets=[off, off + e - s])
    off += e - s
h = json.dumps(out).encode()
h += b' ' * (-len(h) % 8)
open(dst, 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(parts))
PY
  }
  rewrite "$T/vae.safetensors" "$T/bare.safetensors"
  refused "has no ember.config metadata" import "$T/bare.safetensors" --out "$T/x.ember"
  refused "5 misshaped" import "$T/bare.safetensors" --out "$T/x.ember" --model vae --widths 64 --latent 4
  grep -q "misshaped enc.mu.weight: \[8, 64\] in the file, \[4, 64\] in the model" "$T/err" || fail "no misshaped line"
  run import "$T/bare.safetensors" --out "$T/bare.ember" --model vae --widths 64 --latent 8 >/dev/null
  run sample --model "$T/bare.ember" --z "$T/vae-z.npy" --save-x "$T/bare-x.npy"
  same "$T/vae-x.npy" "$T/bare-x.npy"
  # PyTorch-style names, mapped back with --names; a dropped tensor is named as missing.
  rewrite "$T/dc-s.safetensors" "$T/torch.safetensors" g.fc.weight=main.0.weight g.fc.bias=main.0.bias
  printf '# torch name   ember name\nmain.0.weight g.fc.weight\nmain.0.bias g.fc.bias\n' >"$T/names.txt"
  refused "2 missing, 2 extra" import "$T/torch.safetensors" --out "$T/x.ember" --model dcgan --channels 8,16 --z 16
  run import "$T/torch.safetensors" --out "$T/torch.ember" --model dcgan --channels 8,16 --z 16 --names "$T/names.txt"
  run sample --model "$T/torch.ember" --z "$T/dc-z.npy" --save-x "$T/torch-x.npy"
  same "$T/dc-x.npy" "$T/torch-x.npy"
  rewrite "$T/dc-s.safetensors" "$T/short.safetensors" -g.bn1.running_var
  refused "missing g.bn1.running_var" import "$T/short.safetensors" --out "$T/x.ember" --model dcgan --channels 8,16 --z 16
else
  echo "interop cli: python3 not found: the files without metadata are not checked"
fi
echo "interop cli: ok"
