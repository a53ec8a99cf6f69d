// Evaluation math with known answers: the symmetric eigen-solver and matrix functions, the
// blocked covariance, PCA on data of a known spectrum, and the sample metrics (inception
// score, Fréchet distance, 2-D mode coverage, nearest training image).
// Likelihood estimators are in test-metrics-likelihood.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "platform/context.h"
#include "core/rng.h"
#include "metrics/linalg.h"
#include "metrics/pca.h"
#include "metrics/sample-metrics.h"

using namespace ember;
using namespace ember::metrics;

namespace {

struct Memory {
  std::vector<uint8_t> bytes;
  Arena arena;
  explicit Memory(size_t n = 16u << 20) : bytes(n), arena(bytes.data(), n) {}
};

using Mat = std::vector<double>;  // row-major n x n

// A random orthogonal matrix (Gram-Schmidt on Gaussian columns), returned with orthonormal rows.
Mat random_orthogonal(int n, uint64_t seed) {
  Rng rng(seed);
  Mat q(size_t(n) * n);
  for (int i = 0; i < n; ++i) {
    double* row = &q[size_t(i) * n];
    for (int k = 0; k < n; ++k) row[k] = rng.normal();
    for (int pass = 0; pass < 2; ++pass)  // twice is enough for full orthogonality
      for (int j = 0; j < i; ++j) {
        const double* prev = &q[size_t(j) * n];
        double d = 0;
        for (int k = 0; k < n; ++k) d += row[k] * prev[k];
        for (int k = 0; k < n; ++k) row[k] -= d * prev[k];
      }
    double norm = 0;
    for (int k = 0; k < n; ++k) norm += row[k] * row[k];
    for (int k = 0; k < n; ++k) row[k] /= std::sqrt(norm);
  }
  return q;
}

// A = sum_j values[j] q_j q_j^T with q_j the rows of q.
Mat compose(const Mat& q, const std::vector<double>& values) {
  const int n = int(values.size());
  Mat a(size_t(n) * n, 0.0);
  for (int j = 0; j < n; ++j)
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < n; ++c) a[size_t(r) * n + c] += values[j] * q[size_t(j) * n + r] * q[size_t(j) * n + c];
  return a;
}

// max |A v - lambda v| over all pairs and max |V V^T - I|.
void check_decomposition(const Mat& a, const std::vector<double>& w, const Mat& v, int n, double tol,
                         double ortho_tol = 1e-12) {
  double resid = 0, ortho = 0;
  for (int j = 0; j < n; ++j) {
    for (int r = 0; r < n; ++r) {
      double s = 0;
      for (int c = 0; c < n; ++c) s += a[size_t(r) * n + c] * v[size_t(j) * n + c];
      resid = std::max(resid, std::fabs(s - w[j] * v[size_t(j) * n + r]));
    }
    for (int k = 0; k < n; ++k) {
      double d = 0;
      for (int c = 0; c < n; ++c) d += v[size_t(j) * n + c] * v[size_t(k) * n + c];
      ortho = std::max(ortho, std::fabs(d - (j == k ? 1.0 : 0.0)));
    }
  }
  CHECK(resid < tol);
  CHECK(ortho < ortho_tol);
  for (int j = 1; j < n; ++j) CHECK(w[j - 1] >= w[j]);
}

// tol is relative to the largest |eigenvalue|.
void check_known_spectrum(std::vector<double> values, uint64_t seed, double rel_tol) {
  const int n = int(values.size());
  double scale = 0;
  for (double x : values) scale = std::max(scale, std::fabs(x));
  const double tol = rel_tol * scale;
  const Mat a = compose(random_orthogonal(n, seed), values);
  Memory mem;
  std::vector<double> w(n), v(size_t(n) * n), w_only(n);
  REQUIRE(metrics::symmetric_eigen(a.data(), n, w.data(), v.data(), &mem.arena).is_ok());
  REQUIRE(metrics::symmetric_eigen(a.data(), n, w_only.data(), nullptr, &mem.arena).is_ok());
  CHECK(mem.arena.used() == 0);  // scratch released
  std::sort(values.begin(), values.end(), [](double x, double y) { return x > y; });
  for (int j = 0; j < n; ++j) {
    CHECK(std::fabs(w[j] - values[j]) < tol);
    CHECK(std::fabs(w_only[j] - values[j]) < tol);
  }
  check_decomposition(a, w, v, n, tol);
}

}  // namespace

