// Element-wise ops and losses (nn/op-pointwise.cpp, nn/op-losses.cpp): finite-difference
// gradients for every differentiable input, closed-form values, extreme inputs, the
// backward-adds convention, reparam's stream, on every kernel table this machine runs.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "core/arena.h"
#include "nn/ops.h"
#include "platform/scalar/activations.h"
#include "tests/gradcheck.h"
#include "tests/testing.h"

using namespace ember;
using namespace ember::nn;
using testing::check_gradient;
using testing::random_vector;

namespace {

constexpr Act kActs[] = {Act::identity, Act::relu, Act::leaky_relu,
                         Act::sigmoid,  Act::tanh, Act::softplus};
constexpr Reduction kReductions[] = {Reduction::sum, Reduction::mean};
const double kLog2Pi = std::log(2.0 * std::acos(-1.0));

std::vector<Context*>& contexts() { return testing::isa_contexts(); }

Context& best() { return *contexts().back(); }

const char* red_name(Reduction r) { return r == Reduction::sum ? "sum" : "mean"; }

// Uniform values kept at least `margin` away from 0 (the kinks of relu/leaky_relu).
std::vector<float> away_from_zero(size_t n, uint64_t seed, float margin) {
  std::vector<float> v = random_vector(n, seed, -2.0f, 2.0f);
  for (float& x : v)
    if (std::fabs(x) < margin) x = x < 0 ? x - margin : x + margin;
  return v;
}

}  // namespace

// ---- act_backward ----------------------------------------------------------------
TEST_CASE("act_backward: dx += dy f'(x) for every Act, every size and table") {
  const float slope = 0.2f;
  for (Context* ctx : contexts()) {
    for (Act act : kActs) {
      for (size_t n : {size_t{0}, size_t{1}, size_t{17}, size_t{256}, size_t{257}, size_t{1000}}) {
        CAPTURE(ctx->k().name);
        CAPTURE(static_cast<int>(act));
        CAPTURE(n);
        std::vector<float> x = away_from_zero(n, 1 + n, 0.05f), y(n), dy = random_vector(n, 2 + n);
        std::vector<float> dx = random_vector(n, 3 + n), dx0 = dx;
        for (size_t i = 0; i < n; ++i) y[i] = scalar::activate(act, slope, x[i]);
        act_backward(*ctx, act, slope, x.data(), y.data(), dy.data(), dx.data(), n);
        int bad = 0;
        for (size_t i = 0; i < n; ++i) {
          const float want = dx0[i] + dy[i] * scalar::derivative(act, slope, x[i], y[i]);
          if (!testing::close(dx[i], want, 1e-5f, 1e-6f)) ++bad;
        }
        CHECK(bad == 0);
      }
    }
  }
}

