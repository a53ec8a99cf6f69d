// Element-wise kernels, reductions and optimizer updates, written once for every SIMD ISA.
//
// Each ISA file (platform/x86/elementwise-avx2.cpp, elementwise-avx512.cpp,
// platform/arm/elementwise-neon.cpp) defines a struct of vector primitives in an anonymous
// namespace and instantiates these templates with it. This header holds only constants and
// templates, no intrinsics and no plain inline functions, on purpose: the ISA files are
// compiled with different -m flags, and a non-template inline function would be emitted in
// each of them, leaving the linker free to keep the AVX-512 copy for a scalar caller. A
// template instantiated with a type of internal linkage has internal linkage itself, so every
// ISA keeps its own code.
//
// What an ops struct O provides (V: float vector, M: lane mask, I: int32 vector):
//   kWidth; set zero load store load_part(p, r, pad) store_part(p, r, v) (0 < r < kWidth)
//   add sub mul div sqrt fma(a, b, c) = a * b + c; neg abs copysign(mag, sign)
//   clamp(x, lo, hi) (NaN stays NaN); max(a, b) (any NaN rule); lt gt ge select(m, a, b)
//   round (to nearest even; |x| < 2^22) to_int (of an integral V) pow2 (2^n, n in
//   [-126, 127]) shr1 (arithmetic n >> 1) isub; isnan mor mnone any; hsum hmax;
//   widen(const int8_t* p): kWidth int8 values as floats
//
// Accuracy: maximum error against the std:: float functions (the scalar reference), from
// tests/test-elementwise.cpp's sweep of [-104.5, 90] in steps of 0.0017 plus |x| from 1e-30
// to 1 (EMBER_TEST_VERBOSE=1 prints it). Identical on AVX2, AVX-512, aarch64 and ARMv7:
//   exp       1 ulp; +inf above ln(FLT_MAX) = 88.72, denormal results rounded once
//             below -87.3, 0 below -103.97, NaN -> NaN
//   sigmoid   2 ulp
//   tanh      3 ulp, relative also near 0 (no 1 - e^-2x cancellation); saturates to +-1
//   softplus  2 ulp, relative also where softplus(x) ~ e^x is tiny (x << 0)
// ARMv7 NEON has no divide or square root and flushes denormals to zero: division there is
// a reciprocal estimate plus Newton steps and a residual correction, and results below
// FLT_MIN are 0 (the sweep skips those).
//
// A per-ISA header: no #pragma once, and its contents go into namespace simd::EMBER_ISA_NS,
// which the including ISA file defines (avx2, avx512, neon). In the separate build each ISA
// file is its own translation unit; in the amalgamation (tools/amalgamate.sh: every source in
// one translation unit) each ISA file's text sits in a region compiled for its ISA, and a
// template is compiled for the target where it is defined, not where it is instantiated, so
// each region needs its own copy of these templates, under its own name.
#ifndef EMBER_ISA_NS
#error "define EMBER_ISA_NS (the including file's ISA: avx2, avx512, neon) before including this header"
#endif
#include <cstddef>

#include "core/kernels.h"
#include "platform/scalar/scalar.h"

#if defined(__GNUC__)
#define EMBER_SIMD_INLINE inline __attribute__((always_inline))
#else
#define EMBER_SIMD_INLINE inline
#endif

