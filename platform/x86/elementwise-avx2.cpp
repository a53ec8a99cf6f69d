// Element-wise kernels for AVX2 + FMA: the vector primitives platform/elementwise-simd.h is
// written in, 8 floats wide. Tails use maskload/maskstore, which never touch the lanes
// outside the mask (no fault past the end of an array).
#include <cstdint>

#include "platform/dispatch.h"
#define EMBER_ISA_NS avx2  // this file's copy of the per-ISA templates
#include "platform/elementwise-simd.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

namespace ember::platform {
namespace {

struct Avx2 {
  using V = __m256;
  using M = __m256;  // all-ones / all-zeros lanes
  using I = __m256i;
  static constexpr size_t kWidth = 8;

  static V set(float f) { return _mm256_set1_ps(f); }
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V widen(const int8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static I tail_mask(size_t r) {
    alignas(32) static const int32_t kBits[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                  0,  0,  0,  0,  0,  0,  0,  0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kBits + 8 - r));
  }
  static V load_part(const float* p, size_t r, float pad) {
    const I m = tail_mask(r);
    return _mm256_blendv_ps(set(pad), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  static void store_part(float* p, size_t r, V v) { _mm256_maskstore_ps(p, tail_mask(r), v); }

  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V sqrt(V a) { return _mm256_sqrt_ps(a); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V sign_bit() { return _mm256_set1_ps(-0.0f); }
  static V neg(V a) { return _mm256_xor_ps(a, sign_bit()); }
  static V abs(V a) { return _mm256_andnot_ps(sign_bit(), a); }
  static V copysign(V mag, V s) {
    return _mm256_or_ps(_mm256_andnot_ps(sign_bit(), mag), _mm256_and_ps(sign_bit(), s));
  }
  // maxps/minps return their second operand when either is NaN: x goes second.
  static V clamp(V x, V lo, V hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, x)); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static M lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M ge(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static V select(M m, V a, V b) { return _mm256_blendv_ps(b, a, m); }

  static V round(V x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static I to_int(V x) { return _mm256_cvttps_epi32(x); }
  static V pow2(I n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
  }
  static I shr1(I n) { return _mm256_srai_epi32(n, 1); }
  static I isub(I a, I b) { return _mm256_sub_epi32(a, b); }

  static M isnan(V a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static M mor(M a, M b) { return _mm256_or_ps(a, b); }
  static M mnone() { return _mm256_setzero_ps(); }
  static bool any(M m) { return _mm256_movemask_ps(m) != 0; }

  static float hsum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(V v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }

  // A 4 x 4 patch (simd::patches_k4): two 32-byte stores from four 16-byte loads, or two
  // loads split into four 16-byte adds.
  static void patch_gather(float* r, const float* s0, const float* s1, const float* s2, const float* s3) {
    _mm256_storeu_ps(r, _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(s0)), _mm_loadu_ps(s1), 1));
    _mm256_storeu_ps(r + 8, _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(s2)), _mm_loadu_ps(s3), 1));
  }
  static void patch_add(const float* r, float* d0, float* d1, float* d2, float* d3) {
    const __m256 lo = _mm256_loadu_ps(r), hi = _mm256_loadu_ps(r + 8);
    _mm_storeu_ps(d0, _mm_add_ps(_mm_loadu_ps(d0), _mm256_castps256_ps128(lo)));
    _mm_storeu_ps(d1, _mm_add_ps(_mm_loadu_ps(d1), _mm256_extractf128_ps(lo, 1)));
    _mm_storeu_ps(d2, _mm_add_ps(_mm_loadu_ps(d2), _mm256_castps256_ps128(hi)));
    _mm_storeu_ps(d3, _mm_add_ps(_mm_loadu_ps(d3), _mm256_extractf128_ps(hi, 1)));
  }
};

}  // namespace

void fill_elementwise_avx2(Kernels* k) {
  simd::avx2::fill<Avx2>(k);
  k->patches_k4 = simd::avx2::patches_k4<Avx2>;
  k->patches_k4_add = simd::avx2::patches_k4_add<Avx2>;
}

}  // namespace ember::platform
#undef EMBER_ISA_NS  // the next ISA file (in the amalgamation) names its own
