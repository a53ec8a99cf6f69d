#!/usr/bin/env bash
# Same seeds, same bits: trains and samples a small model of every kind on one thread and
# prints a checksum of every file written (checkpoints, sampler files, samples, logs).
# Run it with two builds (say, before and after a refactor) and diff the two listings:
#
#   tests/same-bits.sh build-old /tmp/old >old.txt; tests/same-bits.sh build /tmp/new >new.txt
#   diff old.txt new.txt                       # empty: the same bits
#
# The logs' "seconds" column (wall time) is left out of their checksums. THREADS=N runs every
# step on N threads (default 1): the listing must not change with N either.
set -euo pipefail
BIN=${1:?usage: [THREADS=N] tests/same-bits.sh BUILD_DIR OUT_DIR}
OUT=${2:?usage: [THREADS=N] tests/same-bits.sh BUILD_DIR OUT_DIR}
T=${THREADS:-1}
E="$BIN/ember"
mkdir -p "$OUT"
S=(--data sprites --sprites-train 512 --sprites-test 128 --threads "$T" --seed 3)
G=(--data sprites --sprites-train 256 --sprites-test 64 --batch 32 --channels 8,16 --z 16 --threads "$T" --seed 3)
q() { "$E" "$@" >/dev/null; }

q train --model vae "${S[@]}" --epochs 2 --batch 50 --out "$OUT/v.ember"
q train --model vae "${S[@]}" --epochs 3 --batch 50 --out "$OUT/v.ember" --resume
q train --model vae "${S[@]}" --epochs 2 --batch 50 --lr-final 1e-4 --binarize dynamic --out "$OUT/vb.ember"
q train --model ae --arch conv --latent 8 "${S[@]}" --epochs 1 --batch 50 --out "$OUT/c.ember"
q train --model ae --arch linear --lik gaussian --latent 8 "${S[@]}" --epochs 1 --wd 0.01 --out "$OUT/l.ember"
q sample --model "$OUT/v.ember" --n 16 --seed 5 --out "$OUT/vs.png"
q export --model "$OUT/v.ember" --out "$OUT/vd.ember"
q train --model classifier "${S[@]}" --epochs 1 --out "$OUT/clf.ember"
q train --model gan --data rings --rings-n 1280 --widths 32,32 --z 8 --batch 64 --lr 1e-3 --threads "$T" --seed 3 \
  --epochs 2 --mbstd --out "$OUT/r.ember"
q train --model dcgan "${G[@]}" --epochs 1 --out "$OUT/d.ember"
q train --model dcgan "${G[@]}" --epochs 3 --out "$OUT/d.ember" --resume --g-steps 2 --topk 0.5 --lr-final 1e-4 --decay-from 1
q train --model dcgan "${G[@]}" --epochs 1 --ema 0.9 --unroll 2 --out "$OUT/du.ember"
q sample --model "$OUT/d.ember" --n 8 --seed 5 --out "$OUT/ds.png"
q export --model "$OUT/d.ember" --out "$OUT/dg.ember"
q train --model dcgan --info 4 --info-real --info-cont 1 --mbstd "${G[@]}" --epochs 1 --out "$OUT/di.ember"
q train --model cgan --arch mlp --widths 32,64 "${G[@]}" --epochs 1 --out "$OUT/cg.ember"
q sample --model "$OUT/cg.ember" --label 3 --n 8 --seed 5 --out "$OUT/cgs.png"
cd "$OUT"
for f in $(find . -type f ! -name '*.svg' | sort); do
  case $f in
    *.csv) echo "$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "seconds") s = i }
             { out = ""; for (i = 1; i <= NF; ++i) if (i != s) out = out $i ","; print out }' "$f" | sha256sum | cut -c1-64)  $f (without seconds)" ;;
    *) sha256sum "$f" ;;
  esac
done
