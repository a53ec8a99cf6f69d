// im2col / col2im in the pixel-row layout, NCHW <-> row transposes (see im2col.h).
#include "nn/im2col.h"

#include <cstring>

namespace ember::nn::detail {

namespace {

inline int max_int(int a, int b) { return a > b ? a : b; }
inline int min_int(int a, int b) { return a < b ? a : b; }

// The window of output pixel (oy, ox) starts at (iy0, ix0) in the image; the kernel rows
// [ki_lo, ki_hi) and columns [kj_lo, kj_hi) fall inside it, the rest over the padding.
struct Window {
  int iy0, ix0, ki_lo, ki_hi, kj_lo, kj_hi;
  Window(const ConvGeom& g, int oy, int ox) {
    iy0 = oy * g.stride - g.pad;
    ix0 = ox * g.stride - g.pad;
    ki_lo = min_int(max_int(0, -iy0), g.kh);
    ki_hi = max_int(min_int(g.kh, g.h - iy0), ki_lo);
    kj_lo = min_int(max_int(0, -ix0), g.kw);
    kj_hi = max_int(min_int(g.kw, g.w - ix0), kj_lo);
  }
};

// rows[(oy, ox), (c, ki, kj)] = img[c, iy0 + ki, ix0 + kj]. Writes run along each row;
// reads are kw-long runs of an image row. Windows wholly inside the image (most of them)
// take a branch-free copy; KW > 0 fixes the kernel width at compile time so those short
// runs become straight moves (KW = 0: any width); GCC's -O2 would otherwise keep a
// 4-trip loop around each of them.
template <int KW>
void im2col_impl(const ConvGeom& g, const float* img, float* rows) {
  const int kw = KW > 0 ? KW : g.kw;
  const size_t k = g.patch(), plane = static_cast<size_t>(g.h) * g.w;
  for (int oy = 0; oy < g.oh; ++oy) {
    for (int ox = 0; ox < g.ow; ++ox) {
      const Window win(g, oy, ox);
      float* __restrict r = rows + (static_cast<size_t>(oy) * g.ow + ox) * k;
      const bool inside = win.ki_lo == 0 && win.ki_hi == g.kh && win.kj_lo == 0 && win.kj_hi == kw;
      for (int c = 0; c < g.c; ++c) {
        const float* __restrict xc = img + c * plane;
        if (inside) {
          const float* __restrict xr = xc + static_cast<ptrdiff_t>(win.iy0) * g.w + win.ix0;
          for (int ki = 0; ki < g.kh; ++ki, r += kw, xr += g.w)
            #pragma GCC unroll 8
            for (int kj = 0; kj < kw; ++kj) r[kj] = xr[kj];
          continue;
        }
        for (int ki = 0; ki < g.kh; ++ki, r += kw) {
          if (ki < win.ki_lo || ki >= win.ki_hi) {
            #pragma GCC unroll 8
            for (int kj = 0; kj < kw; ++kj) r[kj] = 0.0f;
            continue;
          }
          // Branch-free over the short row: in-range taps copy, the rest are zero; the
          // clamped index keeps every read inside the image row.
          const float* __restrict xr = xc + static_cast<ptrdiff_t>(win.iy0 + ki) * g.w + win.ix0;
          #pragma GCC unroll 8
          for (int kj = 0; kj < kw; ++kj) {
            const int j = kj < win.kj_lo ? win.kj_lo : (kj >= win.kj_hi ? win.kj_hi - 1 : kj);
            const bool in = kj >= win.kj_lo && kj < win.kj_hi;
            r[kj] = in ? xr[j] : 0.0f;
          }
        }
      }
    }
  }
}

// The exact adjoint of im2col_impl: the same traversal, adding instead of copying. Pixels
// are visited in a fixed order, so each image element's sum has a fixed order.
template <int KW>
void col2im_impl(const ConvGeom& g, const float* rows, float* img) {
  const int kw = KW > 0 ? KW : g.kw;
  const size_t k = g.patch(), plane = static_cast<size_t>(g.h) * g.w;
  for (int oy = 0; oy < g.oh; ++oy) {
    for (int ox = 0; ox < g.ow; ++ox) {
      const Window win(g, oy, ox);
      const float* r = rows + (static_cast<size_t>(oy) * g.ow + ox) * k;
      const bool inside = win.ki_lo == 0 && win.ki_hi == g.kh && win.kj_lo == 0 && win.kj_hi == kw;
      for (int c = 0; c < g.c; ++c) {
        float* __restrict xc = img + c * plane;
        if (inside) {
          float* __restrict xr = xc + static_cast<ptrdiff_t>(win.iy0) * g.w + win.ix0;
          const float* __restrict rr = r + static_cast<size_t>(c) * g.kh * kw;
          for (int ki = 0; ki < g.kh; ++ki, rr += kw, xr += g.w)
            #pragma GCC unroll 8
            for (int kj = 0; kj < kw; ++kj) xr[kj] += rr[kj];
          continue;
        }
        for (int ki = win.ki_lo; ki < win.ki_hi; ++ki) {
          const float* __restrict rr = r + (static_cast<size_t>(c) * g.kh + ki) * kw;
          float* __restrict xr = xc + static_cast<ptrdiff_t>(win.iy0 + ki) * g.w + win.ix0;
          for (int kj = win.kj_lo; kj < win.kj_hi; ++kj) xr[kj] += rr[kj];
        }
      }
    }
  }
}

}  // namespace

void im2col_rows(const ConvGeom& g, const float* img, float* rows) {
  switch (g.kw) {
    case 3: return im2col_impl<3>(g, img, rows);
    case 4: return im2col_impl<4>(g, img, rows);
    case 5: return im2col_impl<5>(g, img, rows);
    default: return im2col_impl<0>(g, img, rows);
  }
}

void col2im_rows_add(const ConvGeom& g, const float* rows, float* img) {
  switch (g.kw) {
    case 3: return col2im_impl<3>(g, rows, img);
    case 4: return col2im_impl<4>(g, rows, img);
    case 5: return col2im_impl<5>(g, rows, img);
    default: return col2im_impl<0>(g, rows, img);
  }
}

// Transposes in 16 x 16 tiles so both sides touch whole cache lines.
constexpr int kTile = 16;

void nchw_to_rows(const float* x, int ch, size_t pixels, float* rows) {
  for (size_t p0 = 0; p0 < pixels; p0 += kTile) {
    const size_t p1 = p0 + kTile < pixels ? p0 + kTile : pixels;
    for (int c0 = 0; c0 < ch; c0 += kTile) {
      const int c1 = min_int(c0 + kTile, ch);
      for (size_t p = p0; p < p1; ++p)
        for (int c = c0; c < c1; ++c) rows[p * ch + c] = x[c * pixels + p];
    }
  }
}

void rows_to_nchw(const float* rows, int ch, size_t pixels, float* x, bool add) {
  for (int c0 = 0; c0 < ch; c0 += kTile) {
    const int c1 = min_int(c0 + kTile, ch);
    for (size_t p0 = 0; p0 < pixels; p0 += kTile) {
      const size_t p1 = p0 + kTile < pixels ? p0 + kTile : pixels;
      for (int c = c0; c < c1; ++c) {
        float* xc = x + c * pixels;
        if (add) {
          for (size_t p = p0; p < p1; ++p) xc[p] += rows[p * ch + c];
        } else {
          for (size_t p = p0; p < p1; ++p) xc[p] = rows[p * ch + c];
        }
      }
    }
  }
}

int images_per_group(int n, size_t per_image) {
  if (n <= 1) return 1;
  size_t fit = per_image ? kGroupFloats / per_image : static_cast<size_t>(n);
  if (fit < 1) fit = 1;
  if (fit >= static_cast<size_t>(n)) return n;
  const int groups = static_cast<int>((static_cast<size_t>(n) + fit - 1) / fit);
  return (n + groups - 1) / groups;  // even groups: no thin last GEMM
}

void bias_grad_add(Context& ctx, const float* dy, int n, int o, size_t pixels, float* db) {
  const Kernels& k = ctx.k();
  auto channel = [&](int c) {
    double s = 0.0;
    for (int i = 0; i < n; ++i) s += k.sum(dy + (static_cast<size_t>(i) * o + c) * pixels, pixels);
    db[c] += static_cast<float>(s);
  };
  parallel_for(ctx, o, channel);
}

}  // namespace ember::nn::detail