namespace ember::platform::simd::EMBER_ISA_NS {

// Cody-Waite split of ln 2: kLn2Hi has 9 trailing zero bits, so n * kLn2Hi is exact for
// |n| < 512, and x - n ln2 loses nothing before the small kLn2Lo correction.
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;
constexpr float kLn2Lo = 1.42860682030941723212e-6f;

// exp's input clamp. Above ln(FLT_MAX) = 88.7228 the scaling by 2^n overflows to +inf on
// its own (88.8 gives n = 128, e^r > 1); below -103.98 e^x is under half the smallest
// denormal and rounds to 0. Clamping keeps n in [-150, 128] so 2^n splits into two normal
// factors 2^(n/2) 2^(n - n/2) and denormal results are rounded once, correctly.
constexpr float kExpMax = 88.8f;
constexpr float kExpMin = -104.0f;

// e^r = 1 + r + r^2 Q(r) on |r| <= ln2 / 2. Q: Chebyshev fit of (e^r - 1 - r) / r^2 of
// degree 4 (mpmath), highest power first; relative error 1e-8 (0.16 ulp) with these float
// coefficients, so exp's error is dominated by the final roundings.
constexpr float kExpQ[5] = {1.392617589e-03f, 8.363173343e-03f, 4.166655615e-02f,
                            1.666657776e-01f, 5.000000000e-01f};

// log(1 + f) = f - f^2/2 + f^3 P(f) on [sqrt(1/2) - 1, sqrt(2) - 1]. P: Chebyshev fit of
// degree 7, highest power first; relative error 2e-8 with float coefficients.
constexpr float kLogP[8] = {-7.902743667e-02f, 1.262231916e-01f, -1.299818307e-01f,
                            1.421449631e-01f,  -1.664128155e-01f, 2.000104487e-01f,
                            -2.500030696e-01f, 3.333333135e-01f};
constexpr float kSqrt2 = 1.41421356f;

// Largest |x| tanh needs: e^-60 is far below float precision next to 1, tanh(30) == 1.
constexpr float kTanhMaxArg = 30.0f;

// --- vector math ------------------------------------------------------------------------

template <class O, size_t N>
EMBER_SIMD_INLINE typename O::V horner(const float (&c)[N], typename O::V x) {
  typename O::V p = O::set(c[0]);
  for (size_t i = 1; i < N; ++i) p = O::fma(p, x, O::set(c[i]));
  return p;
}

// e^r - 1 for |r| <= ln2/2 (slightly beyond is fine), with full relative accuracy near 0.
template <class O>
EMBER_SIMD_INLINE typename O::V expm1_reduced(typename O::V r) {
  return O::fma(O::mul(r, r), horner<O>(kExpQ, r), r);
}

// x = n ln2 + r with n integral (returned in *nf as a float) and |r| <= ln2/2.
template <class O>
EMBER_SIMD_INLINE typename O::V reduce_ln2(typename O::V x, typename O::V* nf) {
  *nf = O::round(O::mul(x, O::set(kLog2e)));
  typename O::V r = O::fma(*nf, O::set(-kLn2Hi), x);
  return O::fma(*nf, O::set(-kLn2Lo), r);
}

// e^x. NaN in gives NaN out: clamp keeps it, and so does r, whatever n becomes.
template <class O>
EMBER_SIMD_INLINE typename O::V exp(typename O::V x) {
  using V = typename O::V;
  using I = typename O::I;
  x = O::clamp(x, O::set(kExpMin), O::set(kExpMax));
  V nf;
  const V r = reduce_ln2<O>(x, &nf);
  const V p = O::add(expm1_reduced<O>(r), O::set(1.0f));
  const I n = O::to_int(nf);
  const I n1 = O::shr1(n);
  const I n2 = O::isub(n, n1);
  return O::mul(O::mul(p, O::pow2(n1)), O::pow2(n2));
}

// log(1 + u) for u in [0, 1] (softplus's e^-|x|) or NaN; relative accuracy even for tiny u.
// w = 1 + u is rounded; c = u - (w - 1) is that rounding error exactly (|u| <= 1), and
// log1p(u) = log(w) + c / w to well under an ulp. log(w) = k ln2 + log(1 + f) with
// 1 + f = w / 2^k in [sqrt(1/2), sqrt(2)), f exact by Sterbenz.
template <class O>
EMBER_SIMD_INLINE typename O::V log1p_unit(typename O::V u) {
  using V = typename O::V;
  const V one = O::set(1.0f);
  const V half = O::set(0.5f);
  const V w = O::add(u, one);
  const auto big = O::gt(w, O::set(kSqrt2));
  const V c = O::sub(u, O::sub(w, one));
  const V f = O::sub(O::select(big, O::mul(w, half), w), one);
  const V k = O::select(big, one, O::zero());
  // c / w = c / (2^k (1 + f)); 1 / (1 + f) ~ 1 - f + f^2 errs by f^3 on a term that is at
  // most half an ulp of w, so no division is needed.
  const V corr = O::mul(O::mul(c, O::select(big, half, one)), O::fma(f, O::sub(f, one), one));
  const V z = O::mul(f, f);
  V y = O::fma(k, O::set(kLn2Lo), corr);
  y = O::fma(z, O::set(-0.5f), y);
  y = O::fma(O::mul(f, z), horner<O>(kLogP, f), y);
  return O::fma(k, O::set(kLn2Hi), O::add(f, y));
}

// 1 / (1 + e^-x) in the scalar reference's two forms, so e^x never overflows.
template <class O>
EMBER_SIMD_INLINE typename O::V sigmoid(typename O::V x) {
  using V = typename O::V;
  const V one = O::set(1.0f);
  const V e = exp<O>(O::neg(O::abs(x)));
  const V num = O::select(O::ge(x, O::zero()), one, e);
  return O::div(num, O::add(one, e));
}

// tanh|x| = -t / (2 + t) with t = e^(-2|x|) - 1 in (-1, 0]. t comes from the reduced
// expm1 (2^n (e^r - 1) + (2^n - 1)), which has no cancellation near 0, so small |x| keeps
// its relative accuracy; the sign is put back last (tanh(-0) = -0).
template <class O>
EMBER_SIMD_INLINE typename O::V tanh(typename O::V x) {
  using V = typename O::V;
  const V one = O::set(1.0f);
  const V y = O::clamp(O::mul(O::abs(x), O::set(-2.0f)), O::set(-2.0f * kTanhMaxArg), O::zero());
  V nf;
  const V r = reduce_ln2<O>(y, &nf);
  const V s = O::pow2(O::to_int(nf));
  const V t = O::fma(s, expm1_reduced<O>(r), O::sub(s, one));
  const V m = O::div(O::neg(t), O::add(t, O::set(2.0f)));
  return O::copysign(m, x);
}

// max(x, 0) + log1p(e^-|x|), as the scalar reference: exact for large |x|, no overflow.
template <class O>
EMBER_SIMD_INLINE typename O::V softplus(typename O::V x) {
  const typename O::V u = exp<O>(O::neg(O::abs(x)));
  const typename O::V pos = O::select(O::gt(x, O::zero()), x, O::zero());
  return O::add(pos, log1p_unit<O>(u));
}

// --- loops ------------------------------------------------------------------------------

// Full vector or the masked/padded tail of r < kWidth lanes.
template <class O>
EMBER_SIMD_INLINE typename O::V ld(const float* p, size_t r, float pad = 0.0f) {
  return r == O::kWidth ? O::load(p) : O::load_part(p, r, pad);
}
template <class O>
EMBER_SIMD_INLINE void st(float* p, size_t r, typename O::V v) {
  if (r == O::kWidth) {
    O::store(p, v);
  } else {
    O::store_part(p, r, v);
  }
}

// fn(i, r) for each block of r = kWidth lanes starting at i, then once for the tail.
template <class O, class F>
EMBER_SIMD_INLINE void for_blocks(size_t n, F fn) {
  size_t i = 0;
  for (; i + O::kWidth <= n; i += O::kWidth) fn(i, O::kWidth);
  if (i < n) fn(i, n - i);
}

// y = f(x); y may equal x (each block is loaded before it is stored).
template <class O, class F>
EMBER_SIMD_INLINE void map1(const float* x, float* y, size_t n, F f) {
  for_blocks<O>(n, [&](size_t i, size_t r) { st<O>(y + i, r, f(ld<O>(x + i, r))); });
}

// out = f(a, b); out may equal a or b.
template <class O, class F>
EMBER_SIMD_INLINE void map2(const float* a, const float* b, float* out, size_t n, F f) {
  for_blocks<O>(n, [&](size_t i, size_t r) {
    st<O>(out + i, r, f(ld<O>(a + i, r), ld<O>(b + i, r)));
  });
}

// --- kernels ----------------------------------------------------------------------------

template <class O>
void act_forward(Act act, float slope, const float* x, float* y, size_t n) {
  using V = typename O::V;
  switch (act) {
    case Act::identity:
      if (x != y) map1<O>(x, y, n, [](V v) { return v; });
      return;
    case Act::relu:  // x < 0 ? 0 : x, so NaN and -0 pass through as in the reference
      map1<O>(x, y, n, [](V v) { return O::select(O::lt(v, O::zero()), O::zero(), v); });
      return;
    case Act::leaky_relu: {
      const V s = O::set(slope);
      map1<O>(x, y, n, [s](V v) { return O::select(O::lt(v, O::zero()), O::mul(s, v), v); });
      return;
    }
    case Act::sigmoid: map1<O>(x, y, n, [](V v) { return sigmoid<O>(v); }); return;
    case Act::tanh: map1<O>(x, y, n, [](V v) { return tanh<O>(v); }); return;
    case Act::softplus: map1<O>(x, y, n, [](V v) { return softplus<O>(v); }); return;
  }
}

// dx = dy * f'(s), s being x or y as the reference reads. The products are formed as the
// reference forms them (no FMA), so identity, relu, leaky, sigmoid and tanh match it bit
// for bit; 1 - y*y near y = 1 would otherwise differ by far more than an ulp.
template <class O>
void act_backward(Act act, float slope, const float* x, const float* y, const float* dy,
                  float* dx, size_t n) {
  using V = typename O::V;
  const bool reads_x = act == Act::relu || act == Act::leaky_relu || act == Act::softplus;
  const bool reads_y = act == Act::sigmoid || act == Act::tanh;
  if ((reads_x && !x) || (reads_y && !y)) {  // the reference reads a missing array as zeros
    scalar::act_backward(act, slope, x, y, dy, dx, n);
    return;
  }
  const V one = O::set(1.0f);
  switch (act) {
    case Act::identity: map1<O>(dy, dx, n, [one](V g) { return O::mul(g, one); }); return;
    case Act::relu:
      map2<O>(dy, x, dx, n, [one](V g, V v) {
        return O::mul(g, O::select(O::gt(v, O::zero()), one, O::zero()));
      });
      return;
    case Act::leaky_relu: {
      const V s = O::set(slope);
      map2<O>(dy, x, dx, n, [one, s](V g, V v) {
        return O::mul(g, O::select(O::gt(v, O::zero()), one, s));
      });
      return;
    }
    case Act::sigmoid:
      map2<O>(dy, y, dx, n, [one](V g, V v) { return O::mul(g, O::mul(v, O::sub(one, v))); });
      return;
    case Act::tanh:
      map2<O>(dy, y, dx, n, [one](V g, V v) { return O::mul(g, O::sub(one, O::mul(v, v))); });
      return;
    case Act::softplus:
      map2<O>(dy, x, dx, n, [](V g, V v) { return O::mul(g, sigmoid<O>(v)); });
      return;
  }
}

template <class O>
void exp_kernel(const float* x, float* y, size_t n) {
  map1<O>(x, y, n, [](typename O::V v) { return exp<O>(v); });
}

template <class O>
void axpy(size_t n, float a, const float* x, float* y) {
  const typename O::V av = O::set(a);
  map2<O>(x, y, y, n, [av](typename O::V xv, typename O::V yv) { return O::fma(av, xv, yv); });
}

template <class O>
void scale(size_t n, float a, float* x) {
  const typename O::V av = O::set(a);
  map1<O>(x, x, n, [av](typename O::V v) { return O::mul(v, av); });
}

template <class O>
void add(size_t n, const float* a, const float* b, float* out) {
  map2<O>(a, b, out, n, [](typename O::V u, typename O::V v) { return O::add(u, v); });
}

template <class O>
void mul(size_t n, const float* a, const float* b, float* out) {
  map2<O>(a, b, out, n, [](typename O::V u, typename O::V v) { return O::mul(u, v); });
}

// Reductions keep four independent accumulators so the add/FMA latency is hidden; the
// summation order therefore differs from the reference's sequential one (tests allow
// rounding relative to sum |x|). term(i, r) gives the block's contribution, 0-padded.
template <class O, class Term>
EMBER_SIMD_INLINE float reduce_sum(size_t n, Term term) {
  using V = typename O::V;
  constexpr size_t W = O::kWidth;
  V a0 = O::zero(), a1 = O::zero(), a2 = O::zero(), a3 = O::zero();
  size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    a0 = term(a0, i, W);
    a1 = term(a1, i + W, W);
    a2 = term(a2, i + 2 * W, W);
    a3 = term(a3, i + 3 * W, W);
  }
  for (; i + W <= n; i += W) a0 = term(a0, i, W);
  if (i < n) a1 = term(a1, i, n - i);
  return O::hsum(O::add(O::add(a0, a1), O::add(a2, a3)));
}

