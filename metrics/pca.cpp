// PCA fit and reconstruction score; see pca.h.
#include "metrics/pca.h"

#include <cmath>

#include "metrics/linalg.h"

namespace ember::metrics {
namespace {

constexpr double kPcaPixelScale = 1.0 / 255.0;
constexpr int kScoreChunk = 64;  // rows converted to double at a time when scoring


void read_dataset_rows(const void* ctx, int first, int count, int dim, double* dst) {
  const data::Dataset& data = *static_cast<const data::Dataset*>(ctx);
  const uint8_t* src = data.image(first);
  const size_t total = static_cast<size_t>(count) * static_cast<size_t>(dim);
  for (size_t i = 0; i < total; ++i) dst[i] = src[i] * kPcaPixelScale;
}


Status check_dataset(const data::Dataset& d, const char* what) {
  if (!d.pixels || d.count < 1 || d.rows < 1 || d.cols < 1)
    return Status::error(Code::invalid_argument, "%s: empty dataset (%d images of %d x %d)", what, d.count, d.rows,
                         d.cols);
  if (d.image_size() > static_cast<size_t>(kMaxMatrixOrder))
    return Status::error(Code::invalid_argument, "%s: images of %zu pixels (at most %d)", what, d.image_size(),
                         kMaxMatrixOrder);
  return Status::ok();
}

Status fit(RowReader read, const void* ctx, int n, int dim, int k, Arena* arena, Pca* out) {
  if (!arena || !out) return Status::error(Code::invalid_argument, "pca_fit: null argument");
  if (dim < 1 || dim > kMaxMatrixOrder)
    return Status::error(Code::invalid_argument, "pca_fit: dim %d outside 1..%d", dim, kMaxMatrixOrder);
  if (k < 0 || k > dim) return Status::error(Code::invalid_argument, "pca_fit: %d components for dim %d", k, dim);
  if (n < 1) return Status::error(Code::invalid_argument, "pca_fit: %d rows", n);
  const size_t D = static_cast<size_t>(dim);
  const size_t start = arena->mark();
  double *mean, *basis, *variances;
  Status s = arena->alloc_array(D, &mean);
  if (s) s = arena->alloc_array(static_cast<size_t>(k) * D, &basis);
  if (s) s = arena->alloc_array(D, &variances);
  if (s) {
    ScratchScope scope(arena);
    double *cov = nullptr, *vectors = nullptr;
    s = arena->alloc_array(D * D, &cov);
    if (s) s = arena->alloc_array(D * D, &vectors);
    if (s) s = mean_covariance(read, ctx, n, dim, false, mean, cov, arena);
    if (s) s = symmetric_eigen(cov, dim, variances, vectors, arena);
    if (s)
      for (size_t i = 0; i < static_cast<size_t>(k) * D; ++i) basis[i] = vectors[i];
  }
  if (!s) {
    arena->rewind(start);
    return s;
  }
  out->dim = dim;
  out->components = k;
  out->mean = mean;
  out->basis = basis;
  out->variances = variances;
  return Status::ok();
}

Status check_pca(const Pca& pca, const char* what) {
  if (pca.dim < 1 || pca.components < 0 || pca.components > pca.dim || !pca.mean ||
      (pca.components > 0 && !pca.basis))
    return Status::error(Code::invalid_argument, "%s: PCA not fitted", what);
  return Status::ok();
}

// code[j] = b_j . (x - shift), shift = nullptr for an already centred x.
template <class T>
void project(const Pca& pca, const T* x, const double* shift, double* code) {
  const size_t D = static_cast<size_t>(pca.dim);
  for (int j = 0; j < pca.components; ++j) {
    const double* b = pca.basis + j * D;
    double s = 0.0;
    for (size_t i = 0; i < D; ++i) s += b[i] * (static_cast<double>(x[i]) - (shift ? shift[i] : 0.0));
    code[j] = s;
  }
}

// Squared error of one centred image c after removing its projection; c is overwritten.
double residual(const Pca& pca, double* c, double* code) {
  const size_t D = static_cast<size_t>(pca.dim);
  project(pca, c, static_cast<const double*>(nullptr), code);
  for (int j = 0; j < pca.components; ++j) {
    const double* b = pca.basis + j * D;
    for (size_t i = 0; i < D; ++i) c[i] -= code[j] * b[i];
  }
  double s = 0.0;
  for (size_t i = 0; i < D; ++i) s += c[i] * c[i];
  return s;
}

Status score(const Pca& pca, RowReader read, const void* ctx, int n, Arena* scratch, double* per_image) {
  EMBER_TRY(check_pca(pca, "pca_squared_error"));
  if (!scratch || !per_image) return Status::error(Code::invalid_argument, "pca_squared_error: null argument");
  if (n < 1) return Status::error(Code::invalid_argument, "pca_squared_error: %d images", n);
  const size_t D = static_cast<size_t>(pca.dim);
  ScratchScope scope(scratch);
  double *rows, *code;
  EMBER_TRY(scratch->alloc_array(kScoreChunk * D, &rows));
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(pca.components) + 1, &code));
  double total = 0.0;
  for (int first = 0, count = 0; first < n; first += count) {
    count = n - first < kScoreChunk ? n - first : kScoreChunk;
    read(ctx, first, count, pca.dim, rows);
    for (int r = 0; r < count; ++r) {
      double* c = rows + r * D;
      for (size_t i = 0; i < D; ++i) c[i] -= pca.mean[i];
      total += residual(pca, c, code);
    }
  }
  if (!std::isfinite(total)) return Status::error(Code::invalid_argument, "pca_squared_error: input not finite");
  *per_image = total / n;
  return Status::ok();
}

}  // namespace

