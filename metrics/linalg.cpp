// Symmetric eigen-solver, matrix functions and blocked covariance; see linalg.h.
#include "metrics/linalg.h"

#include <cmath>
#include <limits>

namespace ember::metrics {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
// Added to every deflation tolerance so denormal-sized off-diagonals never stall a block.
constexpr double kSafeTiny = std::numeric_limits<double>::min() / std::numeric_limits<double>::epsilon();
constexpr int kPanel = 4;  // columns per packed panel = the 4 x 4 register tile of X^T X

Status check_order(int n, const char* what) {
  if (n < 1 || n > kMaxMatrixOrder)
    return Status::error(Code::invalid_argument, "%s: matrix order %d outside 1..%d", what, n, kMaxMatrixOrder);
  return Status::ok();
}


double dot(const double* a, const double* b, int n) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Householder tridiagonalisation of the n x n symmetric w (overwritten). d[n], e[n - 1] get
// the tridiagonal; row k of w keeps reflector k's vector in columns k+1.., beta[k] its scale.
void tridiagonalise(double* w, int n, double* d, double* e, double* beta, double* p) {
  const size_t N = static_cast<size_t>(n);
  for (int k = 0; k + 2 < n; ++k) {
    double* v = w + k * N + (k + 1);  // row k right of the diagonal = column k below it
    const int m = n - k - 1;
    d[k] = w[k * N + k];
    const double tail = dot(v + 1, v + 1, m - 1);
    if (tail == 0.0) {  // already tridiagonal in this column: H_k = I
      e[k] = v[0];
      beta[k] = 0.0;
      continue;
    }
    const double norm = std::sqrt(v[0] * v[0] + tail);
    const double alpha = v[0] >= 0.0 ? -norm : norm;  // H x = alpha e1, sign avoids cancellation
    v[0] -= alpha;                                    // v = x - alpha e1
    const double b = 2.0 / (v[0] * v[0] + tail);
    e[k] = alpha;
    beta[k] = b;
    // Trailing block A22 (rows/cols k+1..): A22 <- H A22 H as a symmetric rank-2 update.
    double* a22 = w + (k + 1) * N + (k + 1);
    for (int i = 0; i < m; ++i) p[i] = b * dot(a22 + i * N, v, m);
    const double half = 0.5 * b * dot(p, v, m);
    for (int i = 0; i < m; ++i) p[i] -= half * v[i];  // p is now w of the header
    for (int i = 0; i < m; ++i) {
      double* row = a22 + i * N;
      const double vi = v[i], pi = p[i];
      for (int j = 0; j < m; ++j) row[j] -= vi * p[j] + pi * v[j];
    }
  }
  if (n >= 2) {
    d[n - 2] = w[(n - 2) * N + (n - 2)];
    e[n - 2] = w[(n - 2) * N + (n - 1)];
  }
  d[n - 1] = w[(n - 1) * N + (n - 1)];
}

// zt = Q^T = H_{n-3} ... H_0, accumulated as I * H_{n-3} * ... * H_0 (each H_k only mixes
// columns k+1.. of rows k+1..).
void accumulate_qt(const double* w, const double* beta, int n, double* zt) {
  const size_t N = static_cast<size_t>(n);
  for (size_t i = 0; i < N * N; ++i) zt[i] = 0.0;
  for (size_t i = 0; i < N; ++i) zt[i * N + i] = 1.0;
  for (int k = n - 3; k >= 0; --k) {
    if (beta[k] == 0.0) continue;
    const double* v = w + k * N + (k + 1);
    const int m = n - k - 1;
    for (int r = k + 1; r < n; ++r) {
      double* row = zt + r * N + (k + 1);
      const double s = beta[k] * dot(row, v, m);
      for (int j = 0; j < m; ++j) row[j] -= s * v[j];
    }
  }
}

// rows a, b <- (c a + s b, -s a + c b)
void rotate_rows(double* a, double* b, int n, double c, double s) {
  for (int i = 0; i < n; ++i) {
    const double x = a[i], y = b[i];
    a[i] = c * x + s * y;
    b[i] = c * y - s * x;
  }
}

// One implicit QR step with the Wilkinson shift on the unreduced block [l, h] of the
// tridiagonal (d, e); rotations also go to rows of zt when it is not null.
void qr_step(double* d, double* e, int l, int h, double* zt, int n) {
  const double delta = 0.5 * (d[h - 1] - d[h]);
  const double eh = e[h - 1];
  const double mu = d[h] - eh * eh / (delta + std::copysign(std::hypot(delta, eh), delta));
  double x = d[l] - mu, z = e[l];
  for (int k = l; k < h; ++k) {
    const double r = std::hypot(x, z);
    const double c = r == 0.0 ? 1.0 : x / r, s = r == 0.0 ? 0.0 : z / r;
    if (k > l) e[k - 1] = r;  // the bulge is gone
    const double a = d[k], f = e[k], g = d[k + 1];
    const double cc = c * c, ss = s * s, cs = c * s;
    d[k] = cc * a + 2.0 * cs * f + ss * g;
    d[k + 1] = ss * a - 2.0 * cs * f + cc * g;
    e[k] = cs * (g - a) + (cc - ss) * f;
    if (k + 1 < h) {
      z = s * e[k + 1];  // new bulge at (k + 2, k)
      e[k + 1] *= c;
      x = e[k];
    }
    if (zt) rotate_rows(zt + static_cast<size_t>(k) * n, zt + static_cast<size_t>(k + 1) * n, n, c, s);
  }
}

bool negligible(const double* d, const double* e, int i) {
  return std::fabs(e[i]) <= kEps * (std::fabs(d[i]) + std::fabs(d[i + 1])) + kSafeTiny;
}

Status tridiagonal_qr(double* d, double* e, int n, double* zt) {
  const long cap = static_cast<long>(kMaxSweepsPerEigenvalue) * n;
  long steps = 0;
  int h = n - 1;
  while (h > 0) {
    if (negligible(d, e, h - 1)) {
      e[h - 1] = 0.0;
      --h;
      continue;
    }
    int l = h - 1;
    while (l > 0 && !negligible(d, e, l - 1)) --l;
    if (l > 0) e[l - 1] = 0.0;
    if (++steps > cap)
      return Status::error(Code::invalid_argument, "symmetric_eigen: no convergence after %ld QR steps (n = %d)", cap, n);
    qr_step(d, e, l, h, zt, n);
  }
  return Status::ok();
}

// Sorts d descending, carrying rows of zt, and makes each row's largest-|.| entry positive.
void sort_and_normalise(double* d, double* zt, int n) {
  const size_t N = static_cast<size_t>(n);
  for (int i = 0; i < n; ++i) {
    int best = i;
    for (int j = i + 1; j < n; ++j)
      if (d[j] > d[best]) best = j;
    if (best == i) continue;
    const double t = d[i];
    d[i] = d[best], d[best] = t;
    if (!zt) continue;
    double* a = zt + i * N;
    double* b = zt + best * N;
    for (size_t k = 0; k < N; ++k) {
      const double u = a[k];
      a[k] = b[k], b[k] = u;
    }
  }
  for (size_t i = 0; zt && i < N; ++i) {
    double* row = zt + i * N;
    size_t big = 0;
    for (size_t k = 1; k < N; ++k)
      if (std::fabs(row[k]) > std::fabs(row[big])) big = k;
    if (row[big] < 0.0)
      for (size_t k = 0; k < N; ++k) row[k] = -row[k];
  }
}

}  // namespace

