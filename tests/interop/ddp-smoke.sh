#!/usr/bin/env bash
# "Train on many machines, sample on a board", end to end and small: python/train_ddp.py under
# torchrun with two processes (gloo) trains a VAE and a DCGAN for a few steps, `ember import`
# makes sampler files of them, ember samples them and writes the C array a board compiles in;
# the PyTorch twin's samples from ember's latents must equal ember's (1e-5).
#
#   tests/interop/ddp-smoke.sh [BUILD_DIR] [IDX_DIR]
#
# IDX_DIR: MNIST-style training images (default $EMBER_DATA); without one, the built-in sprites,
# written as IDX by `ember dataset`.
# PYTHON (default python3) must have torch; TORCHRUN (default torchrun) launches.
# --redirects 1 --tee 1: Debian 12's torch 1.13 under Python 3.11 fails to parse torchrun's
# default "0" for these (enum flag iteration changed in 3.11); any value but 0 avoids that.
set -euo pipefail
BIN=${1:-build}
DATA=${2:-${EMBER_DATA:-}}
PY=${PYTHON:-python3}
RUN=${TORCHRUN:-torchrun}
E="$BIN/ember"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "ddp smoke: FAILED: $*" >&2; exit 1; }

if [ -z "$DATA" ] || [ ! -d "$DATA" ]; then
  echo "ddp smoke: no IDX folder; ember's built-in sprites instead (ember dataset)"
  "$E" dataset --data sprites --sprites-train 2048 --sprites-test 64 --out "$T/idx" >/dev/null
  DATA="$T/idx"
fi

train() {  # train NAME ARGS...: two processes, a few steps, the sampler part written
  local name=$1; shift
  echo "+ torchrun --standalone --nproc_per_node 2 python/train_ddp.py $* --out $name.safetensors"
  "$RUN" --standalone --nproc_per_node 2 --redirects 1 --tee 1 --log_dir "$T/logs-$name" \
    "$HERE/../../python/train_ddp.py" --data "$DATA" --out "$T/$name.safetensors" "$@" 2>"$T/$name.err" |
    grep -E "step 1 |wrote" || { cat "$T/$name.err" >&2; fail "train_ddp $name"; }
}
train vae --model vae --epochs 10 --max-steps 20 --log-every 1000
train dcgan --model dcgan --channels 16,32 --z 32 --epochs 10 --max-steps 10 --log-every 1000
for m in vae dcgan; do
  "$E" import "$T/$m.safetensors" --out "$T/$m.ember" | grep -q "sampler file" || fail "$m: not a sampler file"
  "$E" sample --model "$T/$m.ember" --n 16 --save-z "$T/$m-z.npy" --save-x "$T/$m-x.npy" --out "$T/$m.png" >/dev/null
  "$E" export --model "$T/$m.ember" --c-array "${m}_sampler" --out "$T/$m.h" >/dev/null
  "$PY" - "$HERE/../../python" "$T/$m" <<'PY' || fail "$m: the twin's samples differ from ember's"
import sys
sys.path.insert(0, sys.argv[1])
import ember_torch as et
base = sys.argv[2]
m = et.model_from_safetensors(base + ".safetensors")
z, x = et.load_npy(base + "-z.npy"), et.load_npy(base + "-x.npy")
y = m.decode(z) if isinstance(m, et.Autoencoder) else m.generate(z)
d = (y - x).abs().max().item()
print("ddp smoke: %s sampler: ember vs torch max|diff| %.2e" % (base.rsplit("/", 1)[1], d))
sys.exit(0 if d <= 1e-5 else 1)
PY
done
echo "ddp smoke: ok"
