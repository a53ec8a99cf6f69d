// gemm kernels for avx2: not yet accelerated; the table keeps the scalar entries.
#include "platform/dispatch.h"

namespace ember::platform {

void fill_gemm_avx2(Kernels* /*k*/) {}

}  // namespace ember::platform
