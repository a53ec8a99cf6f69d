// Element-wise kernels for AVX-512 (F + DQ): the vector primitives
// platform/elementwise-simd.h is written in, 16 floats wide. Lane masks are k-registers, so
// tails are masked loads/stores that never touch memory outside the array.
#include <cstdint>

#include "platform/dispatch.h"
#define EMBER_ISA_NS avx512  // this file's copy of the per-ISA templates
#include "platform/elementwise-simd.h"

// _mm512_reduce_*_ps trips a false -Wmaybe-uninitialized inside avx512fintrin.h with
// sanitizers at -O1 (see /work/shared/TOOLCHAINS.md).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

namespace ember::platform {
namespace {

struct Avx512 {
  using V = __m512;
  using M = __mmask16;
  using I = __m512i;
  static constexpr size_t kWidth = 16;

  static V set(float f) { return _mm512_set1_ps(f); }
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V widen(const int8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static M tail_mask(size_t r) { return static_cast<M>((1u << r) - 1u); }
  static V load_part(const float* p, size_t r, float pad) {
    return _mm512_mask_loadu_ps(set(pad), tail_mask(r), p);
  }
  static void store_part(float* p, size_t r, V v) { _mm512_mask_storeu_ps(p, tail_mask(r), v); }

  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V sqrt(V a) { return _mm512_sqrt_ps(a); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V sign_bit() { return _mm512_set1_ps(-0.0f); }
  static V neg(V a) { return _mm512_xor_ps(a, sign_bit()); }
  static V abs(V a) { return _mm512_abs_ps(a); }
  static V copysign(V mag, V s) {
    return _mm512_or_ps(_mm512_andnot_ps(sign_bit(), mag), _mm512_and_ps(sign_bit(), s));
  }
  // maxps/minps return their second operand when either is NaN: x goes second.
  static V clamp(V x, V lo, V hi) { return _mm512_min_ps(hi, _mm512_max_ps(lo, x)); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static M lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M gt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M ge(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static V select(M m, V a, V b) { return _mm512_mask_blend_ps(m, b, a); }

  static V round(V x) {
    return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  static I to_int(V x) { return _mm512_cvttps_epi32(x); }
  static V pow2(I n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23));
  }
  static I shr1(I n) { return _mm512_srai_epi32(n, 1); }
  static I isub(I a, I b) { return _mm512_sub_epi32(a, b); }

  static M isnan(V a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static M mor(M a, M b) { return static_cast<M>(a | b); }
  static M mnone() { return 0; }
  static bool any(M m) { return m != 0; }

  static float hsum(V v) { return _mm512_reduce_add_ps(v); }
  static float hmax(V v) { return _mm512_reduce_max_ps(v); }

  // A 4 x 4 patch (simd::patches_k4): one 64-byte store from four 16-byte loads, or one load
  // split into four 16-byte adds; the scalar reference moves each run on its own
  // (docs/lab-notes.md).
  static void patch_gather(float* r, const float* s0, const float* s1, const float* s2, const float* s3) {
    __m512 v = _mm512_castps128_ps512(_mm_loadu_ps(s0));
    v = _mm512_insertf32x4(v, _mm_loadu_ps(s1), 1);
    v = _mm512_insertf32x4(v, _mm_loadu_ps(s2), 2);
    v = _mm512_insertf32x4(v, _mm_loadu_ps(s3), 3);
    _mm512_storeu_ps(r, v);
  }
  static void patch_add(const float* r, float* d0, float* d1, float* d2, float* d3) {
    const __m512 v = _mm512_loadu_ps(r);
    _mm_storeu_ps(d0, _mm_add_ps(_mm_loadu_ps(d0), _mm512_castps512_ps128(v)));
    _mm_storeu_ps(d1, _mm_add_ps(_mm_loadu_ps(d1), _mm512_extractf32x4_ps(v, 1)));
    _mm_storeu_ps(d2, _mm_add_ps(_mm_loadu_ps(d2), _mm512_extractf32x4_ps(v, 2)));
    _mm_storeu_ps(d3, _mm_add_ps(_mm_loadu_ps(d3), _mm512_extractf32x4_ps(v, 3)));
  }
};

}  // namespace

void fill_elementwise_avx512(Kernels* k) {
  simd::avx512::fill<Avx512>(k);
  k->patches_k4 = simd::avx512::patches_k4<Avx512>;
  k->patches_k4_add = simd::avx512::patches_k4_add<Avx512>;
}

}  // namespace ember::platform
#undef EMBER_ISA_NS  // the next ISA file (in the amalgamation) names its own
