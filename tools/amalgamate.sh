#!/usr/bin/env bash
# The amalgamation: the whole library as two files, dist/ember.h and dist/ember.cpp, to drop
# into another project and build with a bare `g++ -std=c++17 -O2 -c ember.cpp` (plus
# -march=armv7-a -mfpu=neon-vfpv4 on ARMv7 for NEON, as cmake/armv7.cmake). `make amalgamate`
# runs it; bash, awk, sed, sort and tsort only (CI machines may lack Python).
#
#   tools/amalgamate.sh [OUT_DIR]          (default dist/; run from anywhere)
#
# What goes in: every folder tests/check-layers.sh lists in LAYERS, with all its subfolders
# (platform/scalar, platform/x86, platform/arm), so a layer added there is picked up here.
#   ember.h    every header but the per-ISA ones (below), ordered so each comes after the library
#              headers it includes (tsort of the #include "..." lines); those includes and
#              the #pragma once are dropped, system includes stay where they were.
#   ember.cpp  #include "ember.h", then every .cpp in path order.
# A file under an x86/ folder is wrapped in #if defined(__x86_64__) (wasm/: __wasm__), one under arm/ in
# #if defined(__aarch64__) || defined(__arm__): the same two files build on every target.
#
# ISA files. The separate build compiles *-avx2.cpp and *-avx512.cpp with the Makefile's
# AVX2_FLAGS / AVX512_FLAGS and picks them at run time (platform/dispatch.cpp), so the rest
# must not use those instructions. Here each such file's text sits in a target region,
# `#pragma GCC push_options` + `#pragma GCC target("avx2,fma")` (the list made from the
# Makefile's flags) ... `#pragma GCC pop_options`; clang ignores those pragmas and gets
# `#pragma clang attribute push(__attribute__((target(...))), apply_to = function)` instead.
# Two things follow from the fact that a function is compiled for the target in force where
# it is defined, not where it is called or instantiated:
#  - A template or inline function defined outside a region and instantiated inside would be
#    compiled without AVX: the intrinsics wrappers could not be inlined into it (vectors
#    passed in memory, -Wpsabi warnings). So the headers that hold such code
#    (platform/elementwise-simd.h, platform/x86/gemm-pack-x86.h) are per-ISA headers: they
#    have no #pragma once and are expanded at each #include, inside the including ISA file's
#    region, into a namespace the file names (EMBER_ISA_NS), as the preprocessor would do.
#    (GCC 12 still warns, -Wpsabi, about the one function it compiles without the region's
#    target: the static invoker of a captureless lambda, used only to convert the lambda to a
#    function pointer, which this code never does; the warning is silenced in the regions.)
#    Shared headers such as platform/gemm-driver.h stay in ember.h: their templates call
#    the ISA only through functions defined in the region, with no vector types.
#  - A standard header first included inside a region would have its inline functions
#    compiled for AVX2 and then called from scalar code on a CPU without it. So an ISA file's
#    standard headers (<...> without .h) are included again just before its region opens.
#    Intrinsics headers (<immintrin.h>, <arm_neon.h>) stay in place.
# The Makefile's -ffp-contract=off is a pragma at the top of ember.cpp (GCC: optimize, clang:
# STDC FP_CONTRACT), so a bare compile gives the normal build's bits on aarch64 too.
# A .cpp's preprocessor lines before its first #include go to the top of ember.cpp, before
# ember.h, when they define a feature-test macro (a reserved name: _FILE_OFFSET_BITS in
# io/file.cpp), since that must precede every system header.
#
# One translation unit also means that names at file scope in different .cpp files (in
# anonymous namespaces or static) must differ; the library keeps them distinct for that.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-dist}

die() { echo "amalgamate: $*" >&2; exit 1; }

layers=$(sed -n 's/^LAYERS=(\(.*\))$/\1/p' tests/check-layers.sh)
[ -n "$layers" ] || die "no LAYERS=(...) line in tests/check-layers.sh"

