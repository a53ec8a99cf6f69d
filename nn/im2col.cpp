// im2col / col2im in both layouts, NCHW <-> row transposes, image grouping (see im2col.h).
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

// Image rows of runtime width in blocks of 8 with a fixed trip count: GCC's -O2 vectorises
// those, where a plain loop over a runtime width stayed scalar. (The ring's whole-row copies
// and slot clears call memcpy / memset instead: libc moves them with the CPU's widest vectors,
// measured faster there; docs/lab-notes.md.)
constexpr int kRowBlock = 8;
inline void zero_row(float* __restrict out, int n) {
  int x = 0;
  for (; x + kRowBlock <= n; x += kRowBlock)
    for (int j = 0; j < kRowBlock; ++j) out[x + j] = 0.0f;
  for (; x < n; ++x) out[x] = 0.0f;
}
inline void add_row(float* __restrict out, const float* __restrict in, int n) {
  int x = 0;
  for (; x + kRowBlock <= n; x += kRowBlock)
    for (int j = 0; j < kRowBlock; ++j) out[x + j] += in[x + j];
  for (; x < n; ++x) out[x] += in[x];
}

// One kernel row's run of KW floats (KW > 0: fixed at compile time). The runs go through
// small arrays and memcpy so that GCC's SLP vectoriser turns a 4-float run into a single
// 16-byte load / add / store at the baseline ISA (-O2, SSE2 or NEON); indexed loops over
// `r[kj]` stayed scalar (4 movss per run), which made im2col/col2im cost about a fifth of
// the DCGAN convolutions' time.
template <int KW>
inline void copy_run(float* __restrict dst, const float* __restrict src, int kw) {
  if (KW > 0) {
    std::memcpy(dst, src, sizeof(float) * (KW > 0 ? KW : 1));
  } else {
    for (int j = 0; j < kw; ++j) dst[j] = src[j];
  }
}
template <int KW>
inline void add_run(float* __restrict dst, const float* __restrict src, int kw) {
  if (KW > 0) {
    float a[KW > 0 ? KW : 1], b[KW > 0 ? KW : 1];
    std::memcpy(a, dst, sizeof a);
    std::memcpy(b, src, sizeof b);
    for (int j = 0; j < KW; ++j) a[j] += b[j];
    std::memcpy(dst, a, sizeof a);
  } else {
    for (int j = 0; j < kw; ++j) dst[j] += src[j];
  }
}

