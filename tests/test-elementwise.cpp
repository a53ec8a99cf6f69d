// Element-wise kernels, reductions and optimizer updates: every SIMD table against the
// scalar reference (sizes 0..67 and large, misaligned, edge values, in place), and the
// scalar reference itself against double-precision formulas.
#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "platform/scalar/activations.h"
#include "platform/scalar/scalar.h"
#include "tests/testing.h"

using namespace ember;
using testing::close;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr Act kActs[] = {Act::identity, Act::relu, Act::leaky_relu,
                         Act::sigmoid,  Act::tanh, Act::softplus};
constexpr float kSlope = 0.1f;

const char* act_name(Act a) {
  static const char* const names[] = {"identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus"};
  return names[static_cast<int>(a)];
}

// Sizes every test sweeps: each tail length for every vector width, plus large ones.
std::vector<size_t> sizes() {
  std::vector<size_t> s;
  for (size_t n = 0; n <= 67; ++n) s.push_back(n);
  s.push_back(1000);
  s.push_back(4099);
  return s;
}

// Results below FLT_MIN are allowed to be flushed to zero: ARMv7 NEON always flushes.
constexpr float kAtol = 2 * FLT_MIN;
// Tolerance for the transcendental activations and exp (a few ulp; see the accuracy sweep
// for the measured error). Bit-exact kernels are checked with same().
constexpr float kRtol = 1e-6f;

bool same(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b;
}

// The kernels' outputs may be exact or within a few ulp, depending on the function.
bool exact_act(Act a) { return a == Act::identity || a == Act::relu || a == Act::leaky_relu; }

bool arm32() {
#if defined(__arm__)
  return true;
#else
  return false;
#endif
}

// Distance in units in the last place, sign-aware (0 for equal values and for -0 vs +0).
int64_t ulp_diff(float a, float b) {
  auto key = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, sizeof i);
    return i < 0 ? int64_t{INT32_MIN} - i : int64_t{i};
  };
  const int64_t d = key(a) - key(b);
  return d < 0 ? -d : d;
}

// Edge values, spread so each lands in full vectors and in tails of every width.
std::vector<float> edge_values() {
  const float base[] = {0.0f,   -0.0f,   1.0f,    -1.0f,   0.5f,    -0.5f,    88.0f,   -88.0f,
                        88.7f,  88.72f,  88.75f,  89.0f,   -87.3f,  -100.0f,  -103.9f, -104.0f,
                        -105.f, 100.0f,  1e30f,   -1e30f,  kInf,    -kInf,    kNaN,    -kNaN,
                        1e-7f,  -1e-7f,  1e-20f,  -1e-20f, FLT_MIN, -FLT_MIN, 1e-40f,  -1e-40f,
                        std::numeric_limits<float>::denorm_min(),   9.0f,     -9.0f,   15.0f,
                        -15.0f, 20.0f,   -20.0f,  30.5f,   -30.5f,  FLT_MAX,  -FLT_MAX, 0.3466f,
                        -0.3466f, 1.0e-3f, 0.6f, 44.0f};
  std::vector<float> v;
  for (int rep = 0; rep < 3; ++rep)
    for (size_t i = 0; i < sizeof base / sizeof base[0]; ++i) v.push_back(base[(i * 7 + rep * 5) % (sizeof base / sizeof base[0])]);
  return v;
}

// An array of n floats starting `offset` floats into its storage (offset 1: misaligned).
struct Buf {
  std::vector<float> store;
  size_t off;
  Buf(const std::vector<float>& v, size_t offset) : store(v.size() + offset, -7.0f), off(offset) {
    std::copy(v.begin(), v.end(), store.begin() + offset);
  }
  float* p() { return store.data() + off; }
};

std::string where(const Kernels* k, size_t n, size_t off, const char* what) {
  return std::string(k->name) + " " + what + " n=" + std::to_string(n) + " off=" + std::to_string(off);
}

}  // namespace

