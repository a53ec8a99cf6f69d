// Weight products for float32 and int8 weights (nn/op-weights.h).
#include "nn/op-weights.h"

#include <algorithm>

#include "platform/scalar/scalar.h"

namespace ember::nn {

size_t int8_panel_floats(size_t unit) {
  if (unit == 0) return 0;
  const size_t channels = unit >= kInt8PanelFloats ? 1 : kInt8PanelFloats / unit;
  return channels * unit;
}

namespace detail {
namespace {

int channels_per_panel(size_t unit) { return int8_channels_per_panel(unit); }

// Channels [o0, o1) of W[O, K] (rows) into panel[o1 - o0, K].
void widen_rows(const Kernels& k, const Weights& w, int o0, int o1, size_t K, float* panel) {
  for (int o = o0; o < o1; ++o) k.widen_i8(w.q + static_cast<size_t>(o) * K, w.scale[o], panel + (o - o0) * K, K);
}
}  // namespace

int int8_channels_per_panel(size_t unit) { return static_cast<int>(int8_panel_floats(unit) / (unit ? unit : 1)); }

void widen_int8_columns(const Kernels& k, const Weights& w, int C, int O, int inner, int o0, int o1, float* panel) {
  const size_t Kc = static_cast<size_t>(O) * inner, width = static_cast<size_t>(o1 - o0) * inner;
  for (int c = 0; c < C; ++c)
    for (int o = o0; o < o1; ++o)
      k.widen_i8(w.q + c * Kc + static_cast<size_t>(o) * inner, w.scale[o], panel + c * width + (o - o0) * inner,
                 static_cast<size_t>(inner));
}

Status gemm_x_wt(Context& ctx, const Weights& w, int m, int K, int O, const float* x, int ldx, float* c, int ldc,
                 const Epilogue& ep, float* panel) {
  GemmArgs a;
  a.trans_b = true;
  a.m = m, a.k = K, a.n = O;
  a.a = x, a.lda = ldx;
  a.b = w.f, a.ldb = K;
  a.c = c, a.ldc = ldc;
  a.ep = ep;
  if (!w.int8()) return ctx.gemm(a);
  if (m <= kInt8DotRows) {  // one int8 row read per output, no panel (as the GEMM's epilogue)
    const Kernels& k = ctx.k();
    for (int r = 0; r < m; ++r) {
      float* y = c + static_cast<size_t>(r) * ldc;
      for (int o = 0; o < O; ++o)
        y[o] = w.scale[o] * k.dot_i8(w.q + static_cast<size_t>(o) * K, x + static_cast<size_t>(r) * ldx,
                                     static_cast<size_t>(K)) + (ep.bias ? ep.bias[o] : 0.0f);
      scalar::apply_epilogue(Epilogue{nullptr, false, ep.act, ep.slope}, 1, O, y, ldc);
    }
    return Status::ok();
  }
  const int per = channels_per_panel(static_cast<size_t>(K));
  for (int o0 = 0; o0 < O; o0 += per) {
    const int o1 = std::min(O, o0 + per);
    widen_rows(ctx.k(), w, o0, o1, static_cast<size_t>(K), panel);
    a.n = o1 - o0, a.b = panel, a.c = c + o0;
    a.ep.bias = ep.bias ? ep.bias + o0 : nullptr;
    EMBER_TRY(ctx.gemm(a));
  }
  return Status::ok();
}

Status gemm_w_b(Context& ctx, const Weights& w, int O, int K, int n, const float* b, int ldb, float* c, int ldc,
                const float* bias, float* panel) {
  GemmArgs a;
  a.m = O, a.n = n, a.k = K;
  a.a = w.f, a.lda = K;
  a.b = b, a.ldb = ldb;
  a.c = c, a.ldc = ldc;
  a.ep.bias = bias, a.ep.bias_per_row = true;
  if (!w.int8()) return ctx.gemm(a);
  const int per = channels_per_panel(static_cast<size_t>(K));
  for (int o0 = 0; o0 < O; o0 += per) {
    const int o1 = std::min(O, o0 + per);
    widen_rows(ctx.k(), w, o0, o1, static_cast<size_t>(K), panel);
    a.m = o1 - o0, a.a = panel, a.c = c + static_cast<size_t>(o0) * ldc;
    a.ep.bias = bias ? bias + o0 : nullptr;
    EMBER_TRY(ctx.gemm(a));
  }
  return Status::ok();
}

Status gemm_wt_b(Context& ctx, const Weights& w, int C, int O, int inner, int n, const float* b, int ldb, float* c,
                 int ldc, float* panel) {
  GemmArgs a;
  a.trans_a = true;
  a.m = O * inner, a.n = n, a.k = C;
  a.a = w.f, a.lda = O * inner;
  a.b = b, a.ldb = ldb;
  a.c = c, a.ldc = ldc;
  if (!w.int8()) return ctx.gemm(a);
  const int per = channels_per_panel(static_cast<size_t>(C) * inner);
  for (int o0 = 0; o0 < O; o0 += per) {
    const int o1 = std::min(O, o0 + per);
    widen_int8_columns(ctx.k(), w, C, O, inner, o0, o1, panel);
    a.m = (o1 - o0) * inner, a.a = panel, a.lda = a.m;
    a.c = c + static_cast<size_t>(o0) * inner * ldc;
    EMBER_TRY(ctx.gemm(a));
  }
  return Status::ok();
}

}  // namespace detail
}  // namespace ember::nn
