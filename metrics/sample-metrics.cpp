// Inception score, Fréchet distance, mode coverage and nearest-neighbour distances; see
// sample-metrics.h.
#include "metrics/sample-metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ember::metrics {
namespace {

constexpr float kPixelScale = 1.0f / 255.0f;
constexpr int kTrainBlock = 2048;  // training images converted to float at a time
constexpr int kGenBlock = 256;     // generated images per GEMM
constexpr int kDotTile = 4;        // training rows per pass of the scalar dot loop

Status check_probs(const float* probs, int n, int classes, const char* what) {
  if (!probs) return Status::error(Code::invalid_argument, "%s: null probabilities", what);
  if (n < 1 || classes < 1)
    return Status::error(Code::invalid_argument, "%s: %d rows of %d classes", what, n, classes);
  size_t total;
  if (!mul_fits(static_cast<size_t>(n), static_cast<size_t>(classes), &total))
    return Status::error(Code::invalid_argument, "%s: %d x %d probabilities overflow", what, n, classes);
  for (int i = 0; i < n; ++i) {
    const float* p = probs + static_cast<size_t>(i) * classes;
    double sum = 0.0;
    for (int c = 0; c < classes; ++c) {
      if (!(p[c] >= 0.0f) || !std::isfinite(p[c]))
        return Status::error(Code::invalid_argument, "%s: probability (%d, %d) is negative or not finite", what, i,
                             c);
      sum += p[c];
    }
    if (std::fabs(sum - 1.0) > kProbabilitySumTolerance)
      return Status::error(Code::invalid_argument, "%s: row %d does not sum to 1", what, i);
  }
  return Status::ok();
}

}  // namespace

Status inception_score(const float* probs, int n, int classes, Arena* scratch, double* score) {
  EMBER_TRY(check_probs(probs, n, classes, "inception_score"));
  if (!scratch || !score) return Status::error(Code::invalid_argument, "inception_score: null argument");
  ScratchScope scope(scratch);
  double* marginal;
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(classes), &marginal));
  for (int c = 0; c < classes; ++c) marginal[c] = 0.0;
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < classes; ++c) marginal[c] += probs[static_cast<size_t>(i) * classes + c];
  for (int c = 0; c < classes; ++c) marginal[c] /= n;
  double kl_sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const float* p = probs + static_cast<size_t>(i) * classes;
    for (int c = 0; c < classes; ++c)
      if (p[c] > 0.0f) kl_sum += p[c] * (std::log(static_cast<double>(p[c])) - std::log(marginal[c]));
  }
  *score = std::exp(kl_sum / n);
  return Status::ok();
}

Status class_histogram(const float* probs, int n, int classes, int* counts, double* entropy) {
  EMBER_TRY(check_probs(probs, n, classes, "class_histogram"));
  if (!counts) return Status::error(Code::invalid_argument, "class_histogram: null counts");
  for (int c = 0; c < classes; ++c) counts[c] = 0;
  for (int i = 0; i < n; ++i) {
    const float* p = probs + static_cast<size_t>(i) * classes;
    int best = 0;
    for (int c = 1; c < classes; ++c)
      if (p[c] > p[best]) best = c;
    ++counts[best];
  }
  if (entropy) *entropy = histogram_entropy(counts, classes);
  return Status::ok();
}

double histogram_entropy(const int* counts, int classes) {
  double total = 0.0;
  for (int c = 0; c < classes; ++c) total += counts[c] > 0 ? counts[c] : 0;
  if (total <= 0.0) return 0.0;
  double h = 0.0;
  for (int c = 0; c < classes; ++c)
    if (counts[c] > 0) {
      const double p = counts[c] / total;
      h -= p * std::log(p);
    }
  return h;
}

