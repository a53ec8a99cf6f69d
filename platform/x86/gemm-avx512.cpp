// SGEMM for AVX-512: the portable driver with the 8 x 32 micro-kernel.
//
// MC and NC below are the largest blocks; the driver shrinks them to the caches CPUID
// reports (gemm-driver.h), so on a core with a smaller L2 or L3 they fit it too. They were
// tuned on Zen 4 (32 KB L1D, 1 MB L2 per core, 32 MB shared L3), where they stand. The
// loop order is BLIS's, B panel reused across the A panels of an MC block. At KC = 384 the B panel
// (48 KB) overflows L1 into L2, but Zen 4's L2 feeds the 8 B/cycle it needs and the larger
// KC means fewer passes over C: measured better than KC = 128..256 (which fit L1). The A
// block (MC x KC = 384 KB) stays in L2 beside it; the B block (KC x NC = 1.5 MB) lives in
// L3, and NC = 1024 packs A only once for N <= 1024. K <= 384 takes one pass over C, and
// the chunks are balanced (K = 784 runs as 3 x 262). A is not packed at all: the tile reads
// its rows or columns in place, and B's rows too when they spread over the L1 sets
// (ukernel_rows / _cols / _rows_b / _cols_b, see gemm-driver.h).
#include "platform/dispatch.h"
#include "platform/gemm-driver.h"
#include "platform/x86/gemm-x86.h"

namespace ember::platform {
namespace x86_avx512 {

struct Gemm {
  static constexpr int MR = 8, NR = 32, W = 16, KC = 384, MC = 256, NC = 1024;
  static void ukernel(int kc, const float* a, const float* b, float* c, size_t ldc, int rows,
                      int cols, const gemm::TileParams& p) {
    x86::sgemm_ukernel_8x32_avx512(kc, a, b, c, ldc, rows, cols, p);
  }
  static void ukernel_rows(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc, int rows,
                           int cols, const gemm::TileParams& p) {
    x86::sgemm_ukernel_8x32_avx512_rows(kc, a, lda, b, c, ldc, rows, cols, p);
  }
  static void ukernel_cols(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc, int rows,
                           int cols, const gemm::TileParams& p) {
    x86::sgemm_ukernel_8x32_avx512_cols(kc, a, lda, b, c, ldc, rows, cols, p);
  }
  static void ukernel_rows_b(int kc, const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc,
                             int rows, int cols, const gemm::TileParams& p) {
    x86::sgemm_ukernel_8x32_avx512_rows_b(kc, a, lda, b, ldb, c, ldc, rows, cols, p);
  }
  static void ukernel_cols_b(int kc, const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc,
                             int rows, int cols, const gemm::TileParams& p) {
    x86::sgemm_ukernel_8x32_avx512_cols_b(kc, a, lda, b, ldb, c, ldc, rows, cols, p);
  }
  static void pack_t(float* dst, const float* src, size_t ld, int rows, int kc, int width) {
    x86::sgemm_pack_t_avx512(dst, src, ld, rows, kc, width);
  }
  static void pack_n(float* dst, const float* src, size_t ld, int cols, int padded, int kc, int width) {
    x86::sgemm_pack_n_avx512(dst, src, ld, cols, padded, kc, width);
  }
};

}  // namespace x86_avx512

namespace {

// Kernels::transpose through the GEMM's transposing pack (8 x 8 blocks through registers).
void transpose_avx512(const float* src, size_t rows, size_t cols, size_t lds, float* dst, size_t ldd) {
  x86::sgemm_pack_t_avx512(dst, src, lds, static_cast<int>(rows), static_cast<int>(cols), static_cast<int>(ldd));
}

}  // namespace

void fill_gemm_avx512(Kernels* k) {
  gemm::Driver<x86_avx512::Gemm>::fill(k, cpu_cache_sizes());
  k->transpose = transpose_avx512;
}

}  // namespace ember::platform
