// SGEMM micro-kernel for AVX-512: an 8 x 32 tile of C (two zmm per row).
//
// Register plan: 16 accumulators + 2 B vectors + 1 broadcast of A = 19 of 32 zmm. Zen 4
// runs a zmm FMA as two 256-bit halves, one per cycle, with 4 cycles latency, so 16
// independent chains keep the pipe full; per k step the tile needs 2 B loads and 8 A
// broadcasts for 16 FMAs, well within the load ports. MR = 8 divides every M the
// benchmarks use (64, 128, 784, 1024) and the 16-column half tile makes N = 400 and 784
// exact, so edge tiles waste no lanes. Reading A in place (rows lda apart) costs 8 general
// registers for the row offsets and nothing in the vector plan.
#define EMBER_ISA_NS avx512  // this file's copy of the pack helpers
#include "platform/x86/gemm-pack-x86.h"
#include "platform/x86/gemm-x86.h"

namespace ember::platform::x86 {
namespace avx512 {  // beside the other ISA's tiles in the amalgamation
namespace {

constexpr int kMR = 8, kNR = 32, kW = 16;

using TileFn = void (*)(int, const float*, size_t, const float*, size_t, float*, size_t, int, const gemm::TileParams&);

// Where the tile reads A: a packed panel (a[p * kMR + r]), or in place, rows of the caller's
// matrix (a[r * lda + p]) or its columns (op(A) transposed: a[p * lda + r]). The same
// products in the same order from any of them.
enum ALayout { kPacked, kRows, kCols };

// B is a packed panel (b[p * kNR + j]) or, B_ROWS, rows of the caller's matrix (b[p * ldb + j],
// the last vector masked to the columns there are).
template <int ROWS, int VECS, int LAYOUT, bool B_ROWS>
void tile(int kc, const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc, int cols,
          const gemm::TileParams& tp) {
  const int tail = cols - (VECS - 1) * kW;  // 1..16 columns in the last vector
  const __mmask16 last = tail >= kW ? __mmask16(0xFFFF) : __mmask16((1u << tail) - 1);
  __m512 acc[ROWS][VECS];
#pragma GCC unroll 8
  for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < VECS; ++v) acc[r][v] = _mm512_setzero_ps();

  if (tp.prefetch_c)
#pragma GCC unroll 8
    for (int r = 0; r < ROWS; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + cols - 1), _MM_HINT_T0);
    }

  for (int k = 0; k < kc; ++k) {
    __m512 bv[VECS];
#pragma GCC unroll 2
    for (int v = 0; v < VECS; ++v)
      bv[v] = !B_ROWS ? _mm512_load_ps(b + v * kW)
              : v == VECS - 1 ? _mm512_maskz_loadu_ps(last, b + v * kW) : _mm512_loadu_ps(b + v * kW);
#pragma GCC unroll 8
    for (int r = 0; r < ROWS; ++r) {
      const __m512 av = _mm512_set1_ps(LAYOUT == kRows ? a[r * lda] : a[r]);
#pragma GCC unroll 2
      for (int v = 0; v < VECS; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
    a += LAYOUT == kPacked ? kMR : LAYOUT == kRows ? 1 : lda;
    b += B_ROWS ? ldb : kNR;
  }

  const __m512 alpha = _mm512_set1_ps(tp.alpha), beta = _mm512_set1_ps(tp.beta);
  const __m512 zero = _mm512_setzero_ps(), slope = _mm512_set1_ps(tp.slope);
  const bool col_bias = tp.bias && !tp.bias_per_row, row_bias = tp.bias && tp.bias_per_row;
  __m512 bias[VECS];
#pragma GCC unroll 2
  for (int v = 0; v < VECS; ++v)
    bias[v] = col_bias ? _mm512_maskz_loadu_ps(v == VECS - 1 ? last : __mmask16(0xFFFF), tp.bias + v * kW) : zero;

#pragma GCC unroll 8
  for (int r = 0; r < ROWS; ++r) {
    float* cr = c + r * ldc;
#pragma GCC unroll 2
    for (int v = 0; v < VECS; ++v) {
      const __mmask16 m = v == VECS - 1 ? last : __mmask16(0xFFFF);
      __m512 x = _mm512_mul_ps(acc[r][v], alpha);
      if (tp.beta != 0.0f) x = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(m, cr + v * kW), x);
      if (col_bias) x = _mm512_add_ps(x, bias[v]);
      if (row_bias) x = _mm512_add_ps(x, _mm512_set1_ps(tp.bias[r]));
      // max(0, x) returns x when x is NaN, as the scalar relu does.
      if (tp.act == Act::relu) x = _mm512_max_ps(zero, x);
      if (tp.act == Act::leaky_relu)
        x = _mm512_mask_mul_ps(x, _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ), x, slope);
      _mm512_mask_storeu_ps(cr + v * kW, m, x);
    }
  }
}