Status frechet_distance(const double* mean1, const double* cov1, const double* mean2, const double* cov2, int d,
                        Arena* scratch, double* fd) {
  if (!mean1 || !cov1 || !mean2 || !cov2 || !scratch || !fd)
    return Status::error(Code::invalid_argument, "frechet_distance: null argument");
  if (d < 1 || d > kMaxMatrixOrder)
    return Status::error(Code::invalid_argument, "frechet_distance: dimension %d outside 1..%d", d, kMaxMatrixOrder);
  const size_t D = static_cast<size_t>(d);
  double mean_term = 0.0, trace = 0.0;
  for (size_t i = 0; i < D; ++i) {
    const double diff = mean1[i] - mean2[i];
    mean_term += diff * diff;
    trace += cov1[i * D + i] + cov2[i * D + i];
  }
  if (!std::isfinite(mean_term)) return Status::error(Code::invalid_argument, "frechet_distance: mean not finite");
  ScratchScope scope(scratch);
  double *root1, *product, *m, *values;
  EMBER_TRY(scratch->alloc_array(D * D, &root1));
  EMBER_TRY(scratch->alloc_array(D * D, &product));
  EMBER_TRY(scratch->alloc_array(D * D, &m));
  EMBER_TRY(scratch->alloc_array(D, &values));
  EMBER_TRY(symmetric_sqrt(cov1, d, root1, scratch));
  // symmetric_eigen checks cov1; cov2 reaches the solver only through M, so check it here.
  for (size_t i = 0; i < D * D; ++i)
    if (!std::isfinite(cov2[i]))
      return Status::error(Code::invalid_argument, "frechet_distance: cov2 entry %zu is not finite", i);
  matmul(root1, cov2, d, d, d, product);
  matmul(product, root1, d, d, d, m);
  EMBER_TRY(symmetric_eigen(m, d, values, nullptr, scratch));
  double trace_root = 0.0;
  for (size_t i = 0; i < D; ++i)
    if (values[i] > 0.0) trace_root += std::sqrt(values[i]);
  const double result = mean_term + trace - 2.0 * trace_root;
  *fd = result > 0.0 ? result : 0.0;
  return Status::ok();
}

Status mode_coverage(const float* points, int n, const float* centres, int modes, double std_dev, double min_share,
                     int* counts, ModeCoverage* out) {
  if (!points || !centres || !counts || !out)
    return Status::error(Code::invalid_argument, "mode_coverage: null argument");
  if (n < 1 || modes < 1)
    return Status::error(Code::invalid_argument, "mode_coverage: %d points, %d modes", n, modes);
  if (!(std_dev > 0.0) || !std::isfinite(std_dev) || !(min_share >= 0.0 && min_share <= 1.0))
    return Status::error(Code::invalid_argument, "mode_coverage: std must be > 0 and min_share in [0, 1]");
  const double radius = kModeRadiusStd * std_dev;
  for (int m = 0; m < modes; ++m) counts[m] = 0;
  int high_quality = 0;
  for (int i = 0; i < n; ++i) {
    const double x = points[2 * static_cast<size_t>(i)], y = points[2 * static_cast<size_t>(i) + 1];
    int best = 0;
    double best_d2 = std::numeric_limits<double>::infinity();
    for (int m = 0; m < modes; ++m) {
      const float* c = centres + 2 * static_cast<size_t>(m);
      const double dx = x - c[0], dy = y - c[1];
      const double d2 = dx * dx + dy * dy;
      if (d2 < best_d2) best_d2 = d2, best = m;
    }
    if (!(best_d2 <= radius * radius)) continue;  // also skips NaN points
    ++high_quality;
    ++counts[best];
  }
  // At least one sample, and at least min_share of all of them.
  const double need = std::max(1.0, min_share * n);
  int covered = 0;
  for (int m = 0; m < modes; ++m) covered += counts[m] >= need ? 1 : 0;
  out->covered = covered;
  out->high_quality = static_cast<double>(high_quality) / n;
  return Status::ok();
}

namespace {

// dots[g, t] = gen row g . train row t for gb x tb rows of length dim (no Context).
void dot_block(const float* gen, int gb, const float* train, int tb, int dim, float* dots) {
  const size_t D = static_cast<size_t>(dim);
  for (int g = 0; g < gb; ++g) {
    const float* a = gen + g * D;
    float* out = dots + static_cast<size_t>(g) * tb;
    int t = 0;
    for (; t + kDotTile <= tb; t += kDotTile) {
      const float* b = train + t * D;
      float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
      for (size_t k = 0; k < D; ++k) {
        const float ak = a[k];
        s0 += ak * b[k], s1 += ak * b[D + k], s2 += ak * b[2 * D + k], s3 += ak * b[3 * D + k];
      }
      out[t] = s0, out[t + 1] = s1, out[t + 2] = s2, out[t + 3] = s3;
    }
    for (; t < tb; ++t) {
      const float* b = train + t * D;
      float s = 0.0f;
      for (size_t k = 0; k < D; ++k) s += a[k] * b[k];
      out[t] = s;
    }
  }
}

float squared_norm(const float* x, size_t dim) {
  double s = 0.0;
  for (size_t k = 0; k < dim; ++k) s += static_cast<double>(x[k]) * x[k];
  return static_cast<float>(s);
}

}  // namespace

