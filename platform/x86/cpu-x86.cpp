// CPUID queries through GCC's builtins (they also check the OS saves the wide registers).
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

}  // namespace ember::platform
