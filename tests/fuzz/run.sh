#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz-*.cpp) with clang, ASan and UBSan into
# build-fuzz/ and runs each for SECONDS, one after the other (one process each: the harnesses
# share the machine). Exits non-zero when any harness finds something: a crash, a sanitizer
# report, a broken promise (see harness.h), a slow input or a leak; the input is then saved as
# build-fuzz/findings/<target>-crash-..., to replay with `build-fuzz/fuzz-<target> FILE`.
#
#   tests/fuzz/run.sh [SECONDS [TARGET...]]     default 60 s, every target (make fuzz does this)
#
# Each target starts from its seeds (tests/fuzz/corpus/<target>/, made by make-corpus.cpp)
# plus what earlier runs found (build-fuzz/corpus/<target>/, kept between runs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
seconds=${1:-60}
shift || true
BUILD=build-fuzz
make FUZZ=1 BUILD=$BUILD fuzzers

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in tests/fuzz/fuzz-*.cpp; do
    t=${src#tests/fuzz/fuzz-}
    targets+=("${t%.cpp}")
  done
fi

failed=()
mkdir -p "$BUILD/findings" "$BUILD/logs"
for t in "${targets[@]}"; do
  [ -x "$BUILD/fuzz-$t" ] || { echo "fuzz: no harness '$t' (tests/fuzz/fuzz-$t.cpp)" >&2; exit 2; }
  work="$BUILD/corpus/$t" log="$BUILD/logs/$t.log"
  mkdir -p "$work"
  set +e
  "$BUILD/fuzz-$t" -max_total_time="$seconds" -timeout=10 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$BUILD/findings/$t-" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  took=$(sed -n 's/^stat::\(average_exec_per_sec\): *//p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    echo "fuzz [$t]: clean: ${runs:-?} runs in ${seconds}s (${took:-?}/s), corpus $(ls "$work" | wc -l) inputs"
  else
    failed+=("$t")
    echo "fuzz [$t]: FOUND something (exit $rc); log $log:"
    grep -E -A30 'ERROR|runtime error|broken promise|deadly signal|timeout' "$log" | head -60 || tail -40 "$log"
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: findings in: ${failed[*]}"; exit 1; }
echo "fuzz: ${#targets[@]} targets clean, ${seconds}s each"
