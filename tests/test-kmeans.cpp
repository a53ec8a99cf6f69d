// k-means: separated blobs are found exactly; a converged result is a Lloyd fixed point (every
// row at its nearest centre, every centre the mean of its rows); the same seed gives the same
// bits; purity on known tables; bad arguments are refused without touching the arena.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "metrics/kmeans.h"

using namespace ember;
using namespace ember::metrics;

namespace {

struct Blobs {
  std::vector<float> x;
  std::vector<int32_t> label;
};

// k blobs of `per` rows in dim dimensions, centres 10 apart on the axes, spread 0.5.
Blobs blobs(int k, int per, int dim, uint64_t seed) {
  Blobs b;
  Rng rng(seed);
  for (int i = 0; i < k * per; ++i) {
    const int c = i % k;  // interleaved, so no cluster is a contiguous block
    for (int j = 0; j < dim; ++j) b.x.push_back((j == c % dim ? 10.0f * (1 + c / dim) : 0.0f) + 0.5f * rng.normal());
    b.label.push_back(c);
  }
  return b;
}

struct Scratch {
  std::vector<uint8_t> buf = std::vector<uint8_t>(1 << 20);
  Arena arena{buf.data(), buf.size()};
};

}  // namespace

TEST_CASE("kmeans: separated blobs come out exactly, at a Lloyd fixed point") {
  for (int dim : {2, 5, 13}) {
    CAPTURE(dim);
    const int k = 7, per = 31, n = k * per;
    const Blobs b = blobs(k, per, dim, 3);
    Scratch s;
    std::vector<float> centres(size_t(k) * dim);
    std::vector<int32_t> assign(static_cast<size_t>(n));
    metrics::KMeansResult r;
    REQUIRE(kmeans(b.x.data(), n, dim, k, 100, 1, &s.arena, centres.data(), assign.data(), &r).is_ok());
    CHECK(r.converged);
    CHECK(s.arena.used() == 0);  // the scratch is released
    CHECK(metrics::cluster_purity(assign.data(), b.label.data(), n, k, k, &s.arena) == 1.0);
    // Fixed point: each centre is its rows' mean, each row nearest its own centre.
    double inertia = 0;
    for (int c = 0; c < k; ++c) {
      std::vector<double> mean(size_t(dim), 0.0);
      int count = 0;
      for (int i = 0; i < n; ++i)
        if (assign[i] == c) {
          ++count;
          for (int j = 0; j < dim; ++j) mean[j] += b.x[size_t(i) * dim + j];
        }
      REQUIRE(count > 0);
      for (int j = 0; j < dim; ++j) CHECK(std::fabs(mean[j] / count - centres[size_t(c) * dim + j]) < 1e-4);
    }
    for (int i = 0; i < n; ++i) {
      auto d2 = [&](int c) {
        double t = 0;
        for (int j = 0; j < dim; ++j) t += std::pow(double(b.x[size_t(i) * dim + j]) - centres[size_t(c) * dim + j], 2);
        return t;
      };
      for (int c = 0; c < k; ++c) REQUIRE(d2(assign[i]) <= d2(c));
      inertia += d2(assign[i]);
    }
    CHECK(std::fabs(inertia - r.inertia) < 1e-6 * (1 + inertia));
  }
}

TEST_CASE("kmeans: the same seed gives the same bits; another seed may differ; k clusters always") {
  const int n = 211, dim = 3, k = 11;  // uniform data: no true clusters, so seeds matter
  std::vector<float> x(size_t(n) * dim);
  Rng(5).fill_uniform(x.data(), x.size(), -1.0f, 1.0f);
  Scratch s;
  auto run = [&](uint64_t seed, std::vector<int32_t>* assign) {
    std::vector<float> c(size_t(k) * dim);
    assign->assign(size_t(n), -1);
    metrics::KMeansResult r;
    REQUIRE(kmeans(x.data(), n, dim, k, 50, seed, &s.arena, c.data(), assign->data(), &r).is_ok());
    return c;
  };
  std::vector<int32_t> a1, a2, a3;
  const std::vector<float> c1 = run(1, &a1), c2 = run(1, &a2), c3 = run(2, &a3);
  CHECK(c1 == c2);
  CHECK(a1 == a2);
  CHECK(c1 != c3);
  std::vector<int> used(size_t(k), 0);
  for (int32_t a : a1) {
    REQUIRE((a >= 0 && a < k));
    used[size_t(a)] = 1;
  }
  for (int u : used) CHECK(u == 1);

  // Identical rows: every draw has distance 0; still k centres and a valid assignment.
  std::vector<float> same(size_t(5) * dim, 0.25f), c(size_t(3) * dim);
  std::vector<int32_t> sa(5);
  metrics::KMeansResult r;
  REQUIRE(kmeans(same.data(), 5, dim, 3, 10, 1, &s.arena, c.data(), sa.data(), &r).is_ok());
  for (int32_t a : sa) CHECK((a >= 0 && a < 3));
}

TEST_CASE("kmeans: purity on known tables; bad arguments refused") {
  Scratch s;
  const std::vector<int32_t> assign = {0, 0, 0, 1, 1, 2}, labels = {4, 4, 1, 2, 2, 0};
  CHECK(metrics::cluster_purity(assign.data(), labels.data(), 6, 3, 5, &s.arena) == doctest::Approx(5.0 / 6));
  const std::vector<int32_t> one = {0, 0, 0, 0, 0, 0};
  CHECK(metrics::cluster_purity(one.data(), labels.data(), 6, 1, 5, &s.arena) == doctest::Approx(2.0 / 6));

  std::vector<float> x(12, 1.0f), c(12);
  std::vector<int32_t> a(4);
  metrics::KMeansResult r;
  CHECK(kmeans(x.data(), 4, 3, 5, 10, 1, &s.arena, c.data(), a.data(), &r).code() == Code::invalid_argument);
  CHECK(kmeans(x.data(), 4, 3, 0, 10, 1, &s.arena, c.data(), a.data(), &r).code() == Code::invalid_argument);
  CHECK(kmeans(x.data(), 4, 3, 2, 0, 1, &s.arena, c.data(), a.data(), &r).code() == Code::invalid_argument);
  std::vector<uint8_t> tiny(64);
  Arena small(tiny.data(), tiny.size());
  const Status st = kmeans(x.data(), 4, 3, 2, 10, 1, &small, c.data(), a.data(), &r);
  CHECK(st.code() != Code::ok);
  CHECK(small.used() == 0);
}
