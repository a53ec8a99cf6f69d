// The convolutions' patch layout (op-conv.cpp, op-conv-transpose.cpp): patch extraction
// (im2col), its adjoint (col2im), NCHW <-> pixel-row transposes, and how many images share
// one GEMM. What the ops share beyond this is in op-helpers.h.
//
// Layout: "rows". One image's patch matrix is [P, K] with P = oh*ow output pixels (one row
// per pixel, row-major over oy, ox) and K = c*kh*kw (c, ki, kj), i.e. exactly the layout
// of a Linear layer's input: a convolution is a Linear over patches,
//   yT[P, O] = rows[P, K] W[O, K]^T + b,
// and images stack along P, so several images go through ONE GEMM with M = images * P
// (a DCGAN 7x7 output has P = 49, a poor GEMM width per image; 16 images give M = 784).
// Activations in NCHW are moved to and from this pixel-major layout by transposes, which
// cost O(elements), small next to the O(elements * K) GEMM.
#pragma once
#include <cstddef>

#include "core/kernels.h"

namespace ember::nn::detail {

// The convolution patches are taken from: an image [c, h, w] read with a kh x kw window,
// stride, zero padding, giving an oh x ow grid of patches. For Conv2d this is the layer's
// own input; for ConvTranspose2d it is the adjoint conv (image = the layer's output).
struct ConvGeom {
  int c, h, w;
  int oh, ow;
  int kh, kw, stride, pad;
  size_t pixels() const { return static_cast<size_t>(oh) * ow; }
  size_t patch() const { return static_cast<size_t>(c) * kh * kw; }
  size_t image() const { return static_cast<size_t>(c) * h * w; }
};

// rows[P, K] = patches of img[c, h, w] (zeros where the window hangs over the padding), rows
// ld >= K floats apart.
void im2col_rows(const Kernels& k, const ConvGeom& g, const float* img, float* rows, size_t ld);
// img[c, h, w] (+)= the adjoint of im2col_rows: every patch entry added back where it came
// from (entries over padding dropped). Sums in a fixed order: deterministic. add = false
// writes img: the bits of adding into zeros (pixels no window covers become 0).
void col2im_rows(const Kernels& k, const ConvGeom& g, const float* rows, size_t ld, float* img, bool add);
// The row stride the convolutions give a patch matrix of K columns: K, or K + 16 when K is a
// multiple of 128. Rows 512 B, 1 KB, 2 KB ... apart fall into 8 or fewer of the L1 cache's 64
// sets, so a GEMM packs them as B (platform/gemm-driver.h, b_rows_spread); one line more
// spreads them and the dW GEMM reads the patch rows in place.
size_t patch_stride(size_t k);

// The channel-major layout, for layers with small patches (a 1-channel 4x4 conv has K = 16):
// colT[K, P], one row per patch entry (c, ki, kj), one column per output pixel. Then
// W[O, K] colT[K, P] is the NCHW output image itself, so the O x P transposes of the pixel-row
// layout (which cost more than a K = 16 GEMM) disappear; the price is one GEMM per image.
void im2col_cm(const ConvGeom& g, const float* img, float* colT);
// img[c, h, w] (+)= the adjoint of im2col_cm (entries over padding dropped), in a fixed order;
// add = false writes img, as col2im_rows.
void col2im_cm(const ConvGeom& g, const float* colT, float* img, bool add);
// Which layout a conv uses, from the shape alone: channel-major when the patch is short.
constexpr size_t kCmMaxPatch = 64;
inline bool use_cm(const ConvGeom& g) { return g.patch() <= kCmMaxPatch; }

// rows[p * ch + c] = x[c * pixels + p]: one image from [ch, pixels] to [pixels, ch]
// (Kernels::transpose).
void nchw_to_rows(const Kernels& k, const float* x, int ch, size_t pixels, float* rows);
// x[c * pixels + p] (+)= rows[p * ch + c].
void rows_to_nchw(const Kernels& k, const float* rows, int ch, size_t pixels, float* x, bool add);

// How many images go through one GEMM: as many as fit a fixed scratch budget of
// kGroupFloats (per_image floats each), balanced so the groups are even. Depends only on
// the shape, never on the thread count, so results do not either.
// 2 MB: a DCGAN 64->128 conv goes 8 images (M = 392) per GEMM; a larger budget only takes
// more arena (docs/lab-notes.md).
constexpr size_t kGroupFloats = size_t(1) << 19;
int images_per_group(int n, size_t per_image);

}  // namespace ember::nn::detail