// Large tensors run in fixed chunks over the workers (detail::parallel_chunks): 1 and 2
// threads must give the bits of one kernel call over the whole tensor, across chunk edges
// and with a short last chunk, in place too.
TEST_CASE("activations: chunked over 2 threads, the bits of one kernel call") {
  const size_t n = 3 * (size_t(1) << 16) + 1001;
  for (int threads : {1, 2}) {
    testing::ThreadedContext tc(threads);
    Context& ctx = tc.ctx;
    const Kernels& k = ctx.k();
    for (Act act : {Act::relu, Act::tanh, Act::sigmoid}) {
      CAPTURE(threads);
      CAPTURE(static_cast<int>(act));
      const std::vector<float> x = random_vector(n, 11, -4.0f, 4.0f), dy = random_vector(n, 12);
      std::vector<float> y(n), want(n), in_place = x;
      k.act_forward(act, 0.1f, x.data(), want.data(), n);
      act_forward(ctx, act, 0.1f, x.data(), y.data(), n);
      act_forward(ctx, act, 0.1f, in_place.data(), in_place.data(), n);
      CHECK(std::memcmp(y.data(), want.data(), n * sizeof(float)) == 0);
      CHECK(std::memcmp(in_place.data(), want.data(), n * sizeof(float)) == 0);
      std::vector<float> dx = random_vector(n, 13), dx_want = dx, grad(n);
      k.act_backward(act, 0.1f, x.data(), want.data(), dy.data(), grad.data(), n);
      k.add(n, dx_want.data(), grad.data(), dx_want.data());
      act_backward(ctx, act, 0.1f, x.data(), want.data(), dy.data(), dx.data(), n);
      CHECK(std::memcmp(dx.data(), dx_want.data(), n * sizeof(float)) == 0);
      // Written (GradWrites dx) over NaN: the kernel's own output, every chunk.
      GradWrites writes;
      writes.dx = true;
      std::vector<float> written(n, std::numeric_limits<float>::quiet_NaN());
      act_backward(ctx, act, 0.1f, x.data(), want.data(), dy.data(), written.data(), n, writes);
      CHECK(std::memcmp(written.data(), grad.data(), n * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("act_backward: finite differences through act_forward") {
  Context& ctx = best();
  const size_t n = 300;  // more than one stack chunk
  const float slope = 0.2f;
  for (Act act : kActs) {
    CAPTURE(static_cast<int>(act));
    std::vector<float> x = away_from_zero(n, 7, 0.05f), y(n), r = random_vector(n, 8), dx(n, 0.0f);
    ctx.k().act_forward(act, slope, x.data(), y.data(), n);
    act_backward(ctx, act, slope, x.data(), y.data(), r.data(), dx.data(), n);
    check_gradient("act dx", x.data(), dx.data(), n, [&] {
      std::vector<float> yy(n);
      ctx.k().act_forward(act, slope, x.data(), yy.data(), n);
      return testing::project(yy.data(), r.data(), n);
    });
  }
}

// ---- concat ----------------------------------------------------------------------------------
TEST_CASE("concat: layout, round trip and accumulating backward, features and channels") {
  struct Shape {
    int n, ca, cb, s;
  };
  for (Shape sh : {Shape{3, 4, 5, 1}, Shape{2, 3, 2, 6}, Shape{1, 1, 7, 4}}) {
    CAPTURE(sh.s);
    const size_t la = size_t(sh.ca) * sh.s, lb = size_t(sh.cb) * sh.s, ly = la + lb;
    std::vector<float> a = random_vector(sh.n * la, 1), b = random_vector(sh.n * lb, 2), y(sh.n * ly);
    concat_forward(a.data(), b.data(), y.data(), sh.n, sh.ca, sh.cb, sh.s);
    // y[n, c, s]: channels c < ca come from a, the rest from b.
    for (int n = 0; n < sh.n; ++n)
      for (int c = 0; c < sh.ca + sh.cb; ++c)
        for (int s = 0; s < sh.s; ++s) {
          const float want = c < sh.ca ? a[(size_t(n) * sh.ca + c) * sh.s + s]
                                       : b[(size_t(n) * sh.cb + (c - sh.ca)) * sh.s + s];
          REQUIRE(y[(size_t(n) * (sh.ca + sh.cb) + c) * sh.s + s] == want);
        }
    // Backward of the forward's output into zeroed gradients gives back a and b exactly;
    // a second backward doubles them; null sides are skipped.
    std::vector<float> da(a.size(), 0.0f), db(b.size(), 0.0f);
    concat_backward(y.data(), da.data(), db.data(), sh.n, sh.ca, sh.cb, sh.s);
    CHECK(da == a);
    CHECK(db == b);
    concat_backward(y.data(), da.data(), nullptr, sh.n, sh.ca, sh.cb, sh.s);
    concat_backward(y.data(), nullptr, db.data(), sh.n, sh.ca, sh.cb, sh.s);
    for (size_t i = 0; i < a.size(); ++i) REQUIRE(da[i] == 2 * a[i]);
    for (size_t i = 0; i < b.size(); ++i) REQUIRE(db[i] == 2 * b[i]);
    concat_backward(y.data(), nullptr, nullptr, sh.n, sh.ca, sh.cb, sh.s);

    // Finite differences (linear, so exact up to rounding) for both inputs.
    std::vector<float> r = random_vector(y.size(), 3);
    std::fill(da.begin(), da.end(), 0.0f);
    std::fill(db.begin(), db.end(), 0.0f);
    concat_backward(r.data(), da.data(), db.data(), sh.n, sh.ca, sh.cb, sh.s);
    auto loss = [&] {
      concat_forward(a.data(), b.data(), y.data(), sh.n, sh.ca, sh.cb, sh.s);
      return testing::project(y.data(), r.data(), y.size());
    };
    check_gradient("concat da", a.data(), da.data(), a.size(), loss);
    check_gradient("concat db", b.data(), db.data(), b.size(), loss);
  }
}

// ---- reparam -----------------------------------------------------------------------------------
TEST_CASE("reparam: z = mu + exp(0.5 logvar) eps, eps from the seeded stream") {
  for (Context* ctx : contexts()) {
    CAPTURE(ctx->k().name);
    const size_t n = 517;
    std::vector<float> mu = random_vector(n, 1), lv = random_vector(n, 2, -3.0f, 3.0f);
    std::vector<float> eps(n), z(n), eps2(n), z2(n), want(n);
    Rng rng(42), rng2(42), ref(42);
    reparam_forward(*ctx, rng, mu.data(), lv.data(), eps.data(), z.data(), n);
    reparam_forward(*ctx, rng2, mu.data(), lv.data(), eps2.data(), z2.data(), n);
    CHECK(z == z2);
    CHECK(eps == eps2);
    ref.fill_normal(want.data(), n, 0.0f, 1.0f);
    CHECK(eps == want);  // the same draws as fill_normal, whatever the chunking
    int bad = 0;
    for (size_t i = 0; i < n; ++i)
      if (!testing::close(z[i], mu[i] + std::exp(0.5f * lv[i]) * eps[i], 1e-5f, 1e-6f)) ++bad;
    CHECK(bad == 0);
    // The stream moves on: a second call draws new noise.
    reparam_forward(*ctx, rng, mu.data(), lv.data(), eps2.data(), z2.data(), n);
    CHECK(eps2 != eps);
  }
}

TEST_CASE("reparam: eps has mean ~0 and variance ~1 over a large draw") {
  const size_t n = 100000;
  std::vector<float> mu(n, 0.0f), lv(n, 0.0f), eps(n), z(n);
  Rng rng(7);
  reparam_forward(best(), rng, mu.data(), lv.data(), eps.data(), z.data(), n);
  double s = 0, s2 = 0;
  for (float e : eps) s += e, s2 += double(e) * e;
  const double mean = s / n, var = s2 / n - mean * mean;
  CHECK(std::fabs(mean) < 0.02);  // sd of the mean: 1/sqrt(n) = 0.003
  CHECK(std::fabs(var - 1.0) < 0.02);
  CHECK(z == eps);  // mu 0, sigma 1
}

TEST_CASE("reparam: gradients for mu and logvar by finite differences, eps held fixed") {
  for (Context* ctx : contexts()) {
    CAPTURE(ctx->k().name);
    const size_t n = 300;
    std::vector<float> mu = random_vector(n, 1), lv = random_vector(n, 2, -2.0f, 2.0f);
    std::vector<float> eps(n), z(n), r = random_vector(n, 3);
    // Re-seeding the same stream each forward holds eps fixed.
    auto loss = [&] {
      Rng rng(5);
      reparam_forward(*ctx, rng, mu.data(), lv.data(), eps.data(), z.data(), n);
      return testing::project(z.data(), r.data(), n);
    };
    loss();
    std::vector<float> dmu(n, 0.0f), dlv(n, 0.0f);
    reparam_backward(*ctx, lv.data(), eps.data(), r.data(), dmu.data(), dlv.data(), n);
    check_gradient("reparam dmu", mu.data(), dmu.data(), n, loss);
    check_gradient("reparam dlogvar", lv.data(), dlv.data(), n, loss);

    // Backward adds: twice gives double; a null side is skipped.
    std::vector<float> dmu2 = dmu, dlv2 = dlv;
    reparam_backward(*ctx, lv.data(), eps.data(), r.data(), dmu2.data(), nullptr, n);
    reparam_backward(*ctx, lv.data(), eps.data(), r.data(), nullptr, dlv2.data(), n);
    reparam_backward(*ctx, lv.data(), eps.data(), r.data(), nullptr, nullptr, n);
    int bad = 0;
    for (size_t i = 0; i < n; ++i)
      if (!testing::close(dmu2[i], 2 * dmu[i], 1e-6f, 0) ||
          !testing::close(dlv2[i], 2 * dlv[i], 1e-6f, 0))
        ++bad;
    CHECK(bad == 0);
  }
}

// ---- losses: the gradient written over the logits ---------------------------------------------
// The plan may give bce_logits and mse dx == x (graph-compile.cpp): the same bits as a zeroed
// dx, on every ISA, over sizes that end mid-chunk and span several chunks.
TEST_CASE("losses: bce_logits and mse backward in place give the bits of a zeroed dx") {
  for (Context* ctx : contexts()) {
    Context& c = *ctx;
    CAPTURE(c.k().name);
    for (const int per_row : {1, 7, 613}) {
      const int batch = 11;
      const size_t n = size_t(batch) * per_row;
      CAPTURE(per_row);
      const std::vector<float> x = random_vector(n, 41, -5.0f, 5.0f), t = random_vector(n, 42, 0.0f, 1.0f);
      for (const bool bce : {true, false}) {
        std::vector<float> apart(n, 0.0f), same = x;
        if (bce) {
          bce_logits_backward(c, x.data(), t.data(), 0.3f, apart.data(), batch, per_row, Reduction::mean);
          bce_logits_backward(c, same.data(), t.data(), 0.3f, same.data(), batch, per_row, Reduction::mean);
        } else {
          mse_backward(c, x.data(), t.data(), 0.3f, apart.data(), batch, per_row, Reduction::mean);
          mse_backward(c, same.data(), t.data(), 0.3f, same.data(), batch, per_row, Reduction::mean);
        }
        CHECK(std::memcmp(apart.data(), same.data(), n * sizeof(float)) == 0);
      }
    }
  }
}

// BCE and MSE over a whole image batch spread their chunks over the workers: 1, 2 and 3 threads
// must give the bits of the chunks summed one after another on one thread (computed here from
// the kernels: each chunk's float sum, added in order in double), over several rounds of
// chunk sums and a short last chunk.
TEST_CASE("losses: BCE and MSE over 2 and 3 threads, the bits of one pass in chunk order") {
  const int batch = 300, per_row = 1001;  // 300,300 values: 1,173 chunks of 256, the last 76
  const size_t n = size_t(batch) * per_row, chunk = 256;
  const std::vector<float> x = random_vector(n, 21, -4.0f, 4.0f), t = random_vector(n, 22, 0.0f, 1.0f);
  const Kernels& k = best().k();  // ThreadedContext's table
  double bce = 0.0, mse = 0.0;
  std::vector<float> a(chunk), b(chunk), dbce(n), dmse(n);
  for (size_t i = 0; i < n; i += chunk) {
    const size_t m = n - i < chunk ? n - i : chunk;
    k.act_forward(Act::softplus, 0.0f, x.data() + i, a.data(), m);
    k.mul(m, x.data() + i, t.data() + i, b.data());
    k.axpy(m, -1.0f, b.data(), a.data());
    bce += k.sum(a.data(), m);
    std::memcpy(a.data(), x.data() + i, m * sizeof(float));
    k.axpy(m, -1.0f, t.data() + i, a.data());
    mse += k.sumsq(a.data(), m);
  }
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    testing::ThreadedContext tc(threads);
    CHECK(bce_logits_forward(tc.ctx, x.data(), t.data(), batch, per_row, Reduction::sum) == static_cast<float>(bce));
    CHECK(mse_forward(tc.ctx, x.data(), t.data(), batch, per_row, Reduction::sum) == static_cast<float>(mse));
    std::vector<float> gb(n, 0.5f), gm(n, 0.5f);
    bce_logits_backward(tc.ctx, x.data(), t.data(), 0.7f, gb.data(), batch, per_row, Reduction::mean);
    mse_backward(tc.ctx, x.data(), t.data(), 0.7f, gm.data(), batch, per_row, Reduction::mean);
    if (threads == 1) {
      dbce = gb, dmse = gm;
    } else {
      CHECK(std::memcmp(gb.data(), dbce.data(), n * sizeof(float)) == 0);
      CHECK(std::memcmp(gm.data(), dmse.data(), n * sizeof(float)) == 0);
    }
  }
}

// ---- losses: finite differences -------------------------------------------------------------
// Each loss's gradient for each input, both reductions, dloss != 1, every kernel table.
TEST_CASE("losses: finite-difference gradients, sum and mean") {
  const int batch = 3, per_row = 7;
  const size_t n = size_t(batch) * per_row;
  const float dloss = 0.7f;
  for (Context* ctx : contexts()) {
    Context& c = *ctx;
    for (Reduction r : kReductions) {
      CAPTURE(c.k().name);
      CAPTURE(red_name(r));
      std::vector<float> x = random_vector(n, 11, -4.0f, 4.0f), t = random_vector(n, 12, 0.0f, 1.0f);
      std::vector<float> mu = random_vector(n, 13, -1.5f, 1.5f), lv = random_vector(n, 14, -1.0f, 1.0f);

      std::vector<float> dx(n, 0.0f);
      bce_logits_backward(c, x.data(), t.data(), dloss, dx.data(), batch, per_row, r);
      check_gradient("bce dx", x.data(), dx.data(), n, [&] {
        return dloss * bce_logits_forward(c, x.data(), t.data(), batch, per_row, r);
      });

      std::fill(dx.begin(), dx.end(), 0.0f);
      mse_backward(c, x.data(), t.data(), dloss, dx.data(), batch, per_row, r);
      check_gradient("mse dx", x.data(), dx.data(), n,
                     [&] { return dloss * mse_forward(c, x.data(), t.data(), batch, per_row, r); });

      std::vector<float> dmu(n, 0.0f), dlv(n, 0.0f);
      auto nll = [&] {
        return dloss * gauss_nll_forward(c, t.data(), mu.data(), lv.data(), batch, per_row, r);
      };
      gauss_nll_backward(c, t.data(), mu.data(), lv.data(), dloss, dmu.data(), dlv.data(), batch,
                         per_row, r);
      check_gradient("gauss_nll dmu", mu.data(), dmu.data(), n, nll);
      check_gradient("gauss_nll dlogvar", lv.data(), dlv.data(), n, nll);

      std::fill(dmu.begin(), dmu.end(), 0.0f);
      std::fill(dlv.begin(), dlv.end(), 0.0f);
      auto kl = [&] {
        return dloss * kl_std_normal_forward(c, mu.data(), lv.data(), batch, per_row, r);
      };
      kl_std_normal_backward(c, mu.data(), lv.data(), dloss, dmu.data(), dlv.data(), batch, per_row, r);
      check_gradient("kl dmu", mu.data(), dmu.data(), n, kl);
      check_gradient("kl dlogvar", lv.data(), dlv.data(), n, kl);

      const std::vector<int32_t> labels = {3, 0, 6};
      std::fill(dx.begin(), dx.end(), 0.0f);
      softmax_ce_backward(c, x.data(), labels.data(), dloss, dx.data(), batch, per_row, r);
      check_gradient("softmax_ce dx", x.data(), dx.data(), n, [&] {
        return dloss * softmax_ce_forward(c, x.data(), labels.data(), batch, per_row, r);
      });
    }
  }
}

TEST_CASE("softmax_ce: rows longer than a stack chunk") {
  const int batch = 2, classes = 600;
  const size_t n = size_t(batch) * classes;
  Context& c = best();
  std::vector<float> x = random_vector(n, 21, -3.0f, 3.0f), dx(n, 0.0f);
  const std::vector<int32_t> labels = {599, 17};
  softmax_ce_backward(c, x.data(), labels.data(), 1.0f, dx.data(), batch, classes, Reduction::sum);
  testing::GradTolerance tol;
  tol.atol = 2e-4;  // softmax entries are ~1/600
  check_gradient(
      "softmax_ce dx (600 classes)", x.data(), dx.data(), n,
      [&] { return softmax_ce_forward(c, x.data(), labels.data(), batch, classes, Reduction::sum); },
      tol);
  double row0 = 0;  // each row's gradient sums to 0 (softmax sums to 1)
  for (int i = 0; i < classes; ++i) row0 += dx[i];
  CHECK(std::fabs(row0) < 1e-5);
}

// ---- losses: closed forms -------------------------------------------------------------------
TEST_CASE("losses: values known in closed form") {
  for (Context* ctx : contexts()) {
    Context& c = *ctx;
    CAPTURE(c.k().name);
    const int batch = 4, per_row = 10;
    const size_t n = size_t(batch) * per_row;
    std::vector<float> zero(n, 0.0f), half(n, 0.5f);
    using doctest::Approx;

    // BCE(0, 0.5) = log 2 per element; gradient sigmoid(0) - 0.5 = 0.
    CHECK(bce_logits_forward(c, zero.data(), half.data(), batch, per_row, Reduction::sum) ==
          Approx(n * std::log(2.0)).epsilon(1e-6));
    CHECK(bce_logits_forward(c, zero.data(), half.data(), batch, per_row, Reduction::mean) ==
          Approx(per_row * std::log(2.0)).epsilon(1e-6));
    std::vector<float> dx(n, 0.0f);
    bce_logits_backward(c, zero.data(), half.data(), 1.0f, dx.data(), batch, per_row, Reduction::sum);
    for (float g : dx) REQUIRE(g == 0.0f);

    // KL(N(0, 1) || N(0, 1)) = 0, with zero gradients.
    CHECK(kl_std_normal_forward(c, zero.data(), zero.data(), batch, per_row, Reduction::sum) == 0.0f);
    std::vector<float> dmu(n, 0.0f), dlv(n, 0.0f);
    kl_std_normal_backward(c, zero.data(), zero.data(), 1.0f, dmu.data(), dlv.data(), batch, per_row,
                           Reduction::mean);
    for (size_t i = 0; i < n; ++i) REQUIRE((dmu[i] == 0.0f && dlv[i] == 0.0f));
    // KL with mu = 1, logvar = 0: 0.5 per element.
    std::vector<float> one(n, 1.0f);
    CHECK(kl_std_normal_forward(c, one.data(), zero.data(), batch, per_row, Reduction::mean) ==
          Approx(0.5 * per_row));

    // Softmax CE of equal logits = log(classes), whatever the label and the common value.
    std::vector<float> flat(n, 3.5f);
    const std::vector<int32_t> labels = {0, 9, 4, 5};
    CHECK(softmax_ce_forward(c, flat.data(), labels.data(), batch, per_row, Reduction::sum) ==
          Approx(batch * std::log(double(per_row))).epsilon(1e-6));
    CHECK(softmax_ce_forward(c, flat.data(), labels.data(), batch, per_row, Reduction::mean) ==
          Approx(std::log(double(per_row))).epsilon(1e-6));

    // Gaussian NLL at x = mu, logvar = 0: 0.5 log 2pi per element; at logvar = log 4, x - mu = 2:
    // 0.5 (log 2pi + log 4 + 1).
    CHECK(gauss_nll_forward(c, half.data(), half.data(), zero.data(), batch, per_row, Reduction::sum) ==
          Approx(0.5 * kLog2Pi * n).epsilon(1e-6));
    std::vector<float> two(n, 2.0f), log4(n, std::log(4.0f));
    CHECK(gauss_nll_forward(c, two.data(), zero.data(), log4.data(), batch, per_row, Reduction::mean) ==
          Approx(0.5 * (kLog2Pi + std::log(4.0) + 1.0) * per_row).epsilon(1e-6));

    // MSE: x - t = 3 everywhere gives 9 per element; equal arrays give 0.
    std::vector<float> three(n, 3.0f);
    CHECK(mse_forward(c, three.data(), zero.data(), batch, per_row, Reduction::sum) == Approx(9.0 * n));
    CHECK(mse_forward(c, three.data(), zero.data(), batch, per_row, Reduction::mean) ==
          Approx(9.0 * per_row));
    CHECK(mse_forward(c, two.data(), two.data(), batch, per_row, Reduction::sum) == 0.0f);
    std::fill(dx.begin(), dx.end(), 0.0f);
    mse_backward(c, three.data(), zero.data(), 0.5f, dx.data(), batch, per_row, Reduction::mean);
    for (float g : dx) REQUIRE(g == Approx(0.5 * 2 * 3 / batch));
  }
}

// ---- losses: extremes --------------------------------------------------------------------------
TEST_CASE("losses: extreme logits stay finite and exact") {
  for (Context* ctx : contexts()) {
    Context& c = *ctx;
    CAPTURE(c.k().name);
    // BCE at logits +-100: right answers cost ~0, wrong ones cost ~100, gradients +-1 or 0.
    const float x[4] = {100.0f, -100.0f, 100.0f, -100.0f}, t[4] = {1.0f, 0.0f, 0.0f, 1.0f};
    const float l = bce_logits_forward(c, x, t, 1, 4, Reduction::sum);
    CHECK(std::isfinite(l));
    CHECK(l == doctest::Approx(200.0).epsilon(1e-6));
    float dx[4] = {0, 0, 0, 0};
    bce_logits_backward(c, x, t, 1.0f, dx, 1, 4, Reduction::sum);
    CHECK(std::fabs(dx[0]) < 1e-6f);
    CHECK(std::fabs(dx[1]) < 1e-6f);
    CHECK(dx[2] == doctest::Approx(1.0));
    CHECK(dx[3] == doctest::Approx(-1.0));

    // Softmax with logits 1e4 apart: the big one is certain (loss 0) or costs exactly 1e4.
    const float s[3] = {1e4f, 0.0f, -1e4f};
    const int32_t right = 0, wrong = 1;
    CHECK(softmax_ce_forward(c, s, &right, 1, 3, Reduction::sum) == 0.0f);
    CHECK(softmax_ce_forward(c, s, &wrong, 1, 3, Reduction::sum) == doctest::Approx(1e4));
    float ds[3] = {0, 0, 0};
    softmax_ce_backward(c, s, &wrong, 1.0f, ds, 1, 3, Reduction::sum);
    for (float g : ds) CHECK(std::isfinite(g));
    CHECK(ds[0] == doctest::Approx(1.0));
    CHECK(ds[1] == doctest::Approx(-1.0));
    CHECK(ds[2] == 0.0f);

    // A label outside [0, classes) is never indexed: it shows up as NaN.
    const int32_t bad = 3;
    CHECK(std::isnan(softmax_ce_forward(c, s, &bad, 1, 3, Reduction::sum)));
    softmax_ce_backward(c, s, &bad, 1.0f, ds, 1, 3, Reduction::sum);
    CHECK(std::isnan(ds[0]));

    // KL and Gaussian NLL with a large logvar stay finite.
    const float mu[2] = {0.0f, 5.0f}, lv[2] = {30.0f, -30.0f}, xx[2] = {1.0f, 5.0f};
    CHECK(std::isfinite(kl_std_normal_forward(c, mu, lv, 1, 2, Reduction::sum)));
    CHECK(std::isfinite(gauss_nll_forward(c, xx, mu, lv, 1, 2, Reduction::sum)));
  }
}

// ---- losses: the accumulate convention ----------------------------------------------------
TEST_CASE("losses: backward adds (twice gives double) and skips null gradients") {
  Context& c = best();
  const int batch = 5, per_row = 9;
  const size_t n = size_t(batch) * per_row;
  std::vector<float> x = random_vector(n, 31, -3.0f, 3.0f), t = random_vector(n, 32, 0.0f, 1.0f);
  std::vector<float> mu = random_vector(n, 33), lv = random_vector(n, 34);
  const std::vector<int32_t> labels = {0, 8, 3, 3, 1};
  auto doubles = [](const std::vector<float>& once, const std::vector<float>& twice) {
    for (size_t i = 0; i < once.size(); ++i)
      if (!testing::close(twice[i], 2 * once[i], 1e-6f, 1e-7f)) return false;
    return true;
  };
  for (Reduction r : kReductions) {
    CAPTURE(red_name(r));
    std::vector<float> a(n, 0.0f), b(n, 0.0f), a2, b2;

    bce_logits_backward(c, x.data(), t.data(), 1.0f, a.data(), batch, per_row, r);
    a2 = a;
    bce_logits_backward(c, x.data(), t.data(), 1.0f, a2.data(), batch, per_row, r);
    CHECK(doubles(a, a2));
    bce_logits_backward(c, x.data(), t.data(), 1.0f, nullptr, batch, per_row, r);

    std::fill(a.begin(), a.end(), 0.0f);
    mse_backward(c, x.data(), t.data(), 1.0f, a.data(), batch, per_row, r);
    a2 = a;
    mse_backward(c, x.data(), t.data(), 1.0f, a2.data(), batch, per_row, r);
    CHECK(doubles(a, a2));
    mse_backward(c, x.data(), t.data(), 1.0f, nullptr, batch, per_row, r);

    std::fill(a.begin(), a.end(), 0.0f);
    softmax_ce_backward(c, x.data(), labels.data(), 1.0f, a.data(), batch, per_row, r);
    a2 = a;
    softmax_ce_backward(c, x.data(), labels.data(), 1.0f, a2.data(), batch, per_row, r);
    CHECK(doubles(a, a2));
    softmax_ce_backward(c, x.data(), labels.data(), 1.0f, nullptr, batch, per_row, r);

    std::fill(a.begin(), a.end(), 0.0f);
    std::fill(b.begin(), b.end(), 0.0f);
    gauss_nll_backward(c, t.data(), mu.data(), lv.data(), 1.0f, a.data(), b.data(), batch, per_row, r);
    a2 = a, b2 = b;
    gauss_nll_backward(c, t.data(), mu.data(), lv.data(), 1.0f, a2.data(), nullptr, batch, per_row, r);
    gauss_nll_backward(c, t.data(), mu.data(), lv.data(), 1.0f, nullptr, b2.data(), batch, per_row, r);
    gauss_nll_backward(c, t.data(), mu.data(), lv.data(), 1.0f, nullptr, nullptr, batch, per_row, r);
    CHECK(doubles(a, a2));
    CHECK(doubles(b, b2));

    std::fill(a.begin(), a.end(), 0.0f);
    std::fill(b.begin(), b.end(), 0.0f);
    kl_std_normal_backward(c, mu.data(), lv.data(), 1.0f, a.data(), b.data(), batch, per_row, r);
    a2 = a, b2 = b;
    kl_std_normal_backward(c, mu.data(), lv.data(), 1.0f, a2.data(), nullptr, batch, per_row, r);
    kl_std_normal_backward(c, mu.data(), lv.data(), 1.0f, nullptr, b2.data(), batch, per_row, r);
    kl_std_normal_backward(c, mu.data(), lv.data(), 1.0f, nullptr, nullptr, batch, per_row, r);
    CHECK(doubles(a, a2));
    CHECK(doubles(b, b2));
  }
}

// ---- losses: tables agree, and a double-precision reference --------------------------------
TEST_CASE("losses: the VAE's BCE + KL over 128x784 agree with double precision on every table") {
  const int batch = 128, pixels = 784, latent = 20;
  const size_t n = size_t(batch) * pixels, nz = size_t(batch) * latent;
  std::vector<float> x = random_vector(n, 41, -8.0f, 8.0f), t = random_vector(n, 42, 0.0f, 1.0f);
  std::vector<float> mu = random_vector(nz, 43), lv = random_vector(nz, 44);
  double bce = 0, kl = 0;
  for (size_t i = 0; i < n; ++i) {
    const double v = x[i];
    bce += std::fmax(v, 0.0) - v * t[i] + std::log1p(std::exp(-std::fabs(v)));
  }
  for (size_t i = 0; i < nz; ++i)
    kl += -0.5 * (1.0 + lv[i] - double(mu[i]) * mu[i] - std::exp(double(lv[i])));
  for (Context* ctx : contexts()) {
    CAPTURE(ctx->k().name);
    const float got = bce_logits_forward(*ctx, x.data(), t.data(), batch, pixels, Reduction::mean) +
                      kl_std_normal_forward(*ctx, mu.data(), lv.data(), batch, latent, Reduction::mean);
    CHECK(got == doctest::Approx((bce + kl) / batch).epsilon(1e-6));
    CHECK(mse_forward(*ctx, x.data(), t.data(), batch, pixels, Reduction::sum) ==
          doctest::Approx([&] {
            double s = 0;
            for (size_t i = 0; i < n; ++i) s += (double(x[i]) - t[i]) * (double(x[i]) - t[i]);
            return s;
          }())
              .epsilon(1e-6));
  }
}

// ---- timing (skipped by default: build/ember-tests -tc="bench*" --no-skip) ------------------
TEST_CASE("bench: BCE-with-logits and MSE forward + backward over 128x784" * doctest::skip()) {
  const int batch = 128, pixels = 784;
  const size_t n = size_t(batch) * pixels;
  std::vector<float> x = random_vector(n, 1, -6.0f, 6.0f), t = random_vector(n, 2, 0.0f, 1.0f), dx(n);
  for (Context* ctx : contexts()) {
    std::vector<double> us;
    float sink = 0;
    for (int rep = 0; rep < 220; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      sink += bce_logits_forward(*ctx, x.data(), t.data(), batch, pixels, Reduction::mean);
      bce_logits_backward(*ctx, x.data(), t.data(), 1.0f, dx.data(), batch, pixels, Reduction::mean);
      const auto t1 = std::chrono::steady_clock::now();
      if (rep >= 20) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::sort(us.begin(), us.end());
    std::printf("bce fwd+bwd 128x784 %-8s median %7.1f us  (min %7.1f)  [%g]\n", ctx->k().name,
                us[us.size() / 2], us[0], double(sink));
    us.clear();
    for (int rep = 0; rep < 220; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      sink += mse_forward(*ctx, x.data(), t.data(), batch, pixels, Reduction::mean);
      mse_backward(*ctx, x.data(), t.data(), 1.0f, dx.data(), batch, pixels, Reduction::mean);
      const auto t1 = std::chrono::steady_clock::now();
      if (rep >= 20) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::sort(us.begin(), us.end());
    std::printf("mse fwd+bwd 128x784 %-8s median %7.1f us  (min %7.1f)  [%g]\n", ctx->k().name,
                us[us.size() / 2], us[0], double(sink));
  }
}
