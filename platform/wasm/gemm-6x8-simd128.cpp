// SGEMM for WebAssembly SIMD128: the portable driver (platform/gemm-driver.h) with a 6 x 8
// micro-kernel (12 accumulators + 2 B vectors + 1 broadcast A = 15 vectors, inside the 16
// registers of the SSE machines most browsers run on: the engine maps each v128 to one).
// No fused multiply-add in SIMD128: each step is a multiply then an add, so results differ
// from the FMA paths in the last bits (the tests compare with the scalar reference within
// the usual tolerance). Blocks as on ARMv7: A panel (MR x KC) in a 32 KB L1, B block
// (KC x NC) in L2.
#include "platform/dispatch.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include <cstring>

#include "platform/gemm-driver.h"

namespace ember::platform {
namespace simd128 {
namespace {

constexpr int kW = 4;
constexpr int kMR = 6, kNR = 8, kKC = 256, kMC = 96, kNC = 128;

inline v128_t madd(v128_t acc, v128_t a, v128_t b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

// The epilogue on one vector of C: act(alpha * acc + beta * c + bias), the same code for full
// and partial vectors (a partial one goes through a buffer), so a C element gets the same
// bits whatever tile it falls in.
inline v128_t finish(v128_t acc, const float* c_in, v128_t bias, const gemm::TileParams& tp) {
  v128_t x = wasm_f32x4_mul(acc, wasm_f32x4_splat(tp.alpha));
  if (tp.beta != 0.0f) x = madd(x, wasm_f32x4_splat(tp.beta), wasm_v128_load(c_in));
  x = wasm_f32x4_add(x, bias);
  const v128_t zero = wasm_f32x4_splat(0.0f);
  // f32x4.max returns NaN when either input is NaN, so relu(NaN) = NaN as in scalar.
  if (tp.act == Act::relu) x = wasm_f32x4_max(zero, x);
  if (tp.act == Act::leaky_relu)
    x = wasm_v128_bitselect(wasm_f32x4_mul(x, wasm_f32x4_splat(tp.slope)), x, wasm_f32x4_lt(x, zero));
  return x;
}

template <int ROWS, int VECS>
void tile(int kc, const float* a, const float* b, float* c, size_t ldc, int cols, const gemm::TileParams& tp) {
  v128_t acc[ROWS][VECS];
  for (int r = 0; r < ROWS; ++r)
    for (int v = 0; v < VECS; ++v) acc[r][v] = wasm_f32x4_splat(0.0f);

  for (int k = 0; k < kc; ++k) {
    v128_t bv[VECS];
    for (int v = 0; v < VECS; ++v) bv[v] = wasm_v128_load(b + v * kW);
    for (int r = 0; r < ROWS; ++r) {
      const v128_t av = wasm_f32x4_splat(a[r]);
      for (int v = 0; v < VECS; ++v) acc[r][v] = madd(acc[r][v], av, bv[v]);
    }
    a += kMR;
    b += kNR;
  }

  const int tail = cols - (VECS - 1) * kW;  // 1..4 columns in the last vector
  for (int r = 0; r < ROWS; ++r) {
    float* cr = c + r * ldc;
    for (int v = 0; v < VECS; ++v) {
      v128_t bias = wasm_f32x4_splat(0.0f);
      if (tp.bias && tp.bias_per_row) bias = wasm_f32x4_splat(tp.bias[r]);
      const int lanes = v == VECS - 1 ? tail : kW;
      if (lanes == kW) {
        if (tp.bias && !tp.bias_per_row) bias = wasm_v128_load(tp.bias + v * kW);
        wasm_v128_store(cr + v * kW, finish(acc[r][v], cr + v * kW, bias, tp));
      } else {
        float buf[kW] = {0.0f, 0.0f, 0.0f, 0.0f}, bb[kW] = {0.0f, 0.0f, 0.0f, 0.0f};
        if (tp.beta != 0.0f) std::memcpy(buf, cr + v * kW, sizeof(float) * lanes);
        if (tp.bias && !tp.bias_per_row) {
          std::memcpy(bb, tp.bias + v * kW, sizeof(float) * lanes);
          bias = wasm_v128_load(bb);
        }
        wasm_v128_store(buf, finish(acc[r][v], buf, bias, tp));
        std::memcpy(cr + v * kW, buf, sizeof(float) * lanes);
      }
    }
  }
}

using TileFn = void (*)(int, const float*, const float*, float*, size_t, int, const gemm::TileParams&);

template <int ROWS>
struct Row {
  static constexpr TileFn fns[2] = {tile<ROWS, 1>, tile<ROWS, 2>};
};
const TileFn* const kTiles[kMR] = {Row<1>::fns, Row<2>::fns, Row<3>::fns, Row<4>::fns, Row<5>::fns, Row<6>::fns};

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

}  // namespace simd128

void fill_gemm_simd128(Kernels* k) { gemm::Driver<simd128::Gemm>::fill(k); }

}  // namespace ember::platform

#else

namespace ember::platform {
void fill_gemm_simd128(Kernels* /*k*/) {}  // not a WebAssembly SIMD build: scalar GEMM stays
}  // namespace ember::platform

#endif