TEST_CASE("elementwise: every SIMD table replaces every element-wise entry") {
  const Kernels& s = scalar::kKernels;
  for (const Kernels* k : testing::simd_kernels()) {
    INFO(std::string(k->name));
    CHECK((k->act_forward != s.act_forward));
    CHECK((k->act_backward != s.act_backward));
    CHECK((k->exp != s.exp));
    CHECK((k->axpy != s.axpy));
    CHECK((k->scale != s.scale));
    CHECK((k->add != s.add));
    CHECK((k->mul != s.mul));
    CHECK((k->sum != s.sum));
    CHECK((k->dot != s.dot));
    CHECK((k->dot_rows != s.dot_rows));
    CHECK((k->div_sqrt != s.div_sqrt));
    CHECK((k->max != s.max));
    CHECK((k->sumsq != s.sumsq));
    CHECK((k->adam != s.adam));
    CHECK((k->sgd_momentum != s.sgd_momentum));
  }
}

TEST_CASE("elementwise: act_forward and exp match the scalar reference") {
  for (const Kernels* k : testing::simd_kernels()) {
    for (size_t n : sizes()) {
      for (size_t off : {size_t{0}, size_t{1}}) {
        const std::vector<float> x = testing::random_vector(n, 100 + n, -12.0f, 12.0f);
        for (Act act : kActs) {
          std::vector<float> want(n);
          scalar::act_forward(act, kSlope, x.data(), want.data(), n);
          Buf xb(x, off), yb(std::vector<float>(n, 0.0f), off);
          k->act_forward(act, kSlope, xb.p(), yb.p(), n);
          INFO(where(k, n, off, act_name(act)));
          const float rtol = exact_act(act) ? 0.0f : kRtol;
          CHECK(testing::first_mismatch(yb.p(), want.data(), n, rtol, exact_act(act) ? 0.0f : kAtol) == -1);
          // Nothing written outside [0, n).
          for (size_t i = 0; i < off; ++i) CHECK(yb.store[i] == -7.0f);
          // In place.
          k->act_forward(act, kSlope, xb.p(), xb.p(), n);
          CHECK(testing::first_mismatch(xb.p(), yb.p(), n, 0.0f, 0.0f) == -1);
        }
        const std::vector<float> xe = testing::random_vector(n, 200 + n, -100.0f, 90.0f);
        std::vector<float> want(n);
        scalar::exp(xe.data(), want.data(), n);
        Buf xb(xe, off);
        k->exp(xb.p(), xb.p(), n);  // in place
        INFO(where(k, n, off, "exp"));
        CHECK(testing::first_mismatch(xb.p(), want.data(), n, kRtol, kAtol) == -1);
      }
    }
  }
}

TEST_CASE("elementwise: act_forward and exp on edge values (0, -0, large, inf, denormal, NaN)") {
  const std::vector<float> x = edge_values();
  const size_t n = x.size();
  std::vector<float> want(n), got(n);
  for (const Kernels* k : testing::simd_kernels()) {
    for (Act act : kActs) {
      scalar::act_forward(act, kSlope, x.data(), want.data(), n);
      k->act_forward(act, kSlope, x.data(), got.data(), n);
      for (size_t i = 0; i < n; ++i) {
        INFO((std::string(k->name) + " " + act_name(act) + " x=" + std::to_string(x[i])));
        CHECK(close(got[i], want[i], kRtol, kAtol));
        if (std::isnan(x[i])) CHECK(std::isnan(got[i]));
        if (exact_act(act) && !arm32()) CHECK(same(got[i], want[i]));
        // Odd functions keep the sign of zero.
        if (x[i] == 0 && (act == Act::tanh || act == Act::identity || act == Act::relu))
          CHECK(std::signbit(got[i]) == std::signbit(x[i]));
      }
    }
    scalar::exp(x.data(), want.data(), n);
    k->exp(x.data(), got.data(), n);
    for (size_t i = 0; i < n; ++i) {
      INFO((std::string(k->name) + " exp x=" + std::to_string(x[i])));
      CHECK(close(got[i], want[i], kRtol, kAtol));
    }
  }
}

