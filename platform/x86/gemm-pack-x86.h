// The transposing pack with AVX (8 x 8 blocks through registers), shared source for the
// AVX2 and AVX-512 files. Everything is `static` so each file keeps its own copy compiled
// with its own flags (a shared inline symbol could be resolved to the AVX-512 copy).
// A per-ISA header like platform/elementwise-simd.h (see there): no #pragma once, and its
// functions go into namespace x86::EMBER_ISA_NS, named by the including file, so the
// amalgamation's AVX2 and AVX-512 regions each keep their own copy.
#ifndef EMBER_ISA_NS
#error "define EMBER_ISA_NS (the including file's ISA: avx2, avx512) before including this header"
#endif
#include <cstddef>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

namespace ember::platform::x86::EMBER_ISA_NS {

// d[q * width + 0..7] = column q of the 8 x 8 block at s (rows ld apart).
static inline void transpose_8x8(float* d, size_t width, const float* s, size_t ld) {
  const __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ld);
  const __m256 r2 = _mm256_loadu_ps(s + 2 * ld), r3 = _mm256_loadu_ps(s + 3 * ld);
  const __m256 r4 = _mm256_loadu_ps(s + 4 * ld), r5 = _mm256_loadu_ps(s + 5 * ld);
  const __m256 r6 = _mm256_loadu_ps(s + 6 * ld), r7 = _mm256_loadu_ps(s + 7 * ld);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(d + 0 * width, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(d + 1 * width, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(d + 2 * width, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(d + 3 * width, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(d + 4 * width, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(d + 5 * width, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(d + 6 * width, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(d + 7 * width, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// dst[p * width + i] = src[i * ld + p] for i < rows, p < kc.
static inline void pack_transpose_avx(float* dst, const float* src, size_t ld, int rows, int kc,
                                      int width) {
  const int rows8 = rows & ~7, kc8 = kc & ~7;
  for (int i = 0; i < rows8; i += 8) {
    const float* s = src + static_cast<size_t>(i) * ld;
    for (int p = 0; p < kc8; p += 8) transpose_8x8(dst + static_cast<size_t>(p) * width + i, width, s + p, ld);
    for (int p = kc8; p < kc; ++p)
      for (int r = 0; r < 8; ++r) dst[static_cast<size_t>(p) * width + i + r] = s[r * ld + p];
  }
  for (int i = rows8; i < rows; ++i) {
    const float* s = src + static_cast<size_t>(i) * ld;
    for (int p = 0; p < kc; ++p) dst[static_cast<size_t>(p) * width + i] = s[p];
  }
}

// dst[p * width + j] = src[p * ld + j] for j < cols, then zeros up to `padded`.
// No masked stores: AMD runs vmaskmovps stores slowly. A masked load reads zeros into the
// dropped lanes, and the whole vector is stored when the padded row has room for it, or
// when it only spills into row p + 1, which is written next; the last row of a narrow
// panel is copied one float at a time (the spill needs width >= 4: true for every MR, NR).
static inline void pack_copy_avx(float* dst, const float* src, size_t ld, int cols, int padded,
                                 int kc, int width) {
  const int full = cols & ~7, tail = cols - full;
  const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const bool room = full + 8 <= padded;
  for (int p = 0; p < kc; ++p) {
    float* d = dst + static_cast<size_t>(p) * width;
    const float* s = src + static_cast<size_t>(p) * ld;
    for (int j = 0; j < full; j += 8) _mm256_storeu_ps(d + j, _mm256_loadu_ps(s + j));
    int zeros_from = cols;
    if (tail && (room || p + 1 < kc)) {
      _mm256_storeu_ps(d + full, _mm256_maskload_ps(s + full, mask));
      if (room) zeros_from = full + 8;
    } else {
      for (int j = full; j < cols; ++j) d[j] = s[j];
    }
    for (int j = zeros_from; j < padded; ++j) d[j] = 0.0f;
  }
}

}  // namespace ember::platform::x86::EMBER_ISA_NS
