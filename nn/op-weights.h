// The products of a layer's weights with its input, for float32 or int8 weights (Weights in
// nn/ops.h): what linear and the convolutions' forwards call instead of ctx.gemm. With float
// weights each is that one GEMM. With int8 weights the output channels go a panel at a time:
// the panel's rows (or, for ConvTranspose2d, its column blocks) are widened to float into
// `panel` (Kernels::widen_i8, w = scale[c] q) and the same GEMM runs on them, writing that
// panel's slice of C. The GEMM never splits K, so each output is the sum it would be with the
// whole widened weight, in the same order. A linear layer of at most kInt8DotRows rows takes
// Kernels::dot_i8 per output instead (nn/ops.h).
#pragma once
#include "core/kernels.h"
#include "nn/ops.h"
#include "platform/context.h"

namespace ember::nn::detail {

// C[m, O] = act(X[m, K] W[O, K]^T + bias)          bias per column; W's rows are channels
Status gemm_x_wt(Context& ctx, const Weights& w, int m, int K, int O, const float* x, int ldx, float* c, int ldc,
                 const Epilogue& ep, float* panel);
// C[O, n] = W[O, K] B[K, n] + bias                  bias per row (may be null)
Status gemm_w_b(Context& ctx, const Weights& w, int O, int K, int n, const float* b, int ldb, float* c, int ldc,
                const float* bias, float* panel);
// The columns of channels [o0, o1) of int8 W[C, O inner] widened into panel[C, (o1 - o0) inner];
// and how many channels a panel holds (at least one).
void widen_int8_columns(const Kernels& k, const Weights& w, int C, int O, int inner, int o0, int o1, float* panel);
int int8_channels_per_panel(size_t unit);
// C[Kc, n] = W[C, Kc]^T B[C, n]                      Kc = O * inner; row j of C is channel j / inner
Status gemm_wt_b(Context& ctx, const Weights& w, int C, int O, int inner, int n, const float* b, int ldb, float* c,
                 int ldc, float* panel);

}  // namespace ember::nn::detail