# "-mavx2 -mfma" -> "avx2,fma"
isa_list() {
  local flags
  flags=$(sed -n "s/^$1 *:= *//p" Makefile)
  [ -n "$flags" ] || die "no $1 in the Makefile"
  echo "$flags" | sed 's/-m//g; s/[[:space:]][[:space:]]*/,/g; s/,$//'
}
avx2_isa=$(isa_list AVX2_FLAGS)
avx512_isa=$(isa_list AVX512_FLAGS)

# Library files, one per line, paths relative to the checkout.
# shellcheck disable=SC2086  # the layer names, one word each
files=$(for l in $layers; do
  [ -d "$l" ] || die "layer $l (tests/check-layers.sh) is not a folder"
  find "$l" -type f \( -name '*.h' -o -name '*.cpp' \)
done | LC_ALL=C sort)
# Per-ISA headers (see above) are the ones written for EMBER_ISA_NS; every other header,
# with #pragma once or an include guard, goes into ember.h.
# shellcheck disable=SC2046  # one path per word
isa_headers=$(grep -l 'EMBER_ISA_NS' $(grep '\.h$' <<<"$files") | LC_ALL=C sort || true)
for h in $isa_headers; do
  ! grep -q '^#pragma once' "$h" || die "$h: a per-ISA header (EMBER_ISA_NS) must not have #pragma once"
done
shared_headers=$(LC_ALL=C comm -23 <(grep '\.h$' <<<"$files") <(echo "$isa_headers"))
sources=$(grep '\.cpp$' <<<"$files")

# Headers in dependency order: "A B" = A before B; each header also paired with itself so
# one with no library includes still appears.
# shellcheck disable=SC2086  # one path per word
order=$(awk -v files="$files" -v isa="$isa_headers" '
  BEGIN { n = split(files, a, "\n"); for (i = 1; i <= n; i++) lib[a[i]] = 1
          n = split(isa, a, "\n"); for (i = 1; i <= n; i++) per_isa[a[i]] = 1 }
  FNR == 1 { print FILENAME, FILENAME }
  /^[ \t]*#[ \t]*include[ \t]*"/ {
    t = $0; sub(/^[^"]*"/, "", t); sub(/".*/, "", t)
    if (!(t in lib)) { print FILENAME ": includes \"" t "\", which is no library file" > "/dev/stderr"; bad = 1 }
    else if (t in per_isa) { print FILENAME ": includes the per-ISA header " t > "/dev/stderr"; bad = 1 }
    else print t, FILENAME
  }
  END { exit bad }' $shared_headers | tsort) || die "bad includes, or headers that include each other in a cycle"

guard_of() {
  case "/$1" in
    */x86/*) echo 'defined(__x86_64__)' ;;
    */arm/*) echo 'defined(__aarch64__) || defined(__arm__)' ;;
    */wasm/*) echo 'defined(__wasm__)' ;;
  esac
}
isa_of() {
  case "$1" in
    *-avx512.cpp) echo "$avx512_isa" ;;
    *-avx2.cpp) echo "$avx2_isa" ;;
  esac
}

# The text of one file: #pragma once and includes of ember.h's headers dropped, per-ISA
# headers expanded in place (recursively), any other "..." include an error.
# $2 = 1: also drop the preprocessor lines before the first #include (see above).
body() {
  awk -v shared="$shared_headers" -v isa="$isa_headers" -v skip_prologue="${2:-0}" '
    BEGIN { n = split(shared, a, "\n"); for (i = 1; i <= n; i++) is_shared[a[i]] = 1
            n = split(isa, a, "\n"); for (i = 1; i <= n; i++) is_isa[a[i]] = 1 }
    function emit(path, prologue,   line, target, seen_include, rc) {
      seen_include = 0
      while ((rc = getline line < path) > 0) {
        if (line ~ /^[ \t]*#[ \t]*include[ \t]*</) seen_include = 1
        if (line ~ /^[ \t]*#[ \t]*pragma[ \t]+once/) continue
        if (line ~ /^[ \t]*#[ \t]*include[ \t]*"/) {
          seen_include = 1
          target = line; sub(/^[^"]*"/, "", target); sub(/".*/, "", target)
          if (target in is_shared) continue
          if (target in is_isa) { print "// ---- " target " (per-ISA header, expanded here) ----"; emit(target, 0); continue }
          print path ": includes \"" target "\", which is no library file" > "/dev/stderr"; exit 1
        }
        if (prologue && !seen_include && line ~ /^[ \t]*#/) continue
        print line
      }
      if (rc < 0) { print "cannot read " path > "/dev/stderr"; exit 1 }
      close(path)
    }
    BEGIN { emit(ARGV[1], skip_prologue); exit }' "$1"
}

