// The x86 SGEMM micro-kernels and packing helpers (defined in gemm-*-avx2.cpp and
// gemm-*-avx512.cpp) that gemm-avx2.cpp / gemm-avx512.cpp plug into platform/gemm-driver.h.
#pragma once
#include <cstddef>

#include "platform/gemm-driver.h"

namespace ember::platform::x86 {

// C[rows x cols] = epilogue(A panel (kc x 8, packed) x B panel (kc x 32, packed)),
// rows <= 8, cols <= 32.
void sgemm_ukernel_8x32_avx512(int kc, const float* a, const float* b, float* c, size_t ldc,
                               int rows, int cols, const gemm::TileParams& p);
// The same with A read in place, no packed panel: rows of A (a[r * lda + p]), or, for op(A)
// transposed, its columns (a[p * lda + r]).
void sgemm_ukernel_8x32_avx512_rows(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                                    int rows, int cols, const gemm::TileParams& p);
void sgemm_ukernel_8x32_avx512_cols(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                                    int rows, int cols, const gemm::TileParams& p);
// Both in place: B's rows too (b[p * ldb + j], op(B) not transposed).
void sgemm_ukernel_8x32_avx512_rows_b(int kc, const float* a, size_t lda, const float* b, size_t ldb, float* c,
                                      size_t ldc, int rows, int cols, const gemm::TileParams& p);
void sgemm_ukernel_8x32_avx512_cols_b(int kc, const float* a, size_t lda, const float* b, size_t ldb, float* c,
                                      size_t ldc, int rows, int cols, const gemm::TileParams& p);
// rows <= 4, cols <= 24.
void sgemm_ukernel_4x24_avx2(int kc, const float* a, const float* b, float* c, size_t ldc,
                             int rows, int cols, const gemm::TileParams& p);
void sgemm_ukernel_4x24_avx2_rows(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                                  int rows, int cols, const gemm::TileParams& p);
void sgemm_ukernel_4x24_avx2_cols(int kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                                  int rows, int cols, const gemm::TileParams& p);

// dst[p * width + i] = src[i * ld + p] for i < rows, p < kc (the transposing pack).
void sgemm_pack_t_avx512(float* dst, const float* src, size_t ld, int rows, int kc, int width);
void sgemm_pack_t_avx2(float* dst, const float* src, size_t ld, int rows, int kc, int width);

// dst[p * width + j] = src[p * ld + j] for j < cols, zeros for cols <= j < padded.
void sgemm_pack_n_avx512(float* dst, const float* src, size_t ld, int cols, int padded, int kc, int width);
void sgemm_pack_n_avx2(float* dst, const float* src, size_t ld, int cols, int padded, int kc, int width);

}  // namespace ember::platform::x86
