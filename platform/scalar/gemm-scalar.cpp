// Reference SGEMM: the definition every fast path is checked against, and the only GEMM on
// microcontrollers. Loop order i-p-j, over blocks of a row, keeps the inner loop streaming
// along a row of B into the block's sums.
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

// The contract every path keeps: C = alpha * (A B) + beta * C, the product summed over k
// first and C read and written once at the end (the fast paths do this per k-block of the
// driver; for k within one block, exactly once). So a second call with beta = 1 and the same
// operands gives exactly 2 C: gradients accumulated twice are twice the gradient. Summing
// into C itself, term by term, would round differently each time.
void sgemm(const GemmArgs& g, const Parallel& /*par*/, float* /*scratch*/) {
  // op(A)(i, p) and op(B)(p, j) as strides, so one loop nest serves all four transposes.
  const size_t a_row = g.trans_a ? 1 : g.lda, a_col = g.trans_a ? g.lda : 1;
  const size_t b_row = g.trans_b ? 1 : g.ldb, b_col = g.trans_b ? g.ldb : 1;
  constexpr int kCols = 64;  // a block of a row's sums on the stack (256 bytes, fine on a board)
  for (int i = 0; i < g.m; ++i) {
    float* c = g.c + static_cast<size_t>(i) * g.ldc;
    for (int j0 = 0; j0 < g.n; j0 += kCols) {
      const int nb = g.n - j0 < kCols ? g.n - j0 : kCols;
      float acc[kCols];
      for (int j = 0; j < nb; ++j) acc[j] = 0.0f;
      for (int p = 0; p < g.k; ++p) {
        const float a = g.a[i * a_row + p * a_col];
        const float* b = g.b + p * b_row + static_cast<size_t>(j0) * b_col;
        for (int j = 0; j < nb; ++j) acc[j] += a * b[j * b_col];
      }
      for (int j = 0; j < nb; ++j)
        c[j0 + j] = g.beta == 0.0f ? g.alpha * acc[j] : g.alpha * acc[j] + g.beta * c[j0 + j];
    }
  }
  apply_epilogue(g.ep, g.m, g.n, g.c, g.ldc);
}

}  // namespace ember::scalar
