// SGEMM for AVX-512: the portable driver with the 8 x 32 micro-kernel.
//
// Blocking for Zen 4 (32 KB L1D, 1 MB L2 per core): the A panel (8 x KC = 16 KB at
// KC = 512) stays in L1 while the B block (KC x NC = 512 KB) sits in L2 and its 32-column
// panels stream through; KC = 512 means K <= 512 takes a single pass over C.
#include "platform/dispatch.h"
#include "platform/gemm-driver.h"
#include "platform/x86/gemm-x86.h"

namespace ember::platform {
namespace x86_avx512 {

struct Gemm {
  static constexpr int MR = 8, NR = 32, W = 16, KC = 384, MC = 512, NC = 512;
  static void ukernel(int kc, const float* a, const float* b, float* c, size_t ldc, int rows,
                      int cols, const gemm::TileParams& p) {
    x86::sgemm_ukernel_8x32_avx512(kc, a, b, c, ldc, rows, cols, p);
  }
  static void pack_t(float* dst, const float* src, size_t ld, int rows, int kc, int width) {
    x86::sgemm_pack_t_avx512(dst, src, ld, rows, kc, width);
  }
  static void pack_n(float* dst, const float* src, size_t ld, int cols, int padded, int kc, int width) {
    x86::sgemm_pack_n_avx512(dst, src, ld, cols, padded, kc, width);
  }
};

}  // namespace x86_avx512

void fill_gemm_avx512(Kernels* k) {
  k->sgemm_scratch_floats = gemm::Driver<x86_avx512::Gemm>::scratch_floats;
  k->sgemm = gemm::Driver<x86_avx512::Gemm>::sgemm;
}

}  // namespace ember::platform