template <class O>
float sum(const float* x, size_t n) {
  return reduce_sum<O>(n, [x](typename O::V acc, size_t i, size_t r) {
    return O::add(acc, ld<O>(x + i, r));
  });
}

template <class O>
float dot(const float* x, const float* y, size_t n) {
  return reduce_sum<O>(n, [x, y](typename O::V acc, size_t i, size_t r) {
    return O::fma(ld<O>(x + i, r), ld<O>(y + i, r), acc);
  });
}

// R dot products of x with rows `stride` floats apart at once, each summed exactly as dot() sums
// it (the same four accumulators, the same hsum): the rows' chains interleave and share x's
// loads, where R separate calls would each wait out their own FMA latency and reduction.
template <class O, int R>
EMBER_SIMD_INLINE void dot_block(const float* x, const float* y, size_t stride, size_t n, float* out) {
  using V = typename O::V;
  constexpr size_t W = O::kWidth;
  V a0[R], a1[R], a2[R], a3[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) a0[r] = a1[r] = a2[r] = a3[r] = O::zero();
  size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    const V x0 = O::load(x + i), x1 = O::load(x + i + W), x2 = O::load(x + i + 2 * W), x3 = O::load(x + i + 3 * W);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const float* yr = y + r * stride + i;
      a0[r] = O::fma(x0, O::load(yr), a0[r]);
      a1[r] = O::fma(x1, O::load(yr + W), a1[r]);
      a2[r] = O::fma(x2, O::load(yr + 2 * W), a2[r]);
      a3[r] = O::fma(x3, O::load(yr + 3 * W), a3[r]);
    }
  }
  for (; i + W <= n; i += W) {
    const V xv = O::load(x + i);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) a0[r] = O::fma(xv, O::load(y + r * stride + i), a0[r]);
  }
  if (i < n) {
    const V xv = ld<O>(x + i, n - i);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) a1[r] = O::fma(xv, ld<O>(y + r * stride + i, n - i), a1[r]);
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) out[r] = O::hsum(O::add(O::add(a0[r], a1[r]), O::add(a2[r], a3[r])));
}