TEST_CASE("elementwise: act_backward matches the scalar reference, reading x or y only") {
  for (const Kernels* k : testing::simd_kernels()) {
    for (size_t n : sizes()) {
      for (size_t off : {size_t{0}, size_t{1}}) {
        const std::vector<float> x = testing::random_vector(n, 300 + n, -10.0f, 10.0f);
        const std::vector<float> dy = testing::random_vector(n, 400 + n, -2.0f, 2.0f);
        for (Act act : kActs) {
          std::vector<float> y(n), want(n);
          scalar::act_forward(act, kSlope, x.data(), y.data(), n);
          // The derivative reads x for relu, leaky and softplus, y for sigmoid and tanh.
          const bool reads_y = act == Act::sigmoid || act == Act::tanh;
          Buf xb(x, off), yb(y, off), gb(dy, off), db(std::vector<float>(n, 0.0f), off);
          const float* xp = reads_y ? nullptr : xb.p();
          const float* yp = reads_y ? yb.p() : nullptr;
          scalar::act_backward(act, kSlope, xp ? x.data() : nullptr, yp ? y.data() : nullptr,
                               dy.data(), want.data(), n);
          k->act_backward(act, kSlope, xp, yp, gb.p(), db.p(), n);
          INFO(where(k, n, off, act_name(act)));
          const bool exact = act != Act::softplus && !arm32();
          CHECK(testing::first_mismatch(db.p(), want.data(), n, exact ? 0.0f : kRtol,
                                        exact ? 0.0f : kAtol) == -1);
          // In place over dy.
          k->act_backward(act, kSlope, xp, yp, gb.p(), gb.p(), n);
          CHECK(testing::first_mismatch(gb.p(), db.p(), n, 0.0f, 0.0f) == -1);
        }
      }
    }
  }
}

TEST_CASE("elementwise: act_backward on edge values, and with both inputs given") {
  const std::vector<float> x = edge_values();
  const size_t n = x.size();
  std::vector<float> dy(n, 1.5f);
  dy[3] = kNaN;
  dy[4] = kInf;
  for (const Kernels* k : testing::simd_kernels()) {
    for (Act act : kActs) {
      std::vector<float> y(n), want(n), got(n);
      scalar::act_forward(act, kSlope, x.data(), y.data(), n);
      scalar::act_backward(act, kSlope, x.data(), y.data(), dy.data(), want.data(), n);
      k->act_backward(act, kSlope, x.data(), y.data(), dy.data(), got.data(), n);
      for (size_t i = 0; i < n; ++i) {
        INFO((std::string(k->name) + " " + act_name(act) + " x=" + std::to_string(x[i])));
        CHECK(close(got[i], want[i], kRtol, kAtol));
      }
    }
    // A null input the derivative needs reads as zeros, as in the reference.
    std::vector<float> want(n), got(n);
    scalar::act_backward(Act::relu, kSlope, nullptr, x.data(), dy.data(), want.data(), n);
    k->act_backward(Act::relu, kSlope, nullptr, x.data(), dy.data(), got.data(), n);
    CHECK(testing::first_mismatch(got.data(), want.data(), n, 0.0f, 0.0f) == -1);
  }
}

