// Conv2d: forward and backward as im2col + GEMM over groups of images.
//
//   x[N,C,H,W]  w[O,C,kh,kw] (= [O,K], K = C kh kw)  b[O]  ->  y[N,O,Ho,Wo]  (P = Ho Wo)
//
// Per group of G images (images_per_group: fixed by the shape), in the pixel-row layout of
// im2col.h (a conv is a Linear over patches):
//   forward   col[G P, K] = im2col(x_g)
//             yT[G P, O]  = col W^T + b          bias per column in the epilogue
//             y_g         = transpose(yT)        back to NCHW
//   backward  dyT[G P, O] = transpose(dy_g)
//             dW[O, K]   += dyT^T col            one GEMM, beta = 1 (k = G P: W read once per group)
//             dcol[G P,K] = dyT W                (overwrites col: dW no longer needs it)
//             dx_g      (+)= col2im(dcol)
//             db[O]      += sums of dy over n and pixels
//
// Threading and determinism: the forward's GEMM and dcol's are row-wise (each row of yT or
// dcol is one pixel's sums over K or O), so the group's images are cut into one run per
// worker, each unfolded, multiplied and folded by one task on its own core
// (detail::gemm_image_runs): a core then reads back what it wrote rather than rows another
// core just wrote. The forward's task takes its run of every group in turn
// (detail::gemm_group_runs): one fork-join per call. dW sums over every pixel of the group: a
// small dW in parts, one per fixed run of the group's images, each summed in the task that
// unfolded them (which then folds their dx), group after group in one task, the parts added
// in order at the end (op-helpers.h); a large dW is one GEMM per group threaded inside
// (ctx.gemm splits M and N, never K). Runs, parts and groups depend on the shape only, never
// on the thread count, and every task writes only its own images, part or block of C: every
// result is bit-identical for any thread count. Batching images makes the GEMMs large
// enough (M = G P), which per-image GEMMs of 49 pixels would not be.
#include "nn/im2col.h"
#include "nn/op-helpers.h"
#include "nn/op-weights.h"
#include "nn/ops.h"

