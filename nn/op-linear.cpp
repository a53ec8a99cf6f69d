// Linear: one GEMM per product; bias and activation fused into the forward GEMM's epilogue.
//
//   x[B,I]  w[O,I] (PyTorch layout)  b[O]  ->  y[B,O]
//
// Determinism: ctx.gemm splits M and N across threads, never K, and db sums rows in batch
// order, so results are bit-identical for any thread count.
#include <cstring>

#include "nn/op-weights.h"
#include "nn/ops.h"

namespace ember::nn {

size_t linear_scratch_floats(int batch, int in, bool int8) {
  return int8 && batch > kInt8DotRows ? int8_panel_floats(static_cast<size_t>(in)) : 0;
}

// y[B,O] = act(x[B,I] w[O,I]^T + b[O])
Status linear_forward(Context& ctx, const float* x, const Weights& w, const float* b, float* y, int batch,
                      int in, int out, Act act, float slope, float* scratch) {
  Epilogue ep;
  ep.bias = b;  // per column = per output feature
  ep.act = act;
  ep.slope = slope;
  return detail::gemm_x_wt(ctx, w, batch, in, out, x, in, y, out, ep, scratch);
}

// dx[B,I] (+)= dy[B,O] w[O,I];  dw[O,I] (+)= dy^T x;  db[O] (+)= sum over B of dy
Status linear_backward(Context& ctx, const float* x, const float* w, const float* dy, float* dx, float* dw,
                       float* db, int batch, int in, int out, GradWrites writes) {
  if (dx) {
    GemmArgs a;
    a.m = batch, a.n = in, a.k = out;
    a.a = dy, a.lda = out;
    a.b = w, a.ldb = in;
    a.beta = writes.dx ? 0.0f : 1.0f;
    a.c = dx, a.ldc = in;
    EMBER_TRY(ctx.gemm(a));
  }
  if (dw) {
    GemmArgs a;
    a.trans_a = true;
    a.m = out, a.n = in, a.k = batch;
    a.a = dy, a.lda = out;
    a.b = x, a.ldb = in;
    a.beta = writes.params ? 0.0f : 1.0f;
    a.c = dw, a.ldc = in;
    EMBER_TRY(ctx.gemm(a));
  }
  // Column sums as one axpy per row: vectorised across the O outputs, rows added in batch
  // order. (A GEMM against a ones vector would need scratch for the ones and is not faster
  // for a [1 x B] x [B x O] product, which is memory bound either way.)
  // Overwriting starts from the first row itself: 0 + dy[0] is dy[0] (but for a -0).
  if (db) {
    const Kernels& k = ctx.k();
    int i = 0;
    if (writes.params) {
      if (batch == 0) std::memset(db, 0, static_cast<size_t>(out) * sizeof(float));
      else std::memcpy(db, dy, static_cast<size_t>(out) * sizeof(float)), i = 1;
    }
    for (; i < batch; ++i) k.axpy(static_cast<size_t>(out), 1.0f, dy + static_cast<size_t>(i) * out, db);
  }
  return Status::ok();
}

}  // namespace ember::nn
