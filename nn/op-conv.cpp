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
// core just wrote. dW sums over every pixel of the group, so its GEMM threads inside instead
// (ctx.gemm splits M and N, never K: each element is summed in one fixed order whatever the
// thread count). Every task writes only its own images or its own block of C, and the
// grouping depends on the shape only: every result is bit-identical for any thread count,
// with no per-worker partial sums to reduce. Batching images makes the GEMMs large enough
// (M = G P), which per-image GEMMs of 49 pixels would not be.
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

// Scratch: col[G P, K] then yT / dyT[G P, O]; channel-major: colT[G][K, P], then dW's sum [O, K].
int group_of(const ConvShape& s, const ConvGeom& g) {
  if (detail::use_cm(g)) return detail::images_per_group(s.n, g.pixels() * g.patch());
  return detail::images_per_group(s.n, g.pixels() * (g.patch() + static_cast<size_t>(s.o)));
}

// Channel-major path (detail::use_cm: short patches, e.g. the 1-channel first layer): per
// image y_n[O, P] = W[O, K] colT_n[K, P] + b (bias per row), written straight into NCHW;
// dW[O, K] += dy_n colT_n^T image after image; dcolT_n = W^T dy_n, then col2im. The forward
// and dx run image by image in parallel, each image's unfold, GEMM (on its thread alone:
// Context::gemm_alone) and fold in one task; dW's GEMMs run one image at a time (threaded
// inside), in image order. Deterministic for any thread count.
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
    detail::parallel_for(ctx, images, unfold);
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
  // The batch's dW is summed apart and added once, so dw receives one addition per call
  // (as the pixel-row path's single GEMM gives), not one per image.
  float* dw_sum = scratch + detail::round_line(group * K * P);
  for (int n0 = 0; n0 < s.n; n0 += group) {
    const int images = s.n - n0 < group ? s.n - n0 : group;
    if (dw) {
      auto unfold = [&](int i) { detail::im2col_cm(g, x + (n0 + i) * g.image(), scratch + i * K * P); };
      detail::parallel_for(ctx, images, unfold);
      for (int i = 0; i < images; ++i) {
        GemmArgs a;  // dWsum[O, K] (+)= dy_n[O, P] colT[K, P]^T
        a.trans_b = true;
        a.m = s.o, a.n = static_cast<int>(K), a.k = static_cast<int>(P);
        a.a = dy + (n0 + i) * O * P, a.lda = static_cast<int>(P);
        a.b = scratch + i * K * P, a.ldb = static_cast<int>(P);
        a.beta = n0 + i == 0 ? 0.0f : 1.0f;
        a.c = dw_sum, a.ldc = static_cast<int>(K);
        EMBER_TRY(ctx.gemm(a));
      }
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
  if (dw) ctx.k().add(O * K, dw, dw_sum, dw);
  return Status::ok();
}

}  // namespace

// `workers` does not matter: the work split over threads needs no per-worker memory.
size_t conv2d_scratch_floats(const ConvShape& s, int /*workers*/, bool int8) {
  const ConvGeom g = conv_geom(s);
  const size_t rows = static_cast<size_t>(group_of(s, g)) * g.pixels();
  const size_t panel = int8 ? detail::round_line(int8_panel_floats(g.patch())) : 0;  // after the op's own
  if (detail::use_cm(g)) return detail::round_line(rows * g.patch()) + detail::round_line(g.patch() * s.o) + panel;
  const size_t col = rows * detail::patch_stride(g.patch());
  return detail::round_line(col) + detail::round_line(rows * static_cast<size_t>(s.o)) + panel;
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
  for (int n0 = 0; n0 < s.n; n0 += group) {
    const int images = s.n - n0 < group ? s.n - n0 : group;
    auto unfold = [&](int i) { detail::im2col_rows(ctx.k(), g, x + (n0 + i) * g.image(), col + i * P * ld, ld); };
    auto fold = [&](int i) { detail::rows_to_nchw(ctx.k(), yt + i * P * O, s.o, P, y + (n0 + i) * O * P, false); };
    if (w.int8()) {  // one widened panel of channels at a time, shared by the threads
      Epilogue ep;   // yT[G P, O] = col[G P, K] W[O, K]^T + b
      ep.bias = b;
      detail::parallel_for(ctx, images, unfold);
      EMBER_TRY(detail::gemm_x_wt(ctx, w, static_cast<int>(images * P), static_cast<int>(K), s.o, col,
                                  static_cast<int>(ld), yt, s.o, ep, panel));
      detail::parallel_for(ctx, images, fold);
      continue;
    }
    GemmArgs a;  // yT[P, O] = col[P, K] W[O, K]^T + b, per image
    a.trans_b = true;
    a.m = static_cast<int>(P), a.k = static_cast<int>(K), a.n = s.o;
    a.a = col, a.lda = static_cast<int>(ld);
    a.b = w.f, a.ldb = static_cast<int>(K);
    a.c = yt, a.ldc = s.o;
    a.ep.bias = b;  // per column = per output channel
    EMBER_TRY(detail::gemm_image_runs(ctx, a, images, unfold, fold));
  }
  return Status::ok();
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
  for (int n0 = 0; n0 < s.n; n0 += group) {
    const int images = s.n - n0 < group ? s.n - n0 : group;
    auto prepare = [&](int i) {
      detail::nchw_to_rows(ctx.k(), dy + (n0 + i) * O * P, s.o, P, dyt + i * P * O);
      if (dw) detail::im2col_rows(ctx.k(), g, x + (n0 + i) * g.image(), col + i * P * ld, ld);
    };
    detail::for_image_runs(ctx, images, prepare);  // as the dx runs below cut them

    if (dw) {  // dW[O, K] += dyT[G P, O]^T col[G P, K]
      GemmArgs a;
      a.trans_a = true;
      a.m = s.o, a.n = static_cast<int>(K), a.k = static_cast<int>(images * P);
      a.a = dyt, a.lda = s.o;
      a.b = col, a.ldb = static_cast<int>(ld);
      a.beta = 1.0f;
      a.c = dw, a.ldc = static_cast<int>(K);
      EMBER_TRY(ctx.gemm(a));
    }
    if (dx) {  // dcol[P, K] = dyT[P, O] W[O, K] per image, dx (+)= col2im(dcol) in the same task
      GemmArgs a;
      a.m = static_cast<int>(P), a.n = static_cast<int>(K), a.k = s.o;
      a.a = dyt, a.lda = s.o;
      a.b = w, a.ldb = static_cast<int>(K);
      a.c = col, a.ldc = static_cast<int>(ld);
      auto scatter = [&](int i) {
        const size_t at = (n0 + i) * g.image();
        detail::col2im_rows(ctx.k(), g, col + i * P * ld, ld, dx + at, !writes.dx);
        input_act_backward(ctx.k(), input_act, x + at, dx + at, g.image());
      };
      EMBER_TRY(detail::gemm_image_runs(ctx, a, images, [](int) {}, scatter));
    }
  }
  return Status::ok();
}

}  // namespace ember::nn