TEST_CASE("elementwise: axpy, scale, add, mul (in place too)") {
  for (const Kernels* k : testing::simd_kernels()) {
    for (size_t n : sizes()) {
      for (size_t off : {size_t{0}, size_t{1}}) {
        const std::vector<float> a = testing::random_vector(n, 500 + n, -3.0f, 3.0f);
        const std::vector<float> b = testing::random_vector(n, 600 + n, -3.0f, 3.0f);
        INFO(where(k, n, off, "axpy/scale/add/mul"));
        // axpy may fuse a*x + y: allow one rounding of a*x.
        std::vector<float> want = b;
        scalar::axpy(n, 0.75f, a.data(), want.data());
        Buf ab(a, off), yb(b, off);
        k->axpy(n, 0.75f, ab.p(), yb.p());
        for (size_t i = 0; i < n; ++i)
          CHECK(std::fabs(yb.p()[i] - want[i]) <= 2.4e-7f * (std::fabs(b[i]) + std::fabs(0.75f * a[i])));
        want = a;
        scalar::scale(n, -1.25f, want.data());
        Buf sb(a, off);
        k->scale(n, -1.25f, sb.p());
        CHECK(testing::first_mismatch(sb.p(), want.data(), n, 0.0f, 0.0f) == -1);
        scalar::add(n, a.data(), b.data(), want.data());
        Buf xb(a, off), zb(b, off), ob(std::vector<float>(n), off);
        k->add(n, xb.p(), zb.p(), ob.p());
        CHECK(testing::first_mismatch(ob.p(), want.data(), n, 0.0f, 0.0f) == -1);
        k->add(n, xb.p(), zb.p(), xb.p());  // out == a
        CHECK(testing::first_mismatch(xb.p(), want.data(), n, 0.0f, 0.0f) == -1);
        scalar::mul(n, a.data(), b.data(), want.data());
        Buf mb(a, off);
        k->mul(n, mb.p(), zb.p(), ob.p());
        CHECK(testing::first_mismatch(ob.p(), want.data(), n, 0.0f, 0.0f) == -1);
        k->mul(n, mb.p(), zb.p(), mb.p());  // out == a
        CHECK(testing::first_mismatch(mb.p(), want.data(), n, 0.0f, 0.0f) == -1);
        for (size_t i = 0; i < off; ++i) CHECK(ob.store[i] == -7.0f);
      }
    }
  }
}

TEST_CASE("elementwise: sum, dot, sumsq, max match the reference") {
  for (const Kernels* k : testing::simd_kernels()) {
    CHECK(k->sum(nullptr, 0) == 0.0f);
    CHECK(k->dot(nullptr, nullptr, 0) == 0.0f);
    CHECK(k->sumsq(nullptr, 0) == 0.0f);
    CHECK(k->max(nullptr, 0) == -kInf);
    for (size_t n : sizes()) {
      for (size_t off : {size_t{0}, size_t{1}}) {
        const std::vector<float> x = testing::random_vector(n, 700 + n, -4.0f, 3.0f);
        const std::vector<float> y = testing::random_vector(n, 800 + n, -2.0f, 2.0f);
        Buf xb(x, off), yb(y, off);
        double abs_x = 0, abs_xy = 0, sq = 0;
        for (size_t i = 0; i < n; ++i) {
          abs_x += std::fabs(x[i]);
          abs_xy += std::fabs(double(x[i]) * y[i]);
          sq += double(x[i]) * x[i];
        }
        INFO(where(k, n, off, "reductions"));
        // Different summation orders: tolerance relative to sum |terms|.
        CHECK(std::fabs(k->sum(xb.p(), n) - scalar::sum(x.data(), n)) <= 1e-6 * abs_x * (1 + n / 64.0));
        CHECK(std::fabs(k->dot(xb.p(), yb.p(), n) - scalar::dot(x.data(), y.data(), n)) <=
              1e-6 * abs_xy * (1 + n / 64.0));
        CHECK(std::fabs(k->sumsq(xb.p(), n) - scalar::sumsq(x.data(), n)) <= 1e-6 * sq * (1 + n / 64.0));
        CHECK(k->max(xb.p(), n) == scalar::max(x.data(), n));
      }
    }
  }
}

