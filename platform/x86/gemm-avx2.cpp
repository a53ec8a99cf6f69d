// SGEMM for AVX2 + FMA: the portable driver with the 4 x 24 micro-kernel.
//
// The largest blocks, tuned on Zen 4 (32 KB L1D, 1 MB L2 per core, 32 MB shared L3) and
// shrunk to smaller caches by the driver, as in gemm-avx512.cpp:
// the B panel (KC x 24 = 30 KB at KC = 320) is reused from L1 across the A panels of one
// MC block; the A block (MC x KC = 320 KB) stays in L2; the B block (KC x NC = 1.2 MB)
// lives in L3 and is read once per MC block. KC = 320 was measured best among 192..512
// (the chunks are balanced, so K = 400 runs as 2 x 200, K = 784 as 3 x 262).
#include "platform/dispatch.h"
#include "platform/gemm-driver.h"
#include "platform/x86/gemm-x86.h"

namespace ember::platform {
namespace x86_avx2 {

struct Gemm {
  static constexpr int MR = 4, NR = 24, W = 8, KC = 320, MC = 256, NC = 960;
  static void ukernel(int kc, const float* a, const float* b, float* c, size_t ldc, int rows,
                      int cols, const gemm::TileParams& p) {
    x86::sgemm_ukernel_4x24_avx2(kc, a, b, c, ldc, rows, cols, p);
  }
  static void ukernel_rows(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc, int rows,
                           int cols, const gemm::TileParams& p) {
    x86::sgemm_ukernel_4x24_avx2_rows(kc, a, lda, b, c, ldc, rows, cols, p);
  }
  static void ukernel_cols(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc, int rows,
                           int cols, const gemm::TileParams& p) {
    x86::sgemm_ukernel_4x24_avx2_cols(kc, a, lda, b, c, ldc, rows, cols, p);
  }
  static void pack_t(float* dst, const float* src, size_t ld, int rows, int kc, int width) {
    x86::sgemm_pack_t_avx2(dst, src, ld, rows, kc, width);
  }
  static void pack_n(float* dst, const float* src, size_t ld, int cols, int padded, int kc, int width) {
    x86::sgemm_pack_n_avx2(dst, src, ld, cols, padded, kc, width);
  }
};

}  // namespace x86_avx2

namespace {

// Kernels::transpose through the GEMM's transposing pack (8 x 8 blocks through registers).
void transpose_avx2(const float* src, size_t rows, size_t cols, size_t lds, float* dst, size_t ldd) {
  x86::sgemm_pack_t_avx2(dst, src, lds, static_cast<int>(rows), static_cast<int>(cols), static_cast<int>(ldd));
}

}  // namespace

void fill_gemm_avx2(Kernels* k) {
  gemm::Driver<x86_avx2::Gemm>::fill(k, cpu_cache_sizes());
  k->transpose = transpose_avx2;
}

}  // namespace ember::platform
