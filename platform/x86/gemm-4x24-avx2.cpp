// SGEMM micro-kernel for AVX2 + FMA: a 4 x 24 tile of C (three ymm per row).
//
// Register plan: 12 accumulators + 3 B vectors + 1 broadcast of A = all 16 ymm. Zen 4
// issues two 256-bit FMAs per cycle with 4 cycles latency, so it needs 8+ independent
// chains; 12 keep both pipes busy. Per k step: 3 B loads and 4 broadcasts for 12 FMAs.
// Measured against 6 x 16 (same 12 accumulators, 2 loads + 6 broadcasts per k step): 4 x 24
// is ~4% faster on g1/g2 (fewer load uops per FMA), even on g3-g5; MR = 4 divides every
// benchmark M, and the 8- and 16-column partial tiles keep N = 400, 784, 1024 lane-exact.
#define EMBER_ISA_NS avx2  // this file's copy of the pack helpers
#include "platform/x86/gemm-pack-x86.h"
#include "platform/x86/gemm-x86.h"

namespace ember::platform::x86 {
namespace avx2 {  // beside the other ISA's tiles in the amalgamation
namespace {

constexpr int kMR = 4, kNR = 24, kW = 8;

using TileFn = void (*)(int, const float*, size_t, const float*, float*, size_t, int, const gemm::TileParams&);

// Where the tile reads A: a packed panel (a[p * kMR + r]), or in place, rows of the caller's
// matrix (a[r * lda + p]) or its columns (op(A) transposed: a[p * lda + r]). The same
// products in the same order from any of them.
enum ALayout { kPacked, kRows, kCols };

template <int ROWS, int VECS, int LAYOUT>
void tile(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc, int cols,
          const gemm::TileParams& tp) {
  __m256 acc[ROWS][VECS];
#pragma GCC unroll 4
  for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < VECS; ++v) acc[r][v] = _mm256_setzero_ps();

  if (tp.prefetch_c)
#pragma GCC unroll 4
    for (int r = 0; r < ROWS; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + cols - 1), _MM_HINT_T0);
    }

  for (int k = 0; k < kc; ++k) {
    __m256 bv[VECS];
#pragma GCC unroll 4
    for (int v = 0; v < VECS; ++v) bv[v] = _mm256_load_ps(b + v * kW);
#pragma GCC unroll 4
    for (int r = 0; r < ROWS; ++r) {
      const __m256 av = _mm256_broadcast_ss(LAYOUT == kRows ? a + r * lda : a + r);
#pragma GCC unroll 4
      for (int v = 0; v < VECS; ++v) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
    }
    a += LAYOUT == kPacked ? kMR : LAYOUT == kRows ? 1 : lda;
    b += kNR;
  }

  const int tail = cols - (VECS - 1) * kW;  // 1..8 columns in the last vector
  const __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i all = _mm256_set1_epi32(-1);
  const __m256 alpha = _mm256_set1_ps(tp.alpha), beta = _mm256_set1_ps(tp.beta);
  const __m256 zero = _mm256_setzero_ps(), slope = _mm256_set1_ps(tp.slope);
  const bool col_bias = tp.bias && !tp.bias_per_row, row_bias = tp.bias && tp.bias_per_row;
  __m256 bias[VECS];
#pragma GCC unroll 4
  for (int v = 0; v < VECS; ++v)
    bias[v] = col_bias ? _mm256_maskload_ps(tp.bias + v * kW, v == VECS - 1 ? last : all) : zero;

#pragma GCC unroll 4
  for (int r = 0; r < ROWS; ++r) {
    float* cr = c + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < VECS; ++v) {
      // Masked moves only where needed: AMD runs vmaskmovps slowly.
      const bool partial = v == VECS - 1 && tail < kW;
      const __m256i m = partial ? last : all;
      __m256 x = _mm256_mul_ps(acc[r][v], alpha);
      if (tp.beta != 0.0f) {
        const __m256 cv = partial ? _mm256_maskload_ps(cr + v * kW, m) : _mm256_loadu_ps(cr + v * kW);
        x = _mm256_fmadd_ps(beta, cv, x);
      }
      if (col_bias) x = _mm256_add_ps(x, bias[v]);
      if (row_bias) x = _mm256_add_ps(x, _mm256_set1_ps(tp.bias[r]));
      // max(0, x) returns x when x is NaN, as the scalar relu does.
      if (tp.act == Act::relu) x = _mm256_max_ps(zero, x);
      if (tp.act == Act::leaky_relu)
        x = _mm256_blendv_ps(x, _mm256_mul_ps(x, slope), _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
      if (partial)
        _mm256_maskstore_ps(cr + v * kW, m, x);
      else
        _mm256_storeu_ps(cr + v * kW, x);
    }
  }
}

template <int ROWS, int LAYOUT>
constexpr TileFn kRow[3] = {tile<ROWS, 1, LAYOUT>, tile<ROWS, 2, LAYOUT>, tile<ROWS, 3, LAYOUT>};

template <int LAYOUT>
constexpr const TileFn* kTiles[kMR] = {kRow<1, LAYOUT>, kRow<2, LAYOUT>, kRow<3, LAYOUT>, kRow<4, LAYOUT>};

}  // namespace
}  // namespace avx2

void sgemm_ukernel_4x24_avx2(int kc, const float* a, const float* b, float* c, size_t ldc,
                             int rows, int cols, const gemm::TileParams& p) {
  avx2::kTiles<avx2::kPacked>[rows - 1][(cols - 1) / avx2::kW](kc, a, 0, b, c, ldc, cols, p);
}

void sgemm_ukernel_4x24_avx2_rows(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                                  int rows, int cols, const gemm::TileParams& p) {
  avx2::kTiles<avx2::kRows>[rows - 1][(cols - 1) / avx2::kW](kc, a, lda, b, c, ldc, cols, p);
}

void sgemm_ukernel_4x24_avx2_cols(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                                  int rows, int cols, const gemm::TileParams& p) {
  avx2::kTiles<avx2::kCols>[rows - 1][(cols - 1) / avx2::kW](kc, a, lda, b, c, ldc, cols, p);
}

void sgemm_pack_t_avx2(float* dst, const float* src, size_t ld, int rows, int kc, int width) {
  avx2::pack_transpose_avx(dst, src, ld, rows, kc, width);
}

void sgemm_pack_n_avx2(float* dst, const float* src, size_t ld, int cols, int padded, int kc, int width) {
  avx2::pack_copy_avx(dst, src, ld, cols, padded, kc, width);
}

}  // namespace ember::platform::x86
#undef EMBER_ISA_NS  // the next ISA file (in the amalgamation) names its own