// A batch-1 Linear's outputs must not depend on how many rows the kernel takes at once.
TEST_CASE("elementwise: dot_rows gives each row dot's bits, over row counts and strides") {
  for (const Kernels* k : testing::available_kernels()) {
    for (size_t n : sizes()) {
      for (size_t count : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{5}, size_t{7}, size_t{9}, size_t{13}}) {
        for (size_t stride : {n, n + 3}) {
          const std::vector<float> x = testing::random_vector(n, 300 + n, -3.0f, 3.0f);
          const std::vector<float> y = testing::random_vector(stride * count + 1, 400 + n * 16 + count, -2.0f, 2.0f);
          Buf xb(x, 1), yb(y, 0);
          std::vector<float> out(count + 1, -7.0f);
          k->dot_rows(xb.p(), yb.p(), stride, n, count, out.data());
          const std::string what = std::string(k->name) + " dot_rows n=" + std::to_string(n) +
                                   " stride=" + std::to_string(stride) + " count=" + std::to_string(count);
          INFO(what);
          for (size_t j = 0; j < count; ++j) {
            const float want = k->dot(xb.p(), yb.p() + j * stride, n);
            CHECK(std::memcmp(&out[j], &want, sizeof want) == 0);
          }
          CHECK(out[count] == -7.0f);
        }
      }
    }
  }
}

TEST_CASE("elementwise: div_sqrt matches the reference, with and without a numerator") {
  for (const Kernels* k : testing::simd_kernels()) {
    for (size_t n : sizes()) {
      for (size_t off : {size_t{0}, size_t{1}}) {
        std::vector<float> a = testing::random_vector(n, 500 + n, -3.0f, 3.0f);
        std::vector<float> b = testing::random_vector(n, 600 + n, 0.0f, 5.0f);
        if (n > 2) b[0] = 0.0f, b[1] = -1.0f, b[2] = kInf;  // b + eps: eps alone, negative (NaN), inf
        Buf ab(a, off), bb(b, off);
        std::vector<float> want(n), got(n + off + 1, -7.0f);
        for (const float* num : {static_cast<const float*>(ab.p()), static_cast<const float*>(nullptr)}) {
          scalar::div_sqrt(n, num ? a.data() : nullptr, b.data(), 1e-5f, want.data());
          k->div_sqrt(n, num, bb.p(), 1e-5f, got.data() + off);
          INFO(where(k, n, off, num ? "div_sqrt" : "div_sqrt of ones"));
          // IEEE divide and square root give the reference's bits; ARMv7 NEON has neither.
          CHECK(testing::first_mismatch(got.data() + off, want.data(), n, arm32() ? 1e-6f : 0.0f, 0.0f) == -1);
          CHECK(got[n + off] == -7.0f);
        }
      }
    }
  }
}

TEST_CASE("elementwise: reductions propagate NaN and inf wherever they sit") {
  for (const Kernels* k : testing::simd_kernels()) {
    for (size_t n : {size_t{1}, size_t{7}, size_t{16}, size_t{33}, size_t{67}, size_t{1000}}) {
      for (size_t pos : {size_t{0}, n / 2, n - 1}) {
        std::vector<float> x = testing::random_vector(n, 900 + n);
        INFO((std::string(k->name) + " n=" + std::to_string(n) + " pos=" + std::to_string(pos)));
        x[pos] = kNaN;
        CHECK(std::isnan(k->max(x.data(), n)));
        CHECK(std::isnan(k->sum(x.data(), n)));
        CHECK(std::isnan(k->dot(x.data(), x.data(), n)));
        CHECK(std::isnan(k->sumsq(x.data(), n)));
        x[pos] = kInf;
        CHECK(k->max(x.data(), n) == kInf);
        CHECK(k->sum(x.data(), n) == kInf);
        CHECK(k->sumsq(x.data(), n) == kInf);
        x[pos] = -kInf;
        CHECK(k->sum(x.data(), n) == -kInf);
        if (n > 1) {
          x[(pos + 1) % n] = kInf;
          CHECK(std::isnan(k->sum(x.data(), n)));  // inf - inf
        }
      }
    }
    // All -inf, and all equal to the largest negative value.
    std::vector<float> x(37, -kInf);
    CHECK(k->max(x.data(), x.size()) == -kInf);
    x.assign(37, -FLT_MAX);
    CHECK(k->max(x.data(), x.size()) == -FLT_MAX);
    const std::vector<float> e = edge_values();
    CHECK(std::isnan(k->max(e.data(), e.size())));
    CHECK(std::isnan(k->sum(e.data(), e.size())));
  }
}

