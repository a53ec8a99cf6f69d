// ConvTranspose2d: the adjoint of Conv2d, built from the same im2col / col2im (im2col.h).
//
//   x[N,C,H,W]  w[C,O,kh,kw] (= [C, Kc], Kc = O kh kw)  b[O]  ->  y[N,O,Ho,Wo]
//
// View it as the adjoint of the conv whose input is y's image [O, Ho, Wo] and whose output
// is x's [C, H, W] (weights [C, O, kh, kw]: exactly PyTorch's ConvTranspose2d layout), so
// patches are taken from y-shaped images and there are P = H W of them, one per x pixel.
// Per group of G images, in the pixel-row layout:
//   forward   xT[G P, C]   = transpose(x_g)
//             col[G P, Kc] = xT W
//             y_g          = b; y_g += col2im(col)
//   backward  col[G P, Kc] = im2col(dy_g)
//             xT[G P, C]   = transpose(x_g)
//             dW[C, Kc]   += xT^T col              one GEMM, beta = 1
//             dxT[G P, C]  = col W^T               (into xT's buffer: dW is done)
//             dx_g       (+)= transpose(dxT)
//             db[O]       += sums of dy
// Threading and determinism as in op-conv.cpp: the forward's and dxT's GEMMs (row-wise) run
// one run of images per worker with those images' transposes and scatters (the forward's
// runs of every group in one task: detail::gemm_group_runs); dW's threads inside
// over M and N (never K), or on the channel-major path sums in parts per fixed run of images
// (op-helpers.h); groups are fixed by the shape. Bit-identical for any thread count.
#include "nn/im2col.h"
#include "nn/op-helpers.h"
#include "nn/op-weights.h"
#include "nn/ops.h"

