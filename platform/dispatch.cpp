// Picks the kernel table: compile-time for ARM (NEON or not) and WebAssembly (SIMD128 or
// not), run-time CPUID for x86, and EMBER_ISA=scalar|avx2|avx512|neon|simd128 in the
// environment overrides either.
#include "platform/dispatch.h"

#include <cstdlib>
#include <cstring>

#include "platform/scalar/scalar.h"

#if defined(__x86_64__) || defined(_M_X64)
#define EMBER_X86 1
#elif defined(__ARM_NEON) && !defined(EMBER_NO_NEON)
#define EMBER_NEON 1
#elif defined(__wasm_simd128__)
#define EMBER_SIMD128 1
#endif

namespace ember {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::neon: return "neon";
    case Isa::simd128: return "simd128";
  }
  return "?";
}

bool parse_isa(const char* name, Isa* out) {
  for (int i = 0; i < kIsaCount; ++i) {
    if (name && std::strcmp(name, isa_name(static_cast<Isa>(i))) == 0) {
      *out = static_cast<Isa>(i);
      return true;
    }
  }
  return false;
}

namespace {

// Unused when the target has neither x86 nor NEON paths (Cortex-M, ARM without NEON).
[[maybe_unused]] Kernels make_table(Isa isa, void (*fill_gemm)(Kernels*), void (*fill_elementwise)(Kernels*)) {
  Kernels k = scalar::kKernels;
  k.isa = isa;
  k.name = isa_name(isa);
  fill_gemm(&k);
  fill_elementwise(&k);
  return k;
}

}  // namespace

const Kernels* kernels_for(Isa isa) {
  switch (isa) {
    case Isa::scalar: return &scalar::kKernels;
#if EMBER_X86
    case Isa::avx2: {
      if (!platform::cpu_has_avx2_fma()) return nullptr;
      static const Kernels k = make_table(isa, platform::fill_gemm_avx2, platform::fill_elementwise_avx2);
      return &k;
    }
    case Isa::avx512: {
      if (!platform::cpu_has_avx512()) return nullptr;
      static const Kernels k =
          make_table(isa, platform::fill_gemm_avx512, platform::fill_elementwise_avx512);
      return &k;
    }
#endif
#if EMBER_NEON
    case Isa::neon: {
      static const Kernels k = make_table(isa, platform::fill_gemm_neon, platform::fill_elementwise_neon);
      return &k;
    }
#endif
#if EMBER_SIMD128
    case Isa::simd128: {
      static const Kernels k = make_table(isa, platform::fill_gemm_simd128, platform::fill_elementwise_simd128);
      return &k;
    }
#endif
    default: return nullptr;
  }
}

Isa best_isa() {
#if EMBER_X86
  if (platform::cpu_has_avx512()) return Isa::avx512;
  if (platform::cpu_has_avx2_fma()) return Isa::avx2;
#elif EMBER_NEON
  return Isa::neon;
#elif EMBER_SIMD128
  return Isa::simd128;
#endif
  return Isa::scalar;
}

const Kernels* select_kernels(const char** error) {
  if (error) *error = nullptr;
  const char* forced = std::getenv("EMBER_ISA");
  if (!forced || !*forced) return kernels_for(best_isa());
  Isa isa;
  if (!parse_isa(forced, &isa)) {
    if (error) *error = "EMBER_ISA must be one of scalar, avx2, avx512, neon, simd128";
    return nullptr;
  }
  const Kernels* k = kernels_for(isa);
  if (!k && error) *error = "EMBER_ISA names an instruction set this build or CPU does not have";
  return k;
}

}  // namespace ember