namespace {

// Runs `steps` optimizer steps of table k and of the scalar reference on the same data.
void compare_adam(const Kernels* k, size_t n, size_t off, bool decoupled) {
  std::vector<float> p = testing::random_vector(n, 1000 + n), m(n, 0.0f), v(n, 0.0f);
  std::vector<float> p2 = p, m2 = m, v2 = v;
  Buf pb(p, off), mb(m, off), vb(v, off);
  AdamArgs a;
  a.lr = 1e-2f;
  a.weight_decay = 0.05f;
  a.decoupled = decoupled;
  for (int t = 1; t <= 4; ++t) {
    const std::vector<float> g = testing::random_vector(n, 2000 + n * 8 + t, -1.0f, 1.0f);
    Buf gb(g, off);
    a.bias1 = 1.0f - std::pow(a.beta1, float(t));
    a.bias2 = 1.0f - std::pow(a.beta2, float(t));
    k->adam(a, pb.p(), gb.p(), mb.p(), vb.p(), n);
    scalar::adam(a, p2.data(), g.data(), m2.data(), v2.data(), n);
  }
  INFO(where(k, n, off, decoupled ? "adamw" : "adam"));
  // Bit-exact where divide and square root are IEEE (x86, aarch64); ARMv7 NEON has neither.
  const float r = arm32() ? 1e-6f : 0.0f, s = arm32() ? 1.0f : 0.0f;
  CHECK(testing::first_mismatch(pb.p(), p2.data(), n, r, s * 1e-7f) == -1);
  CHECK(testing::first_mismatch(mb.p(), m2.data(), n, r, s * 1e-9f) == -1);
  CHECK(testing::first_mismatch(vb.p(), v2.data(), n, r, s * 1e-12f) == -1);
}

}  // namespace

TEST_CASE("elementwise: adam (L2 and decoupled) and sgd_momentum over several steps") {
  for (const Kernels* k : testing::simd_kernels()) {
    for (size_t n : sizes()) {
      for (size_t off : {size_t{0}, size_t{1}}) {
        compare_adam(k, n, off, false);
        compare_adam(k, n, off, true);
        std::vector<float> p = testing::random_vector(n, 3000 + n), vel(n, 0.0f);
        std::vector<float> p2 = p, vel2 = vel;
        Buf pb(p, off), vb(vel, off);
        SgdArgs s;
        s.weight_decay = 1e-3f;
        for (int t = 0; t < 4; ++t) {
          const std::vector<float> g = testing::random_vector(n, 4000 + n * 8 + t);
          Buf gb(g, off);
          k->sgd_momentum(s, pb.p(), gb.p(), vb.p(), n);
          scalar::sgd_momentum(s, p2.data(), g.data(), vel2.data(), n);
        }
        INFO(where(k, n, off, "sgd"));
        // The same operations as the reference: bit-exact everywhere.
        CHECK(testing::first_mismatch(pb.p(), p2.data(), n, 0.0f, 0.0f) == -1);
        CHECK(testing::first_mismatch(vb.p(), vel2.data(), n, 0.0f, 0.0f) == -1);
      }
    }
  }
}

