// Shared test helpers: the ISA paths to sweep and tolerant float comparison.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/kernels.h"
#include "core/status.h"
#include "core/rng.h"
#include "platform/context.h"

namespace ember::testing {

// WebAssembly under node (make wasm): no processes to fork and no FIFOs to make; the tests
// that need them skip there (doctest::skip(testing::kWasm)).
#if defined(__EMSCRIPTEN__)
constexpr bool kWasm = true;
#else
constexpr bool kWasm = false;
#endif

// The ARM builds run their tests under qemu in CI, 20-100 times slower than native: the
// few long tests (whole training runs, finite differences over big graphs) do less there.
#if defined(__x86_64__) || defined(__i386__)
constexpr bool kEmulated = false;
#else
constexpr bool kEmulated = true;
#endif

// Whole training loops on slow arithmetic: under emulation, or on the scalar kernels (the
// microcontroller configuration, CI's nothreads stage), which are 20-50 times slower than
// SIMD. Tests of what does not depend on the step count (allocation, gradient wiring) do
// less there; the native SIMD run does the full count.
inline bool slow_kernels(const Context& ctx) { return kEmulated || ctx.isa() == Isa::scalar; }

// Tests that check what training reaches (accuracy, reconstruction, learned codes) rather
// than arithmetic: the arithmetic is checked per kernel against the scalar path, so the
// emulated ARM runs leave these out (CMakeLists.txt: --test-suite-exclude=learning when
// cross-compiling); every native run has them.
#define EMBER_LEARNING doctest::test_suite("learning")

// Every kernel table this build and CPU can run, scalar first. On an AVX-512 machine:
// scalar, avx2, avx512 — so one test run exercises all of them.
inline std::vector<const Kernels*> available_kernels() {
  std::vector<const Kernels*> out;
  for (int i = 0; i < kIsaCount; ++i)
    if (const Kernels* k = kernels_for(static_cast<Isa>(i))) out.push_back(k);
  return out;
}

// The same, without scalar (the paths to compare against it).
inline std::vector<const Kernels*> simd_kernels() {
  std::vector<const Kernels*> out = available_kernels();
  out.erase(out.begin());
  return out;
}

// A Context with `threads` workers (the best ISA) over an arena of its own, whose bytes
// start as `fill` (0xff: every float NaN).
struct ThreadedContext {
  std::vector<unsigned char> memory;
  Arena arena;
  Context ctx;
  explicit ThreadedContext(int threads, size_t bytes = 16 << 20, unsigned char fill = 0)
      : memory(bytes, fill), arena(memory.data(), bytes) {
    Context::Options opt;
    opt.threads = threads;
    REQUIRE(ctx.init(&arena, opt).is_ok());
  }
};

// One single-threaded Context per ISA this build and CPU run (scalar first), made once.
inline std::vector<Context*>& isa_contexts() {
  static std::vector<Context*> all = [] {
    alignas(64) static unsigned char storage[16 << 20];
    static Arena arena(storage, sizeof storage);
    static Context ctx[kIsaCount];
    std::vector<Context*> out;
    for (const Kernels* k : available_kernels()) {
      Context::Options opt;
      opt.threads = 1;
      opt.isa = isa_name(k->isa);
      Context& c = ctx[static_cast<int>(k->isa)];
      if (c.init(&arena, opt).is_ok()) out.push_back(&c);
    }
    return out;
  }();
  return all;
}

// n floats of 64-byte aligned scratch (what the ops expect).
struct Scratch {
  std::vector<float> store;
  float* p = nullptr;
  explicit Scratch(size_t n) : store(n + 16) {
    p = store.data();
    while (reinterpret_cast<uintptr_t>(p) % 64) ++p;
  }
};

inline std::vector<float> random_vector(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  Rng rng(seed);
  rng.fill_uniform(v.data(), n, lo, hi);
  return v;
}

// |a - b| <= atol + rtol * |b|, with NaN equal only to NaN.
inline bool close(float a, float b, float rtol, float atol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= atol + rtol * std::fabs(b);
}

// Index of the first element where got and want differ beyond tolerance, or -1.
inline long first_mismatch(const float* got, const float* want, size_t n, float rtol, float atol) {
  for (size_t i = 0; i < n; ++i)
    if (!close(got[i], want[i], rtol, atol)) return static_cast<long>(i);
  return -1;
}

// A status's message mentions text (a refusal names its cause).
inline bool message_has(const Status& s, const char* text) { return std::strstr(s.message(), text) != nullptr; }

}  // namespace ember::testing