// out[j] = dot(x, y + j stride, n), j < count. Four rows at a time where the ISA has 32 vector
// registers' worth of room for their 16 accumulators (16-lane AVX-512), else two.
template <class O>
void dot_rows(const float* x, const float* y, size_t stride, size_t n, size_t count, float* out) {
  constexpr int R = O::kWidth >= 16 ? 4 : 2;
  size_t j = 0;
  for (; j + R <= count; j += R) dot_block<O, R>(x, y + j * stride, stride, n, out + j);
  for (; j < count; ++j) dot_block<O, 1>(x, y + j * stride, stride, n, out + j);
}

// out = a / sqrt(b + eps), a null meaning ones: one IEEE add, square root and divide each.
template <class O>
void div_sqrt(size_t n, const float* a, const float* b, float eps, float* out) {
  const typename O::V e = O::set(eps), one = O::set(1.0f);
  for_blocks<O>(n, [&](size_t i, size_t r) {
    const typename O::V num = a ? ld<O>(a + i, r) : one;
    st<O>(out + i, r, O::div(num, O::sqrt(O::add(ld<O>(b + i, r), e))));
  });
}

template <class O>
float sumsq(const float* x, size_t n) {
  return reduce_sum<O>(n, [x](typename O::V acc, size_t i, size_t r) {
    const typename O::V v = ld<O>(x + i, r);
    return O::fma(v, v, acc);
  });
}

