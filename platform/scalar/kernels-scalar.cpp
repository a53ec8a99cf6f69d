// The scalar kernel table: always built, the reference, and the only path on Cortex-M.
#include "platform/scalar/scalar.h"

namespace ember::scalar {

const Kernels kKernels = {
    Isa::scalar, "scalar", sgemm_scratch_floats, sgemm, act_forward, act_backward, exp,   axpy,
    scale,       add,      mul,                  div_sqrt, sum,      dot,          dot_rows, max,
    sumsq,       adam,     sgd_momentum,         widen_i8, dot_i8,   transpose,    patches_k4,
    patches_k4_add, GemmBlocks{},
};

}  // namespace ember::scalar
