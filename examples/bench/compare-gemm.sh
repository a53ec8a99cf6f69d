#!/bin/sh
# compare-gemm.sh [RUNS]: ember (AVX-512 where the CPU has it, and AVX2) against OpenBLAS on g1..g5, 1 and 2
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
# The ISAs this CPU has (fma_peak reports only those): a machine without AVX-512 runs AVX2 alone.
"$FMA" 1 --json "$OUT/fma-isas.json" >/dev/null
ISAS=avx2
grep -q fma_avx512 "$OUT/fma-isas.json" && ISAS="avx512 avx2"
for run in $(seq 1 "$RUNS"); do
  quiet; "$FMA" 2 --json "$OUT/fma-r$run.json" >/dev/null
  for t in 1 2; do
    echo "run $run/$RUNS, $t thread(s)"
    for isa in $ISAS; do
      quiet; "$BENCH" gemm --isa "$isa" --threads "$t" --json "$OUT/$isa-t$t-r$run.json" >/dev/null
    done
    quiet; "$PEER" "$t" --json "$OUT/openblas-t$t-r$run.json" >/dev/null
  done
done
/usr/bin/python3 - "$OUT" "$RUNS" <<'PY'
import json, os, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
shapes = ["g1", "g2", "g3", "g4", "g5"]
def load(impl, t, r):
    d = json.load(open(f"{out}/{impl}-t{t}-r{r}.json"))
    if impl == "openblas":
        return {g: d["threads"][str(t)][g]["value"] for g in shapes}
    return {g: d[g] for g in shapes}
def peak(isa, t, r):
    return json.load(open(f"{out}/fma-r{r}.json"))["threads"][str(t)]["fma_" + isa]["value"]
isas = [i for i in ("avx512", "avx2") if os.path.exists(f"{out}/{i}-t1-r1.json")]
print(f"\nmedian GFLOP/s over {runs} runs; ratios and shares of the FMA peak are medians of the per-run ones")
head = f"{'id':4} {'thr':>3}" + "".join(f" {i:>8}" for i in isas) + f" {'openblas':>9}"
head += "".join(f" {i + '/blas':>11}" for i in isas) + (f" {'avx2/512':>9}" if len(isas) == 2 else "")
print(head + "".join(f" {i + '/peak':>11}" for i in isas))
for t in (1, 2):
    res = {impl: [load(impl, t, r) for r in range(1, runs + 1)] for impl in isas + ["openblas"]}
    for g in shapes:
        med = {impl: statistics.median(x[g] for x in res[impl]) for impl in res}
        ratio = lambda a, b: statistics.median(res[a][r][g] / res[b][r][g] for r in range(runs))
        share = lambda isa: statistics.median(res[isa][r][g] / peak(isa, t, r + 1) for r in range(runs))
        line = f"{g:4} {t:>3}" + "".join(f" {med[i]:8.1f}" for i in isas) + f" {med['openblas']:9.1f}"
        line += "".join(f" {ratio(i, 'openblas'):11.3f}" for i in isas)
        line += f" {ratio('avx2', 'avx512'):9.3f}" if len(isas) == 2 else ""
        print(line + "".join(f" {share(i):11.2f}" for i in isas))
    print(f"FMA peak, {t} thread(s): " + ", ".join(
        f"{i} {statistics.median(peak(i, t, r) for r in range(1, runs + 1)):.0f}" for i in isas) + " GFLOP/s")
PY
