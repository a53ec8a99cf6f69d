// Likelihood estimators on a linear-Gaussian model whose log p(x) is known exactly:
//   p(z) = N(0, I_d), p(x|z) = N(W z + b, s^2 I_D)  =>  p(x) = N(b, W W^T + s^2 I).
// W = U diag(sigma) has orthogonal columns, so the true posterior is diagonal:
//   p(z|x) = N(S W^T (x - b) / s^2, S),  S = diag(1 / (1 + sigma_j^2 / s^2)),
// and an encoder can give it exactly (IWAE is then exact for every k).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "metrics/likelihood.h"

using namespace ember;
using namespace ember::metrics;

namespace {

constexpr int kData = 5, kLatent = 2, kBatch = 16;
constexpr double kLog2Pi = 1.8378770664093454836;

struct LinearGaussian : metrics::LatentModel {
  double u[kLatent][kData];  // orthonormal directions
  double sigma[kLatent] = {1.5, 0.7};
  double bias[kData] = {0.3, -0.2, 0.1, 0.5, -0.4};
  double s = 0.5;
  float mu_shift = 0.0f, logvar_shift = 0.0f;  // a poor q when non-zero
  bool nan_decoder = false, nan_encoder = false;
  int decoder_calls = 0;

  LinearGaussian() {
    Rng rng(17);
    for (int j = 0; j < kLatent; ++j) {  // Gram-Schmidt on random vectors
      for (int i = 0; i < kData; ++i) u[j][i] = rng.normal();
      for (int p = 0; p < j; ++p) {
        double d = 0;
        for (int i = 0; i < kData; ++i) d += u[j][i] * u[p][i];
        for (int i = 0; i < kData; ++i) u[j][i] -= d * u[p][i];
      }
      double norm = 0;
      for (int i = 0; i < kData; ++i) norm += u[j][i] * u[j][i];
      for (int i = 0; i < kData; ++i) u[j][i] /= std::sqrt(norm);
    }
  }
  double proj(int j, const float* x) const {  // u_j . (x - b)
    double d = 0;
    for (int i = 0; i < kData; ++i) d += u[j][i] * (x[i] - bias[i]);
    return d;
  }
  int latent_dim() const override { return kLatent; }
  int batch() const override { return kBatch; }
  Status encode(const float* x, float* mu, float* logvar) override {
    for (int j = 0; j < kLatent; ++j) {
      const double var = 1.0 / (1.0 + sigma[j] * sigma[j] / (s * s));
      mu[j] = float(var * sigma[j] * proj(j, x) / (s * s)) + mu_shift;
      logvar[j] = float(std::log(var)) + logvar_shift;
    }
    if (nan_encoder) logvar[1] = NAN;
    return Status::ok();
  }
  Status log_px_given_z(const float* x, const float* z, int rows, double* out) override {
    REQUIRE(rows >= 1);
    REQUIRE(rows <= kBatch);
    ++decoder_calls;
    for (int r = 0; r < rows; ++r) {
      double sum = 0;
      for (int i = 0; i < kData; ++i) {
        double mean = bias[i];
        for (int j = 0; j < kLatent; ++j) mean += u[j][i] * sigma[j] * z[r * kLatent + j];
        const double diff = x[i] - mean;
        sum += diff * diff / (s * s) + kLog2Pi + std::log(s * s);
      }
      out[r] = -0.5 * sum;
    }
    if (nan_decoder && rows > 3) out[3] = NAN;
    return Status::ok();
  }
  // log N(x; b, W W^T + s^2 I) in closed form (eigenvalues sigma^2 + s^2 on span U, s^2 off it).
  double log_px(const float* x) const {
    double r2 = 0;
    for (int i = 0; i < kData; ++i) r2 += (x[i] - bias[i]) * (x[i] - bias[i]);
    double quad = r2 / (s * s), logdet = (kData - kLatent) * std::log(s * s);
    for (int j = 0; j < kLatent; ++j) {
      const double c = proj(j, x), v = sigma[j] * sigma[j] + s * s;
      quad += c * c * (1.0 / v - 1.0 / (s * s));
      logdet += std::log(v);
    }
    return -0.5 * (kData * kLog2Pi + logdet + quad);
  }
};

struct Memory {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(1 << 20);
  Arena arena{bytes.data(), bytes.size()};
};

const float kX[kData] = {1.0f, -0.5f, 0.8f, 0.2f, -1.1f};

}  // namespace

