// Element-wise kernels for WebAssembly SIMD128, 4 floats wide: the vector primitives
// platform/elementwise-simd.h is written in, for browsers and node (built with -msimd128).
//
// SIMD128 has divide, square root and round-to-nearest, but no fused multiply-add (that is
// the later relaxed-SIMD proposal): fma here is a multiply then an add, two roundings, as on
// ARMv7 without VFPv4; the accuracy bounds of elementwise-simd.h hold either way. There are no
// masked loads (tails go through a padded buffer) and no across-vector reductions (lanes are
// added pairwise, in the same order as NEON's ARMv7 path).
#include "platform/dispatch.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include <cstdint>

#define EMBER_ISA_NS simd128  // this file's copy of the per-ISA templates
#include "platform/elementwise-simd.h"

namespace ember::platform {
namespace {

struct Simd128 {
  using V = v128_t;
  using M = v128_t;  // all-ones / all-zeros lanes
  using I = v128_t;  // four int32
  static constexpr size_t kWidth = 4;

  static V set(float f) { return wasm_f32x4_splat(f); }
  static V zero() { return wasm_f32x4_splat(0.0f); }
  static V load(const float* p) { return wasm_v128_load(p); }
  static V widen(const int8_t* p) { return wasm_f32x4_convert_i32x4(wasm_i32x4_make(p[0], p[1], p[2], p[3])); }
  static void store(float* p, V v) { wasm_v128_store(p, v); }
  static V load_part(const float* p, size_t r, float pad) {
    float buf[4] = {pad, pad, pad, pad};
    for (size_t i = 0; i < r; ++i) buf[i] = p[i];
    return wasm_v128_load(buf);
  }
  static void store_part(float* p, size_t r, V v) {
    float buf[4];
    wasm_v128_store(buf, v);
    for (size_t i = 0; i < r; ++i) p[i] = buf[i];
  }

  static V add(V a, V b) { return wasm_f32x4_add(a, b); }
  static V sub(V a, V b) { return wasm_f32x4_sub(a, b); }
  static V mul(V a, V b) { return wasm_f32x4_mul(a, b); }
  static V fma(V a, V b, V c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); }
  static V div(V a, V b) { return wasm_f32x4_div(a, b); }
  static V sqrt(V a) { return wasm_f32x4_sqrt(a); }
  static V neg(V a) { return wasm_f32x4_neg(a); }
  static V abs(V a) { return wasm_f32x4_abs(a); }
  static V copysign(V mag, V s) { return wasm_v128_bitselect(s, mag, wasm_i32x4_splat(int32_t(0x80000000u))); }
  // f32x4.min/max return NaN when either input is NaN, so NaN stays NaN through clamp.
  static V clamp(V x, V lo, V hi) { return wasm_f32x4_min(wasm_f32x4_max(x, lo), hi); }
  static V max(V a, V b) { return wasm_f32x4_max(a, b); }
  static M lt(V a, V b) { return wasm_f32x4_lt(a, b); }
  static M gt(V a, V b) { return wasm_f32x4_gt(a, b); }
  static M ge(V a, V b) { return wasm_f32x4_ge(a, b); }
  static V select(M m, V a, V b) { return wasm_v128_bitselect(a, b, m); }

  static V round(V x) { return wasm_f32x4_nearest(x); }
  static I to_int(V x) { return wasm_i32x4_trunc_sat_f32x4(x); }
  static V pow2(I n) { return wasm_i32x4_shl(wasm_i32x4_add(n, wasm_i32x4_splat(127)), 23); }
  static I shr1(I n) { return wasm_i32x4_shr(n, 1); }
  static I isub(I a, I b) { return wasm_i32x4_sub(a, b); }

  static M isnan(V a) { return wasm_f32x4_ne(a, a); }
  static M mor(M a, M b) { return wasm_v128_or(a, b); }
  static M mnone() { return wasm_i32x4_splat(0); }
  static bool any(M m) { return wasm_v128_any_true(m); }

  // (v0 + v2) + (v1 + v3), as the ARMv7 path: low half plus high half, then the pair.
  static float hsum(V v) {
    const V t = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    return wasm_f32x4_extract_lane(t, 0) + wasm_f32x4_extract_lane(t, 1);
  }
  static float hmax(V v) {
    const V t = wasm_f32x4_max(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    const float a = wasm_f32x4_extract_lane(t, 0), b = wasm_f32x4_extract_lane(t, 1);
    return a != a || b != b ? a + b : (a > b ? a : b);
  }
};

}  // namespace

void fill_elementwise_simd128(Kernels* k) { simd::simd128::fill<Simd128>(k); }

}  // namespace ember::platform

#else  // not a WebAssembly SIMD build: the table keeps the scalar entries

namespace ember::platform {
void fill_elementwise_simd128(Kernels* /*k*/) {}
}  // namespace ember::platform

#endif
#undef EMBER_ISA_NS  // the next ISA file (in the amalgamation) names its own