// Max error of each SIMD function against the scalar one over a dense sweep; the bounds
// below are what platform/elementwise-simd.h's header promises. EMBER_TEST_VERBOSE=1 prints
// the measured values.
TEST_CASE("elementwise: accuracy sweep of exp, sigmoid, tanh, softplus (ulp vs std::)") {
  std::vector<float> x;
  for (float v = -104.5f; v <= 90.0f; v += 0.00173f) x.push_back(v);
  for (float v = 1e-30f; v < 1.0f; v *= 1.013f) {  // small |x|: relative accuracy
    x.push_back(v);
    x.push_back(-v);
  }
  const size_t n = x.size();
  std::vector<float> want(n), got(n);
  const bool verbose = std::getenv("EMBER_TEST_VERBOSE") != nullptr;
  for (const Kernels* k : testing::simd_kernels()) {
    struct Fn {
      const char* name;
      int act;  // -1: exp
      int64_t bound;
    };
    const Fn fns[] = {{"exp", -1, 1},
                      {"sigmoid", int(Act::sigmoid), 2},
                      {"tanh", int(Act::tanh), 3},
                      {"softplus", int(Act::softplus), 2}};
    for (const Fn& f : fns) {
      if (f.act < 0) {
        scalar::exp(x.data(), want.data(), n);
        k->exp(x.data(), got.data(), n);
      } else {
        scalar::act_forward(Act(f.act), 0.0f, x.data(), want.data(), n);
        k->act_forward(Act(f.act), 0.0f, x.data(), got.data(), n);
      }
      int64_t worst = 0;
      float worst_x = 0;
      for (size_t i = 0; i < n; ++i) {
        if (std::fabs(want[i]) < FLT_MIN && std::fabs(got[i]) < FLT_MIN && arm32()) continue;
        const int64_t d = ulp_diff(got[i], want[i]);
        if (d > worst) {
          worst = d;
          worst_x = x[i];
        }
      }
      if (verbose)
        std::printf("accuracy %-7s %-9s max %lld ulp (at x = %.9g)\n", k->name, f.name,
                    static_cast<long long>(worst), worst_x);
      INFO((std::string(k->name) + " " + f.name + " worst at x=" + std::to_string(worst_x)));
      CHECK(worst <= f.bound);
    }
  }
}

// --- the scalar reference itself -----------------------------------------------------------

TEST_CASE("scalar reference: activations against double-precision formulas") {
  using scalar::activate;
  CHECK(activate(Act::softplus, 0, 100.0f) == 100.0f);
  CHECK(activate(Act::softplus, 0, 1e30f) == 1e30f);
  CHECK(activate(Act::softplus, 0, kInf) == kInf);
  CHECK(activate(Act::softplus, 0, -kInf) == 0.0f);
  CHECK(close(activate(Act::softplus, 0, -100.0f), float(std::exp(-100.0)), 1e-2f, 0.0f));
  CHECK(close(activate(Act::softplus, 0, -30.0f), float(std::exp(-30.0)), 1e-6f, 0.0f));
  CHECK(activate(Act::softplus, 0, 0.0f) == doctest::Approx(std::log(2.0)).epsilon(1e-7));
  CHECK(activate(Act::sigmoid, 0, -100.0f) > 0.0f);
  CHECK(activate(Act::sigmoid, 0, -100.0f) < 1e-40f);
  CHECK(activate(Act::sigmoid, 0, 100.0f) == 1.0f);
  CHECK(activate(Act::sigmoid, 0, 0.0f) == 0.5f);
  CHECK(activate(Act::sigmoid, 0, -kInf) == 0.0f);
  CHECK(activate(Act::tanh, 0, 20.0f) == 1.0f);
  CHECK(activate(Act::tanh, 0, -20.0f) == -1.0f);
  CHECK(std::signbit(activate(Act::tanh, 0, -0.0f)));
  for (Act a : kActs) CHECK(std::isnan(activate(a, kSlope, kNaN)));
  CHECK(activate(Act::leaky_relu, 0.2f, -5.0f) == -1.0f);
  CHECK(activate(Act::relu, 0, -5.0f) == 0.0f);

  // A grid against double formulas: a few ulp.
  for (double xd = -60; xd <= 60; xd += 0.0137) {
    const float x = float(xd);
    const double X = x;
    const double sig = 1.0 / (1.0 + std::exp(-X));
    const double sp = X > 0 ? X + std::log1p(std::exp(-X)) : std::log1p(std::exp(X));
    INFO("x=" << x);
    CHECK(close(activate(Act::sigmoid, 0, x), float(sig), 4e-7f, 0.0f));
    CHECK(close(activate(Act::tanh, 0, x), float(std::tanh(X)), 4e-7f, 0.0f));
    CHECK(close(activate(Act::softplus, 0, x), float(sp), 4e-7f, 0.0f));
  }
}

