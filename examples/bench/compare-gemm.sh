#!/bin/sh
# compare-gemm.sh [RUNS]: ember (AVX-512 and AVX2) against OpenBLAS on g1..g5, 1 and 2
# threads, interleaved in one run so the ratios share the machine's state.
#
# Builds nothing: run `make -j2` first, and `make -C ../shared/bench/peers` if the
# OpenBLAS peer is missing. Run from anywhere; paths are relative to the repo root.
# Prints per shape and thread count the median GFLOP/s over RUNS (default 3) and the ratios
# ember/OpenBLAS and avx2/avx512, and each ISA's share of its FMA peak measured in the same
# run (../shared/bench/peers/fma_peak.c, built into build/fma_peak). Raw JSON goes to $OUT
# (default build/compare-gemm).
# QUIET=1 waits (up to 60 s) before each measurement until no other task is runnable, which
# keeps other people's builds on a shared machine out of the 2-thread figures.
set -eu
RUNS=${1:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BENCH=build/ember-bench
PEER=../shared/bench/peers/build/gemm_openblas
OUT=${OUT:-build/compare-gemm}
[ -x "$BENCH" ] || { echo "missing $BENCH: run make -j2" >&2; exit 1; }
[ -x "$PEER" ] || { echo "missing $PEER: run make -C ../shared/bench/peers" >&2; exit 1; }
quiet() {
  [ "${QUIET:-0}" = 1 ] || return 0
  for _ in $(seq 1 120); do
    [ "$(cut -d' ' -f4 /proc/loadavg | cut -d/ -f1)" -le 1 ] && return 0
    sleep 0.5
  done
}
FMA=build/fma_peak
[ -x "$FMA" ] || gcc -O2 -fopenmp ../shared/bench/peers/fma_peak.c -o "$FMA"
mkdir -p "$OUT"
rm -f "$OUT"/*.json
uptime
for run in $(seq 1 "$RUNS"); do
  quiet; "$FMA" 2 --json "$OUT/fma-r$run.json" >/dev/null
  for t in 1 2; do
    echo "run $run/$RUNS, $t thread(s)"
    quiet; "$BENCH" gemm --isa avx512 --threads "$t" --json "$OUT/avx512-t$t-r$run.json" >/dev/null
    quiet; "$BENCH" gemm --isa avx2 --threads "$t" --json "$OUT/avx2-t$t-r$run.json" >/dev/null
    quiet; "$PEER" "$t" --json "$OUT/openblas-t$t-r$run.json" >/dev/null
  done
done
/usr/bin/python3 - "$OUT" "$RUNS" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
shapes = ["g1", "g2", "g3", "g4", "g5"]
def load(impl, t, r):
    d = json.load(open(f"{out}/{impl}-t{t}-r{r}.json"))
    if impl == "openblas":
        return {g: d["threads"][str(t)][g]["value"] for g in shapes}
    return {g: d[g] for g in shapes}
def peak(isa, t, r):
    return json.load(open(f"{out}/fma-r{r}.json"))["threads"][str(t)]["fma_" + isa]["value"]
print(f"\nmedian GFLOP/s over {runs} runs; ratios and shares of the FMA peak are medians of the per-run ones")
print(f"{'id':4} {'thr':>3} {'avx512':>8} {'avx2':>8} {'openblas':>9} {'512/blas':>9} {'avx2/blas':>10} {'avx2/512':>9}"
      f" {'512/peak':>9} {'avx2/peak':>9}")
for t in (1, 2):
    res = {impl: [load(impl, t, r) for r in range(1, runs + 1)] for impl in ("avx512", "avx2", "openblas")}
    for g in shapes:
        med = {impl: statistics.median(x[g] for x in res[impl]) for impl in res}
        ratio = lambda a, b: statistics.median(res[a][r][g] / res[b][r][g] for r in range(runs))
        share = lambda isa: statistics.median(res[isa][r][g] / peak(isa, t, r + 1) for r in range(runs))
        print(f"{g:4} {t:>3} {med['avx512']:8.1f} {med['avx2']:8.1f} {med['openblas']:9.1f} "
              f"{ratio('avx512', 'openblas'):9.3f} {ratio('avx2', 'openblas'):10.3f} {ratio('avx2', 'avx512'):9.3f}"
              f" {share('avx512'):9.2f} {share('avx2'):9.2f}")
    print(f"FMA peak, {t} thread(s): avx512 {statistics.median(peak('avx512', t, r) for r in range(1, runs + 1)):.0f}, "
          f"avx2 {statistics.median(peak('avx2', t, r) for r in range(1, runs + 1)):.0f} GFLOP/s")
PY