TEST_CASE("symmetric_eigen: Q diag(known) Q^T, small and large") {
  Rng rng(7);
  for (int n = 1; n <= 5; ++n) {
    std::vector<double> values(n);
    for (double& x : values) x = rng.uniform(-3.0f, 3.0f);
    check_known_spectrum(values, 100 + n, 1e-12);
  }
  std::vector<double> spread(120);
  for (int i = 0; i < 120; ++i) spread[i] = std::pow(10.0, -3.0 + 5.0 * i / 119.0) * (i % 3 == 0 ? -1 : 1);
  check_known_spectrum(spread, 5, 1e-11);  // |lambda| <= 100: 1e-9 absolute
}

TEST_CASE("symmetric_eigen: repeated eigenvalues, zero and ill-scaled matrices") {
  check_known_spectrum({3, 3, 3, 1, 1, -2, -2, 0.5}, 11, 1e-12);
  check_known_spectrum(std::vector<double>(9, 4.0), 12, 1e-12);
  check_known_spectrum({1e-300, 2e-300, -1e-300}, 13, 1e-12);
  check_known_spectrum({1e150, -3e150, 2e150, 0}, 14, 1e-12);
  Memory mem;
  Mat zero(16, 0.0);
  std::vector<double> w(4), v(16);
  REQUIRE(metrics::symmetric_eigen(zero.data(), 4, w.data(), v.data(), &mem.arena).is_ok());
  for (double x : w) CHECK(x == 0.0);
  check_decomposition(zero, w, v, 4, 1e-15);
}

TEST_CASE("symmetric_eigen: diagonal, 1x1 and 2x2 exactly") {
  Memory mem;
  const Mat diag = {2, 0, 0, 0, -1, 0, 0, 0, 5};
  std::vector<double> w(3), v(9);
  REQUIRE(metrics::symmetric_eigen(diag.data(), 3, w.data(), v.data(), &mem.arena).is_ok());
  CHECK(w == std::vector<double>{5, 2, -1});
  CHECK(v == std::vector<double>{0, 0, 1, 1, 0, 0, 0, 1, 0});  // unit vectors, positive

  const double one = 5.0;
  double w1 = 0, v1 = 0;
  REQUIRE(metrics::symmetric_eigen(&one, 1, &w1, &v1, &mem.arena).is_ok());
  CHECK(w1 == 5.0);
  CHECK(v1 == 1.0);

  const Mat two = {2, 1, 1, 2};
  std::vector<double> w2(2), v2(4);
  REQUIRE(metrics::symmetric_eigen(two.data(), 2, w2.data(), v2.data(), &mem.arena).is_ok());
  CHECK(std::fabs(w2[0] - 3) < 1e-15);
  CHECK(std::fabs(w2[1] - 1) < 1e-15);
  const double h = std::sqrt(0.5);
  CHECK(std::fabs(v2[0] - h) < 1e-15);
  CHECK(std::fabs(v2[1] - h) < 1e-15);
  CHECK(std::fabs(std::fabs(v2[2]) - h) < 1e-15);
  CHECK(std::fabs(v2[2] + v2[3]) < 1e-15);
  // Only the symmetric part counts: [[2, 0], [2, 2]] acts as [[2, 1], [1, 2]].
  const Mat skew = {2, 0, 2, 2};
  REQUIRE(metrics::symmetric_eigen(skew.data(), 2, w2.data(), nullptr, &mem.arena).is_ok());
  CHECK(std::fabs(w2[0] - 3) < 1e-15);
}