// Vector max instructions disagree on NaN (x86 returns an operand, ARM returns NaN), so
// NaN is tracked in a lane mask; if any was seen, the first NaN is returned, as the
// reference does.
template <class O>
float max(const float* x, size_t n) {
  using V = typename O::V;
  constexpr size_t W = O::kWidth;
  constexpr float kNegInf = -__builtin_huge_valf();
  V a0 = O::set(kNegInf), a1 = a0, a2 = a0, a3 = a0;
  auto nan = O::mnone();
  auto step = [&nan, x](V acc, size_t i, size_t r) {
    const V v = ld<O>(x + i, r, kNegInf);
    nan = O::mor(nan, O::isnan(v));
    return O::max(acc, v);
  };
  size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    a0 = step(a0, i, W);
    a1 = step(a1, i + W, W);
    a2 = step(a2, i + 2 * W, W);
    a3 = step(a3, i + 3 * W, W);
  }
  for (; i + W <= n; i += W) a0 = step(a0, i, W);
  if (i < n) a1 = step(a1, i, n - i);
  if (O::any(nan)) {
    for (size_t j = 0; j < n; ++j)
      if (x[j] != x[j]) return x[j];
  }
  return O::hmax(O::max(O::max(a0, a1), O::max(a2, a3)));
}