namespace ember::nn {

using detail::ConvGeom;

int ConvShape::out_h(bool transposed) const {
  return transposed ? (h - 1) * stride - 2 * pad + kh : (h + 2 * pad - kh) / stride + 1;
}
int ConvShape::out_w(bool transposed) const {
  return transposed ? (w - 1) * stride - 2 * pad + kw : (w + 2 * pad - kw) / stride + 1;
}

namespace {

ConvGeom conv_geom(const ConvShape& s) {
  return ConvGeom{s.c, s.h, s.w, s.out_h(false), s.out_w(false), s.kh, s.kw, s.stride, s.pad};
}

// dx_n = dx_n * f'(x_n) for one image just folded, as the activation's own backward would do
// it later over the whole batch (the same kernel, so the same bits), but while dx_n is hot.
void input_act_backward(const Kernels& k, InputAct f, const float* x_n, float* dx_n, size_t n) {
  if (f.act != Act::identity) k.act_backward(f.act, f.slope, x_n, x_n, dx_n, dx_n, n);
}

// dW's parts (op-helpers.h), each [O, K] in whole lines. The channel-major path always sums
// in parts (its patches are short); the pixel-row path when dW is small enough.
size_t part_floats(const ConvShape& s, const ConvGeom& g) {
  return detail::round_line(g.patch() * static_cast<size_t>(s.o));
}
bool dw_in_parts(const ConvShape& s, const ConvGeom& g) {
  return detail::use_cm(g) || g.patch() * static_cast<size_t>(s.o) <= detail::kMaxPartFloats;
}

// Scratch: col[G P, K] then yT / dyT[G P, O]; channel-major: colT[G][K, P]; then dW's parts.
int group_of(const ConvShape& s, const ConvGeom& g) {
  if (detail::use_cm(g)) return detail::images_per_group(s.n, g.pixels() * g.patch());
  return detail::images_per_group(s.n, g.pixels() * (g.patch() + static_cast<size_t>(s.o)));
}

// Channel-major path (detail::use_cm: short patches, e.g. the 1-channel first layer): per
// image y_n[O, P] = W[O, K] colT_n[K, P] + b (bias per row), written straight into NCHW;
// dW[O, K] += dy_n colT_n^T image after image; dcolT_n = W^T dy_n, then col2im. The forward
// and dx run image by image in parallel, each image's unfold, GEMM (on its thread alone:
// Context::gemm_alone) and fold in one task; dW's per-image GEMMs run in parts (above), each
// run's images in order on its own thread. Deterministic for any thread count.
Status conv2d_forward_cm(Context& ctx, const ConvShape& s, const ConvGeom& g, const float* x, const Weights& w,
                         const float* b, float* y, float* scratch, float* panel) {
  const size_t P = g.pixels(), K = g.patch(), O = static_cast<size_t>(s.o);
  const int group = group_of(s, g);
  if (!w.int8()) {  // int8 weights share one widened panel: those run image after image below
    GemmArgs a;     // y_n[O, P] = W[O, K] colT[K, P] + b
    a.m = s.o, a.n = static_cast<int>(P), a.k = static_cast<int>(K);
    a.a = w.f, a.lda = static_cast<int>(K);
    a.b = scratch, a.ldb = static_cast<int>(P);
    a.ldc = static_cast<int>(P);
    a.ep.bias = b, a.ep.bias_per_row = true;
    for (int n0 = 0; n0 < s.n; n0 += group) {
      a.c = y + n0 * O * P;
      auto unfold = [&](int i) { detail::im2col_cm(g, x + (n0 + i) * g.image(), scratch + i * K * P); };
      EMBER_TRY(detail::gemm_each_image(ctx, a, s.n - n0 < group ? s.n - n0 : group, K * P, O * P, unfold,
                                        [](int) {}));
    }
    return Status::ok();
  }
  for (int n0 = 0; n0 < s.n; n0 += group) {
    const int images = s.n - n0 < group ? s.n - n0 : group;
    auto unfold = [&](int i) { detail::im2col_cm(g, x + (n0 + i) * g.image(), scratch + i * K * P); };
    detail::for_image_runs(ctx, images, unfold);
    for (int i = 0; i < images; ++i)  // y_n[O, P] = W[O, K] colT[K, P] + b
      EMBER_TRY(detail::gemm_w_b(ctx, w, s.o, static_cast<int>(K), static_cast<int>(P), scratch + i * K * P,
                                 static_cast<int>(P), y + (n0 + i) * O * P, static_cast<int>(P), b, panel));
  }
  return Status::ok();
}

Status conv2d_backward_cm(Context& ctx, const ConvShape& s, const ConvGeom& g, const float* x, const float* w,
                          const float* dy, float* dx, float* dw, float* scratch, bool add_dx, InputAct input_act) {
  const size_t P = g.pixels(), K = g.patch(), O = static_cast<size_t>(s.o);
  const int group = group_of(s, g);
  // dW's parts, summed apart and added once, so dw receives one addition per call.
  float* parts = scratch + detail::round_line(group * K * P);
  const size_t part = part_floats(s, g);
  GemmArgs da;  // part[O, K] += dy_n[O, P] colT[K, P]^T, per image
  da.trans_b = true;
  da.m = s.o, da.n = static_cast<int>(K), da.k = static_cast<int>(P);
  da.a = dy, da.lda = static_cast<int>(P);
  da.b = scratch, da.ldb = static_cast<int>(P);
  da.beta = 1.0f;
  da.c = parts, da.ldc = static_cast<int>(K);
  if (dw) {
    EMBER_TRY(check_gemm_args(da));
    detail::clear_parts(parts, part);
  }
  for (int n0 = 0; n0 < s.n; n0 += group) {
    const int images = s.n - n0 < group ? s.n - n0 : group;
    if (dw) {
      GemmArgs a = da;
      a.a = dy + n0 * O * P;
      auto unfold = [&](int i) { detail::im2col_cm(g, x + (n0 + i) * g.image(), scratch + i * K * P); };
      detail::weight_grad_in_parts(ctx, a, images, O * P, K * P, parts, part, unfold);
    }
    if (dx) {
      GemmArgs a;  // dcolT[K, P] = W[O, K]^T dy_n[O, P]
      a.trans_a = true;
      a.m = static_cast<int>(K), a.n = static_cast<int>(P), a.k = s.o;
      a.a = w, a.lda = static_cast<int>(K);
      a.b = dy + n0 * O * P, a.ldb = static_cast<int>(P);
      a.c = scratch, a.ldc = static_cast<int>(P);
      auto fold = [&](int i) {
        const size_t at = (n0 + i) * g.image();
        detail::col2im_cm(g, scratch + i * K * P, dx + at, add_dx);
        input_act_backward(ctx.k(), input_act, x + at, dx + at, g.image());
      };
      EMBER_TRY(detail::gemm_each_image(ctx, a, images, O * P, K * P, [](int) {}, fold));
    }
  }
  if (dw) detail::add_parts(ctx.k(), parts, part, O * K, dw);
  return Status::ok();
}

}  // namespace

// `workers` does not matter: the work split over threads needs no per-worker memory.
size_t conv2d_scratch_floats(const ConvShape& s, int /*workers*/, bool int8) {
  const ConvGeom g = conv_geom(s);
  const size_t rows = static_cast<size_t>(group_of(s, g)) * g.pixels();
  const size_t panel = int8 ? detail::round_line(int8_panel_floats(g.patch())) : 0;  // after the op's own
  const size_t parts = dw_in_parts(s, g) ? detail::kWeightGradRuns * part_floats(s, g) : 0;
  if (detail::use_cm(g)) return detail::round_line(rows * g.patch()) + parts + panel;
  const size_t col = rows * detail::patch_stride(g.patch());
  return detail::round_line(col) + detail::round_line(rows * static_cast<size_t>(s.o)) + parts + panel;
}

// x[N,C,H,W] w[O,C,kh,kw] b[O] -> y[N,O,Ho,Wo]
Status conv2d_forward(Context& ctx, const ConvShape& s, const float* x, const Weights& w, const float* b,
                      float* y, float* scratch) {
  const ConvGeom g = conv_geom(s);
  float* panel = scratch + conv2d_scratch_floats(s, 1, false);
  if (detail::use_cm(g)) return conv2d_forward_cm(ctx, s, g, x, w, b, y, scratch, panel);
  const size_t P = g.pixels(), K = g.patch(), O = static_cast<size_t>(s.o), ld = detail::patch_stride(K);
  const int group = group_of(s, g);
  float* col = scratch;                                      // [G P, K], rows ld apart
  float* yt = scratch + detail::round_line(group * P * ld);  // [G P, O]
  // Image n0 + i of a group in slot i: its columns in col's rows, its outputs in yT's.
  auto unfold = [&](int n, int i) { detail::im2col_rows(ctx.k(), g, x + n * g.image(), col + i * P * ld, ld); };
  auto fold = [&](int n, int i) { detail::rows_to_nchw(ctx.k(), yt + i * P * O, s.o, P, y + n * O * P, false); };
  if (w.int8()) {  // one widened panel of channels at a time, shared by the threads
    Epilogue ep;   // yT[G P, O] = col[G P, K] W[O, K]^T + b
    ep.bias = b;
    for (int n0 = 0; n0 < s.n; n0 += group) {
      const int images = s.n - n0 < group ? s.n - n0 : group;
      detail::for_image_runs(ctx, images, [&](int i) { unfold(n0 + i, i); });
      EMBER_TRY(detail::gemm_x_wt(ctx, w, static_cast<int>(images * P), static_cast<int>(K), s.o, col,
                                  static_cast<int>(ld), yt, s.o, ep, panel));
      detail::for_image_runs(ctx, images, [&](int i) { fold(n0 + i, i); });
    }
    return Status::ok();
  }
  GemmArgs a;  // yT[P, O] = col[P, K] W[O, K]^T + b, per image
  a.trans_b = true;
  a.m = static_cast<int>(P), a.k = static_cast<int>(K), a.n = s.o;
  a.a = col, a.lda = static_cast<int>(ld);
  a.b = w.f, a.ldb = static_cast<int>(K);
  a.c = yt, a.ldc = s.o;
  a.ep.bias = b;  // per column = per output channel
  return detail::gemm_group_runs(ctx, a, s.n, group, unfold, fold);
}

// dy[N,O,Ho,Wo] -> dx[N,C,H,W] (+)= , dw[O,C,kh,kw] += , db[O] +=  (each skipped when null);
// then dx *= f'(x) when the input's activation is folded in (InputAct).
Status conv2d_backward(Context& ctx, const ConvShape& s, const float* x, const float* w, const float* dy,
                       float* dx, float* dw, float* db, float* scratch, GradWrites writes, InputAct input_act) {
  const ConvGeom g = conv_geom(s);
  const size_t P = g.pixels(), K = g.patch(), O = static_cast<size_t>(s.o), ld = detail::patch_stride(K);
  if (db) detail::bias_grad_add(ctx, dy, s.n, s.o, P, db);
  if (!dx && !dw) return Status::ok();
  if (input_act.act != Act::identity && dx && !writes.dx)
    return Status::error(Code::invalid_argument, "conv2d backward: an input activation needs dx written, not added");
  if (detail::use_cm(g)) return conv2d_backward_cm(ctx, s, g, x, w, dy, dx, dw, scratch, !writes.dx, input_act);
  const int group = group_of(s, g);
  float* col = scratch;                                       // [G P, K], rows ld apart: col, then dcol
  float* dyt = scratch + detail::round_line(group * P * ld);  // [G P, O]
  float* parts = dyt + detail::round_line(group * P * O);     // dW's parts [O, K]
  const size_t part = part_floats(s, g);
  GemmArgs da;  // part[O, K] += dyT[run P, O]^T col[run P, K]
  da.trans_a = true;
  da.m = s.o, da.n = static_cast<int>(K), da.k = static_cast<int>(group * P);
  da.a = dyt, da.lda = s.o;
  da.b = col, da.ldb = static_cast<int>(ld);
  da.beta = 1.0f;
  da.c = parts, da.ldc = static_cast<int>(K);
  GemmArgs xa;  // dcol[P, K] = dyT[P, O] W[O, K] per image
  xa.m = static_cast<int>(P), xa.n = static_cast<int>(K), xa.k = s.o;
  xa.a = dyt, xa.lda = s.o;
  xa.b = w, xa.ldb = static_cast<int>(K);
  xa.c = col, xa.ldc = static_cast<int>(ld);
  const bool in_parts = dw && dw_in_parts(s, g);
  if (dw) EMBER_TRY(check_gemm_args(da));
  if (in_parts) detail::clear_parts(parts, part);
  if (dx) {
    GemmArgs all = xa;
    all.m = static_cast<int>(group * P);
    EMBER_TRY(check_gemm_args(all));
  }
  // Image n0 + i of a group in slot i: its dyT rows and columns in the slot's rows.
  auto prepare = [&](int n, int i) {
    detail::nchw_to_rows(ctx.k(), dy + n * O * P, s.o, P, dyt + i * P * O);
    if (dw) detail::im2col_rows(ctx.k(), g, x + n * g.image(), col + i * P * ld, ld);
  };
  auto scatter = [&](int n, int i) {
    const size_t at = n * g.image();
    detail::col2im_rows(ctx.k(), g, col + i * P * ld, ld, dx + at, !writes.dx);
    input_act_backward(ctx.k(), input_act, x + at, dx + at, g.image());
  };
  if (in_parts) {
    // Each run of slots in one task, group after group (detail::for_group_runs): its images'
    // dyT rows and columns, its part of dW (dW no longer needs the columns after), dcol over
    // them, dx (+)= col2im(dcol). Part r sums run r of every group, in group order.
    auto run = [&](int r, int worker, int n0, int i0, int i1) {
      for (int i = i0; i < i1; ++i) prepare(n0 + i, i);
      GemmArgs a = da;
      a.k = static_cast<int>((i1 - i0) * P);
      a.a = dyt + i0 * P * O, a.b = col + i0 * P * ld, a.c = parts + r * part;
      (void)ctx.gemm_alone(a, worker);  // cannot fail: checked for a whole group
      if (!dx) return;
      GemmArgs d = xa;
      d.m = static_cast<int>((i1 - i0) * P);
      d.a = dyt + i0 * P * O, d.c = col + i0 * P * ld;
      (void)ctx.gemm_alone(d, worker);
      for (int i = i0; i < i1; ++i) scatter(n0 + i, i);
    };
    detail::for_group_runs(ctx, s.n, group, detail::weight_grad_runs(group), run);
    detail::add_parts(ctx.k(), parts, part, O * K, dw);
    return Status::ok();
  }
  for (int n0 = 0; n0 < s.n; n0 += group) {
    const int images = s.n - n0 < group ? s.n - n0 : group;
    auto prepare_i = [&](int i) { prepare(n0 + i, i); };
    auto scatter_i = [&](int i) { scatter(n0 + i, i); };
    if (dw) {  // dW[O, K] += dyT[G P, O]^T col[G P, K], one GEMM threaded inside
      detail::for_image_runs(ctx, images, prepare_i);  // as the dx runs below cut them
      GemmArgs a = da;
      a.k = static_cast<int>(images * P);
      a.c = dw;
      EMBER_TRY(ctx.gemm(a));
    }
    // dcol per run of images, dx (+)= col2im(dcol) in the same task
    if (dx && dw) EMBER_TRY(detail::gemm_image_runs(ctx, xa, images, [](int) {}, scatter_i));
    if (dx && !dw) EMBER_TRY(detail::gemm_image_runs(ctx, xa, images, prepare_i, scatter_i));
  }
  return Status::ok();
}

}  // namespace ember::nn