TEST_CASE("symmetric_eigen: bad input is refused and outputs stay untouched") {
  Memory mem;
  Mat a = {1, 2, 2, std::nan("")};
  std::vector<double> w(2, 42.0), v(4, 42.0);
  Status s = metrics::symmetric_eigen(a.data(), 2, w.data(), v.data(), &mem.arena);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(std::strstr(s.message(), "(1, 1)") != nullptr);
  a[3] = INFINITY;
  CHECK(!metrics::symmetric_eigen(a.data(), 2, w.data(), v.data(), &mem.arena));
  CHECK(w == std::vector<double>(2, 42.0));
  CHECK(v == std::vector<double>(4, 42.0));
  CHECK(!metrics::symmetric_eigen(a.data(), 0, w.data(), v.data(), &mem.arena));
  CHECK(!metrics::symmetric_eigen(a.data(), metrics::kMaxMatrixOrder + 1, w.data(), v.data(), &mem.arena));
  // Too little scratch: out_of_memory, arena unchanged.
  std::vector<uint8_t> tiny(256);
  Arena small(tiny.data(), tiny.size());
  const Mat ok = compose(random_orthogonal(8, 3), {1, 2, 3, 4, 5, 6, 7, 8});
  std::vector<double> w8(8, 42.0);
  CHECK(metrics::symmetric_eigen(ok.data(), 8, w8.data(), nullptr, &small).code() == Code::out_of_memory);
  CHECK(small.used() == 0);
  CHECK(w8 == std::vector<double>(8, 42.0));
  CHECK(metrics::symmetric_eigen_scratch_bytes(0, true) == 0);
  for (bool vectors : {false, true}) {  // the advertised scratch is exactly enough
    const size_t need = metrics::symmetric_eigen_scratch_bytes(8, vectors);
    std::vector<uint8_t> raw(need + Arena::kAlign);
    uint8_t* start = raw.data() + (Arena::kAlign - reinterpret_cast<uintptr_t>(raw.data()) % Arena::kAlign) % Arena::kAlign;
    Arena exact(start, need), short_by_one(start, need - 1);
    std::vector<double> v8(64);
    CHECK(metrics::symmetric_eigen(ok.data(), 8, w8.data(), vectors ? v8.data() : nullptr, &exact).is_ok());
    CHECK(metrics::symmetric_eigen(ok.data(), 8, w8.data(), vectors ? v8.data() : nullptr, &short_by_one).code() ==
          Code::out_of_memory);
  }
}

TEST_CASE("symmetric_sqrt and symmetric_function") {
  Memory mem;
  const int n = 6;
  const Mat q = random_orthogonal(n, 21);
  const Mat a = compose(q, {4, 9, 1, 0.25, 16, 0});
  const Mat want = compose(q, {2, 3, 1, 0.5, 4, 0});
  Mat root(a.size());
  REQUIRE(metrics::symmetric_sqrt(a.data(), n, root.data(), &mem.arena).is_ok());
  for (size_t i = 0; i < a.size(); ++i) CHECK(std::fabs(root[i] - want[i]) < 1e-12);
  Mat square(a.size());
  metrics::matmul(root.data(), root.data(), n, n, n, square.data());
  for (size_t i = 0; i < a.size(); ++i) CHECK(std::fabs(square[i] - a[i]) < 1e-12);
  Mat e = a;  // in place
  REQUIRE(metrics::symmetric_function(e.data(), n, [](double x) { return 2.0 * x + 1.0; }, e.data(), &mem.arena).is_ok());
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c)
      CHECK(std::fabs(e[r * n + c] - (2.0 * a[r * n + c] + (r == c))) < 1e-12);
  CHECK(!metrics::symmetric_function(a.data(), n, [](double x) { return std::log(x); }, e.data(), &mem.arena));  // log 0
}

TEST_CASE("mean_covariance: blocked accumulation matches the textbook two-pass formula") {
  Memory mem;
  for (int dim : {1, 7, 13}) {
    const int n = 300;  // more than one chunk, not a multiple of it
    std::vector<float> x(size_t(n) * dim);
    Rng rng(dim);
    for (float& v : x) v = rng.normal(0.5f, 2.0f);
    std::vector<double> mean(dim), cov(size_t(dim) * dim);
    REQUIRE(metrics::mean_covariance(x.data(), n, dim, true, mean.data(), cov.data(), &mem.arena).is_ok());
    CHECK(mem.arena.used() == 0);
    for (int i = 0; i < dim; ++i) {
      double m = 0;
      for (int r = 0; r < n; ++r) m += x[size_t(r) * dim + i];
      m /= n;
      CHECK(std::fabs(mean[i] - m) < 1e-12);
    }
    for (int i = 0; i < dim; ++i)
      for (int j = 0; j < dim; ++j) {
        double s = 0;
        for (int r = 0; r < n; ++r) s += (x[size_t(r) * dim + i] - mean[i]) * (x[size_t(r) * dim + j] - mean[j]);
        CHECK(std::fabs(cov[size_t(i) * dim + j] - s / (n - 1)) < 1e-12);
      }
  }
  std::vector<float> one(3, 1.0f);
  std::vector<double> m(3), c(9);
  CHECK(!metrics::mean_covariance(one.data(), 1, 3, true, m.data(), c.data(), &mem.arena));  // n - 1 = 0
  one[1] = NAN;
  CHECK(!metrics::mean_covariance(one.data(), 1, 3, false, m.data(), c.data(), &mem.arena));
}