// The optimizer updates follow the reference's operations one for one (no FMA): they are
// memory-bound, so fusing gains nothing, and this way every ISA with IEEE divide and square
// root (x86, aarch64) produces the reference's parameters bit for bit.
template <class O>
void adam(const AdamArgs& a, float* p, const float* g, float* m, float* v, size_t n) {
  using V = typename O::V;
  const V one = O::set(1.0f);
  const V step = O::set(a.lr / a.bias1);
  const V inv_sqrt_bias2 = O::div(one, O::sqrt(O::set(a.bias2)));
  const V b1 = O::set(a.beta1), b2 = O::set(a.beta2);
  const V c1 = O::set(1.0f - a.beta1), c2 = O::set(1.0f - a.beta2);
  const V eps = O::set(a.eps), wd = O::set(a.weight_decay), lr_wd = O::set(a.lr * a.weight_decay);
  const bool decoupled = a.decoupled;
  for_blocks<O>(n, [&](size_t i, size_t r) {
    V pv = ld<O>(p + i, r);
    V gi = ld<O>(g + i, r);
    if (!decoupled) gi = O::add(gi, O::mul(wd, pv));
    const V mv = O::add(O::mul(b1, ld<O>(m + i, r)), O::mul(c1, gi));
    const V vv = O::add(O::mul(b2, ld<O>(v + i, r)), O::mul(O::mul(c2, gi), gi));
    const V denom = O::add(O::mul(O::sqrt(vv), inv_sqrt_bias2), eps);
    if (decoupled) pv = O::sub(pv, O::mul(lr_wd, pv));
    pv = O::sub(pv, O::div(O::mul(step, mv), denom));
    st<O>(m + i, r, mv);
    st<O>(v + i, r, vv);
    st<O>(p + i, r, pv);
  });
}