size_t nearest_train_scratch_bytes(int n, size_t image_size) {
  if (n < 0) return 0;
  const size_t N = static_cast<size_t>(n);
  size_t block = 0, gen_bytes = 0;
  if (!mul_fits(static_cast<size_t>(kTrainBlock), image_size, &block) || !mul_fits(block, sizeof(float), &block) ||
      !mul_fits(N, sizeof(float), &gen_bytes))
    return 0;
  // As nearest_train takes them: gen_norm, best, best_index (n each), the float block of
  // training images, its norms and the dot products.
  const size_t parts[] = {gen_bytes, gen_bytes, gen_bytes, block, kTrainBlock * sizeof(float),
                          size_t(kGenBlock) * kTrainBlock * sizeof(float)};
  static_assert(sizeof(int) == sizeof(float), "best_index is counted as n floats");
  size_t total = 0;
  for (size_t p : parts) {
    const size_t r = Arena::rounded(p);
    if ((r == 0 && p != 0) || total > SIZE_MAX - r) return 0;
    total += r;
  }
  return total;
}

Status nearest_train(const float* gen, int n, const data::Dataset& train, const NearestOptions& options, Arena* scratch,
                     double* distance, int* nearest) {
  if (!gen || !scratch || !distance || !nearest || !train.pixels)
    return Status::error(Code::invalid_argument, "nearest_train: null argument");
  if (n < 1 || train.count < 1 || train.rows < 1 || train.cols < 1 || options.max_train < 0)
    return Status::error(Code::invalid_argument, "nearest_train: %d generated, %d training images, max_train %d", n,
                         train.count, options.max_train);
  const size_t D = train.image_size();
  if (D > static_cast<size_t>(kMaxMatrixOrder))
    return Status::error(Code::invalid_argument, "nearest_train: images of %zu pixels (at most %d)", D,
                         kMaxMatrixOrder);
  size_t gen_values;
  if (!mul_fits(static_cast<size_t>(n), D, &gen_values))
    return Status::error(Code::invalid_argument, "nearest_train: %d images of %zu pixels overflow", n, D);
  const int m = options.max_train > 0 && options.max_train < train.count ? options.max_train : train.count;
  const int dim = static_cast<int>(D);
  ScratchScope scope(scratch);
  float *gen_norm, *best, *block, *block_norm, *dots;
  int* best_index;
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(n), &gen_norm));
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(n), &best));
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(n), &best_index));
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(kTrainBlock) * D, &block));
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(kTrainBlock), &block_norm));
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(kGenBlock) * kTrainBlock, &dots));
  for (int i = 0; i < n; ++i) {
    const float* g = gen + static_cast<size_t>(i) * D;
    for (size_t k = 0; k < D; ++k)
      if (!std::isfinite(g[k]))
        return Status::error(Code::invalid_argument, "nearest_train: generated image %d pixel %zu not finite", i, k);
    gen_norm[i] = squared_norm(g, D);
    best[i] = std::numeric_limits<float>::infinity();
    best_index[i] = 0;
  }
  for (int t0 = 0, tb = 0; t0 < m; t0 += tb) {
    tb = m - t0 < kTrainBlock ? m - t0 : kTrainBlock;
    const uint8_t* src = train.image(t0);
    for (size_t k = 0; k < static_cast<size_t>(tb) * D; ++k) block[k] = src[k] * kPixelScale;
    for (int t = 0; t < tb; ++t) block_norm[t] = squared_norm(block + t * D, D);
    for (int g0 = 0, gb = 0; g0 < n; g0 += gb) {
      gb = n - g0 < kGenBlock ? n - g0 : kGenBlock;
      const float* g = gen + static_cast<size_t>(g0) * D;
      if (options.ctx) {
        GemmArgs args;
        args.trans_b = true;
        args.m = gb, args.n = tb, args.k = dim;
        args.a = g, args.lda = dim;
        args.b = block, args.ldb = dim;
        args.c = dots, args.ldc = tb;
        EMBER_TRY(options.ctx->gemm(args));
      } else {
        dot_block(g, gb, block, tb, dim, dots);
      }
      for (int i = 0; i < gb; ++i) {
        const float* row = dots + static_cast<size_t>(i) * tb;
        float b = best[g0 + i];
        int bi = best_index[g0 + i];
        for (int t = 0; t < tb; ++t) {
          const float d2 = gen_norm[g0 + i] + block_norm[t] - 2.0f * row[t];
          if (d2 < b) b = d2, bi = t0 + t;
        }
        best[g0 + i] = b, best_index[g0 + i] = bi;
      }
    }
  }
  for (int i = 0; i < n; ++i) {  // exact distance of the chosen pair
    const float* g = gen + static_cast<size_t>(i) * D;
    const uint8_t* t = train.image(best_index[i]);
    double s = 0.0;
    for (size_t k = 0; k < D; ++k) {
      const double diff = static_cast<double>(g[k]) - t[k] / 255.0;
      s += diff * diff;
    }
    distance[i] = std::sqrt(s);
    nearest[i] = best_index[i];
  }
  return Status::ok();
}