TEST_CASE("PCA: known spectrum, reconstruction error = dropped variance") {
  const int dim = 12, n = 6000, k = 3;
  const std::vector<double> spectrum = {5, 4, 3, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005};
  const Mat q = random_orthogonal(dim, 31);
  const std::vector<double> centre = {1, -2, 0.5, 0, 3, 1, 1, -1, 0, 2, 0.25, -0.5};
  auto draw = [&](int count, uint64_t seed) {
    std::vector<float> x(size_t(count) * dim);
    Rng rng(seed);
    for (int r = 0; r < count; ++r)
      for (int j = 0; j < dim; ++j) {  // x = mean + sum_j sqrt(l_j) g_j q_j
        const double g = rng.normal() * std::sqrt(spectrum[j]);
        for (int c = 0; c < dim; ++c) x[size_t(r) * dim + c] += float(g * q[size_t(j) * dim + c]);
      }
    for (int r = 0; r < count; ++r)
      for (int c = 0; c < dim; ++c) x[size_t(r) * dim + c] += float(centre[c]);
    return x;
  };
  const std::vector<float> train = draw(n, 1), test = draw(2000, 2);
  Memory mem;
  metrics::Pca pca;
  REQUIRE(pca_fit(train.data(), n, dim, k, &mem.arena, &pca).is_ok());
  const size_t model_bytes = mem.arena.used();
  CHECK(pca.dim == dim);
  CHECK(pca.components == k);
  for (int j = 0; j < dim; ++j) CHECK(std::fabs(pca.variances[j] / spectrum[j] - 1.0) < 0.1);
  for (int j = 0; j < k; ++j) {  // components are the planted directions
    double d = 0;
    for (int c = 0; c < dim; ++c) d += pca.basis[j * dim + c] * q[size_t(j) * dim + c];
    CHECK(std::fabs(d) > 0.99);
  }
  for (int c = 0; c < dim; ++c) CHECK(std::fabs(pca.mean[c] - centre[c]) < 0.1);
  double dropped_sample = 0, dropped_true = 0;
  for (int j = k; j < dim; ++j) dropped_sample += pca.variances[j], dropped_true += spectrum[j];
  double err_train = 0, err_test = 0;
  REQUIRE(pca_squared_error(pca, train.data(), n, &mem.arena, &err_train).is_ok());
  REQUIRE(pca_squared_error(pca, test.data(), 2000, &mem.arena, &err_test).is_ok());
  CHECK(mem.arena.used() == model_bytes);
  CHECK(std::fabs(err_train - dropped_sample) < 1e-9);
  CHECK(std::fabs(err_test / dropped_true - 1.0) < 0.1);
  // The generic accumulator over explicit reconstructions agrees.
  std::vector<float> recon(test.size());
  std::vector<double> code(k);
  for (int r = 0; r < 2000; ++r)
    REQUIRE(pca_reconstruct(pca, &test[size_t(r) * dim], code.data(), &recon[size_t(r) * dim]).is_ok());
  CHECK(std::fabs(metrics::squared_error_per_image(test.data(), recon.data(), 2000, dim) - err_test) < 1e-5);
  // k = dim reconstructs exactly; k = 0 leaves the total variance.
  metrics::Pca full, none;
  REQUIRE(pca_fit(train.data(), n, dim, dim, &mem.arena, &full).is_ok());
  REQUIRE(pca_fit(train.data(), n, dim, 0, &mem.arena, &none).is_ok());
  double e_full = 1, e_none = 0, total = 0;
  REQUIRE(pca_squared_error(full, train.data(), n, &mem.arena, &e_full).is_ok());
  REQUIRE(pca_squared_error(none, train.data(), n, &mem.arena, &e_none).is_ok());
  for (int j = 0; j < dim; ++j) total += pca.variances[j];
  CHECK(e_full < 1e-9);
  CHECK(std::fabs(e_none - total) < 1e-9);
}