TEST_CASE("scalar reference: act_backward against a central finite difference") {
  auto f = [](Act a, double x) {
    switch (a) {
      case Act::identity: return x;
      case Act::relu: return x > 0 ? x : 0.0;
      case Act::leaky_relu: return x > 0 ? x : kSlope * x;
      case Act::sigmoid: return 1.0 / (1.0 + std::exp(-x));
      case Act::tanh: return std::tanh(x);
      case Act::softplus: return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    }
    return x;
  };
  for (Act a : kActs) {
    for (double xd = -8; xd <= 8; xd += 0.173) {
      const float x = float(xd);
      const float y = scalar::activate(a, kSlope, x);
      const float dy = 1.0f;
      float dx;
      scalar::act_backward(a, kSlope, &x, &y, &dy, &dx, 1);
      const double h = 1e-4;
      const double fd = (f(a, double(x) + h) - f(a, double(x) - h)) / (2 * h);
      INFO(act_name(a) << " x=" << x);
      CHECK(std::fabs(dx - fd) <= 1e-5 + 1e-5 * std::fabs(fd));
    }
  }
}

TEST_CASE("scalar reference: reductions and optimizers against double formulas") {
  CHECK(scalar::max(nullptr, 0) == -kInf);
  const float xs[] = {1.0f, kNaN, 3.0f};
  CHECK(std::isnan(scalar::max(xs, 3)));
  const float ys[] = {-3.0f, 2.5f, -0.5f};
  CHECK(scalar::max(ys, 3) == 2.5f);
  CHECK(scalar::dot(xs, ys, 1) == -3.0f);

  // Adam: three steps against the textbook formulas in double, L2 and decoupled.
  for (bool decoupled : {false, true}) {
    AdamArgs a;
    a.lr = 0.01f;
    a.weight_decay = 0.1f;
    a.decoupled = decoupled;
    float p = 0.5f, m = 0, v = 0;
    double P = 0.5, M = 0, V = 0;
    const float grads[] = {0.3f, -0.2f, 0.7f};
    for (int t = 1; t <= 3; ++t) {
      a.bias1 = 1.0f - std::pow(a.beta1, float(t));
      a.bias2 = 1.0f - std::pow(a.beta2, float(t));
      scalar::adam(a, &p, &grads[t - 1], &m, &v, 1);
      double g = grads[t - 1];
      if (!decoupled) g += 0.1 * P;
      M = 0.9 * M + 0.1 * g;
      V = 0.999 * V + 0.001 * g * g;
      const double mhat = M / (1 - std::pow(0.9, t)), vhat = V / (1 - std::pow(0.999, t));
      if (decoupled) P -= 0.01 * 0.1 * P;
      P -= 0.01 * mhat / (std::sqrt(vhat) + 1e-8);
    }
    INFO("decoupled=" << decoupled);
    CHECK(p == doctest::Approx(P).epsilon(1e-5));
    CHECK(m == doctest::Approx(M).epsilon(1e-5));
    CHECK(v == doctest::Approx(V).epsilon(1e-4));
  }
  // SGD with momentum, PyTorch's convention: v = mu v + g + wd p; p -= lr v.
  SgdArgs s;
  s.lr = 0.1f;
  s.momentum = 0.5f;
  s.weight_decay = 0.2f;
  float p = 1.0f, vel = 0.0f;
  const float g = 0.4f;
  scalar::sgd_momentum(s, &p, &g, &vel, 1);  // v = 0.6, p = 0.94
  scalar::sgd_momentum(s, &p, &g, &vel, 1);  // v = 0.3 + 0.4 + 0.188 = 0.888, p = 0.8512
  CHECK(vel == doctest::Approx(0.888).epsilon(1e-6));
  CHECK(p == doctest::Approx(0.8512).epsilon(1e-6));
}
