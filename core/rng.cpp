#include "core/rng.h"

#include <cmath>
#include <cstring>

namespace ember {

namespace {
constexpr uint64_t kPcgMultiplier = 6364136223846793005ull;
constexpr float kTwoToMinus24 = 1.0f / 16777216.0f;
}  // namespace

void Rng::seed_with(uint64_t seed, uint64_t stream) {
  s_ = State();
  s_.inc = (stream << 1) | 1u;  // the increment must be odd
  next_u32();
  s_.state += seed;
  next_u32();
}

uint32_t Rng::next_u32() {
  const uint64_t old = s_.state;
  s_.state = old * kPcgMultiplier + s_.inc;
  const uint32_t xorshifted = static_cast<uint32_t>(((old >> 18) ^ old) >> 27);
  const uint32_t rot = static_cast<uint32_t>(old >> 59);
  return (xorshifted >> rot) | (xorshifted << ((0u - rot) & 31));
}

float Rng::uniform() { return static_cast<float>(next_u32() >> 8) * kTwoToMinus24; }

float Rng::uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }

float Rng::normal(float mean, float std) { return mean + std * normal(); }

uint32_t Rng::below(uint32_t n) {
  // Lemire-style rejection: drop the few values that would bias the modulo.
  const uint32_t threshold = (0u - n) % n;
  for (;;) {
    const uint32_t r = next_u32();
    if (r >= threshold) return r % n;
  }
}

float Rng::normal() {
  if (s_.has_spare) {
    s_.has_spare = 0;
    return s_.spare;
  }
  float u, v, s;
  do {
    u = 2.0f * uniform() - 1.0f;
    v = 2.0f * uniform() - 1.0f;
    s = u * u + v * v;
  } while (s >= 1.0f || s == 0.0f);
  const float f = std::sqrt(-2.0f * portable_logf(s) / s);
  s_.spare = v * f;
  s_.has_spare = 1;
  return u * f;
}

void Rng::fill_uniform(float* x, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; ++i) x[i] = uniform(lo, hi);
}

void Rng::fill_normal(float* x, size_t n, float mean, float std) {
  for (size_t i = 0; i < n; ++i) x[i] = normal(mean, std);
}

float portable_logf(float x) {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(t), t = (m-1)/(m+1),
  // |t| <= 0.1716, so the odd series to t^9 is accurate to float precision.
  if (!(x > 0.0f)) return x == 0.0f ? -INFINITY : NAN;
  if (x == INFINITY) return x;
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int e = 0;
  if ((bits >> 23) == 0) {  // denormal: scale into the normal range first
    x *= 16777216.0f;       // 2^24
    std::memcpy(&bits, &x, sizeof bits);
    e = -24;
  }
  e += static_cast<int>(bits >> 23) - 127;
  bits = (bits & 0x007fffffu) | 0x3f800000u;  // m in [1, 2)
  float m;
  std::memcpy(&m, &bits, sizeof m);
  if (m > 1.41421356f) m *= 0.5f, ++e;
  const float t = (m - 1.0f) / (m + 1.0f);
  const float t2 = t * t;
  const float series = t * (2.0f + t2 * (0.666666667f + t2 * (0.4f + t2 * (0.285714286f + t2 * 0.222222222f))));
  const float ln2_hi = 0.693145752f;      // ln 2 split so e * ln2_hi is exact
  const float ln2_lo = 1.42860677e-06f;
  const float fe = static_cast<float>(e);
  return (fe * ln2_hi + series) + fe * ln2_lo;
}

}  // namespace ember
