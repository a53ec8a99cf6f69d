// Classifier-based scores of generated images; see gan-eval.h.
#include "metrics/gan-eval.h"

#include <cmath>

#include "metrics/linalg.h"

namespace ember::metrics {

namespace {

constexpr int kPanelPad = 4;  // mean_covariance pads the dimension to panels of 4 columns

// Sums arena requests (each rounded to the alignment) with checked arithmetic.
class ByteCount {
 public:
  ByteCount& add(size_t count, size_t size) {
    size_t bytes = 0;
    if (!mul_fits(count, size, &bytes)) return (overflow_ = true, *this);
    const size_t r = Arena::rounded(bytes);
    if ((r == 0 && bytes != 0) || total_ > SIZE_MAX - r) overflow_ = true;
    else total_ += r;
    return *this;
  }
  ByteCount& add_bytes(size_t bytes) { return add(bytes, 1); }
  bool ok() const { return !overflow_; }
  size_t total() const { return total_; }

 private:
  size_t total_ = 0;
  bool overflow_ = false;
};

// Scratch of mean_covariance plus frechet_distance for d features (an upper bound).
void add_linear_algebra(ByteCount* b, size_t d) {
  const size_t dp = d + kPanelPad;
  b->add(size_t(kCovarianceChunk) * d, sizeof(double)).add(size_t(kCovarianceChunk) * dp, sizeof(double));
  b->add(dp * dp, sizeof(double)).add(d, sizeof(double));
  // frechet_distance: three d x d matrices and the eigenvalues, then symmetric_sqrt's values,
  // vectors and solver, and the solver again for the eigenvalues of M.
  b->add(3 * d * d, sizeof(double)).add(d, sizeof(double)).add(d, sizeof(double)).add(d * d, sizeof(double));
  const size_t with_vectors = symmetric_eigen_scratch_bytes(static_cast<int>(d), true);
  const size_t values_only = symmetric_eigen_scratch_bytes(static_cast<int>(d), false);
  if (with_vectors == 0 || values_only == 0) b->add(SIZE_MAX, 2);  // marks the overflow
  b->add_bytes(with_vectors).add_bytes(values_only);
}

// Feature statistics: the mean and covariance kept by the caller.
void add_statistics(ByteCount* b, size_t d) { b->add(d, sizeof(double)).add(d * d, sizeof(double)); }

bool finite_rows(const float* x, size_t count, size_t* bad) {
  for (size_t i = 0; i < count; ++i)
    if (!std::isfinite(x[i])) return (*bad = i, false);
  return true;
}

}  // namespace

Status GanEvaluator::bytes_needed(const models::ClassifierConfig& c, int test_count, int max_images, const GanEvalOptions& o,
                                  size_t* bytes) {
  EMBER_TRY(c.validate());
  if (test_count < 2 || max_images < 2 || o.test_n < 0 || o.floor_n < 0)
    return Status::error(Code::invalid_argument, "gan_eval: %d test images, %d generated, test_n %d, floor_n %d",
                         test_count, max_images, o.test_n, o.floor_n);
  const size_t d = static_cast<size_t>(c.feature_dim()), n = static_cast<size_t>(max_images);
  const size_t test_n = static_cast<size_t>(o.test_n > 0 && o.test_n < test_count ? o.test_n : test_count);
  const size_t rows = test_n > size_t(o.floor_n) ? test_n : size_t(o.floor_n);
  ByteCount b;
  add_statistics(&b, d);  // the test statistics, kept
  b.add(size_t(c.classes), sizeof(double));  // the test set's class spread, kept
  // init: the floor's statistics and the feature rows of the larger set.
  ByteCount init_peak;
  add_statistics(&init_peak, d);
  init_peak.add(rows * d, sizeof(float));
  add_linear_algebra(&init_peak, d);
  // evaluate: probabilities, features, their statistics, nearest-image search and summary.
  ByteCount eval_peak;
  eval_peak.add(n * size_t(c.classes), sizeof(float)).add(n * d, sizeof(float));
  add_statistics(&eval_peak, d);
  add_linear_algebra(&eval_peak, d);
  const size_t nearest = nearest_train_scratch_bytes(max_images, static_cast<size_t>(c.pixels()));
  if (nearest == 0) eval_peak.add(SIZE_MAX, 2);
  eval_peak.add_bytes(nearest).add(n, sizeof(double)).add(n, sizeof(int)).add(n, sizeof(int));
  // class spread (after the search): predicted classes, its member list, two rows; the
  // test set's at init takes the same for test_n rows.
  eval_peak.add(n, sizeof(int32_t)).add(n, sizeof(int)).add(2 * size_t(c.pixels()), sizeof(float));
  init_peak.add(test_n, sizeof(int32_t)).add(test_n, sizeof(int)).add(2 * size_t(c.pixels()), sizeof(float));
  if (!b.ok() || !init_peak.ok() || !eval_peak.ok())
    return Status::error(Code::invalid_argument, "gan_eval: memory for %d images of %d features overflows",
                         max_images, c.feature_dim());
  const size_t peak = init_peak.total() > eval_peak.total() ? init_peak.total() : eval_peak.total();
  if (b.total() > SIZE_MAX - peak) return Status::error(Code::invalid_argument, "gan_eval: memory overflows");
  *bytes = b.total() + peak;
  return Status::ok();
}

Status GanEvaluator::statistics(const data::Dataset& data, int n, double* mean, double* cov) {
  const int d = clf_->feature_dim();
  ScratchScope scope(arena_);
  float* features = nullptr;
  EMBER_TRY(arena_->alloc_array(static_cast<size_t>(n) * static_cast<size_t>(d), &features));
  EMBER_TRY(clf_->predict(data, 0, n, nullptr, features));
  return feature_statistics(features, n, d, mean, cov, arena_);
}

Status GanEvaluator::init(Arena* arena, models::ClassifierModel* clf, const data::Dataset& train, const data::Dataset& test,
                          const GanEvalOptions& options) {
  if (clf_) return Status::error(Code::invalid_argument, "gan_eval: already initialised");
  if (!arena || !clf) return Status::error(Code::invalid_argument, "gan_eval: null arena or classifier");
  if (options.test_n < 0 || options.floor_n < 0 || options.nearest_max_train < 0 || options.pairs < 0 ||
      options.pairs > kMaxGanPairs)
    return Status::error(Code::invalid_argument, "gan_eval: bad options (test_n %d, floor_n %d, max_train %d, pairs %d)",
                         options.test_n, options.floor_n, options.nearest_max_train, options.pairs);
  const int test_n = options.test_n > 0 && options.test_n < test.count ? options.test_n : test.count;
  if (test_n < 2) return Status::error(Code::invalid_argument, "gan_eval: %d test images (need 2)", test_n);
  const int floor_n = options.floor_n < train.count ? options.floor_n : train.count;
  if (options.nearest && train.count < 1)
    return Status::error(Code::invalid_argument, "gan_eval: no training images for the nearest-image search");
  const size_t d = static_cast<size_t>(clf->feature_dim());
  const size_t mark = arena->mark();
  arena_ = arena, clf_ = clf;  // statistics() needs them; undone below on failure
  Status s = arena->alloc_array(d, &test_mean_);
  if (s.is_ok()) s = arena->alloc_array(d * d, &test_cov_);
  if (s.is_ok()) s = statistics(test, test_n, test_mean_, test_cov_);
  const bool spread = s.is_ok() && test.labels && test.classes == clf->classes() && options.spread_pairs > 0;
  if (spread) s = arena->alloc_array(static_cast<size_t>(clf->classes()), &test_spread_);
  if (spread && s.is_ok()) s = class_spread(test, test_n, options.spread_pairs, arena, test_spread_);
  double floor = 0.0;
  if (s.is_ok() && floor_n >= 2) {
    ScratchScope scope(arena);
    double *mean = nullptr, *cov = nullptr;
    s = arena->alloc_array(d, &mean);
    if (s.is_ok()) s = arena->alloc_array(d * d, &cov);
    if (s.is_ok()) s = statistics(train, floor_n, mean, cov);
    if (s.is_ok()) s = frechet_distance(mean, cov, test_mean_, test_cov_, static_cast<int>(d), arena, &floor);
  }
  if (!s.is_ok()) {
    arena->rewind(mark);
    arena_ = nullptr, clf_ = nullptr, test_mean_ = test_cov_ = nullptr, test_spread_ = nullptr;
    return s;
  }
  train_ = train, options_ = options;
  has_floor_ = floor_n >= 2, fd_floor_ = floor;
  return Status::ok();
}

// class_spread: the generated images grouped by the classifier's argmax, each class's spread
// over the test set's (classes the test set or the samples leave empty are skipped).
Status GanEvaluator::spread_against_test(const float* images, const float* probs, int n, GanEvalResult* r) {
  const int classes = clf_->classes();
  ScratchScope scope(arena_);
  int32_t* cls = nullptr;
  EMBER_TRY(arena_->alloc_array(static_cast<size_t>(n), &cls));
  for (int i = 0; i < n; ++i) {
    const float* p = probs + static_cast<size_t>(i) * classes;
    int best = 0;
    for (int c = 1; c < classes; ++c) best = p[c] > p[best] ? c : best;
    cls[i] = best;
  }
  EMBER_TRY(class_spread(images, cls, n, clf_->config().pixels(), classes, options_.spread_pairs, arena_,
                         r->spread_gen));
  double sum = 0.0;
  int used = 0;
  for (int c = 0; c < classes; ++c) {
    r->spread_real[c] = test_spread_[c];
    if (test_spread_[c] > 0.0 && r->spread_gen[c] > 0.0) sum += r->spread_gen[c] / test_spread_[c], ++used;
  }
  r->has_spread = used > 0;
  r->class_spread = used > 0 ? sum / used : 0.0;
  return Status::ok();
}

Status GanEvaluator::evaluate(const float* images, int n, const int32_t* asked, GanEvalResult* out) {
  if (!clf_) return Status::error(Code::invalid_argument, "gan_eval: init() first");
  if (!images || !out) return Status::error(Code::invalid_argument, "gan_eval: null images or result");
  if (n < 2) return Status::error(Code::invalid_argument, "gan_eval: %d generated images (need 2)", n);
  const int classes = clf_->classes(), d = clf_->feature_dim();
  const size_t pixels = static_cast<size_t>(clf_->config().pixels()), N = static_cast<size_t>(n);
  size_t values = 0, bad = 0;
  if (!mul_fits(N, pixels, &values))
    return Status::error(Code::invalid_argument, "gan_eval: %d images of %zu pixels overflow", n, pixels);
  if (!finite_rows(images, values, &bad))
    return Status::error(Code::invalid_argument, "gan_eval: image %zu pixel %zu is not finite", bad / pixels,
                         bad % pixels);
  if (asked)
    for (int i = 0; i < n; ++i)
      if (asked[i] < 0 || asked[i] >= classes)
        return Status::error(Code::invalid_argument, "gan_eval: asked label %d of image %d outside 0..%d",
                             static_cast<int>(asked[i]), i, classes - 1);
  ScratchScope scope(arena_);
  GanEvalResult r;
  r.n = n, r.classes = classes;
  float *probs = nullptr, *features = nullptr;
  double *mean = nullptr, *cov = nullptr;
  EMBER_TRY(arena_->alloc_array(N * static_cast<size_t>(classes), &probs));
  EMBER_TRY(arena_->alloc_array(N * static_cast<size_t>(d), &features));
  EMBER_TRY(arena_->alloc_array(static_cast<size_t>(d), &mean));
  EMBER_TRY(arena_->alloc_array(static_cast<size_t>(d) * d, &cov));
  EMBER_TRY(clf_->predict(images, n, probs, features));
  EMBER_TRY(inception_score(probs, n, classes, arena_, &r.is));
  EMBER_TRY(class_histogram(probs, n, classes, r.class_hist, &r.class_entropy));
  EMBER_TRY(feature_statistics(features, n, d, mean, cov, arena_));
  EMBER_TRY(frechet_distance(mean, cov, test_mean_, test_cov_, d, arena_, &r.fd));
  r.has_floor = has_floor_, r.fd_floor = fd_floor_;
  if (asked) {
    int right = 0;
    for (int i = 0; i < n; ++i) {
      const float* p = probs + static_cast<size_t>(i) * classes;
      int best = 0;
      for (int c = 1; c < classes; ++c)
        if (p[c] > p[best]) best = c;
      right += best == asked[i];
    }
    r.has_labels = true, r.label_accuracy = static_cast<double>(right) / n;
  }
  if (test_spread_) EMBER_TRY(spread_against_test(images, probs, n, &r));
  if (options_.nearest) {
    double* distance = nullptr;
    int* nearest = nullptr;
    EMBER_TRY(arena_->alloc_array(N, &distance));
    EMBER_TRY(arena_->alloc_array(N, &nearest));
    NearestOptions no;
    no.ctx = clf_->context();
    no.max_train = options_.nearest_max_train;
    EMBER_TRY(nearest_train(images, n, train_, no, arena_, distance, nearest));
    r.pairs = options_.pairs < n ? options_.pairs : n;
    EMBER_TRY(summarize_distances(distance, n, arena_, &r.nn_dist, r.pair_gen, r.pairs));
    for (int i = 0; i < r.pairs; ++i) r.pair_train[i] = nearest[r.pair_gen[i]], r.pair_dist[i] = distance[r.pair_gen[i]];
    r.has_nearest = true;
  }
  *out = r;
  return Status::ok();
}

}  // namespace ember::metrics
