#!/bin/sh
# compare-models.sh [RUNS] [THREADS...]: ember against PyTorch on the training and sampling
# workloads V, A, D, C, s1..s3 of ../shared/bench/WORKLOADS.md, interleaved run by run so the
# ratios share the machine's state.
#
# Builds nothing: run `make -j2` first. The peer, ../shared/bench/peers/torch_ref.py, needs
# Debian's python3-torch and OpenBLAS (apt-get install python3-torch libopenblas-dev; it loads
# libopenblas.so.0 to report its configuration and stops without it). Prints per workload and
# thread count the medians over RUNS (default 3) and the speed-up of ember over PyTorch
# (a median of per-run ratios; > 1 means ember is faster), and each training workload's
# GFLOP/s as a share of the FMA peak of the ISA in use at that thread count, measured in the
# same run (../shared/bench/peers/fma_peak.c, built into build/fma_peak). Raw JSON goes to $OUT.
set -eu
RUNS=${1:-3}
[ $# -gt 0 ] && shift
THREADS=${*:-1 2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BENCH=build/ember-bench
PEER=../shared/bench/peers/torch_ref.py
OUT=${OUT:-build/compare-models}
STEPS=${STEPS:-200}
[ -x "$BENCH" ] || { echo "missing $BENCH: run make -j2" >&2; exit 1; }
[ -f "$PEER" ] || { echo "missing $PEER (../shared beside the repo)" >&2; exit 1; }
FMA=build/fma_peak
[ -x "$FMA" ] || gcc -O2 -fopenmp ../shared/bench/peers/fma_peak.c -o "$FMA"
mkdir -p "$OUT"
rm -f "$OUT"/*.json
uptime
for run in $(seq 1 "$RUNS"); do
  "$FMA" 2 --json "$OUT/fma-r$run.json" >/dev/null
  for t in $THREADS; do
    echo "run $run/$RUNS, $t thread(s)"
    /usr/bin/python3 "$PEER" --threads "$t" --only V,A,D,C,S --json "$OUT/torch-t$t-r$run.json" >/dev/null
    for w in vae ae dcgan classifier sample; do
      "$BENCH" "$w" --threads "$t" --steps "$STEPS" --json "$OUT/ember-$w-t$t-r$run.json" >/dev/null
    done
  done
done
/usr/bin/python3 - "$OUT" "$RUNS" $THREADS <<'PY'
import glob, json, statistics, sys
out, runs, threads = sys.argv[1], int(sys.argv[2]), [int(t) for t in sys.argv[3:]]
# key: (unit, True when larger is better)
keys = {"V": ("ms", False), "A": ("ms", False), "D": ("ms", False), "C": ("ms", False), "s1": ("us", False),
        "s2": ("us", False), "s3": ("img/s", True), "rss_V": ("MiB", False), "rss_A": ("MiB", False),
        "rss_D": ("MiB", False), "rss_C": ("MiB", False)}
def ember(t, r):
    d = {}
    for f in glob.glob(f"{out}/ember-*-t{t}-r{r}.json"):
        d.update(json.load(open(f)))
    return d
def torch(t, r):
    d = json.load(open(f"{out}/torch-t{t}-r{r}.json"))["threads"][str(t)]
    return {k: v["value"] for k, v in d.items()}
def peak(isa, t, r):  # the best FMA rate of this run for the ISA ember used
    d = json.load(open(f"{out}/fma-r{r}.json"))["threads"]
    return d.get(str(t), {}).get("fma_" + isa, {}).get("value")
print(f"\nmedians over {runs} runs; speed-up = median over runs of torch/ember (s3: ember/torch)")
print(f"{'key':6} {'thr':>3} {'ember':>10} {'torch':>10} {'unit':6} {'speed-up':>9}")
for t in threads:
    e = [ember(t, r) for r in range(1, runs + 1)]
    p = [torch(t, r) for r in range(1, runs + 1)]
    for k, (unit, bigger) in keys.items():
        if k not in e[0] or k not in p[0]:
            continue
        me, mp = statistics.median(x[k] for x in e), statistics.median(x[k] for x in p)
        up = statistics.median((x[k] / y[k]) if bigger else (y[k] / x[k]) for x, y in zip(e, p))
        print(f"{k:6} {t:>3} {me:10.2f} {mp:10.2f} {unit:6} {up:9.2f}")
    for k in ("V", "A", "D", "C"):
        if k + "_gflops" not in e[0]:
            continue
        shares = [x[k + "_gflops"] / peak(x["isa"], t, r + 1) for r, x in enumerate(e) if peak(x["isa"], t, r + 1)]
        if shares:
            pk = statistics.median(peak(x["isa"], t, r + 1) or 0 for r, x in enumerate(e))
            print(f"{k:6} {t:>3} {statistics.median(x[k + '_gflops'] for x in e):10.1f} GFLOP/s, "
                  f"{statistics.median(shares):.2f} of the {e[0]['isa']} FMA peak ({pk:.0f} GFLOP/s)")
    if 2 in threads and 1 in threads and t == 2:
        e1 = [ember(1, r) for r in range(1, runs + 1)]
        for k in ("V", "A", "D", "C"):
            s = statistics.median(a[k] / b[k] for a, b in zip(e1, e))
            print(f"ember {k}: 2 threads {s:.2f}x faster than 1 thread")
PY
