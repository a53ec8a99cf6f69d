// BatchNorm (1-D and 2-D): x viewed as [N, C, S]; statistics per channel over N' = N S values.
//
//   train  mean = sum x / N',  var = sum (x - mean)^2 / N' (biased),  invstd = 1/sqrt(var + eps)
//          y = (x - mean) invstd gamma + beta;  save mean, invstd;
//          running_mean = (1 - m) running_mean + m mean
//          running_var  = (1 - m) running_var  + m var N' / (N' - 1)     (unbiased, as PyTorch)
//   eval   y = (x - running_mean) / sqrt(running_var + eps) gamma + beta
//   back   xhat = (x - mean) invstd
//          dbeta += sum dy;  dgamma += sum dy xhat
//          dx += gamma invstd / N' (N' dy - sum dy - xhat sum(dy xhat))
// gamma / beta may be null (no affine: 1 and 0); running stats may be null (not tracked).
//
// Two layouts, each vectorised along its contiguous axis:
//   S > 1 (images): channel c is N planes of S contiguous values; per plane a 16-lane float
//         sum (compiles to SIMD), planes added in image order in double. Each pass runs
//         over the images in memory order, cut into image runs (op-helpers.h): a task per
//         channel read N short planes far apart, many of them just written by another core,
//         and ran no faster on two threads than on one; in memory order a plane streams in
//         with its neighbours (docs/lab-notes.md). The plane sums go to the scratch ([N, C]
//         doubles) and are added per channel in image order afterwards.
//   S = 1 (features): x is [N, C]; channels are contiguous, so loops run across a block of
//         channels with per-channel float accumulators, rows added in batch order; work is
//         split over channel blocks.
// Both: the variance is computed around the mean (two passes; no E[x^2] - mean^2
// cancellation), and each channel's sums have a fixed order whatever the thread count:
// bit-identical results.
#include <cmath>

#include "nn/op-helpers.h"
#include "nn/ops.h"

namespace ember::nn {

namespace {

constexpr int kLanes = 16;  // independent accumulators: lets the compiler keep them in a vector
constexpr int kBlock = 256;  // channels per task in the S = 1 layout (stack accumulators)

// sum of (a[i] - ma) * (b[i] - mb) over n values, in kLanes interleaved partial sums.
double centered_dot(const float* a, float ma, const float* b, float mb, size_t n) {
  float acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += (a[i + j] - ma) * (b[i + j] - mb);
  double s = 0.0;
  for (; i < n; ++i) s += static_cast<double>((a[i] - ma) * (b[i] - mb));
  for (int j = 0; j < kLanes; ++j) s += acc[j];
  return s;
}

// y = (x - mean) scale + shift, and dx (+)= a dy + b (x - mean) + c, over n values. In blocks
// of kLanes with a fixed trip count: GCC's -O2 vectorises only loops whose trip count is a
// known multiple of the vector width, so plain loops over n stayed scalar. Element-wise, so
// the result is the same whatever the vector width.
void normalize(const float* __restrict x, float mean, float scale, float shift, float* __restrict y, size_t n) {
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) y[i + j] = (x[i + j] - mean) * scale + shift;
  for (; i < n; ++i) y[i] = (x[i] - mean) * scale + shift;
}
template <bool kAdd>  // dx += ..., or dx = ...
void bn_dx(const float* __restrict x, float mean, const float* __restrict dy, float a, float b, float c,
           float* __restrict dx, size_t n) {
  auto put = [&](size_t i) {
    const float v = a * dy[i] + b * (x[i] - mean) + c;
    dx[i] = kAdd ? dx[i] + v : v;
  };
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) put(i + j);
  for (; i < n; ++i) put(i);
}

// y[j] = (x[j] - mean[j]) scale[j] + shift[j] over a row of n channels (the S = 1 layout).
// The restrict pointers let GCC vectorise it without the alias checks its -O2 cost model
// refuses (a lambda over each_lane stayed scalar). y never aliases x: batch norm does not
// run in place.
void normalize_row(const float* __restrict x, const float* __restrict mean, const float* __restrict scale,
                   const float* __restrict shift, float* __restrict y, int n) {
  int j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) y[j + l] = (x[j + l] - mean[j + l]) * scale[j + l] + shift[j + l];
  for (; j < n; ++j) y[j] = (x[j] - mean[j]) * scale[j] + shift[j];
}