TEST_CASE("PCA on a byte Dataset equals PCA on its float pixels; bad arguments") {
  const int count = 500, rows = 5, cols = 6, dim = rows * cols;
  std::vector<uint8_t> pixels(size_t(count) * dim);
  Rng rng(3);
  for (int i = 0; i < count; ++i) {  // two strong patterns plus noise
    const float a = rng.uniform(), b = rng.uniform();
    for (int p = 0; p < dim; ++p)
      pixels[size_t(i) * dim + p] = uint8_t(std::min(255.0f, 200 * a * (p % 2) + 150 * b * (p < 12) + 40 * rng.uniform()));
  }
  std::vector<float> floats(pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i) floats[i] = pixels[i] / 255.0f;
  data::Dataset data;
  data.pixels = pixels.data(), data.count = count, data.rows = rows, data.cols = cols;
  Memory mem;
  metrics::Pca a, b;
  REQUIRE(pca_fit(data, 2, &mem.arena, &a).is_ok());
  REQUIRE(pca_fit(floats.data(), count, dim, 2, &mem.arena, &b).is_ok());
  for (int j = 0; j < dim; ++j) CHECK(std::fabs(a.variances[j] - b.variances[j]) < 1e-7);
  double ea = 0, eb = 0;
  REQUIRE(pca_squared_error(a, data, &mem.arena, &ea).is_ok());
  REQUIRE(pca_squared_error(b, floats.data(), count, &mem.arena, &eb).is_ok());
  CHECK(std::fabs(ea - eb) < 1e-6);
  CHECK(ea > 0);

  const size_t used = mem.arena.used();
  metrics::Pca untouched;
  CHECK(pca_fit(data, dim + 1, &mem.arena, &untouched).code() == Code::invalid_argument);
  CHECK(pca_fit(data, -1, &mem.arena, &untouched).code() == Code::invalid_argument);
  CHECK(untouched.mean == nullptr);
  CHECK(mem.arena.used() == used);
  data::Dataset other = data;
  other.cols = 5;
  CHECK(pca_squared_error(a, other, &mem.arena, &ea).code() == Code::shape_mismatch);
  CHECK(pca_squared_error(metrics::Pca(), data, &mem.arena, &ea).code() == Code::invalid_argument);
  data::Dataset empty;
  CHECK(!pca_fit(empty, 1, &mem.arena, &untouched));
  std::vector<uint8_t> tiny(1024);
  Arena small(tiny.data(), tiny.size());
  CHECK(pca_fit(data, 2, &small, &untouched).code() == Code::out_of_memory);
  CHECK(small.used() == 0);
  CHECK(metrics::squared_error_per_image(floats.data(), floats.data(), 0, dim) == 0.0);
}

