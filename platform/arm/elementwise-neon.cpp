// elementwise kernels for NEON: not yet accelerated; the table keeps the scalar entries.
#include "platform/dispatch.h"

namespace ember::platform {

void fill_elementwise_neon(Kernels* /*k*/) {}

}  // namespace ember::platform
