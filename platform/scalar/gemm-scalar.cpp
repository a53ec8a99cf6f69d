// Reference SGEMM: the definition every fast path is checked against, and the only GEMM on
// microcontrollers. Loop order i-p-j keeps the inner loop streaming along a row of B and C.
#include "platform/scalar/activations.h"
#include "platform/scalar/scalar.h"

namespace ember::scalar {

size_t sgemm_scratch_floats(int /*workers*/) { return 0; }

void apply_epilogue(const Epilogue& ep, int m, int n, float* c, int ldc) {
  if (!ep.bias && ep.act == Act::identity) return;
  for (int i = 0; i < m; ++i) {
    float* row = c + static_cast<size_t>(i) * ldc;
    for (int j = 0; j < n; ++j) {
      const float b = ep.bias ? ep.bias[ep.bias_per_row ? i : j] : 0.0f;
      row[j] = activate(ep.act, ep.slope, row[j] + b);
    }
  }
}

void sgemm(const GemmArgs& g, const Parallel& /*par*/, float* /*scratch*/) {
  // op(A)(i, p) and op(B)(p, j) as strides, so one loop nest serves all four transposes.
  const size_t a_row = g.trans_a ? 1 : g.lda, a_col = g.trans_a ? g.lda : 1;
  const size_t b_row = g.trans_b ? 1 : g.ldb, b_col = g.trans_b ? g.ldb : 1;
  for (int i = 0; i < g.m; ++i) {
    float* c = g.c + static_cast<size_t>(i) * g.ldc;
    for (int j = 0; j < g.n; ++j) c[j] = g.beta == 0.0f ? 0.0f : g.beta * c[j];
    for (int p = 0; p < g.k; ++p) {
      const float a = g.alpha * g.a[i * a_row + p * a_col];
      const float* b = g.b + p * b_row;
      for (int j = 0; j < g.n; ++j) c[j] += a * b[j * b_col];
    }
  }
  apply_epilogue(g.ep, g.m, g.n, g.c, g.ldc);
}

}  // namespace ember::scalar