TEST_CASE("inception score and class histogram") {
  Memory mem;
  const int n = 100, classes = 10;
  std::vector<float> onehot(size_t(n) * classes, 0.0f), constant(size_t(n) * classes, 0.1f);
  for (int i = 0; i < n; ++i) onehot[size_t(i) * classes + i % classes] = 1.0f;
  constant[3] = 0.3f, constant[4] = 0.0f, constant[5] = 0.0f;  // row 0 differs: IS just above 1
  double is = 0;
  REQUIRE(metrics::inception_score(onehot.data(), n, classes, &mem.arena, &is).is_ok());
  CHECK(std::fabs(is - classes) < 1e-9);
  REQUIRE(metrics::inception_score(constant.data() + classes, n - 1, classes, &mem.arena, &is).is_ok());
  CHECK(std::fabs(is - 1.0) < 1e-9);
  REQUIRE(metrics::inception_score(constant.data(), n, classes, &mem.arena, &is).is_ok());
  CHECK(is > 1.0 + 1e-4);
  CHECK(is < 1.1);
  CHECK(mem.arena.used() == 0);
  // Half the classes, confidently: IS = 5.
  std::fill(onehot.begin(), onehot.end(), 0.0f);
  for (int i = 0; i < n; ++i) onehot[size_t(i) * classes + i % 5] = 1.0f;
  REQUIRE(metrics::inception_score(onehot.data(), n, classes, &mem.arena, &is).is_ok());
  CHECK(std::fabs(is - 5.0) < 1e-9);

  std::vector<int> counts(classes, -1);
  double h = 0;
  REQUIRE(metrics::class_histogram(onehot.data(), n, classes, counts.data(), &h).is_ok());
  for (int c = 0; c < classes; ++c) CHECK(counts[c] == (c < 5 ? 20 : 0));
  CHECK(std::fabs(h - std::log(5.0)) < 1e-12);
  const std::vector<int> one_class = {0, 7, 0};
  CHECK(metrics::histogram_entropy(one_class.data(), 3) == 0.0);
  const std::vector<int> empty = {0, 0};
  CHECK(metrics::histogram_entropy(empty.data(), 2) == 0.0);

  onehot[0] = 0.5f;  // row 0 now sums to 0.5
  Status s = metrics::inception_score(onehot.data(), n, classes, &mem.arena, &is);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(std::strstr(s.message(), "row 0") != nullptr);
  onehot[0] = -1.0f, onehot[1] = 1.0f;
  CHECK(!metrics::class_histogram(onehot.data(), n, classes, counts.data(), &h));
  CHECK(!metrics::inception_score(onehot.data(), 0, classes, &mem.arena, &is));
}

TEST_CASE("Frechet distance: identical sets, diagonal and rotated closed forms") {
  Memory mem;
  const int d = 5, n = 400;
  std::vector<float> x(size_t(n) * d);
  Rng rng(9);
  for (float& v : x) v = rng.normal();
  for (int r = 0; r < n; ++r) x[size_t(r) * d] += 0.5f * x[size_t(r) * d + 1];  // correlated
  std::vector<double> m1(d), s1(size_t(d) * d);
  REQUIRE(metrics::feature_statistics(x.data(), n, d, m1.data(), s1.data(), &mem.arena).is_ok());
  double fd = -1;
  REQUIRE(metrics::frechet_distance(m1.data(), s1.data(), m1.data(), s1.data(), d, &mem.arena, &fd).is_ok());
  CHECK(fd < 1e-9);
  CHECK(fd >= 0.0);

  // Diagonal: |dm|^2 + sum (sqrt a - sqrt b)^2; the same in any common rotated basis.
  const std::vector<double> a = {1, 4, 0.25, 9, 2}, b = {4, 1, 1, 9, 0.5};
  const std::vector<double> ma = {0, 1, 2, 3, 4}, mb = {1, 1, 0, 3, 5};
  double want = 0;
  for (int i = 0; i < d; ++i)
    want += (ma[i] - mb[i]) * (ma[i] - mb[i]) + (std::sqrt(a[i]) - std::sqrt(b[i])) * (std::sqrt(a[i]) - std::sqrt(b[i]));
  Mat da(size_t(d) * d, 0.0), db(size_t(d) * d, 0.0);
  for (int i = 0; i < d; ++i) da[i * d + i] = a[i], db[i * d + i] = b[i];
  REQUIRE(metrics::frechet_distance(ma.data(), da.data(), mb.data(), db.data(), d, &mem.arena, &fd).is_ok());
  CHECK(std::fabs(fd - want) < 1e-12);
  const Mat q = random_orthogonal(d, 4);
  REQUIRE(metrics::frechet_distance(ma.data(), compose(q, a).data(), mb.data(), compose(q, b).data(), d, &mem.arena, &fd).is_ok());
  CHECK(std::fabs(fd - want) < 1e-10);

  // Non-commuting 2 x 2: tr (S1^1/2 S2 S1^1/2)^1/2 = sum sqrt(eig(S1 S2)), from trace and det.
  const Mat p1 = {2, 0.5, 0.5, 1}, p2 = {1, -0.3, -0.3, 3};
  const double t = p1[0] * p2[0] + p1[1] * p2[2] + p1[2] * p2[1] + p1[3] * p2[3];
  const double det = (p1[0] * p1[3] - p1[1] * p1[2]) * (p2[0] * p2[3] - p2[1] * p2[2]);
  const double root = std::sqrt(t * t - 4 * det);
  const double tr_sqrt = std::sqrt((t + root) / 2) + std::sqrt((t - root) / 2);
  const std::vector<double> zero = {0, 0};
  REQUIRE(metrics::frechet_distance(zero.data(), p1.data(), zero.data(), p2.data(), 2, &mem.arena, &fd).is_ok());
  CHECK(std::fabs(fd - (p1[0] + p1[3] + p2[0] + p2[3] - 2 * tr_sqrt)) < 1e-12);
  CHECK(mem.arena.used() == 0);

  Mat bad = p2;
  bad[1] = NAN;
  CHECK(!metrics::frechet_distance(zero.data(), p1.data(), zero.data(), bad.data(), 2, &mem.arena, &fd));
  CHECK(!metrics::frechet_distance(zero.data(), bad.data(), zero.data(), p1.data(), 2, &mem.arena, &fd));
}

