#!/usr/bin/env bash
# The amalgamation (make amalgamate: dist/ember.h + dist/ember.cpp) on x86-64, aarch64 and
# ARMv7: dist/ember.cpp compiled with the bare compiler (-std=c++17 -O2, plus -Wall -Wextra
# -Werror to prove it warning-free), the two API examples built against dist/ alone, and
# their results required to be identical to the normal build's for the same target: the
# on-device demo's --digest (the samples' hash and pixel sums) on a VAE and a DCGAN the
# native tool trains on sprites, everywhere (the cross builds under qemu); the training
# example's checkpoint, byte for byte, natively (too long under qemu). The normal cross
# builds are CMake's, demo target only, in the build-aarch64/ and build-armv7/ folders the
# arm64 and armv7 CI stages use (so after them they cost nothing here).
#
#   tests/amalgam.sh [x86] [aarch64] [armv7]        (default: all three; from anywhere)
#
# x86: the demo under every ISA this CPU has (EMBER_ISA=scalar, avx2, avx512): the target
# pragmas around the ISA files must give the same code paths and bits as the per-file -m
# flags; and both demos under qemu-x86_64 -cpu Nehalem (no AVX: CPUID picks scalar, and an
# AVX instruction outside the ISA regions would stop the amalgamated one).
# ARMv7: with the NEON flags of cmake/armv7.cmake (-march=armv7-a -mfpu=neon-vfpv4), and
# once bare (no NEON: scalar), compared with the normal build under EMBER_ISA=scalar.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(x86 aarch64 armv7)

T=build-amalgam
rm -rf "$T"
mkdir -p "$T"
fail() { echo "amalgam: FAILED: $*" >&2; exit 1; }
CXXSTD=(-std=c++17 -O2)
WERROR=(-Wall -Wextra -Werror)
ARMV7_NEON=(-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard)

make -s amalgamate
echo "amalgam: dist/ember.h $(wc -l <dist/ember.h) lines $(wc -c <dist/ember.h) bytes," \
  "dist/ember.cpp $(wc -l <dist/ember.cpp) lines $(wc -c <dist/ember.cpp) bytes"

# build DIR CXX FLAGS...: the amalgamation and both examples into DIR; prints the compile time.
build() {
  local dir=$1 cxx=$2 start
  shift 2
  mkdir -p "$dir"
  start=$SECONDS
  "$cxx" "${CXXSTD[@]}" "$@" "${WERROR[@]}" -c dist/ember.cpp -o "$dir/ember.o"
  echo "amalgam: $dir: dist/ember.cpp compiled by $cxx ${CXXSTD[*]} $* in $((SECONDS - start))s"
  for ex in train-and-sample sample-on-device; do
    "$cxx" "${CXXSTD[@]}" "$@" "${WERROR[@]}" -I dist "examples/api/$ex.cpp" "$dir/ember.o" -o "$dir/$ex"
  done
  # Built against dist/ alone: no library header may have been read from the checkout.
  if "$cxx" "${CXXSTD[@]}" "$@" -I dist -M examples/api/sample-on-device.cpp |
    tr ' \\' '\n\n' | grep -v -E '^$|:$|^/|^dist/ember\.h$|^examples/api/'; then
    fail "$dir: the example read library headers besides dist/ember.h"
  fi
}

# Each amalgamated build is one compiler process on one core: they run in the background,
# beside the normal builds. start NAME CXX FLAGS... builds into $T/NAME; finish NAME waits.
declare -A PIDS
start() {
  local name=$1
  shift
  build "$T/$name" "$@" >"$T/$name.log" 2>&1 &
  PIDS[$name]=$!
}
finish() {
  wait "${PIDS[$1]}" || { cat "$T/$1.log"; fail "$1: building against the amalgamation"; }
  cat "$T/$1.log"
}
for t in "${targets[@]}"; do
  case $t in
    x86) start x86 g++ ;;
    aarch64) start aarch64 aarch64-linux-gnu-g++ ;;
    armv7) start armv7 arm-linux-gnueabihf-g++ "${ARMV7_NEON[@]}"
      start armv7-bare arm-linux-gnueabihf-g++ ;;
    *) fail "unknown target '$t' (have: x86 aarch64 armv7)" ;;
  esac
done

# The normal native build: it trains the checkpoints, and is x86's reference.
start=$SECONDS
make -s build/ember build/example-sample-on-device build/example-train-and-sample
echo "amalgam: normal native build (make) in $((SECONDS - start))s"
SPRITES=(--data sprites --sprites-train 512 --sprites-test 64 --epochs 1 --no-pictures)
build/ember train --model vae "${SPRITES[@]}" --out "$T/vae.ember" >/dev/null
build/ember train --model dcgan "${SPRITES[@]}" --batch 64 --out "$T/gan.ember" >/dev/null