template <int ROWS, int LAYOUT, bool B_ROWS>
constexpr TileFn kRow[2] = {tile<ROWS, 1, LAYOUT, B_ROWS>, tile<ROWS, 2, LAYOUT, B_ROWS>};

template <int LAYOUT, bool B_ROWS = false>
constexpr const TileFn* kTiles[kMR] = {kRow<1, LAYOUT, B_ROWS>, kRow<2, LAYOUT, B_ROWS>, kRow<3, LAYOUT, B_ROWS>,
                                       kRow<4, LAYOUT, B_ROWS>, kRow<5, LAYOUT, B_ROWS>, kRow<6, LAYOUT, B_ROWS>,
                                       kRow<7, LAYOUT, B_ROWS>, kRow<8, LAYOUT, B_ROWS>};

}  // namespace
}  // namespace avx512

void sgemm_ukernel_8x32_avx512(int kc, const float* a, const float* b, float* c, size_t ldc,
                               int rows, int cols, const gemm::TileParams& p) {
  avx512::kTiles<avx512::kPacked>[rows - 1][(cols - 1) / avx512::kW](kc, a, 0, b, 0, c, ldc, cols, p);
}

void sgemm_ukernel_8x32_avx512_rows(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                                    int rows, int cols, const gemm::TileParams& p) {
  avx512::kTiles<avx512::kRows>[rows - 1][(cols - 1) / avx512::kW](kc, a, lda, b, 0, c, ldc, cols, p);
}

void sgemm_ukernel_8x32_avx512_cols(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                                    int rows, int cols, const gemm::TileParams& p) {
  avx512::kTiles<avx512::kCols>[rows - 1][(cols - 1) / avx512::kW](kc, a, lda, b, 0, c, ldc, cols, p);
}

void sgemm_ukernel_8x32_avx512_rows_b(int kc, const float* a, size_t lda, const float* b, size_t ldb, float* c,
                                      size_t ldc, int rows, int cols, const gemm::TileParams& p) {
  avx512::kTiles<avx512::kRows, true>[rows - 1][(cols - 1) / avx512::kW](kc, a, lda, b, ldb, c, ldc, cols, p);
}

void sgemm_ukernel_8x32_avx512_cols_b(int kc, const float* a, size_t lda, const float* b, size_t ldb, float* c,
                                      size_t ldc, int rows, int cols, const gemm::TileParams& p) {
  avx512::kTiles<avx512::kCols, true>[rows - 1][(cols - 1) / avx512::kW](kc, a, lda, b, ldb, c, ldc, cols, p);
}

void sgemm_pack_t_avx512(float* dst, const float* src, size_t ld, int rows, int kc, int width) {
  avx512::pack_transpose_avx(dst, src, ld, rows, kc, width);
}

void sgemm_pack_n_avx512(float* dst, const float* src, size_t ld, int cols, int padded, int kc, int width) {
  avx512::pack_copy_avx(dst, src, ld, cols, padded, kc, width);
}

}  // namespace ember::platform::x86
#undef EMBER_ISA_NS  // the next ISA file (in the amalgamation) names its own
