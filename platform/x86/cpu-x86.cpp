// CPUID queries through GCC's builtins (they also check the OS saves the wide registers).
#include <cpuid.h>

#include "platform/dispatch.h"

namespace ember::platform {

bool cpu_has_avx2_fma() {
  __builtin_cpu_init();
  return !!__builtin_cpu_supports("avx2") && !!__builtin_cpu_supports("fma");
}

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return cpu_has_avx2_fma() && !!__builtin_cpu_supports("avx512f") &&
         !!__builtin_cpu_supports("avx512bw") && !!__builtin_cpu_supports("avx512vl") &&
         !!__builtin_cpu_supports("avx512dq");
}

namespace {

// Walks the "deterministic cache parameters" of `leaf` (4 on Intel, 0x8000001D on AMD: the
// same layout), one sub-leaf per cache, until the type field reads 0 (no more caches).
// Returns false when the leaf is absent or lists nothing.
bool read_cache_leaf(unsigned leaf, CacheSizes* out) {
  unsigned l1_threads = 1, l3_threads = 1;
  size_t l3_size = 0;
  bool any = false;
  for (unsigned sub = 0; sub < 16; ++sub) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(leaf, sub, &a, &b, &c, &d)) return false;
    const unsigned type = a & 0x1f, level = (a >> 5) & 0x7;
    if (type == 0) break;
    if (type == 2) continue;  // instructions
    const size_t ways = ((b >> 22) & 0x3ff) + 1, partitions = ((b >> 12) & 0x3ff) + 1;
    const size_t line = (b & 0xfff) + 1, sets = static_cast<size_t>(c) + 1;
    const size_t size = ways * partitions * line * sets;
    const unsigned threads = ((a >> 14) & 0xfff) + 1;  // logical processors sharing it
    any = true;
    if (level == 1) l1_threads = threads;
    if (level == 2) out->l2 = size;
    if (level == 3) l3_size = size, l3_threads = threads;
  }
  // The threads sharing L1 are one core's; the L3's share per core follows from the ratio.
  if (l3_size) out->l3 = l3_threads > l1_threads ? l3_size * l1_threads / l3_threads : l3_size;
  return any;
}

// AMD's older leaf, which virtual machines that hide the cache topology still fill: L2 KB
// in 0x80000006 ECX[31:16], the L3 in EDX[31:18] x 512 KB
// for the whole package, over its threads (0x80000008 ECX[7:0] + 1; a core's share taken as
// one thread's: the smaller guess).
bool read_amd_legacy(CacheSizes* out) {
  unsigned a, b, c, d;
  if (!__get_cpuid(0x80000006, &a, &b, &c, &d)) return false;
  out->l2 = static_cast<size_t>(c >> 16) << 10;
  const size_t l3 = static_cast<size_t>(d >> 18) << 19;
  const unsigned threads = __get_cpuid(0x80000008, &a, &b, &c, &d) ? (c & 0xff) + 1 : 1;
  out->l3 = l3 / threads;
  return out->l2 != 0;
}

}  // namespace

CacheSizes cpu_cache_sizes() {
  CacheSizes c;
  if (read_cache_leaf(4, &c)) return c;
  c = CacheSizes();
  if (read_cache_leaf(0x8000001d, &c)) return c;
  c = CacheSizes();
  if (read_amd_legacy(&c)) return c;
  return CacheSizes();
}

}  // namespace ember::platform