// f(j) for j in [0, n): in fixed kLanes blocks for the same reason (the S = 1 layout runs
// across channels; each j is its own channel, so there is no reduction to reorder).
template <class F>
inline void each_lane(int n, F f) {
  int j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) f(j + l);
  for (; j < n; ++j) f(j);
}

size_t numel(const BatchNormShape& sh) { return static_cast<size_t>(sh.n) * sh.c * sh.s; }

size_t at(int i, int c, const BatchNormShape& sh) {
  return (static_cast<size_t>(i) * sh.c + c) * static_cast<size_t>(sh.s);
}

void update_running(const BatchNormShape& sh, int c, float mean, double var_biased, float* running_mean,
                    float* running_var) {
  const double count = static_cast<double>(sh.n) * sh.s;
  const float m = sh.momentum;
  if (running_mean) running_mean[c] = (1.0f - m) * running_mean[c] + m * mean;
  if (running_var) {
    const double unbiased = count > 1.0 ? var_biased * count / (count - 1.0) : var_biased;
    running_var[c] = (1.0f - m) * running_var[c] + m * static_cast<float>(unbiased);
  }
}

// The image layout's workspace: two [N, C] arrays of plane sums, their per-channel totals,
// and three per-channel floats (the forward's scale and shift; the backward's a, b, c).
struct PlaneSums {
  double* a;    // [N, C]
  double* b;    // [N, C]
  double* acc;  // [C]
  float* f0;    // [C]
  float* f1;    // [C]
  float* f2;    // [C]
};
PlaneSums plane_sums(const BatchNormShape& sh, float* scratch) {
  const size_t nc = static_cast<size_t>(sh.n) * sh.c, c = static_cast<size_t>(sh.c);
  double* d = reinterpret_cast<double*>(scratch);  // the arena's buffers are 64-byte aligned
  float* f = reinterpret_cast<float*>(d + 2 * nc + c);
  return PlaneSums{d, d + nc, d + 2 * nc, f, f + c, f + 2 * c};
}

// out[c] = sum over images i, in order, of planes[i, c] (the loop runs along channels, each
// channel's additions still in image order).
void add_planes(const BatchNormShape& sh, const double* planes, double* out) {
  for (int c = 0; c < sh.c; ++c) out[c] = 0.0;
  for (int i = 0; i < sh.n; ++i)
    for (int c = 0; c < sh.c; ++c) out[c] += planes[static_cast<size_t>(i) * sh.c + c];
}

}  // namespace

size_t batchnorm_scratch_floats(const BatchNormShape& sh) {
  if (sh.s <= 1) return 0;
  const size_t nc = static_cast<size_t>(sh.n) * sh.c, c = static_cast<size_t>(sh.c);
  return 2 * (2 * nc + c) + 3 * c;
}