Status summarize_distances(const double* distance, int n, Arena* scratch, DistanceSummary* out, int* closest,
                           int top) {
  if (!distance || !scratch || !out || (top > 0 && !closest))
    return Status::error(Code::invalid_argument, "summarize_distances: null argument");
  if (n < 1 || top < 0 || top > n)
    return Status::error(Code::invalid_argument, "summarize_distances: %d distances, top %d", n, top);
  ScratchScope scope(scratch);
  int* order;
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(n), &order));
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(distance[i]))
      return Status::error(Code::invalid_argument, "summarize_distances: distance %d is not finite", i);
    order[i] = i;
    sum += distance[i];
  }
  // Ties broken by index so the order is deterministic.
  auto less = [distance](int a, int b) { return distance[a] < distance[b] || (distance[a] == distance[b] && a < b); };
  std::sort(order, order + n, less);
  out->min = distance[order[0]];
  out->median = n % 2 ? distance[order[n / 2]] : 0.5 * (distance[order[n / 2 - 1]] + distance[order[n / 2]]);
  out->mean = sum / n;
  for (int i = 0; i < top; ++i) closest[i] = order[i];
  return Status::ok();
}

namespace {

// class_spread over rows given by row(i, buf) -> const float* (buf: dim floats of scratch).
template <class Row>
Status spread_of(Row row, const int32_t* cls, int n, int dim, int classes, int max_pairs, Arena* scratch,
                 double* spread) {
  if (n < 0 || dim < 1 || classes < 1 || max_pairs < 1)
    return Status::error(Code::invalid_argument, "class_spread: n %d, dim %d, classes %d, pairs %d", n, dim, classes,
                         max_pairs);
  for (int i = 0; i < n; ++i)
    if (cls[i] < 0 || cls[i] >= classes)
      return Status::error(Code::invalid_argument, "class_spread: class %d of row %d outside 0..%d",
                           static_cast<int>(cls[i]), i, classes - 1);
  const size_t mark = scratch->mark();
  int* members = nullptr;
  float *a = nullptr, *b = nullptr;
  Status s = scratch->alloc_array(static_cast<size_t>(n > 0 ? n : 1), &members);
  if (s.is_ok()) s = scratch->alloc_array(static_cast<size_t>(dim), &a);
  if (s.is_ok()) s = scratch->alloc_array(static_cast<size_t>(dim), &b);
  for (int c = 0; c < classes && s.is_ok(); ++c) {
    int count = 0;
    for (int i = 0; i < n; ++i)
      if (cls[i] == c) members[count++] = i;
    const int half = count / 2, pairs = half < max_pairs ? half : max_pairs;
    double sum = 0.0;
    for (int t = 0; t < pairs; ++t) {
      const float* p = row(members[t], a);
      const float* q = row(members[t + half], b);
      double d2 = 0.0;
      for (int j = 0; j < dim; ++j) d2 += (static_cast<double>(p[j]) - q[j]) * (static_cast<double>(p[j]) - q[j]);
      sum += std::sqrt(d2);
    }
    spread[c] = pairs > 0 ? sum / pairs : 0.0;
  }
  scratch->rewind(mark);
  return s;
}

}  // namespace

Status class_spread(const float* x, const int32_t* cls, int n, int dim, int classes, int max_pairs, Arena* scratch,
                    double* spread) {
  const size_t width = static_cast<size_t>(dim > 0 ? dim : 0);
  auto row = [x, width](int i, float*) { return x + static_cast<size_t>(i) * width; };
  return spread_of(row, cls, n, dim, classes, max_pairs, scratch, spread);
}

Status class_spread(const data::Dataset& data, int n, int max_pairs, Arena* scratch, double* spread) {
  if (!data.labels) return Status::error(Code::invalid_argument, "class_spread: the images have no labels");
  if (n < 0 || n > data.count)
    return Status::error(Code::invalid_argument, "class_spread: %d images of %d", n, data.count);
  const int dim = static_cast<int>(data.image_size());
  const size_t mark = scratch->mark();
  int32_t* cls = nullptr;
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(n > 0 ? n : 1), &cls));
  for (int i = 0; i < n; ++i) cls[i] = data.labels[i];
  auto row = [&data, dim](int i, float* buf) {
    const uint8_t* px = data.image(i);
    for (int j = 0; j < dim; ++j) buf[j] = px[j] / 255.0f;
    return static_cast<const float*>(buf);
  };
  const Status s = spread_of(row, cls, n, dim, data.classes, max_pairs, scratch, spread);
  scratch->rewind(mark);
  return s;
}

}  // namespace ember::metrics