size_t symmetric_eigen_scratch_bytes(int n, bool vectors) {
  if (n < 1 || n > kMaxMatrixOrder) return 0;
  const size_t N = static_cast<size_t>(n);
  // The working matrix (+ the eigenvector matrix) and four work vectors (d, e, beta, p).
  const size_t work_vectors = 4 * Arena::rounded(N * sizeof(double));
  size_t matrix, matrices;
  if (!mul_fits(N * N, sizeof(double), &matrix) || !mul_fits(Arena::rounded(matrix), vectors ? 2 : 1, &matrices))
    return 0;
  return matrices == 0 || matrices > SIZE_MAX - work_vectors ? 0 : matrices + work_vectors;
}

Status symmetric_eigen(const double* a, int n, double* values, double* vectors, Arena* scratch) {
  EMBER_TRY(check_order(n, "symmetric_eigen"));
  if (!a || !values || !scratch) return Status::error(Code::invalid_argument, "symmetric_eigen: null argument");
  const size_t N = static_cast<size_t>(n);
  double scale = 0.0;
  for (size_t i = 0; i < N; ++i)
    for (size_t j = 0; j < N; ++j) {
      const double v = a[i * N + j];
      if (!std::isfinite(v))
        return Status::error(Code::invalid_argument, "symmetric_eigen: entry (%zu, %zu) is not finite", i, j);
      if (std::fabs(v) > scale) scale = std::fabs(v);
    }
  ScratchScope scope(scratch);
  double *w, *d, *e, *beta, *p, *zt = nullptr;
  EMBER_TRY(scratch->alloc_array(N * N, &w));
  EMBER_TRY(scratch->alloc_array(N, &d));
  EMBER_TRY(scratch->alloc_array(N, &e));
  EMBER_TRY(scratch->alloc_array(N, &beta));
  EMBER_TRY(scratch->alloc_array(N, &p));
  if (vectors) EMBER_TRY(scratch->alloc_array(N * N, &zt));
  const double inv = scale > 0.0 ? 1.0 / scale : 1.0;
  for (size_t i = 0; i < N; ++i)
    for (size_t j = 0; j < N; ++j) w[i * N + j] = 0.5 * (a[i * N + j] + a[j * N + i]) * inv;
  e[N - 1] = 0.0;
  tridiagonalise(w, n, d, e, beta, p);
  if (zt) accumulate_qt(w, beta, n, zt);
  EMBER_TRY(tridiagonal_qr(d, e, n, zt));
  sort_and_normalise(d, zt, n);
  for (size_t i = 0; i < N; ++i) values[i] = d[i] * scale;
  if (vectors)
    for (size_t i = 0; i < N * N; ++i) vectors[i] = zt[i];
  return Status::ok();
}

