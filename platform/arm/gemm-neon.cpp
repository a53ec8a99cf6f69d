// SGEMM for NEON: the portable driver (platform/gemm-driver.h) with a NEON micro-kernel.
//
// Tiles by register file: aarch64 has 32 q registers, so an 8 x 12 tile (24 accumulators +
// 3 B vectors + 1 broadcast A, XNNPACK-like) keeps 24 independent FMA chains in flight;
// ARMv7 has 16, so 6 x 8 (12 accumulators + 2 B + 1 A). Blocks assume a 32 KB L1D and an
// L2 of at least 256 KB, typical of Cortex-A53/A72 boards: the A panel (MR x KC) stays in
// L1, the B block (KC x NC) in L2. ARMv7 without VFPv4 has no fused multiply-add; there the
// kernel uses vmla (multiply, then add) and results differ in the last bit from FMA builds.
#include "platform/dispatch.h"

#if defined(__ARM_NEON) && !defined(EMBER_NO_NEON)
#include <arm_neon.h>

#include <cstring>

#include "platform/gemm-driver.h"

namespace ember::platform {
namespace neon {
namespace {

constexpr int kW = 4;
#if defined(__aarch64__)
constexpr int kMR = 8, kNR = 12, kKC = 256, kMC = 128, kNC = 192;
#else
constexpr int kMR = 6, kNR = 8, kKC = 256, kMC = 96, kNC = 128;
#endif

// acc + a * b, fused where the hardware can.
inline float32x4_t madd(float32x4_t acc, float32x4_t a, float32x4_t b) {
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
  return vfmaq_f32(acc, a, b);
#else
  return vmlaq_f32(acc, a, b);
#endif
}

// The epilogue on one vector of C: act(alpha * acc + beta * c + bias). The same code serves
// full and partial vectors (a partial one goes through a 4-float buffer), so a C element
// gets the same bits whatever tile it falls in.
inline float32x4_t finish(float32x4_t acc, const float* c_in, float32x4_t bias, const gemm::TileParams& tp) {
  float32x4_t x = vmulq_n_f32(acc, tp.alpha);
  if (tp.beta != 0.0f) x = madd(x, vdupq_n_f32(tp.beta), vld1q_f32(c_in));
  x = vaddq_f32(x, bias);
  const float32x4_t zero = vdupq_n_f32(0.0f);
  // NEON's vmax returns NaN when either input is NaN, so relu(NaN) = NaN as in scalar.
  if (tp.act == Act::relu) x = vmaxq_f32(zero, x);
  if (tp.act == Act::leaky_relu) x = vbslq_f32(vcltq_f32(x, zero), vmulq_n_f32(x, tp.slope), x);
  return x;
}

template <int ROWS, int VECS>
void tile(int kc, const float* a, const float* b, float* c, size_t ldc, int cols, const gemm::TileParams& tp) {
  float32x4_t acc[ROWS][VECS];
  for (int r = 0; r < ROWS; ++r)
    for (int v = 0; v < VECS; ++v) acc[r][v] = vdupq_n_f32(0.0f);

  for (int k = 0; k < kc; ++k) {
    float32x4_t bv[VECS];
    for (int v = 0; v < VECS; ++v) bv[v] = vld1q_f32(b + v * kW);
    for (int r = 0; r < ROWS; ++r) {
      const float32x4_t av = vdupq_n_f32(a[r]);
      for (int v = 0; v < VECS; ++v) acc[r][v] = madd(acc[r][v], av, bv[v]);
    }
    a += kMR;
    b += kNR;
  }

  const int tail = cols - (VECS - 1) * kW;  // 1..4 columns in the last vector
  for (int r = 0; r < ROWS; ++r) {
    float* cr = c + r * ldc;
    for (int v = 0; v < VECS; ++v) {
      float32x4_t bias = vdupq_n_f32(0.0f);
      if (tp.bias) bias = tp.bias_per_row ? vdupq_n_f32(tp.bias[r]) : vdupq_n_f32(0.0f);
      const int lanes = v == VECS - 1 ? tail : kW;
      if (lanes == kW) {
        if (tp.bias && !tp.bias_per_row) bias = vld1q_f32(tp.bias + v * kW);
        vst1q_f32(cr + v * kW, finish(acc[r][v], cr + v * kW, bias, tp));
      } else {
        float buf[kW] = {0.0f, 0.0f, 0.0f, 0.0f}, bb[kW] = {0.0f, 0.0f, 0.0f, 0.0f};
        if (tp.beta != 0.0f) std::memcpy(buf, cr + v * kW, sizeof(float) * lanes);
        if (tp.bias && !tp.bias_per_row) {
          std::memcpy(bb, tp.bias + v * kW, sizeof(float) * lanes);
          bias = vld1q_f32(bb);
        }
        vst1q_f32(buf, finish(acc[r][v], buf, bias, tp));
        std::memcpy(cr + v * kW, buf, sizeof(float) * lanes);
      }
    }
  }
}

using TileFn = void (*)(int, const float*, const float*, float*, size_t, int, const gemm::TileParams&);

template <int ROWS, int... V>
struct Row {
  static constexpr TileFn fns[sizeof...(V)] = {tile<ROWS, V>...};
};

#if defined(__aarch64__)
template <int ROWS>
using RowFns = Row<ROWS, 1, 2, 3>;
const TileFn* const kTiles[kMR] = {RowFns<1>::fns, RowFns<2>::fns, RowFns<3>::fns, RowFns<4>::fns,
                                   RowFns<5>::fns, RowFns<6>::fns, RowFns<7>::fns, RowFns<8>::fns};
#else
template <int ROWS>
using RowFns = Row<ROWS, 1, 2>;
const TileFn* const kTiles[kMR] = {RowFns<1>::fns, RowFns<2>::fns, RowFns<3>::fns,
                                   RowFns<4>::fns, RowFns<5>::fns, RowFns<6>::fns};
#endif

}  // namespace

struct Gemm {
  static constexpr int MR = kMR, NR = kNR, W = kW, KC = kKC, MC = kMC, NC = kNC;
  static void ukernel(int kc, const float* a, const float* b, float* c, size_t ldc, int rows, int cols,
                      const gemm::TileParams& p) {
    kTiles[rows - 1][(cols - 1) / kW](kc, a, b, c, ldc, cols, p);
  }
  static void pack_t(float* dst, const float* src, size_t ld, int rows, int kc, int width) {
    gemm::pack_transpose_portable<Gemm>(dst, src, ld, rows, kc, width);
  }
  static void pack_n(float* dst, const float* src, size_t ld, int cols, int padded, int kc, int width) {
    gemm::pack_copy_portable<Gemm>(dst, src, ld, cols, padded, kc, width);
  }
};

}  // namespace neon

void fill_gemm_neon(Kernels* k) {
  gemm::Driver<neon::Gemm>::fill(k);
}

}  // namespace ember::platform

#else

namespace ember::platform {
void fill_gemm_neon(Kernels* /*k*/) {}  // no NEON in this build: the table keeps scalar GEMM
}  // namespace ember::platform

#endif