// x[N,C,S] -> y[N,C,S]; save_mean[C], save_invstd[C]; running_mean/var[C] updated
void batchnorm_forward_train(Context& ctx, const BatchNormShape& sh, const float* x, const float* gamma,
                             const float* beta, float* y, float* save_mean, float* save_invstd,
                             float* running_mean, float* running_var, float* scratch) {
  const size_t S = static_cast<size_t>(sh.s);
  const double count = static_cast<double>(sh.n) * sh.s;
  if (sh.s > 1) {
    const Kernels& k = ctx.k();
    const PlaneSums p = plane_sums(sh, scratch);
    const size_t C = static_cast<size_t>(sh.c), floats = numel(sh);
    detail::for_image_runs(ctx, sh.n, floats, [&](int i) {
      for (int c = 0; c < sh.c; ++c) p.a[i * C + c] = k.sum(x + at(i, c, sh), S);
    });
    add_planes(sh, p.a, p.acc);
    float* mean = save_mean;
    for (int c = 0; c < sh.c; ++c) mean[c] = static_cast<float>(p.acc[c] / count);
    detail::for_image_runs(ctx, sh.n, floats, [&](int i) {
      for (int c = 0; c < sh.c; ++c) {
        const float* xc = x + at(i, c, sh);
        p.a[i * C + c] = centered_dot(xc, mean[c], xc, mean[c], S);
      }
    });
    add_planes(sh, p.a, p.acc);
    float *scale = p.f0, *shift = p.f1;
    for (int c = 0; c < sh.c; ++c) {
      const double var = p.acc[c] / count;
      const float invstd = static_cast<float>(1.0 / std::sqrt(var + sh.eps));
      scale[c] = (gamma ? gamma[c] : 1.0f) * invstd, shift[c] = beta ? beta[c] : 0.0f;
      save_invstd[c] = invstd;
      update_running(sh, c, mean[c], var, running_mean, running_var);
    }
    detail::for_image_runs(ctx, sh.n, floats, [&](int i) {
      for (int c = 0; c < sh.c; ++c) normalize(x + at(i, c, sh), mean[c], scale[c], shift[c], y + at(i, c, sh), S);
    });
    return;
  }
  // S = 1: x[N, C], a block of channels at a time, across the block.
  auto block = [&](int t) {
    const int c0 = t * kBlock, nc = sh.c - c0 < kBlock ? sh.c - c0 : kBlock;
    float mean[kBlock], var[kBlock];
    for (int j = 0; j < nc; ++j) mean[j] = 0.0f, var[j] = 0.0f;
    for (int i = 0; i < sh.n; ++i) {
      const float* xr = x + static_cast<size_t>(i) * sh.c + c0;
      each_lane(nc, [&](int j) { mean[j] += xr[j]; });
    }
    const float inv_count = static_cast<float>(1.0 / count);
    for (int j = 0; j < nc; ++j) mean[j] *= inv_count;
    for (int i = 0; i < sh.n; ++i) {
      const float* xr = x + static_cast<size_t>(i) * sh.c + c0;
      each_lane(nc, [&](int j) {
        const float d = xr[j] - mean[j];
        var[j] += d * d;
      });
    }
    float scale[kBlock], shift[kBlock];
    for (int j = 0; j < nc; ++j) {
      const int c = c0 + j;
      const double v = var[j] / count;
      const float invstd = static_cast<float>(1.0 / std::sqrt(v + sh.eps));
      scale[j] = (gamma ? gamma[c] : 1.0f) * invstd, shift[j] = beta ? beta[c] : 0.0f;
      save_mean[c] = mean[j], save_invstd[c] = invstd;
      update_running(sh, c, mean[j], v, running_mean, running_var);
    }
    for (int i = 0; i < sh.n; ++i) {
      const float* xr = x + static_cast<size_t>(i) * sh.c + c0;
      float* yr = y + static_cast<size_t>(i) * sh.c + c0;
      normalize_row(xr, mean, scale, shift, yr, nc);
    }
  };
  detail::parallel_for(ctx, (sh.c + kBlock - 1) / kBlock, numel(sh), block);
}

// x[N,C,S] -> y[N,C,S] with the running statistics
void batchnorm_forward_eval(Context& ctx, const BatchNormShape& sh, const float* x, const float* gamma,
                            const float* beta, const float* running_mean, const float* running_var,
                            float* y) {
  const size_t S = static_cast<size_t>(sh.s);
  // gamma / sqrt(running_var + eps) for channels [c0, c0 + n): one kernel call, as a square
  // root and a divide per channel cost more than normalising a batch-1 row itself.
  auto channel_scales = [&](int c0, int n, float* scale) {
    ctx.k().div_sqrt(static_cast<size_t>(n), gamma ? gamma + c0 : nullptr, running_var + c0, sh.eps, scale);
  };
  if (sh.s > 1) {
    auto channel = [&](int c) {
      float scale;
      channel_scales(c, 1, &scale);
      const float mean = running_mean[c], shift = beta ? beta[c] : 0.0f;
      for (int i = 0; i < sh.n; ++i) normalize(x + at(i, c, sh), mean, scale, shift, y + at(i, c, sh), S);
    };
    detail::parallel_for(ctx, sh.c, numel(sh), channel);
    return;
  }
  auto block = [&](int t) {
    const int c0 = t * kBlock, nc = sh.c - c0 < kBlock ? sh.c - c0 : kBlock;
    float scale[kBlock], shift[kBlock];
    channel_scales(c0, nc, scale);
    for (int j = 0; j < nc; ++j) shift[j] = beta ? beta[c0 + j] : 0.0f;
    const float* mean = running_mean + c0;
    for (int i = 0; i < sh.n; ++i) {
      const float* xr = x + static_cast<size_t>(i) * sh.c + c0;
      float* yr = y + static_cast<size_t>(i) * sh.c + c0;
      normalize_row(xr, mean, scale, shift, yr, nc);
    }
  };
  detail::parallel_for(ctx, (sh.c + kBlock - 1) / kBlock, numel(sh), block);
}