Status symmetric_function(const double* a, int n, ScalarFn f, double* out, Arena* scratch) {
  EMBER_TRY(check_order(n, "symmetric_function"));
  if (!a || !f || !out || !scratch) return Status::error(Code::invalid_argument, "symmetric_function: null argument");
  const size_t N = static_cast<size_t>(n);
  ScratchScope scope(scratch);
  double *values, *zt;
  EMBER_TRY(scratch->alloc_array(N, &values));
  EMBER_TRY(scratch->alloc_array(N * N, &zt));
  EMBER_TRY(symmetric_eigen(a, n, values, zt, scratch));
  for (size_t k = 0; k < N; ++k) {
    values[k] = f(values[k]);
    if (!std::isfinite(values[k]))
      return Status::error(Code::invalid_argument, "symmetric_function: f is not finite at eigenvalue %zu", k);
  }
  // out = sum_k f_k z_k z_k^T on the upper triangle, then mirrored.
  for (size_t i = 0; i < N * N; ++i) out[i] = 0.0;
  for (size_t k = 0; k < N; ++k) {
    const double* z = zt + k * N;
    for (size_t i = 0; i < N; ++i) {
      const double coef = values[k] * z[i];
      if (coef == 0.0) continue;
      double* row = out + i * N;
      for (size_t j = i; j < N; ++j) row[j] += coef * z[j];
    }
  }
  for (size_t i = 0; i < N; ++i)
    for (size_t j = 0; j < i; ++j) out[i * N + j] = out[j * N + i];
  return Status::ok();
}

namespace {
double clamped_sqrt(double x) { return x > 0.0 ? std::sqrt(x) : 0.0; }
}  // namespace

Status symmetric_sqrt(const double* a, int n, double* out, Arena* scratch) {
  return symmetric_function(a, n, clamped_sqrt, out, scratch);
}

void matmul(const double* a, const double* b, int m, int k, int n, double* c) {
  const size_t K = static_cast<size_t>(k), N = static_cast<size_t>(n);
  for (size_t i = 0; i < static_cast<size_t>(m); ++i) {
    double* ci = c + i * N;
    for (size_t j = 0; j < N; ++j) ci[j] = 0.0;
    for (size_t t = 0; t < K; ++t) {
      const double at = a[i * K + t];
      const double* bt = b + t * N;
      for (size_t j = 0; j < N; ++j) ci[j] += at * bt[j];
    }
  }
}

