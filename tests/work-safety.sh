#!/usr/bin/env bash
# The user's work is safe (issue 16), end to end with the ember tool: every scenario below
# once lost work or said something false. Each must now be refused before any work (or say
# what happened), with a message naming the cause, and leave the user's files as they were.
#
#   tests/work-safety.sh [BUILD_DIR]      (default build; built-in data only, about 30 s)
set -euo pipefail
BIN=${1:-build}
E="$BIN/ember"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
S=(--data sprites --sprites-train 1024 --sprites-test 128)
D=("${S[@]}" --no-pictures)

fail() { echo "work safety: FAILED: $*" >&2; exit 1; }
# refused CODE TEXT -- ARGS: the command must exit with CODE and say TEXT on stderr.
refused() {
  local code=$1 text=$2 rc=0
  shift 3
  "$E" "$@" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" = "$code" ] || fail "ember $* exited $rc, not $code: $(cat "$T/err")"
  grep -q -- "$text" "$T/err" || fail "ember $*: message lacks '$text': $(cat "$T/err")"
  echo "ok: refused ($text): ember $*"
}
same() { cmp -s "$1" "$2" || fail "$1 changed"; }

"$E" train --model vae "${D[@]}" --epochs 2 --out "$T/runs/v.ember" >/dev/null  # runs/ is made
cp "$T/runs/v.ember" "$T/keep.ember" && cp "$T/runs/v.log.csv" "$T/keep.log.csv"

# Resume is exact or refused.
refused 1 "trained with batch 128, this run has 32" -- train --model vae "${D[@]}" --epochs 4 --batch 32 --resume --out "$T/runs/v.ember"
refused 1 "training set of 1024, this run has 2048" -- train --model vae --data sprites --sprites-train 2048 --sprites-test 128 --no-pictures --epochs 7 --resume --out "$T/runs/v.ember"
refused 1 "\-\-latent 8: .* was trained with latent=20" -- train --model vae "${D[@]}" --latent 8 --epochs 4 --resume --out "$T/runs/v.ember"
"$E" train --model vae "${D[@]}" --epochs 2 --resume --out "$T/runs/v.ember" >"$T/out"
grep -q "nothing to train" "$T/out" || fail "a resume with nothing left does not say so: $(cat "$T/out")"
same "$T/keep.ember" "$T/runs/v.ember" && same "$T/keep.log.csv" "$T/runs/v.log.csv"
"$E" train --model vae "${D[@]}" --epochs 3 --resume --out "$T/runs/v.ember" >"$T/out"
grep -q "resuming .* at step 16 (epoch 3)" "$T/out" || fail "did not resume at epoch 3: $(cat "$T/out")"
[ "$(cut -d, -f1 "$T/runs/v.log.csv" | tr '\n' ' ')" = "epoch 1 2 3 " ] || fail "log epochs: $(cat "$T/runs/v.log.csv")"
cp "$T/runs/v.ember" "$T/keep.ember"

# Nothing is overwritten by surprise.
refused 1 "exists: --resume continues it, --force" -- train --model vae "${D[@]}" --epochs 1 --out "$T/runs/v.ember"
same "$T/keep.ember" "$T/runs/v.ember"
echo "my notes" >"$T/notes.txt" && cp "$T/notes.txt" "$T/notes.ember"
refused 2 "must end in .ember" -- train --model vae "${D[@]}" --epochs 1 --out "$T/notes.txt"
refused 2 "is never replaced by one" -- train --model vae "${D[@]}" --epochs 1 --force --out "$T/notes.ember"
refused 2 "is never replaced by one" -- export --model "$T/runs/v.ember" --out "$T/notes.ember"
grep -q "my notes" "$T/notes.ember" || fail "notes.ember was replaced"
refused 2 "is also --model" -- export --model "$T/runs/v.ember" --out "$T/runs/v.ember"
refused 2 "must end in .png" -- sample --model "$T/runs/v.ember" --out "$T/runs/v.ember"
same "$T/keep.ember" "$T/runs/v.ember"