# Preprocessor lines before a .cpp's first #include, when they define a feature-test macro.
prologue() {
  awk '/^[ \t]*#[ \t]*include/ { exit } /^[ \t]*#/ { text = text $0 "\n" }
       END { if (text ~ /#[ \t]*define[ \t]+_[A-Z_]/) printf "%s", text }' "$1"
}

# Standard headers of an ISA file and of the per-ISA headers it includes.
std_includes() {
  body "$1" | sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^.>]*\)>.*/#include <\1>/p' | LC_ALL=C sort -u
}

open_guard() { [ -z "$1" ] || echo "#if $1"; }
close_guard() { [ -z "$1" ] || echo "#endif  // $1"; }

mkdir -p "$out"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
banner="// Generated by tools/amalgamate.sh from ember ($rev); do not edit: edit the library and
// run \`make amalgamate\`."

{
  echo "// ember: the whole library's headers in one file (with ember.cpp, the whole library)."
  echo "$banner"
  echo "#pragma once"
  for h in $order; do
    g=$(guard_of "$h")
    echo
    echo "// ==== $h ===="
    open_guard "$g"
    body "$h"
    close_guard "$g"
  done
} >"$out/ember.h.tmp"

{
  echo "// ember: the whole library in one source file; build it with ember.h beside it."
  echo "$banner"
  for s in $sources; do prologue "$s"; done
  cat <<'EOF'
// The library is built with -ffp-contract=off: a * b + c rounds twice, as on every target.
// GCC's C++ default (fast) would fuse it where FMA is baseline (aarch64) and change results.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
EOF
  echo '#include "ember.h"'
  for s in $sources; do
    g=$(guard_of "$s") isa=$(isa_of "$s")
    echo
    echo "// ==== $s ===="
    open_guard "$g"
    if [ -n "$isa" ]; then
      std_includes "$s"
      echo "#if defined(__clang__)"
      echo "#pragma clang attribute push(__attribute__((target(\"$isa\"))), apply_to = function)"
      echo "#elif defined(__GNUC__)"
      echo "#pragma GCC push_options"
      echo "#pragma GCC target(\"$isa\")"
      echo "#pragma GCC diagnostic push"
      echo "#pragma GCC diagnostic ignored \"-Wpsabi\""
      echo "#endif"
    fi
    if [ -n "$(prologue "$s")" ]; then body "$s" 1; else body "$s"; fi
    if [ -n "$isa" ]; then
      echo "#if defined(__clang__)"
      echo "#pragma clang attribute pop"
      echo "#elif defined(__GNUC__)"
      echo "#pragma GCC diagnostic pop"
      echo "#pragma GCC pop_options"
      echo "#endif"
    fi
    close_guard "$g"
  done
} >"$out/ember.cpp.tmp"

mv "$out/ember.h.tmp" "$out/ember.h"
mv "$out/ember.cpp.tmp" "$out/ember.cpp"
echo "amalgamate: $out/ember.h ($(wc -l <"$out/ember.h") lines), $out/ember.cpp ($(wc -l <"$out/ember.cpp") lines)"
