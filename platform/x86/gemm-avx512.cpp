// gemm kernels for avx512: not yet accelerated; the table keeps the scalar entries.
#include "platform/dispatch.h"

namespace ember::platform {

void fill_gemm_avx512(Kernels* /*k*/) {}

}  // namespace ember::platform