TEST_CASE("IWAE with the exact posterior equals log p(x) for every k") {
  LinearGaussian model;
  Memory mem;
  Rng rng(1);
  const double truth = model.log_px(kX);
  for (int k : {1, 7, 16, 17, 100}) {
    model.decoder_calls = 0;
    double nll = 0;
    REQUIRE(nll_iwae(model, kX, k, &rng, &mem.arena, &nll).is_ok());
    CHECK(std::fabs(-nll - truth) < 1e-6);
    CHECK(model.decoder_calls == (k + kBatch - 1) / kBatch);
    CHECK(mem.arena.used() == 0);
  }
  double elbo = 0;  // the ELBO is tight too, up to Monte-Carlo noise of its decoder term
  REQUIRE(neg_elbo(model, kX, 4000, &rng, &mem.arena, &elbo).is_ok());
  CHECK(std::fabs(elbo + truth) < 0.05);
}

TEST_CASE("IWAE with a poor q: below the truth on average, tighter with k, close for large k") {
  LinearGaussian model;
  model.mu_shift = 0.8f, model.logvar_shift = 1.2f;
  Memory mem;
  Rng rng(2);
  const double truth = model.log_px(kX);
  constexpr int kRepeats = 300;
  auto average = [&](int k, double* se) {
    double sum = 0, sum2 = 0;
    for (int r = 0; r < kRepeats; ++r) {
      double nll = 0;
      REQUIRE(nll_iwae(model, kX, k, &rng, &mem.arena, &nll).is_ok());
      sum += -nll, sum2 += nll * nll;
    }
    const double mean = sum / kRepeats;
    *se = std::sqrt((sum2 / kRepeats - mean * mean) / kRepeats);
    return mean;
  };
  double se1, se10, se1000;
  const double k1 = average(1, &se1), k10 = average(10, &se10), k1000 = average(1000, &se1000);
  CHECK(k1 + 3 * se1 < k10);     // tighter with more samples
  CHECK(k10 + 3 * se10 < truth);  // still a lower bound on average
  CHECK(k1000 < truth + 3 * se1000);  // its bias (~0.005) is about one standard error here
  CHECK(std::fabs(k1000 - truth) < 0.03);
  double elbo = 0;  // k = 1 in expectation, and the bound: ELBO <= log p(x)
  REQUIRE(neg_elbo(model, kX, 4000, &rng, &mem.arena, &elbo).is_ok());
  CHECK(std::fabs(-elbo - k1) < 4 * se1 + 0.05);
  CHECK(-elbo < truth - 0.1);
}

TEST_CASE("naive prior sampling converges (loosely)") {
  LinearGaussian model;
  Memory mem;
  Rng rng(3);
  double nll = 0;
  REQUIRE(nll_naive(model, kX, 20000, &rng, &mem.arena, &nll).is_ok());
  CHECK(std::fabs(-nll - model.log_px(kX)) < 0.1);
  CHECK(mem.arena.used() == 0);
}