// dy[N,C,S] -> dx[N,C,S] (+)= , dgamma[C] += , dbeta[C] +=  (training-mode statistics)
//   with sdy = sum dy, sdx = sum dy (x - mean):  dx (+)= a dy + b (x - mean) + c,
//   a = gamma invstd,  b = -a invstd^2 sdx / N',  c = -a sdy / N'
void batchnorm_backward(Context& ctx, const BatchNormShape& sh, const float* x, const float* gamma,
                        const float* save_mean, const float* save_invstd, const float* dy, float* dx,
                        float* dgamma, float* dbeta, float* scratch, GradWrites writes) {
  const size_t S = static_cast<size_t>(sh.s);
  const double count = static_cast<double>(sh.n) * sh.s;
  if (sh.s > 1) {
    const Kernels& k = ctx.k();
    const PlaneSums p = plane_sums(sh, scratch);
    const size_t C = static_cast<size_t>(sh.c), floats = numel(sh);
    detail::for_image_runs(ctx, sh.n, floats, [&](int i) {
      for (int c = 0; c < sh.c; ++c) {
        p.a[i * C + c] = k.sum(dy + at(i, c, sh), S);
        p.b[i * C + c] = centered_dot(dy + at(i, c, sh), 0.0f, x + at(i, c, sh), save_mean[c], S);
      }
    });
    float *a = p.f0, *b = p.f1, *cc = p.f2;
    add_planes(sh, p.a, p.acc);  // sum dy
    for (int c = 0; c < sh.c; ++c) {
      const float invstd = save_invstd[c];
      if (dbeta) dbeta[c] += static_cast<float>(p.acc[c]);
      a[c] = (gamma ? gamma[c] : 1.0f) * invstd;
      cc[c] = static_cast<float>(-a[c] * p.acc[c] / count);
    }
    add_planes(sh, p.b, p.acc);  // sum dy (x - mean)
    for (int c = 0; c < sh.c; ++c) {
      const float invstd = save_invstd[c];
      if (dgamma) dgamma[c] += static_cast<float>(p.acc[c] * invstd);
      b[c] = static_cast<float>(-a[c] * static_cast<double>(invstd) * invstd * p.acc[c] / count);
    }
    if (!dx) return;
    auto dx_of = writes.dx ? bn_dx<false> : bn_dx<true>;
    detail::for_image_runs(ctx, sh.n, floats, [&](int i) {
      for (int c = 0; c < sh.c; ++c)
        dx_of(x + at(i, c, sh), save_mean[c], dy + at(i, c, sh), a[c], b[c], cc[c], dx + at(i, c, sh), S);
    });
    return;
  }
  auto block = [&](int t) {
    const int c0 = t * kBlock, nc = sh.c - c0 < kBlock ? sh.c - c0 : kBlock;
    const float* mean = save_mean + c0;
    float sdy[kBlock], sdx[kBlock];
    for (int j = 0; j < nc; ++j) sdy[j] = 0.0f, sdx[j] = 0.0f;
    for (int i = 0; i < sh.n; ++i) {
      const float* xr = x + static_cast<size_t>(i) * sh.c + c0;
      const float* dyr = dy + static_cast<size_t>(i) * sh.c + c0;
      each_lane(nc, [&](int j) {
        sdy[j] += dyr[j];
        sdx[j] += dyr[j] * (xr[j] - mean[j]);
      });
    }
    float a[kBlock], b[kBlock], cc[kBlock];
    for (int j = 0; j < nc; ++j) {
      const int c = c0 + j;
      const float invstd = save_invstd[c];
      if (dbeta) dbeta[c] += sdy[j];
      if (dgamma) dgamma[c] += sdx[j] * invstd;
      a[j] = (gamma ? gamma[c] : 1.0f) * invstd;
      b[j] = static_cast<float>(-a[j] * static_cast<double>(invstd) * invstd * sdx[j] / count);
      cc[j] = static_cast<float>(-a[j] * static_cast<double>(sdy[j]) / count);
    }
    if (!dx) return;
    for (int i = 0; i < sh.n; ++i) {
      const float* xr = x + static_cast<size_t>(i) * sh.c + c0;
      const float* dyr = dy + static_cast<size_t>(i) * sh.c + c0;
      float* dxr = dx + static_cast<size_t>(i) * sh.c + c0;
      each_lane(nc, [&](int j) {
        const float v = a[j] * dyr[j] + b[j] * (xr[j] - mean[j]) + cc[j];
        dxr[j] = writes.dx ? v : dxr[j] + v;
      });
    }
  };
  detail::parallel_for(ctx, (sh.c + kBlock - 1) / kBlock, numel(sh), block);
}

}  // namespace ember::nn