namespace ember::nn {

using detail::ConvGeom;

namespace {

// y[O, plane] = bias[o] (or 0): the start the scattered columns are added onto.
void fill_bias(float* y, const float* bias, int channels, size_t plane) {
  for (int o = 0; o < channels; ++o) {
    const float v = bias ? bias[o] : 0.0f;
    for (size_t p = 0; p < plane; ++p) y[o * plane + p] = v;
  }
}

// The conv this op is the adjoint of: image = y's [O, Ho, Wo], patch grid = x's H x W.
ConvGeom adjoint_geom(const ConvShape& s) {
  return ConvGeom{s.o, s.out_h(true), s.out_w(true), s.h, s.w, s.kh, s.kw, s.stride, s.pad};
}

// Scratch: col[G P, Kc] then xT / dxT[G P, C]; channel-major: colT[G][Kc, P], then dW's sum.
int transpose_group_of(const ConvShape& s, const ConvGeom& g) {
  if (detail::use_cm(g)) return detail::images_per_group(s.n, g.pixels() * g.patch());
  return detail::images_per_group(s.n, g.pixels() * (g.patch() + static_cast<size_t>(s.c)));
}

// Channel-major path (detail::use_cm: short patches, e.g. a 1-channel output layer): per
// image colT_n[Kc, P] = W^T x_n (x is already [C, P]), then y_n = b + col2im(colT_n);
// backward colT_n = im2col(dy_n), dW += x_n colT_n^T (summed over the batch, added once),
// dx_n += W colT_n straight into NCHW. No transposes. The forward and dx run image by image
// in parallel, each image's GEMM on its thread alone (Context::gemm_alone); dW's GEMMs one
// image at a time (threaded inside), in image order.
Status conv_t2d_forward_cm(Context& ctx, const ConvShape& s, const ConvGeom& g, const float* x, const Weights& w,
                           const float* b, float* y, float* scratch, float* panel) {
  const size_t P = g.pixels(), Kc = g.patch(), C = static_cast<size_t>(s.c);
  const size_t out_plane = static_cast<size_t>(g.h) * g.w;
  const int group = transpose_group_of(s, g);
  if (!w.int8()) {  // int8 weights share one widened panel: those run image after image below
    GemmArgs a;     // colT[Kc, P] = W[C, Kc]^T x_n[C, P]
    a.trans_a = true;
    a.m = static_cast<int>(Kc), a.n = static_cast<int>(P), a.k = s.c;
    a.a = w.f, a.lda = static_cast<int>(Kc);
    a.ldb = static_cast<int>(P);
    a.c = scratch, a.ldc = static_cast<int>(P);
    for (int n0 = 0; n0 < s.n; n0 += group) {
      a.b = x + n0 * C * P;
      auto scatter = [&](int i) {
        float* yi = y + (n0 + i) * g.image();
        fill_bias(yi, b, s.o, out_plane);
        detail::col2im_cm(g, scratch + i * Kc * P, yi, true);
      };
      EMBER_TRY(detail::gemm_each_image(ctx, a, s.n - n0 < group ? s.n - n0 : group, C * P, Kc * P, [](int) {},
                                        scatter));
    }
    return Status::ok();
  }
  for (int n0 = 0; n0 < s.n; n0 += group) {
    const int images = s.n - n0 < group ? s.n - n0 : group;
    for (int i = 0; i < images; ++i)  // colT[Kc, P] = W[C, Kc]^T x_n[C, P]
      EMBER_TRY(detail::gemm_wt_b(ctx, w, s.c, s.o, s.kh * s.kw, static_cast<int>(P), x + (n0 + i) * C * P,
                                  static_cast<int>(P), scratch + i * Kc * P, static_cast<int>(P), panel));
    auto scatter = [&](int i) {
      float* yi = y + (n0 + i) * g.image();
      fill_bias(yi, b, s.o, out_plane);
      detail::col2im_cm(g, scratch + i * Kc * P, yi, true);
    };
    detail::for_image_runs(ctx, images, scatter);
  }
  return Status::ok();
}

Status conv_t2d_backward_cm(Context& ctx, const ConvShape& s, const ConvGeom& g, const float* x, const float* w,
                            const float* dy, float* dx, float* dw, float* scratch, bool add_dx) {
  const size_t P = g.pixels(), Kc = g.patch(), C = static_cast<size_t>(s.c);
  const int group = transpose_group_of(s, g);
  // dW's parts (op-helpers.h), summed apart and added once: dw receives one addition per call.
  float* parts = scratch + detail::round_line(group * Kc * P);
  const size_t part = detail::round_line(C * Kc);
  GemmArgs da;  // part[C, Kc] += x_n[C, P] colT[Kc, P]^T, per image
  da.trans_b = true;
  da.m = s.c, da.n = static_cast<int>(Kc), da.k = static_cast<int>(P);
  da.a = x, da.lda = static_cast<int>(P);
  da.b = scratch, da.ldb = static_cast<int>(P);
  da.beta = 1.0f;
  da.c = parts, da.ldc = static_cast<int>(Kc);
  if (dw) {
    EMBER_TRY(check_gemm_args(da));
    detail::clear_parts(parts, part);
  }
  for (int n0 = 0; n0 < s.n; n0 += group) {
    const int images = s.n - n0 < group ? s.n - n0 : group;
    auto unfold = [&](int i) { detail::im2col_cm(g, dy + (n0 + i) * g.image(), scratch + i * Kc * P); };
    if (dw) {  // each run unfolds its images, then sums their share of dW into its part
      GemmArgs a = da;
      a.a = x + n0 * C * P;
      detail::weight_grad_in_parts(ctx, a, images, C * P, Kc * P, parts, part, unfold);
    } else {
      detail::for_image_runs(ctx, images, unfold);
    }
    if (dx) {
      GemmArgs a;  // dx_n[C, P] (+)= W[C, Kc] colT[Kc, P]
      a.m = s.c, a.n = static_cast<int>(P), a.k = static_cast<int>(Kc);
      a.a = w, a.lda = static_cast<int>(Kc);
      a.b = scratch, a.ldb = static_cast<int>(P);
      a.beta = add_dx ? 1.0f : 0.0f;
      a.c = dx + n0 * C * P, a.ldc = static_cast<int>(P);
      EMBER_TRY(detail::gemm_each_image(ctx, a, images, Kc * P, C * P, [](int) {}, [](int) {}));
    }
  }
  if (dw) detail::add_parts(ctx.k(), parts, part, C * Kc, dw);
  return Status::ok();
}

// The pixel-row path with int8 weights, a panel of output channels at a time: the panel's
// columns widened, col[G P, bw] = xT W[:, panel] (bw = the panel's channels x kh kw), scattered
// into those channels of y. col holds one panel, not all Kc columns: on a board, that is most
// of the RAM a large layer would take. Each output is the float path's sum, in the same order.
Status conv_t2d_forward_int8(Context& ctx, const ConvShape& s, const ConvGeom& g, const float* x, const Weights& w,
                             const float* b, float* y, float* scratch) {
  const size_t P = g.pixels(), C = static_cast<size_t>(s.c), out_plane = static_cast<size_t>(g.h) * g.w;
  const int inner = s.kh * s.kw, group = transpose_group_of(s, g);
  const int per = detail::int8_channels_per_panel(C * inner);
  const size_t width = static_cast<size_t>(per) * inner, rows = static_cast<size_t>(group) * P;
  float* col = scratch;                                     // [G P, bw]
  float* xt = scratch + detail::round_line(rows * width);   // [G P, C]
  float* panel = xt + detail::round_line(rows * C);         // [C, bw]
  for (int n0 = 0; n0 < s.n; n0 += group) {
    const int images = s.n - n0 < group ? s.n - n0 : group;
    auto start = [&](int i) {
      detail::nchw_to_rows(ctx.k(), x + (n0 + i) * C * P, s.c, P, xt + i * P * C);
      fill_bias(y + (n0 + i) * g.image(), b, s.o, out_plane);
    };
    detail::for_image_runs(ctx, images, start);
    for (int o0 = 0; o0 < s.o; o0 += per) {
      const int o1 = s.o - o0 < per ? s.o : o0 + per;
      const int bw = (o1 - o0) * inner;
      detail::widen_int8_columns(ctx.k(), w, s.c, s.o, inner, o0, o1, panel);
      GemmArgs a;  // col[G P, bw] = xT[G P, C] W[C, panel]
      a.m = static_cast<int>(images * P), a.n = bw, a.k = s.c;
      a.a = xt, a.lda = s.c;
      a.b = panel, a.ldb = bw;
      a.c = col, a.ldc = bw;
      EMBER_TRY(ctx.gemm(a));
      ConvGeom part = g;  // the panel's channels of y's image
      part.c = o1 - o0;
      auto scatter = [&](int i) {
        detail::col2im_rows(ctx.k(), part, col + i * P * bw, bw, y + (n0 + i) * g.image() + o0 * out_plane, true);
      };
      detail::for_image_runs(ctx, images, scatter);
    }
  }
  return Status::ok();
}

}  // namespace

// `workers` does not matter: the work split over threads needs no per-worker memory.
size_t conv_t2d_scratch_floats(const ConvShape& s, int /*workers*/, bool int8) {
  const ConvGeom g = adjoint_geom(s);
  const size_t rows = static_cast<size_t>(transpose_group_of(s, g)) * g.pixels();
  // int8: after the op's own, a panel of whole output channels, C kh kw floats each.
  const size_t unit = static_cast<size_t>(s.c) * s.kh * s.kw;
  const size_t panel = int8 ? detail::round_line(int8_panel_floats(unit)) : 0;
  if (detail::use_cm(g))
    return detail::round_line(rows * g.patch()) + detail::kWeightGradRuns * detail::round_line(g.patch() * s.c) + panel;
  // The pixel-row path with int8 weights holds col for one panel's channels only.
  const size_t col = int8 ? rows * (int8_panel_floats(unit) / s.c) : rows * detail::patch_stride(g.patch());
  return detail::round_line(col) + detail::round_line(rows * static_cast<size_t>(s.c)) + panel;
}

// x[N,C,H,W] w[C,O,kh,kw] b[O] -> y[N,O,Ho,Wo]
Status conv_t2d_forward(Context& ctx, const ConvShape& s, const float* x, const Weights& w, const float* b,
                        float* y, float* scratch) {
  const ConvGeom g = adjoint_geom(s);
  float* panel = scratch + conv_t2d_scratch_floats(s, 1, false);
  if (detail::use_cm(g)) return conv_t2d_forward_cm(ctx, s, g, x, w, b, y, scratch, panel);
  if (w.int8()) return conv_t2d_forward_int8(ctx, s, g, x, w, b, y, scratch);
  const size_t P = g.pixels(), Kc = g.patch(), C = static_cast<size_t>(s.c), ld = detail::patch_stride(Kc);
  const size_t out_plane = static_cast<size_t>(g.h) * g.w;
  const int group = transpose_group_of(s, g);
  float* col = scratch;                                      // [G P, Kc], rows ld apart
  float* xt = scratch + detail::round_line(group * P * ld);  // [G P, C]
  // Image n0 + i of a group in slot i: its rows in xT's, its columns in col's.
  auto rows = [&](int n, int i) { detail::nchw_to_rows(ctx.k(), x + n * C * P, s.c, P, xt + i * P * C); };
  auto scatter = [&](int n, int i) {
    float* yn = y + n * g.image();
    fill_bias(yn, b, s.o, out_plane);
    detail::col2im_rows(ctx.k(), g, col + i * P * ld, ld, yn, true);
  };
  GemmArgs a;  // col[P, Kc] = xT[P, C] W[C, Kc], per image
  a.m = static_cast<int>(P), a.n = static_cast<int>(Kc), a.k = s.c;
  a.a = xt, a.lda = s.c;
  a.b = w.f, a.ldb = static_cast<int>(Kc);
  a.c = col, a.ldc = static_cast<int>(ld);
  return detail::gemm_group_runs(ctx, a, s.n, group, rows, scatter);
}

// dy[N,O,Ho,Wo] -> dx[N,C,H,W] (+)= , dw[C,O,kh,kw] += , db[O] +=  (each skipped when null)
Status conv_t2d_backward(Context& ctx, const ConvShape& s, const float* x, const float* w,
                         const float* dy, float* dx, float* dw, float* db, float* scratch, GradWrites writes) {
  const ConvGeom g = adjoint_geom(s);
  const size_t P = g.pixels(), Kc = g.patch(), C = static_cast<size_t>(s.c);
  if (db) detail::bias_grad_add(ctx, dy, s.n, s.o, static_cast<size_t>(g.h) * g.w, db);
  if (!dx && !dw) return Status::ok();
  if (detail::use_cm(g)) return conv_t2d_backward_cm(ctx, s, g, x, w, dy, dx, dw, scratch, !writes.dx);
  const size_t ld = detail::patch_stride(Kc);
  const int group = transpose_group_of(s, g);
  float* col = scratch;                                      // [G P, Kc], rows ld apart
  float* xt = scratch + detail::round_line(group * P * ld);  // [G P, C]: xT, then dxT
  for (int n0 = 0; n0 < s.n; n0 += group) {
    const int images = s.n - n0 < group ? s.n - n0 : group;
    const int m = static_cast<int>(images * P);
    auto prepare = [&](int i) {
      detail::im2col_rows(ctx.k(), g, dy + (n0 + i) * g.image(), col + i * P * ld, ld);
      if (dw) detail::nchw_to_rows(ctx.k(), x + (n0 + i) * C * P, s.c, P, xt + i * P * C);
    };
    detail::for_image_runs(ctx, images, prepare);  // as the dx runs below cut them

    if (dw) {  // dW[C, Kc] += xT[G P, C]^T col[G P, Kc]
      GemmArgs a;
      a.trans_a = true;
      a.m = s.c, a.n = static_cast<int>(Kc), a.k = m;
      a.a = xt, a.lda = s.c;
      a.b = col, a.ldb = static_cast<int>(ld);
      a.beta = 1.0f;
      a.c = dw, a.ldc = static_cast<int>(Kc);
      EMBER_TRY(ctx.gemm(a));
    }
    if (dx) {  // dxT[P, C] = col[P, Kc] W[C, Kc]^T per image; dx (+)= transpose(dxT) in the same task
      GemmArgs a;
      a.trans_b = true;
      a.m = static_cast<int>(P), a.n = s.c, a.k = static_cast<int>(Kc);
      a.a = col, a.lda = static_cast<int>(ld);
      a.b = w, a.ldb = static_cast<int>(Kc);
      a.c = xt, a.ldc = s.c;
      auto fold = [&](int i) {
        detail::rows_to_nchw(ctx.k(), xt + i * P * C, s.c, P, dx + (n0 + i) * C * P, !writes.dx);
      };
      EMBER_TRY(detail::gemm_image_runs(ctx, a, images, [](int) {}, fold));
    }
  }
  return Status::ok();
}

}  // namespace ember::nn