template <class O>
void sgd_momentum(const SgdArgs& a, float* p, const float* g, float* vel, size_t n) {
  using V = typename O::V;
  const V wd = O::set(a.weight_decay), mu = O::set(a.momentum), lr = O::set(a.lr);
  for_blocks<O>(n, [&](size_t i, size_t r) {
    const V pv = ld<O>(p + i, r);
    const V gi = O::add(ld<O>(g + i, r), O::mul(wd, pv));
    const V vv = O::add(O::mul(mu, ld<O>(vel + i, r)), gi);
    st<O>(vel + i, r, vv);
    st<O>(p + i, r, O::sub(pv, O::mul(lr, vv)));
  });
}

// y = s * float(q): O::widen converts kWidth int8 values; the tail is the scalar product,
// which is the same single rounding.
template <class O>
void widen_i8(const int8_t* q, float s, float* y, size_t n) {
  const auto vs = O::set(s);
  size_t i = 0;
  for (; i + O::kWidth <= n; i += O::kWidth) O::store(y + i, O::mul(O::widen(q + i), vs));
  for (; i < n; ++i) y[i] = s * static_cast<float>(q[i]);
}

// sum q[i] x[i]: two accumulators of lanes, added, summed across, then the scalar tail.
template <class O>
float dot_i8(const int8_t* q, const float* x, size_t n) {
  auto a0 = O::zero(), a1 = O::zero();
  size_t i = 0;
  for (; i + 2 * O::kWidth <= n; i += 2 * O::kWidth) {
    a0 = O::fma(O::widen(q + i), O::load(x + i), a0);
    a1 = O::fma(O::widen(q + i + O::kWidth), O::load(x + i + O::kWidth), a1);
  }
  if (i + O::kWidth <= n) a0 = O::fma(O::widen(q + i), O::load(x + i), a0), i += O::kWidth;
  float s = O::hsum(O::add(a0, a1));
  for (; i < n; ++i) s += static_cast<float>(q[i]) * x[i];
  return s;
}

// Kernels::patches_k4 and patches_k4_add around an ISA's move of one patch (for ops structs
// that have them; the x86 files): O::patch_gather(r, s0, s1, s2, s3) stores the four 4-float
// runs s0..s3 as the 16 floats at r; O::patch_add(r, d0, d1, d2, d3) adds them back, one
// rounded add per float.
template <class O>
void patches_k4(const float* const* src, size_t cs, int channels, int ow, int stride, float* rows, size_t ld) {
  for (int x = 0; x < ow; ++x) {
    float* r = rows + static_cast<size_t>(x) * ld;
    const size_t at = static_cast<size_t>(x) * stride;
    for (int c = 0; c < channels; ++c, r += 16) {
      const size_t o = c * cs + at;
      O::patch_gather(r, src[0] + o, src[1] + o, src[2] + o, src[3] + o);
    }
  }
}

template <class O>
void patches_k4_add(const float* rows, size_t ld, int channels, int first, int step, int ow, int stride,
                    float* const* dst, size_t cs) {
  for (int x = first; x < ow; x += step) {
    const float* r = rows + static_cast<size_t>(x) * ld;
    const size_t at = static_cast<size_t>(x) * stride;
    for (int c = 0; c < channels; ++c, r += 16) {
      const size_t o = c * cs + at;
      O::patch_add(r, dst[0] + o, dst[1] + o, dst[2] + o, dst[3] + o);
    }
  }
}

// Points every element-wise entry of k at O's instantiations.
template <class O>
void fill(Kernels* k) {
  k->act_forward = act_forward<O>;
  k->act_backward = act_backward<O>;
  k->exp = exp_kernel<O>;
  k->axpy = axpy<O>;
  k->scale = scale<O>;
  k->add = add<O>;
  k->mul = mul<O>;
  k->sum = sum<O>;
  k->dot = dot<O>;
  k->dot_rows = dot_rows<O>;
  k->div_sqrt = div_sqrt<O>;
  k->max = max<O>;
  k->sumsq = sumsq<O>;
  k->adam = adam<O>;
  k->sgd_momentum = sgd_momentum<O>;
  k->widen_i8 = widen_i8<O>;
  k->dot_i8 = dot_i8<O>;
}

}  // namespace ember::platform::simd::EMBER_ISA_NS
