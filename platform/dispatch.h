// How platform/ assembles the kernel tables. Each ISA's files provide fill functions that
// overwrite the entries they accelerate in a table that starts as a copy of the scalar one,
// so an ISA can speed up one kernel at a time and the rest stays correct.
#pragma once
#include "core/kernels.h"

namespace ember::platform {

// The caches the GEMM blocks are sized for, in bytes (0: unknown): one core's L2, and its
// share of the L3 (the L3's size times the threads of a core over the threads sharing it).
struct CacheSizes {
  size_t l2 = 0, l3 = 0;
};

// x86 (platform/x86/): defined only when building for x86-64.
void fill_gemm_avx2(Kernels* k);
void fill_elementwise_avx2(Kernels* k);
void fill_gemm_avx512(Kernels* k);
void fill_elementwise_avx512(Kernels* k);
bool cpu_has_avx2_fma();
bool cpu_has_avx512();
CacheSizes cpu_cache_sizes();  // CPUID leaf 4 (Intel), 0x8000001D or older leaves (AMD)

// ARM (platform/arm/): defined only when building with NEON.
void fill_gemm_neon(Kernels* k);
void fill_elementwise_neon(Kernels* k);

// WebAssembly (platform/wasm/): defined only when building with -msimd128.
void fill_gemm_simd128(Kernels* k);
void fill_elementwise_simd128(Kernels* k);

}  // namespace ember::platform
