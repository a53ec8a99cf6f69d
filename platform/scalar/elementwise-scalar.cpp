// Element-wise kernels, reductions and optimizer updates: plain loops, the reference.
#include <cmath>
#include <cstring>
#include <limits>

#include "platform/scalar/activations.h"
#include "platform/scalar/scalar.h"

namespace ember::scalar {

void act_forward(Act act, float slope, const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = activate(act, slope, x[i]);
}

void act_backward(Act act, float slope, const float* x, const float* y, const float* dy, float* dx,
                  size_t n) {
  for (size_t i = 0; i < n; ++i)
    dx[i] = dy[i] * derivative(act, slope, x ? x[i] : 0.0f, y ? y[i] : 0.0f);
}

void exp(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}

void axpy(size_t n, float a, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void scale(size_t n, float a, float* x) {
  for (size_t i = 0; i < n; ++i) x[i] *= a;
}

void add(size_t n, const float* a, const float* b, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void mul(size_t n, const float* a, const float* b, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

float sum(const float* x, size_t n) {
  float s = 0.0f;
  for (size_t i = 0; i < n; ++i) s += x[i];
  return s;
}

float dot(const float* x, const float* y, size_t n) {
  float s = 0.0f;
  for (size_t i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

void dot_rows(const float* x, const float* y, size_t ld, size_t n, size_t count, float* out) {
  for (size_t j = 0; j < count; ++j) out[j] = dot(x, y + j * ld, n);
}

void div_sqrt(size_t n, const float* a, const float* b, float eps, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = (a ? a[i] : 1.0f) / std::sqrt(b[i] + eps);
}

float max(const float* x, size_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != x[i]) return x[i];  // NaN wins
    if (x[i] > m) m = x[i];
  }
  return m;
}

float sumsq(const float* x, size_t n) { return dot(x, x, n); }

void adam(const AdamArgs& a, float* p, const float* g, float* m, float* v, size_t n) {
  const float step = a.lr / a.bias1;          // lr * mhat / m
  const float inv_sqrt_bias2 = 1.0f / std::sqrt(a.bias2);
  for (size_t i = 0; i < n; ++i) {
    float gi = g[i];
    if (!a.decoupled) gi += a.weight_decay * p[i];
    m[i] = a.beta1 * m[i] + (1.0f - a.beta1) * gi;
    v[i] = a.beta2 * v[i] + (1.0f - a.beta2) * gi * gi;
    const float denom = std::sqrt(v[i]) * inv_sqrt_bias2 + a.eps;
    if (a.decoupled) p[i] -= a.lr * a.weight_decay * p[i];
    p[i] -= step * m[i] / denom;
  }
}

void sgd_momentum(const SgdArgs& a, float* p, const float* g, float* vel, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float gi = g[i] + a.weight_decay * p[i];
    vel[i] = a.momentum * vel[i] + gi;
    p[i] -= a.lr * vel[i];
  }
}

void widen_i8(const int8_t* q, float s, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = s * static_cast<float>(q[i]);
}

float dot_i8(const int8_t* q, const float* x, size_t n) {
  float s = 0.0f;
  for (size_t i = 0; i < n; ++i) s += static_cast<float>(q[i]) * x[i];
  return s;
}

// In 16 x 16 tiles, so both sides touch whole cache lines.
void transpose(const float* src, size_t rows, size_t cols, size_t lds, float* dst, size_t ldd) {
  constexpr size_t kTile = 16;
  for (size_t i0 = 0; i0 < rows; i0 += kTile) {
    const size_t i1 = i0 + kTile < rows ? i0 + kTile : rows;
    for (size_t j0 = 0; j0 < cols; j0 += kTile) {
      const size_t j1 = j0 + kTile < cols ? j0 + kTile : cols;
      for (size_t j = j0; j < j1; ++j)
        for (size_t i = i0; i < i1; ++i) dst[j * ldd + i] = src[i * lds + j];
    }
  }
}

// Each 4-float run through a small array and memcpy: GCC's SLP vectoriser makes it one
// 16-byte move (or load, add, store) at the baseline ISA, where an indexed loop stayed scalar.
void patches_k4(const float* const* src, size_t cs, int channels, int ow, int stride, float* rows, size_t ld) {
  for (int x = 0; x < ow; ++x) {
    float* r = rows + static_cast<size_t>(x) * ld;
    const size_t at = static_cast<size_t>(x) * stride;
    for (int c = 0; c < channels; ++c, r += 16)
      for (int ki = 0; ki < 4; ++ki) std::memcpy(r + ki * 4, src[ki] + c * cs + at, 4 * sizeof(float));
  }
}

void patches_k4_add(const float* rows, size_t ld, int channels, int first, int step, int ow, int stride,
                    float* const* dst, size_t cs) {
  for (int x = first; x < ow; x += step) {
    const float* r = rows + static_cast<size_t>(x) * ld;
    const size_t at = static_cast<size_t>(x) * stride;
    for (int c = 0; c < channels; ++c, r += 16) {
      for (int ki = 0; ki < 4; ++ki) {
        float* d = dst[ki] + c * cs + at;
        float a[4], b[4];
        std::memcpy(a, d, sizeof a);
        std::memcpy(b, r + ki * 4, sizeof b);
        for (int j = 0; j < 4; ++j) a[j] += b[j];
        std::memcpy(d, a, sizeof a);
      }
    }
  }
}

}  // namespace ember::scalar