// rows[(oy, ox), (c, ki, kj)] = img[c, iy0 + ki, ix0 + kj]. Writes run along each row;
// reads are kw-long runs of an image row. Windows wholly inside the image take whole-run
// copies; a window over the padding builds each row's run branch-free (in-range taps copy,
// the rest are zero; the clamped index keeps every read inside the image row) and stores it
// as one run. KW > 0 fixes the kernel width at compile time (KW = 0: any width).
template <int KW>
void im2col_impl(const ConvGeom& g, const float* img, float* rows, size_t ld) {
  const int kw = KW > 0 ? KW : g.kw;
  const size_t plane = static_cast<size_t>(g.h) * g.w;
  for (int oy = 0; oy < g.oh; ++oy) {
    for (int ox = 0; ox < g.ow; ++ox) {
      const Window win(g, oy, ox);
      float* __restrict r = rows + (static_cast<size_t>(oy) * g.ow + ox) * ld;
      const bool inside = win.ki_lo == 0 && win.ki_hi == g.kh && win.kj_lo == 0 && win.kj_hi == kw;
      if (inside) {
        const float* xc = img + static_cast<ptrdiff_t>(win.iy0) * g.w + win.ix0;
        for (int c = 0; c < g.c; ++c, xc += plane) {
          const float* xr = xc;
          for (int ki = 0; ki < g.kh; ++ki, r += kw, xr += g.w) copy_run<KW>(r, xr, kw);
        }
        continue;
      }
      const bool full_width = win.kj_lo == 0 && win.kj_hi == kw;
      for (int c = 0; c < g.c; ++c) {
        const float* __restrict xc = img + c * plane;
        for (int ki = 0; ki < g.kh; ++ki, r += kw) {
          if (ki < win.ki_lo || ki >= win.ki_hi) {
            for (int kj = 0; kj < kw; ++kj) r[kj] = 0.0f;
            continue;
          }
          const float* __restrict xr = xc + static_cast<ptrdiff_t>(win.iy0 + ki) * g.w + win.ix0;
          if (full_width) {
            copy_run<KW>(r, xr, kw);
            continue;
          }
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
// are visited in a fixed order, so each image element's sum has a fixed order (the same
// order whichever path a window takes: only the vector width of the adds differs).
template <int KW>
void col2im_impl(const ConvGeom& g, const float* rows, size_t ld, float* img) {
  const int kw = KW > 0 ? KW : g.kw;
  const size_t plane = static_cast<size_t>(g.h) * g.w;
  for (int oy = 0; oy < g.oh; ++oy) {
    for (int ox = 0; ox < g.ow; ++ox) {
      const Window win(g, oy, ox);
      const float* r = rows + (static_cast<size_t>(oy) * g.ow + ox) * ld;
      const bool full_width = win.kj_lo == 0 && win.kj_hi == kw;
      for (int c = 0; c < g.c; ++c) {
        float* xc = img + c * plane;
        for (int ki = win.ki_lo; ki < win.ki_hi; ++ki) {
          const float* rr = r + (static_cast<size_t>(c) * g.kh + ki) * kw;
          float* xr = xc + static_cast<ptrdiff_t>(win.iy0 + ki) * g.w + win.ix0;
          if (full_width) {
            add_run<KW>(xr, rr, kw);
            continue;
          }
          for (int kj = win.kj_lo; kj < win.kj_hi; ++kj) xr[kj] += rr[kj];
        }
      }
    }
  }
}

// Fast paths: a block of channels at a time through a ring of zero-padded image rows on the
// stack (kPadFloats in all): per channel the kh rows the current output row's windows cover,
// each padded to wp = w + 2 pad columns. Inside a padded row no window hangs over an edge, so
// every kernel row is one whole run (a single 16-byte move for kw = 4) with no per-window
// clipping; about half the windows of a 7x7 output touch the padding, and their clipped
// scalar copies were most of im2col's time. Per pixel, a block's runs fill (or are read from)
// one contiguous stretch of the pixel's row. A ring holds kh rows per channel where a padded
// plane held all of them, so a block has more channels (17 for a 28x28 k4 layer against 2):
// the stretch is 17 cache lines rather than 2, and each pixel row is visited in 2 passes
// rather than 16: stores of a few lines 2 KB apart were what im2col waited on.
constexpr int kPadFloats = 2048;
constexpr int kMaxRingRows = 16;  // kernel heights the ring takes (its row pointers)

// The ring slot of image row `row` (negative above the image): row mod slots, in [0, slots).
inline int ring_slot(int row, int slots) { return ((row % slots) + slots) % slots; }

struct Ring {
  int wp, block;  // padded row, channels per block (0: does not fit)
  explicit Ring(const ConvGeom& g) : wp(g.w + 2 * g.pad) {
    const long per_channel = static_cast<long>(g.kh) * wp;
    block = per_channel <= kPadFloats ? min_int(static_cast<int>(kPadFloats / per_channel), g.c) : 0;
  }
};

template <int KW>  // KW > 0: a square KW x KW kernel, both loops fixed at compile time
void im2col_ring(const Kernels& k, const ConvGeom& g, const Ring& rg, const float* img, float* rows, size_t ld) {
  const int kw = KW > 0 ? KW : g.kw, kh = KW > 0 ? KW : g.kh;
  const size_t plane = static_cast<size_t>(g.h) * g.w, run = static_cast<size_t>(g.kh) * kw;
  const int slots = g.kh, per_channel = g.kh * rg.wp;
  float ring[kPadFloats];
  for (int i = 0; i < rg.block * per_channel; ++i) ring[i] = 0.0f;  // padding columns stay zero
  for (int c0 = 0; c0 < g.c; c0 += rg.block) {
    const int cb = min_int(rg.block, g.c - c0);
    int next = -g.pad;  // the next image row to bring in (rows above 0 are padding)
    for (int oy = 0; oy < g.oh; ++oy) {
      const int iy0 = oy * g.stride - g.pad;
      if (next < iy0) next = iy0;  // stride > kh: rows no window reads
      for (; next < iy0 + g.kh; ++next) {
        const int slot = ring_slot(next, slots);
        for (int j = 0; j < cb; ++j) {
          float* dst = ring + j * per_channel + slot * rg.wp + g.pad;
          if (next < 0 || next >= g.h) zero_row(dst, g.w);
          else std::memcpy(dst, img + (c0 + j) * plane + static_cast<size_t>(next) * g.w, g.w * sizeof(float));
        }
      }
      const float* src[kMaxRingRows];
      for (int ki = 0; ki < g.kh; ++ki) src[ki] = ring + ring_slot(iy0 + ki, slots) * rg.wp;
      float* r = rows + static_cast<size_t>(oy) * g.ow * ld + c0 * run;
      if (KW == 4) {  // a pixel's 4 x 4 patch of a channel is 16 floats: the ISA's kernel
        k.patches_k4(src, per_channel, cb, g.ow, g.stride, r, ld);
        continue;
      }
      for (int ox = 0; ox < g.ow; ++ox, r += ld) {
        float* dst = r;
        const int x0 = ox * g.stride;
        for (int j = 0; j < cb; ++j)
          for (int ki = 0; ki < kh; ++ki, dst += kw) copy_run<KW>(dst, src[ki] + j * per_channel + x0, kw);
      }
    }
  }
}

// col2im_ring is im2col_ring's adjoint over the same ring of padded rows: a row's slot is
// zeroed when the first window reaching it comes, every window's runs are added into the
// slots, and a row no later window reaches is added to (or written over) the image, its
// padding columns dropped. Windows are visited per output row in phases ox = f, f + q,
// f + 2q, ... (q = ceil(kw / stride)), so windows one after the other never overlap: adding a
// run that half-overlaps the run just stored would stall on store-to-load forwarding
// (stride 2, kw 4). Every image element is 0 plus its contributions in that fixed window
// order, then added once: the order depends on the shape alone. Image rows no window
// reaches (stride > kh) are left alone, or zeroed when writing.
template <int KW>  // KW > 0: a square KW x KW kernel
void col2im_ring(const Kernels& k, const ConvGeom& g, const Ring& rg, const float* rows, size_t ld, float* img,
                 bool add) {
  const int kw = KW > 0 ? KW : g.kw, kh = KW > 0 ? KW : g.kh;
  const size_t plane = static_cast<size_t>(g.h) * g.w, run = static_cast<size_t>(kh) * kw;
  const int q = (kw + g.stride - 1) / g.stride, slots = kh, per_channel = kh * rg.wp;
  float ring[kPadFloats];
  for (int c0 = 0; c0 < g.c; c0 += rg.block) {
    const int cb = min_int(rg.block, g.c - c0);
    // Image row iy of the block's channels: out (+)= the slot's interior, or zeros (slot < 0).
    auto store_row = [&](int iy, int slot) {
      if (iy < 0 || iy >= g.h || (slot < 0 && add)) return;
      for (int j = 0; j < cb; ++j) {
        float* xr = img + (c0 + j) * plane + static_cast<size_t>(iy) * g.w;
        if (slot < 0) {
          zero_row(xr, g.w);
          continue;
        }
        const float* pr = ring + j * per_channel + slot * rg.wp + g.pad;
        if (add) add_row(xr, pr, g.w);
        else std::memcpy(xr, pr, g.w * sizeof(float));  // pr holds 0 + its sum: never -0
      }
    };
    int lo = -g.pad, next = -g.pad;  // rows [lo, next) are in the ring
    for (int oy = 0; oy < g.oh; ++oy) {
      const int iy0 = oy * g.stride - g.pad;
      for (; lo < next && lo < iy0; ++lo) store_row(lo, ring_slot(lo, slots));
      for (; next < iy0; ++next, ++lo) store_row(next, -1);  // stride > kh: rows no window reaches
      for (; next < iy0 + kh; ++next) {
        float* slot_row = ring + ring_slot(next, slots) * rg.wp;
        for (int j = 0; j < cb; ++j) std::memset(slot_row + j * per_channel, 0, rg.wp * sizeof(float));
      }
      float* dst[kMaxRingRows];
      for (int ki = 0; ki < kh; ++ki) dst[ki] = ring + ring_slot(iy0 + ki, slots) * rg.wp;
      for (int f = 0; f < q; ++f) {
        if (KW == 4) {  // as im2col_ring
          k.patches_k4_add(rows + static_cast<size_t>(oy) * g.ow * ld + c0 * run, ld, cb, f, q, g.ow, g.stride, dst,
                           per_channel);
          continue;
        }
        for (int ox = f; ox < g.ow; ox += q) {
          const float* r = rows + (static_cast<size_t>(oy) * g.ow + ox) * ld + c0 * run;
          const int x0 = ox * g.stride;
          for (int j = 0; j < cb; ++j)
            for (int ki = 0; ki < kh; ++ki, r += kw) add_run<KW>(dst[ki] + j * per_channel + x0, r, kw);
        }
      }
    }
    for (; lo < next; ++lo) store_row(lo, ring_slot(lo, slots));
    for (; next < g.h; ++next) store_row(next, -1);
  }
}

}  // namespace

void im2col_rows(const Kernels& k, const ConvGeom& g, const float* img, float* rows, size_t ld) {
  const Ring rg(g);
  if (rg.block && g.kh <= kMaxRingRows) {
    switch (g.kh == g.kw ? g.kw : 0) {
      case 3: return im2col_ring<3>(k, g, rg, img, rows, ld);
      case 4: return im2col_ring<4>(k, g, rg, img, rows, ld);
      case 5: return im2col_ring<5>(k, g, rg, img, rows, ld);
      default: return im2col_ring<0>(k, g, rg, img, rows, ld);
    }
  }
  switch (g.kw) {
    case 3: return im2col_impl<3>(g, img, rows, ld);
    case 4: return im2col_impl<4>(g, img, rows, ld);
    case 5: return im2col_impl<5>(g, img, rows, ld);
    default: return im2col_impl<0>(g, img, rows, ld);
  }
}

void col2im_rows(const Kernels& k, const ConvGeom& g, const float* rows, size_t ld, float* img, bool add) {
  const Ring rg(g);
  if (rg.block && g.kh <= kMaxRingRows) {
    switch (g.kh == g.kw ? g.kw : 0) {
      case 3: return col2im_ring<3>(k, g, rg, rows, ld, img, add);
      case 4: return col2im_ring<4>(k, g, rg, rows, ld, img, add);
      case 5: return col2im_ring<5>(k, g, rg, rows, ld, img, add);
      default: return col2im_ring<0>(k, g, rg, rows, ld, img, add);
    }
  }
  if (!add) std::memset(img, 0, g.image() * sizeof(float));  // one image, hot for the adds
  switch (g.kw) {
    case 3: return col2im_impl<3>(g, rows, ld, img);
    case 4: return col2im_impl<4>(g, rows, ld, img);
    case 5: return col2im_impl<5>(g, rows, ld, img);
    default: return col2im_impl<0>(g, rows, ld, img);
  }
}

// colT[(c, ki, kj), (oy, ox)] = img[c, oy s - pad + ki, ox s - pad + kj] (0 over padding).
// ox runs over the columns where the tap lands inside the image row, [ox_lo, ox_hi).
namespace {
struct TapRange {
  int lo, hi;
  TapRange(int k, int stride, int pad, int size, int out) {
    // first o with o s - pad + k >= 0, and first o with o s - pad + k >= size
    const int a = pad - k, b = size + pad - k;
    lo = a <= 0 ? 0 : (a + stride - 1) / stride;
    hi = b <= 0 ? 0 : (b + stride - 1) / stride;
    lo = min_int(lo, out), hi = max_int(min_int(hi, out), lo);
  }
};
}  // namespace

void im2col_cm(const ConvGeom& g, const float* img, float* colT) {
  const size_t P = g.pixels(), plane = static_cast<size_t>(g.h) * g.w;
  float* row = colT;
  for (int c = 0; c < g.c; ++c) {
    for (int ki = 0; ki < g.kh; ++ki) {
      const TapRange ry(ki, g.stride, g.pad, g.h, g.oh);
      for (int kj = 0; kj < g.kw; ++kj, row += P) {
        const TapRange rx(kj, g.stride, g.pad, g.w, g.ow);
        for (int oy = 0; oy < g.oh; ++oy) {
          float* __restrict r = row + static_cast<size_t>(oy) * g.ow;
          if (oy < ry.lo || oy >= ry.hi) {
            for (int ox = 0; ox < g.ow; ++ox) r[ox] = 0.0f;
            continue;
          }
          const float* __restrict xr = img + c * plane + static_cast<size_t>(oy * g.stride - g.pad + ki) * g.w;
          for (int ox = 0; ox < rx.lo; ++ox) r[ox] = 0.0f;
          if (g.stride == 1) {  // a contiguous run (the loop below stays scalar)
            std::memcpy(r + rx.lo, xr + rx.lo + kj - g.pad, sizeof(float) * (rx.hi - rx.lo));
          } else {
            for (int ox = rx.lo; ox < rx.hi; ++ox) r[ox] = xr[ox * g.stride + kj - g.pad];
          }
          for (int ox = rx.hi; ox < g.ow; ++ox) r[ox] = 0.0f;
        }
      }
    }
  }
}

void col2im_cm(const ConvGeom& g, const float* colT, float* img, bool add) {
  const size_t P = g.pixels(), plane = static_cast<size_t>(g.h) * g.w;
  if (!add) std::memset(img, 0, g.image() * sizeof(float));
  const float* row = colT;
  for (int c = 0; c < g.c; ++c) {
    for (int ki = 0; ki < g.kh; ++ki) {
      const TapRange ry(ki, g.stride, g.pad, g.h, g.oh);
      for (int kj = 0; kj < g.kw; ++kj, row += P) {
        const TapRange rx(kj, g.stride, g.pad, g.w, g.ow);
        for (int oy = ry.lo; oy < ry.hi; ++oy) {
          const float* __restrict r = row + static_cast<size_t>(oy) * g.ow;
          float* __restrict xr = img + c * plane + static_cast<size_t>(oy * g.stride - g.pad + ki) * g.w;
          for (int ox = rx.lo; ox < rx.hi; ++ox) xr[ox * g.stride + kj - g.pad] += r[ox];
        }
      }
    }
  }
}

void nchw_to_rows(const Kernels& k, const float* x, int ch, size_t pixels, float* rows) {
  k.transpose(x, static_cast<size_t>(ch), pixels, pixels, rows, static_cast<size_t>(ch));
}

void rows_to_nchw(const Kernels& k, const float* rows, int ch, size_t pixels, float* x, bool add) {
  if (!add) return k.transpose(rows, pixels, static_cast<size_t>(ch), static_cast<size_t>(ch), x, pixels);
  constexpr int kTile = 16;  // so both sides touch whole cache lines
  for (int c0 = 0; c0 < ch; c0 += kTile) {
    const int c1 = min_int(c0 + kTile, ch);
    for (size_t p0 = 0; p0 < pixels; p0 += kTile) {
      const size_t p1 = p0 + kTile < pixels ? p0 + kTile : pixels;
      for (int c = c0; c < c1; ++c) {
        float* xc = x + c * pixels;
        for (size_t p = p0; p < p1; ++p) xc[p] += rows[p * ch + c];
      }
    }
  }
}

size_t patch_stride(size_t k) { return k % 128 == 0 ? k + 16 : k; }

int images_per_group(int n, size_t per_image) {
  if (n <= 1) return 1;
  size_t fit = per_image ? kGroupFloats / per_image : static_cast<size_t>(n);
  if (fit < 1) fit = 1;
  if (fit >= static_cast<size_t>(n)) return n;
  const int groups = static_cast<int>((static_cast<size_t>(n) + fit - 1) / fit);
  return (n + groups - 1) / groups;  // even groups: no thin last GEMM
}

}  // namespace ember::nn::detail