namespace {

// acc[dp x dp] (upper panels) += packed^T packed for one chunk: packed holds `panels`
// panels, each [rows][kPanel] contiguous.
void accumulate_chunk(const double* packed, int rows, int panels, double* acc, size_t dp) {
  const size_t panel_size = static_cast<size_t>(rows) * kPanel;
  for (int pi = 0; pi < panels; ++pi) {
    const double* a = packed + pi * panel_size;
    for (int pj = pi; pj < panels; ++pj) {
      const double* b = packed + pj * panel_size;
      double t[kPanel][kPanel] = {};
      for (int r = 0; r < rows; ++r) {
        const double* ar = a + r * kPanel;
        const double* br = b + r * kPanel;
        for (int x = 0; x < kPanel; ++x)
          for (int y = 0; y < kPanel; ++y) t[x][y] += ar[x] * br[y];
      }
      for (int x = 0; x < kPanel; ++x)
        for (int y = 0; y < kPanel; ++y) acc[(pi * kPanel + x) * dp + (pj * kPanel + y)] += t[x][y];
    }
  }
}


}  // namespace

void read_float_rows(const void* ctx, int first, int count, int dim, double* dst) {
  const float* src = static_cast<const float*>(ctx) + static_cast<size_t>(first) * static_cast<size_t>(dim);
  const size_t total = static_cast<size_t>(count) * static_cast<size_t>(dim);
  for (size_t i = 0; i < total; ++i) dst[i] = src[i];
}

Status mean_covariance(RowReader read, const void* ctx, int n, int dim, bool unbiased, double* mean, double* cov,
                       Arena* scratch) {
  if (!read || !mean || !cov || !scratch) return Status::error(Code::invalid_argument, "mean_covariance: null argument");
  if (n < (unbiased ? 2 : 1))
    return Status::error(Code::invalid_argument, "mean_covariance: %d rows (need at least %d)", n, unbiased ? 2 : 1);
  EMBER_TRY(check_order(dim, "mean_covariance"));
  const int panels = (dim + kPanel - 1) / kPanel;
  const size_t D = static_cast<size_t>(dim), dp = static_cast<size_t>(panels) * kPanel;
  ScratchScope scope(scratch);
  double *chunk, *packed, *acc, *mu;
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(kCovarianceChunk) * D, &chunk));
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(kCovarianceChunk) * dp, &packed));
  EMBER_TRY(scratch->alloc_array(dp * dp, &acc));
  EMBER_TRY(scratch->alloc_array(D, &mu));
  // Pass 1: the mean (and a finiteness check, so the caller's outputs stay untouched).
  for (size_t j = 0; j < D; ++j) mu[j] = 0.0;
  for (int first = 0, rows = 0; first < n; first += rows) {
    rows = n - first < kCovarianceChunk ? n - first : kCovarianceChunk;
    read(ctx, first, rows, dim, chunk);
    for (int r = 0; r < rows; ++r)
      for (size_t j = 0; j < D; ++j) {
        const double v = chunk[r * D + j];
        if (!std::isfinite(v))
          return Status::error(Code::invalid_argument, "mean_covariance: row %d column %zu is not finite", first + r, j);
        mu[j] += v;
      }
  }
  for (size_t j = 0; j < D; ++j) mu[j] /= n;
  // Pass 2: centred products, packed into panels of kPanel columns (zero padded).
  for (size_t i = 0; i < dp * dp; ++i) acc[i] = 0.0;
  for (int first = 0, rows = 0; first < n; first += rows) {
    rows = n - first < kCovarianceChunk ? n - first : kCovarianceChunk;
    read(ctx, first, rows, dim, chunk);
    for (int p = 0; p < panels; ++p) {
      double* panel = packed + static_cast<size_t>(p) * rows * kPanel;
      for (int r = 0; r < rows; ++r)
        for (int q = 0; q < kPanel; ++q) {
          const size_t j = static_cast<size_t>(p) * kPanel + q;
          panel[r * kPanel + q] = j < D ? chunk[r * D + j] - mu[j] : 0.0;
        }
    }
    accumulate_chunk(packed, rows, panels, acc, dp);
  }
  const double inv = 1.0 / (unbiased ? n - 1.0 : static_cast<double>(n));
  for (size_t i = 0; i < D; ++i) {
    mean[i] = mu[i];
    for (size_t j = i; j < D; ++j) cov[i * D + j] = cov[j * D + i] = acc[i * dp + j] * inv;
  }
  return Status::ok();
}

Status mean_covariance(const float* x, int n, int dim, bool unbiased, double* mean, double* cov, Arena* scratch) {
  if (!x) return Status::error(Code::invalid_argument, "mean_covariance: null rows");
  return mean_covariance(read_float_rows, x, n, dim, unbiased, mean, cov, scratch);
}

}  // namespace ember::metrics