# Fail before work: bad output paths are found before the first step or metric.
mkdir -p "$T/dir.ember"
refused 2 "is a folder" -- train --model vae "${D[@]}" --epochs 1 --out "$T/dir.ember"
"$E" eval --model "$T/runs/v.ember" "${S[@]}" --metric recon_sq_err --n 16 --json "$T/new/e.json" >/dev/null
[ -s "$T/new/e.json" ] || fail "eval --json did not make its folder"
if [ "$(id -u)" != 0 ]; then
  refused 2 "\-\-json" -- eval --model "$T/runs/v.ember" "${S[@]}" --json /proc/e.json
fi
refused 2 "must end in .json" -- eval --model "$T/runs/v.ember" "${S[@]}" --json "$T/e.txt"

# Diverging runs stop with an error, and the last good checkpoint stays.
refused 1 "the run diverged" -- train --model vae "${D[@]}" --epochs 5 --lr 10 --resume --out "$T/runs/v.ember"
same "$T/keep.ember" "$T/runs/v.ember"

# Memory the user can see and set: info prints what train and sample allocate, to the byte
# (datasets and pictures included); a --memory below it is refused before any work.
plan_total() { "$E" info "$@" | awk '/^  total \(--memory/ {print $(NF-1)}'; }
need=$(plan_total --model vae "${D[@]}" --epochs 1)
[ -n "$need" ] || fail "info prints no memory total for a training run"
"$E" train --model vae "${D[@]}" --epochs 1 --memory "$need" --out "$T/m.ember" >"$T/out"
grep -q "memory: $need bytes" "$T/out" || fail "train took other than info's $need bytes: $(cat "$T/out")"
refused 1 "is 1 byte short of the $need bytes" -- train --model vae "${D[@]}" --epochs 1 --memory $((need - 1)) --out "$T/m2.ember"
[ ! -e "$T/m2.ember" ] && [ ! -e "$T/m2.log.csv" ] || fail "a refused --memory left files"
# A wide latent: its pictures (the traversal's codes) are counted, not a fixed guess.
need=$(plan_total --model vae --latent 16384 --data sprites --sprites-train 256 --sprites-test 64 --epochs 1)
"$E" train --model vae --latent 16384 --data sprites --sprites-train 256 --sprites-test 64 --epochs 1 \
  --memory "$need" --out "$T/wide.ember" >/dev/null || fail "--latent 16384 does not train in info's $need bytes"
[ -s "$T/wide.traverse.png" ] || fail "--latent 16384 drew no traversal"
need=$(plan_total --model "$T/runs/v.ember")
"$E" sample --model "$T/runs/v.ember" --memory "$need" --out "$T/s.png" >/dev/null || fail "sample in info's $need bytes"
refused 1 "is 1 byte short" -- sample --model "$T/runs/v.ember" --memory $((need - 1)) --out "$T/s2.png"
"$E" train --model cgan --data sprites --sprites-train 256 --sprites-test 64 --epochs 1 --out "$T/c.ember" >/dev/null
need=$(plan_total --model "$T/c.ember")
"$E" sample --model "$T/c.ember" --memory "$need" --out "$T/c.png" >/dev/null || fail "cgan sample in info's $need bytes"
refused 1 "is 1 byte short" -- sample --model "$T/c.ember" --memory $((need - 1)) --out "$T/c2.png"
refused 2 "is not a size" -- sample --model "$T/runs/v.ember" --memory 12x --out "$T/s3.png"
"$E" sample --model "$T/runs/v.ember" --memory=1GiB --out "$T/s4.png" | grep -q wrote || fail "--memory=1GiB"

# The command line.
refused 2 "given 2 times" -- train --model vae "${D[@]}" --epochs 1 --epochs 2 --out "$T/x.ember"
"$E" sample --model="$T/runs/v.ember" --n=4 --out="$T/s.png" >/dev/null || fail "--opt=value is not understood"
"$E" --version | grep -q "^ember " || fail "no --version"
rc=0; "$E" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "ember without a command exited $rc"
echo "work safety: passed"