# compare NAME REF AMAL [EMULATOR...]: the demo's --digest for both checkpoints, equal.
# EMBER_ISA in the environment applies to both runs.
compare() {
  local name=$1 ref=$2 amal=$3 m
  shift 3
  for m in vae gan; do
    "$@" "$ref" "$T/$m.ember" --n 4 --seed 1 --digest >"$T/$name-$m.ref" 2>/dev/null ||
      fail "$name: the normal build's demo failed on $m"
    "$@" "$amal" "$T/$m.ember" --n 4 --seed 1 --digest >"$T/$name-$m.amal" 2>/dev/null ||
      fail "$name: the amalgamated demo failed on $m"
    grep -q '^hash: ' "$T/$name-$m.ref" || fail "$name: no digest from the normal build on $m"
    cmp -s "$T/$name-$m.ref" "$T/$name-$m.amal" ||
      fail "$name: $m samples differ: $(diff "$T/$name-$m.ref" "$T/$name-$m.amal" | head -5 | tr '\n' ' ')"
    echo "amalgam: $name: $m digest identical ($(grep '^hash: ' "$T/$name-$m.amal"))"
  done
}

# The example that trains (5 epochs of 20000 sprites; natively only, too long under qemu):
# the amalgamated and the normal build must write the same checkpoint, byte for byte.
run_train_example() {
  local dir=$1 prog
  for prog in "$dir/train-and-sample" "$dir/normal/example-train-and-sample"; do
    (cd "$(dirname "$prog")" && "./$(basename "$prog")" out.png >train.log 2>&1) ||
      { cat "$(dirname "$prog")/train.log"; fail "$prog"; }
  done
  [ "$(head -c 4 "$dir/out.png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "$dir: train-and-sample wrote no PNG"
  cmp -s "$dir/out.ember" "$dir/normal/out.ember" || fail "train-and-sample: the checkpoints differ"
  echo "amalgam: $dir: train-and-sample ran; its checkpoint is identical to the normal build's"
}

# The normal cross build of the demo (CMake, as the arm64/armv7 CI stages; incremental).
cross_reference() {
  local toolchain=$1 dir=$2 start=$SECONDS
  { cmake -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE="cmake/$toolchain.cmake" &&
    cmake --build "$dir" --parallel "$(nproc)" --target example-sample-on-device; } >"$T/$toolchain-cmake.log" 2>&1 ||
    { cat "$T/$toolchain-cmake.log"; fail "the normal $toolchain build"; }
  echo "amalgam: normal $toolchain build (CMake, demo only) in $((SECONDS - start))s"
}

for t in "${targets[@]}"; do
  case $t in
    x86)
      finish x86
      mkdir -p "$T/x86/normal"
      cp build/example-train-and-sample "$T/x86/normal/"
      run_train_example "$T/x86"
      isas=(scalar)
      grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && isas+=(avx2)
      grep -qw avx512f /proc/cpuinfo && isas+=(avx512)
      for isa in "${isas[@]}"; do
        EMBER_ISA=$isa compare "x86-$isa" build/example-sample-on-device "$T/x86/sample-on-device"
      done
      # On a CPU without AVX (qemu's Nehalem) dispatch picks scalar, and nothing outside the
      # ISA regions may have been compiled with AVX instructions.
      if command -v qemu-x86_64 >/dev/null; then
        compare x86-nehalem build/example-sample-on-device "$T/x86/sample-on-device" \
          env -u EMBER_ISA qemu-x86_64 -cpu Nehalem
      fi
      ;;
    aarch64)
      QEMU=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
      cross_reference aarch64 build-aarch64
      finish aarch64
      compare aarch64 build-aarch64/example-sample-on-device "$T/aarch64/sample-on-device" "${QEMU[@]}"
      ;;
    armv7)
      QEMU=(qemu-arm -cpu cortex-a7 -L /usr/arm-linux-gnueabihf)
      cross_reference armv7 build-armv7
      finish armv7
      compare armv7-neon build-armv7/example-sample-on-device "$T/armv7/sample-on-device" "${QEMU[@]}"
      finish armv7-bare
      EMBER_ISA=scalar compare armv7-bare-scalar build-armv7/example-sample-on-device \
        "$T/armv7-bare/sample-on-device" "${QEMU[@]}"
      ;;
  esac
done
echo "amalgam: passed (${targets[*]})"
