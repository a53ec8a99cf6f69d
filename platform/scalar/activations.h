// Scalar activation functions and their derivatives: the reference every SIMD path is
// tested against, and the tail/epilogue code those paths share. NaN propagates through
// every forward function (relu(NaN) = NaN), so a diverging model shows up in its loss.
#pragma once
#include <cmath>

#include "core/kernels.h"

namespace ember::scalar {

inline float sigmoid(float x) {
  // Two forms so e^x never overflows: for x >= 0 use e^-x <= 1.
  if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

inline float softplus(float x) {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exact for large |x|, no overflow.
  return (x > 0.0f ? x : 0.0f) + std::log1p(std::exp(-std::fabs(x)));  // NaN stays NaN
}

inline float activate(Act act, float slope, float x) {
  switch (act) {
    case Act::identity: return x;
    case Act::relu: return x < 0.0f ? 0.0f : x;
    case Act::leaky_relu: return x < 0.0f ? slope * x : x;
    case Act::sigmoid: return sigmoid(x);
    case Act::tanh: return std::tanh(x);
    case Act::softplus: return softplus(x);
  }
  return x;
}

// f'(x), given x and y = f(x) (each activation reads the cheaper one).
inline float derivative(Act act, float slope, float x, float y) {
  switch (act) {
    case Act::identity: return 1.0f;
    case Act::relu: return x > 0.0f ? 1.0f : 0.0f;
    case Act::leaky_relu: return x > 0.0f ? 1.0f : slope;
    case Act::sigmoid: return y * (1.0f - y);
    case Act::tanh: return 1.0f - y * y;
    case Act::softplus: return sigmoid(x);
  }
  return 1.0f;
}

}  // namespace ember::scalar
