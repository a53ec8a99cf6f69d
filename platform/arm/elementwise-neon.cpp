// Element-wise kernels for NEON, 4 floats wide: the vector primitives
// platform/elementwise-simd.h is written in, for aarch64 and for ARMv7 (neon-vfpv4).
//
// ARMv7 NEON lacks divide, square root, round-to-nearest and across-vector reductions, and
// always flushes denormals to zero. There, division is a reciprocal estimate refined by two
// Newton steps and one residual correction (~1 ulp), square root likewise from the
// reciprocal square root estimate, rounding uses the 1.5 * 2^23 trick, and reductions use
// pairwise adds.
#include "platform/dispatch.h"

#if defined(__ARM_NEON) && !defined(EMBER_NO_NEON)
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#define EMBER_ISA_NS neon  // this file's copy of the per-ISA templates
#include "platform/elementwise-simd.h"

namespace ember::platform {
namespace {

struct Neon {
  using V = float32x4_t;
  using M = uint32x4_t;
  using I = int32x4_t;
  static constexpr size_t kWidth = 4;

  static V set(float f) { return vdupq_n_f32(f); }
  static V zero() { return vdupq_n_f32(0.0f); }
  static V load(const float* p) { return vld1q_f32(p); }
  static V widen(const int8_t* p) {  // 4 bytes, through an int32 (no alignment assumed)
    int32_t w;
    std::memcpy(&w, p, 4);
    const int16x8_t h = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(w)));
    return vcvtq_f32_s32(vmovl_s16(vget_low_s16(h)));
  }
  static void store(float* p, V v) { vst1q_f32(p, v); }
  // No masked loads: the tail goes through a padded buffer on the stack.
  static V load_part(const float* p, size_t r, float pad) {
    float buf[4] = {pad, pad, pad, pad};
    for (size_t i = 0; i < r; ++i) buf[i] = p[i];
    return vld1q_f32(buf);
  }
  static void store_part(float* p, size_t r, V v) {
    float buf[4];
    vst1q_f32(buf, v);
    for (size_t i = 0; i < r; ++i) p[i] = buf[i];
  }

  static V add(V a, V b) { return vaddq_f32(a, b); }
  static V sub(V a, V b) { return vsubq_f32(a, b); }
  static V mul(V a, V b) { return vmulq_f32(a, b); }
  static V fma(V a, V b, V c) {
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
    return vfmaq_f32(c, a, b);
#else
    return vmlaq_f32(c, a, b);  // plain -mfpu=neon: multiply, then add (two roundings)
#endif
  }
  static V div(V a, V b) {
#if defined(__aarch64__)
    return vdivq_f32(a, b);
#else
    V r = vrecpeq_f32(b);  // 8 bits
    r = vmulq_f32(vrecpsq_f32(b, r), r);
    r = vmulq_f32(vrecpsq_f32(b, r), r);  // ~23 bits
    const V q = vmulq_f32(a, r);
    // q += r (a - q b): one correction from the residual brings the quotient to ~1 ulp.
    // Not when q is 0, inf or NaN already (the residual would be NaN).
    const V corrected = fma(r, fma(vnegq_f32(q), b, a), q);
    const M finite_nonzero = vandq_u32(vcltq_f32(vabsq_f32(q), set(__builtin_huge_valf())),
                                       vmvnq_u32(vceqq_f32(q, zero())));
    return vbslq_f32(finite_nonzero, corrected, q);
#endif
  }
  static V sqrt(V a) {
#if defined(__aarch64__)
    return vsqrtq_f32(a);
#else
    V e = vrsqrteq_f32(a);  // 1 / sqrt(a), 8 bits
    e = vmulq_f32(vrsqrtsq_f32(vmulq_f32(a, e), e), e);
    e = vmulq_f32(vrsqrtsq_f32(vmulq_f32(a, e), e), e);
    V s = vmulq_f32(a, e);
    // s += e/2 (a - s^2): the Newton step for sqrt itself, for the last bits.
    s = fma(vmulq_f32(e, set(0.5f)), fma(vnegq_f32(s), s, a), s);
    // 0 and +inf give 0 * inf above; sqrt returns them unchanged (negative/NaN: NaN anyway).
    const M keep = vorrq_u32(vceqq_f32(a, zero()), vceqq_f32(a, set(__builtin_huge_valf())));
    return vbslq_f32(keep, a, s);
#endif
  }
  static V neg(V a) { return vnegq_f32(a); }
  static V abs(V a) { return vabsq_f32(a); }
  static V copysign(V mag, V s) { return vbslq_f32(vdupq_n_u32(0x80000000u), s, mag); }
  // FMAX/FMIN return NaN when either input is NaN.
  static V clamp(V x, V lo, V hi) { return vminq_f32(vmaxq_f32(x, lo), hi); }
  static V max(V a, V b) { return vmaxq_f32(a, b); }
  static M lt(V a, V b) { return vcltq_f32(a, b); }
  static M gt(V a, V b) { return vcgtq_f32(a, b); }
  static M ge(V a, V b) { return vcgeq_f32(a, b); }
  static V select(M m, V a, V b) { return vbslq_f32(m, a, b); }

  static V round(V x) {
#if defined(__aarch64__)
    return vrndnq_f32(x);
#else
    // Adding 1.5 * 2^23 leaves no fraction bits, so the add rounds to nearest even.
    const V magic = set(12582912.0f);
    return vsubq_f32(vaddq_f32(x, magic), magic);
#endif
  }
  static I to_int(V x) { return vcvtq_s32_f32(x); }
  static V pow2(I n) { return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n, vdupq_n_s32(127)), 23)); }
  static I shr1(I n) { return vshrq_n_s32(n, 1); }
  static I isub(I a, I b) { return vsubq_s32(a, b); }

  static M isnan(V a) { return vmvnq_u32(vceqq_f32(a, a)); }
  static M mor(M a, M b) { return vorrq_u32(a, b); }
  static M mnone() { return vdupq_n_u32(0); }
  static bool any(M m) {
#if defined(__aarch64__)
    return vmaxvq_u32(m) != 0;
#else
    const uint32x2_t t = vorr_u32(vget_low_u32(m), vget_high_u32(m));
    return (vget_lane_u32(t, 0) | vget_lane_u32(t, 1)) != 0;
#endif
  }

  static float hsum(V v) {
#if defined(__aarch64__)
    return vaddvq_f32(v);
#else
    float32x2_t t = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(t, t), 0);
#endif
  }
  static float hmax(V v) {
#if defined(__aarch64__)
    return vmaxvq_f32(v);
#else
    float32x2_t t = vmax_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmax_f32(t, t), 0);
#endif
  }
};

}  // namespace

void fill_elementwise_neon(Kernels* k) { simd::neon::fill<Neon>(k); }

}  // namespace ember::platform

#else  // no NEON in this build: the table keeps the scalar entries

namespace ember::platform {
void fill_elementwise_neon(Kernels* /*k*/) {}
}  // namespace ember::platform

#endif
#undef EMBER_ISA_NS  // the next ISA file (in the amalgamation) names its own