TEST_CASE("mode coverage on the 8-Gaussian ring") {
  const int modes = 8, n = 10000;
  const double radius = 2.0, std_dev = 0.02;
  std::vector<float> centres(2 * modes);
  for (int m = 0; m < modes; ++m) {
    const double angle = 2 * M_PI * m / modes;
    centres[2 * m] = float(radius * std::cos(angle)), centres[2 * m + 1] = float(radius * std::sin(angle));
  }
  auto sample = [&](int use_modes, uint64_t seed) {
    std::vector<float> p(2 * size_t(n));
    Rng rng(seed);
    for (int i = 0; i < n; ++i) {
      const int m = int(rng.below(uint32_t(use_modes)));
      p[2 * i] = centres[2 * m] + float(std_dev) * rng.normal();
      p[2 * i + 1] = centres[2 * m + 1] + float(std_dev) * rng.normal();
    }
    return p;
  };
  std::vector<int> counts(modes);
  metrics::ModeCoverage cov;
  const std::vector<float> all = sample(modes, 1);
  REQUIRE(mode_coverage(all.data(), n, centres.data(), modes, std_dev, metrics::kModeMinShare, counts.data(), &cov).is_ok());
  CHECK(cov.covered == 8);
  const double in_3_std = 1.0 - std::exp(-4.5);  // 2-D: chi^2 with 2 degrees of freedom
  CHECK(std::fabs(cov.high_quality - in_3_std) < 0.005);
  const std::vector<float> three = sample(3, 2);
  REQUIRE(mode_coverage(three.data(), n, centres.data(), modes, std_dev, metrics::kModeMinShare, counts.data(), &cov).is_ok());
  CHECK(cov.covered == 3);
  CHECK(std::fabs(cov.high_quality - in_3_std) < 0.005);
  for (int m = 3; m < modes; ++m) CHECK(counts[m] == 0);
  // Everything at the centre of the ring: no quality, nothing covered.
  const std::vector<float> middle(2 * size_t(n), 0.0f);
  REQUIRE(mode_coverage(middle.data(), n, centres.data(), modes, std_dev, metrics::kModeMinShare, counts.data(), &cov).is_ok());
  CHECK(cov.covered == 0);
  CHECK(cov.high_quality == 0.0);
  // A mode with only a few samples is below the 1% threshold.
  std::vector<float> few = sample(3, 3);
  for (int i = 0; i < 50; ++i) few[2 * i] = centres[14], few[2 * i + 1] = centres[15];
  REQUIRE(mode_coverage(few.data(), n, centres.data(), modes, std_dev, metrics::kModeMinShare, counts.data(), &cov).is_ok());
  CHECK(counts[7] == 50);
  CHECK(cov.covered == 3);
  REQUIRE(mode_coverage(few.data(), n, centres.data(), modes, std_dev, 0.0, counts.data(), &cov).is_ok());
  CHECK(cov.covered == 4);
  CHECK(!mode_coverage(few.data(), n, centres.data(), modes, 0.0, 0.01, counts.data(), &cov));
}

