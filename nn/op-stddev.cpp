// The minibatch standard-deviation op (see nn/ops.h for the math).
//
// Row by row: the statistics are accumulated over the samples with one pass per moment, each
// sample's row read contiguously, so a [64, 6272] feature map streams through the cache
// instead of being walked down its columns. Plain loops in a fixed order: the same bits
// with any thread count or kernel table.
#include <cmath>
#include <cstring>

#include "nn/ops.h"

namespace ember::nn {

void minibatch_stddev_forward(const float* x, float* y, float* mean, float* inv_std, int n, int c, int s) {
  const size_t d = static_cast<size_t>(c) * s;
  const float inv_n = 1.0f / static_cast<float>(n);
  std::memset(mean, 0, d * sizeof(float));
  for (int i = 0; i < n; ++i) {
    const float* xi = x + static_cast<size_t>(i) * d;
    for (size_t j = 0; j < d; ++j) mean[j] += xi[j];
  }
  for (size_t j = 0; j < d; ++j) mean[j] *= inv_n;
  float* var = inv_std;  // the variance first, then 1/std in place
  std::memset(var, 0, d * sizeof(float));
  for (int i = 0; i < n; ++i) {
    const float* xi = x + static_cast<size_t>(i) * d;
    for (size_t j = 0; j < d; ++j) {
      const float e = xi[j] - mean[j];
      var[j] += e * e;
    }
  }
  double sum_std = 0.0;
  for (size_t j = 0; j < d; ++j) {
    const float sd = std::sqrt(var[j] * inv_n + kMinibatchStddevEps);
    sum_std += sd;
    inv_std[j] = 1.0f / sd;
  }
  const float stat = static_cast<float>(sum_std / static_cast<double>(d));
  for (int i = 0; i < n; ++i) {
    float* yi = y + static_cast<size_t>(i) * (d + s);
    std::memcpy(yi, x + static_cast<size_t>(i) * d, d * sizeof(float));
    for (int k = 0; k < s; ++k) yi[d + k] = stat;
  }
}

void minibatch_stddev_backward(const float* x, const float* mean, const float* inv_std, const float* dy,
                               float* dx, int n, int c, int s) {
  if (!dx) return;
  const size_t d = static_cast<size_t>(c) * s;
  double g = 0.0;  // d(loss)/d(stat): every copy of the statistic contributes
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < s; ++k) g += dy[static_cast<size_t>(i) * (d + s) + d + k];
  const float coef = static_cast<float>(g / (static_cast<double>(d) * n));
  for (int i = 0; i < n; ++i) {
    const float* xi = x + static_cast<size_t>(i) * d;
    const float* dyi = dy + static_cast<size_t>(i) * (d + s);
    float* dxi = dx + static_cast<size_t>(i) * d;
    for (size_t j = 0; j < d; ++j) dxi[j] += dyi[j] + coef * (xi[j] - mean[j]) * inv_std[j];
  }
}

}  // namespace ember::nn