TEST_CASE("log densities and the streaming log-sum-exp") {
  const float z[2] = {0.5f, -1.0f}, mu[2] = {0.0f, 1.0f}, logvar[2] = {0.0f, std::log(4.0f)};
  const double want = -0.5 * (2 * kLog2Pi + std::log(4.0) + 0.25 + 4.0 / 4.0);
  CHECK(std::fabs(metrics::log_normal_diag(z, mu, logvar, 2) - want) < 1e-7);
  CHECK(std::fabs(metrics::log_standard_normal(z, 2) + 0.5 * (2 * kLog2Pi + 1.25)) < 1e-12);
  CHECK(std::fabs(metrics::kl_standard_normal(mu, logvar, 2) - 0.5 * (0 + (4 + 1 - 1 - std::log(4.0)))) < 1e-7);

  const float x[4] = {1.0f, 0.0f, 0.3f, 1.0f}, logits[4] = {0.0f, 2.0f, -1.5f, 3.0f};
  double naive = 0;
  for (int i = 0; i < 4; ++i) {
    const double p = 1.0 / (1.0 + std::exp(-double(logits[i])));
    naive += x[i] * std::log(p) + (1 - x[i]) * std::log(1 - p);
  }
  CHECK(std::fabs(metrics::log_bernoulli_logits(x, logits, 4) - naive) < 1e-12);
  const float big[2] = {200.0f, -200.0f}, ones[2] = {1.0f, 1.0f};
  const double extreme = metrics::log_bernoulli_logits(ones, big, 2);  // log 1 + log sigmoid(-200)
  CHECK(std::isfinite(extreme));
  CHECK(std::fabs(extreme + 200.0) < 1e-9);

  metrics::LogSumExp a;
  CHECK(a.value() == -std::numeric_limits<double>::infinity());
  a.add(-std::numeric_limits<double>::infinity());
  CHECK(a.value() == -std::numeric_limits<double>::infinity());
  a.add(1000.0), a.add(1000.0);
  CHECK(std::fabs(a.value() - (1000.0 + std::log(2.0))) < 1e-12);
  metrics::LogSumExp b;  // order does not matter, nothing underflows to -inf
  b.add(-2000.0), b.add(-2000.0 + std::log(3.0)), b.add(-2000.0 - 800.0);
  CHECK(std::fabs(b.value() - (-2000.0 + std::log(4.0))) < 1e-9);
}

TEST_CASE("likelihood estimators refuse bad arguments and bad models") {
  LinearGaussian model;
  Memory mem;
  Rng rng(4);
  double nll = 42.0;
  CHECK(nll_iwae(model, kX, 0, &rng, &mem.arena, &nll).code() == Code::invalid_argument);
  CHECK(nll_naive(model, nullptr, 10, &rng, &mem.arena, &nll).code() == Code::invalid_argument);
  model.nan_decoder = true;
  Status s = nll_iwae(model, kX, 40, &rng, &mem.arena, &nll);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(std::strstr(s.message(), "sample 3") != nullptr);
  CHECK(!nll_naive(model, kX, 40, &rng, &mem.arena, &nll));
  model.nan_decoder = false, model.nan_encoder = true;
  s = nll_iwae(model, kX, 40, &rng, &mem.arena, &nll);
  CHECK(std::strstr(s.message(), "encoder") != nullptr);
  CHECK(!neg_elbo(model, kX, 10, &rng, &mem.arena, &nll));
  CHECK(nll == 42.0);
  CHECK(mem.arena.used() == 0);
  std::vector<uint8_t> tiny(64);
  Arena small(tiny.data(), tiny.size());
  model.nan_encoder = false;
  CHECK(nll_iwae(model, kX, 40, &rng, &small, &nll).code() == Code::out_of_memory);
}

TEST_CASE("a LatentModel that overrides nothing is refused, not called") {
  struct Incomplete : metrics::LatentModel {} model;
  Memory mem;
  Rng rng(5);
  double nll = 42.0;
  const Status s = nll_iwae(model, kX, 4, &rng, &mem.arena, &nll);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(std::strstr(s.message(), "latent_dim 0") != nullptr);
  float mu = 0, logvar = 0;
  CHECK(model.encode(kX, &mu, &logvar).code() == Code::unsupported);
  CHECK(model.log_px_given_z(kX, &mu, 1, &nll).code() == Code::unsupported);
  CHECK(nll == 42.0);
}