TEST_CASE("nearest training image: scalar loops and the Context GEMM agree with brute force") {
  const int count = 300, rows = 7, cols = 9, dim = rows * cols, n = 40;
  std::vector<uint8_t> pixels(size_t(count) * dim);
  Rng rng(5);
  for (uint8_t& p : pixels) p = uint8_t(rng.below(256));
  data::Dataset train;
  train.pixels = pixels.data(), train.count = count, train.rows = rows, train.cols = cols;
  std::vector<float> gen(size_t(n) * dim);
  for (int i = 0; i < n; ++i)  // even rows: a training image plus noise; odd rows: random
    for (int k = 0; k < dim; ++k)
      gen[size_t(i) * dim + k] = i % 2 ? rng.uniform() : pixels[size_t(i * 7) * dim + k] / 255.0f + rng.normal(0, 0.01f);
  auto brute = [&](int m, std::vector<double>& dist, std::vector<int>& idx) {
    dist.assign(n, 1e300), idx.assign(n, -1);
    for (int i = 0; i < n; ++i)
      for (int t = 0; t < m; ++t) {
        double s = 0;
        for (int k = 0; k < dim; ++k) {
          const double diff = gen[size_t(i) * dim + k] - pixels[size_t(t) * dim + k] / 255.0;
          s += diff * diff;
        }
        if (std::sqrt(s) < dist[i]) dist[i] = std::sqrt(s), idx[i] = t;
      }
  };
  std::vector<uint8_t> ctx_memory(8u << 20);
  Arena ctx_arena(ctx_memory.data(), ctx_memory.size());
  Context ctx;
  Context::Options opt;
  opt.threads = 1;
  REQUIRE(ctx.init(&ctx_arena, opt).is_ok());
  Memory mem(32u << 20);
  for (int max_train : {0, 100}) {
    std::vector<double> want;
    std::vector<int> want_idx;
    brute(max_train ? max_train : count, want, want_idx);
    for (Context* c : {static_cast<Context*>(nullptr), &ctx}) {
      metrics::NearestOptions o;
      o.ctx = c, o.max_train = max_train;
      std::vector<double> dist(n);
      std::vector<int> idx(n);
      REQUIRE(nearest_train(gen.data(), n, train, o, &mem.arena, dist.data(), idx.data()).is_ok());
      CHECK(mem.arena.used() == 0);
      CHECK(idx == want_idx);
      for (int i = 0; i < n; ++i) CHECK(std::fabs(dist[i] - want[i]) < 1e-9);
      if (!max_train)
        for (int i = 0; i < n; i += 2) CHECK(idx[i] == i * 7);
    }
  }
  std::vector<double> dist(n);
  std::vector<int> idx(n);
  // The advertised scratch is exactly enough (one byte less is not).
  const size_t need = metrics::nearest_train_scratch_bytes(n, size_t(dim));
  REQUIRE(need > 0);
  for (const size_t bytes : {need, need - 1}) {
    std::vector<uint8_t> exact(bytes + Arena::kAlign);
    Arena tight(exact.data() + (Arena::kAlign - reinterpret_cast<uintptr_t>(exact.data()) % Arena::kAlign), bytes);
    CHECK(nearest_train(gen.data(), n, train, metrics::NearestOptions(), &tight, dist.data(), idx.data()).is_ok() ==
          (bytes == need));
  }
  CHECK(metrics::nearest_train_scratch_bytes(-1, 784) == 0);
  gen[5] = NAN;
  CHECK(!nearest_train(gen.data(), n, train, metrics::NearestOptions(), &mem.arena, dist.data(), idx.data()));
  CHECK(!nearest_train(gen.data(), 0, train, metrics::NearestOptions(), &mem.arena, dist.data(), idx.data()));
}

TEST_CASE("summarize_distances: min, median, mean and the closest indices") {
  Memory mem;
  const std::vector<double> d = {4, 1, 3, 0.5, 2, 1};
  metrics::DistanceSummary s;
  std::vector<int> closest(3);
  REQUIRE(summarize_distances(d.data(), 6, &mem.arena, &s, closest.data(), 3).is_ok());
  CHECK(s.min == 0.5);
  CHECK(s.median == 1.5);
  CHECK(std::fabs(s.mean - 11.5 / 6) < 1e-15);
  CHECK(closest == std::vector<int>{3, 1, 5});
  REQUIRE(summarize_distances(d.data(), 5, &mem.arena, &s, nullptr, 0).is_ok());
  CHECK(s.median == 2.0);
  CHECK(!summarize_distances(d.data(), 6, &mem.arena, &s, closest.data(), 7));
  CHECK(mem.arena.used() == 0);
}