Status pca_fit(const data::Dataset& train, int k, Arena* arena, Pca* out) {
  EMBER_TRY(check_dataset(train, "pca_fit"));
  return fit(read_dataset_rows, &train, train.count, static_cast<int>(train.image_size()), k, arena, out);
}

Status pca_fit(const float* x, int n, int dim, int k, Arena* arena, Pca* out) {
  if (!x) return Status::error(Code::invalid_argument, "pca_fit: null rows");
  return fit(read_float_rows, x, n, dim, k, arena, out);
}

Status pca_encode(const Pca& pca, const float* x, double* code) {
  EMBER_TRY(check_pca(pca, "pca_encode"));
  if (!x || (!code && pca.components > 0)) return Status::error(Code::invalid_argument, "pca_encode: null argument");
  project(pca, x, pca.mean, code);
  return Status::ok();
}

Status pca_reconstruct(const Pca& pca, const float* x, double* code, float* x_hat) {
  EMBER_TRY(pca_encode(pca, x, code));
  if (!x_hat) return Status::error(Code::invalid_argument, "pca_reconstruct: null output");
  const size_t D = static_cast<size_t>(pca.dim);
  for (size_t i = 0; i < D; ++i) {  // all codes are known, so x_hat may alias x
    double v = pca.mean[i];
    for (int j = 0; j < pca.components; ++j) v += code[j] * pca.basis[j * D + i];
    x_hat[i] = static_cast<float>(v);
  }
  return Status::ok();
}

Status pca_squared_error(const Pca& pca, const data::Dataset& data, Arena* scratch, double* per_image) {
  EMBER_TRY(check_pca(pca, "pca_squared_error"));
  EMBER_TRY(check_dataset(data, "pca_squared_error"));
  if (data.image_size() != static_cast<size_t>(pca.dim))
    return Status::error(Code::shape_mismatch, "pca_squared_error: images of %zu pixels, PCA fitted on %d",
                         data.image_size(), pca.dim);
  return score(pca, read_dataset_rows, &data, data.count, scratch, per_image);
}

Status pca_squared_error(const Pca& pca, const float* x, int n, Arena* scratch, double* per_image) {
  if (!x) return Status::error(Code::invalid_argument, "pca_squared_error: null rows");
  return score(pca, read_float_rows, x, n, scratch, per_image);
}

double squared_error_per_image(const float* x, const float* x_hat, int n, int dim) {
  if (n <= 0 || dim <= 0) return 0.0;
  const size_t total = static_cast<size_t>(n) * static_cast<size_t>(dim);
  double s = 0.0;
  for (size_t i = 0; i < total; ++i) {
    const double d = static_cast<double>(x[i]) - static_cast<double>(x_hat[i]);
    s += d * d;
  }
  return s / n;
}

}  // namespace ember::metrics
