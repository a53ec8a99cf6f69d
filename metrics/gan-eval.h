// GanEvaluator: how good are a generator's images, judged by a classifier trained on the
// real data (models/classifier-model.h) — the figures of `ember eval` for GANs.
//
//   is              inception score of the classifier's softmax over the generated images
//                   (1 .. classes; the real test set scores close to its own ceiling)
//   class_hist      how many generated images the classifier puts in each class, and
//   class_entropy   the entropy of that histogram in nats (log classes = balanced; a
//                   collapsed generator scores low)
//   fd              Fréchet distance between Gaussians fitted to the classifier's feature
//                   layer over the generated images and over the test set (FID's recipe
//                   with our own small network instead of Inception-v3: comparable only
//                   between runs scored by the same classifier)
//   fd_floor        the same between floor_n real training images and the test set: what
//                   a perfect generator would score with that many samples (FD estimates
//                   are biased upwards for small sample counts, so compare fd with a floor
//                   computed from as many images as were generated)
//   label_accuracy  conditional generators: the share of images the classifier assigns to
//                   the class they were generated for
//   nn_dist         memorisation check: L2 distance (pixels in [0, 1]) of each generated
//                   image to its nearest training image — min / median / mean, and the
//                   `pairs` closest generated/training pairs (a generator that copies its
//                   training set shows distances near 0)
//   class_spread    diversity within classes, which IS does not see: for each class the
//                   mean distance between pairs of generated images the classifier puts in
//                   it, over the same for the test images of that class (their labels), then
//                   the mean over classes (1: as varied as real digits; a generator that
//                   draws one image per class scores 0). sample-metrics.h: class_spread.
//
// init() runs the classifier over the test set once and keeps its feature mean and
// covariance (and computes fd_floor), so a training loop can score every epoch cheaply.
// evaluate() takes its scratch from the same arena and gives it back before returning.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "platform/context.h"
#include "core/status.h"
#include "models/classifier-model.h"
#include "data/dataset.h"
#include "metrics/sample-metrics.h"

namespace ember::metrics {

constexpr int kMaxGanPairs = 64;
constexpr int kDefaultFloorImages = 10000;
constexpr int kDefaultSpreadPairs = 500;

struct GanEvalOptions {
  int test_n = 0;                     // test images for the reference statistics (0: all)
  int floor_n = kDefaultFloorImages;  // first training images for fd_floor (0: no floor)
  bool nearest = true;                // run the nearest-training-image search
  int nearest_max_train = 0;          // search the first N training images (0: all)
  int pairs = 8;                      // closest pairs reported (0..kMaxGanPairs)
  int spread_pairs = kDefaultSpreadPairs;  // pairs per class for class_spread (0: off)
};

struct GanEvalResult {
  int n = 0, classes = 0;
  double is = 0.0;
  int class_hist[models::ClassifierConfig::kMaxClasses] = {};
  double class_entropy = 0.0;
  double fd = 0.0;
  bool has_floor = false;
  double fd_floor = 0.0;
  bool has_labels = false;            // asked labels were given
  double label_accuracy = 0.0;
  bool has_nearest = false;
  DistanceSummary nn_dist;
  int pairs = 0;                      // valid entries of the three arrays below, closest first
  int pair_gen[kMaxGanPairs] = {};    // index into the generated images
  int pair_train[kMaxGanPairs] = {};  // index into the training set
  double pair_dist[kMaxGanPairs] = {};
  bool has_spread = false;            // the test set is labelled with the classifier's classes
  double class_spread = 0.0;
  double spread_gen[models::ClassifierConfig::kMaxClasses] = {};   // per class: generated images
  double spread_real[models::ClassifierConfig::kMaxClasses] = {};  // per class: test images
};

class GanEvaluator {
 public:
  // Arena bytes init() keeps plus the most scratch init() or evaluate() of up to max_images
  // images takes (an upper bound).
  static Status bytes_needed(const models::ClassifierConfig& c, int test_count, int max_images, const GanEvalOptions& o,
                             size_t* bytes);

  // clf: a ready classifier (its rows x cols must match the data); train and test must
  // outlive the evaluator. The nearest-image search uses the classifier's Context GEMM.
  Status init(Arena* arena, models::ClassifierModel* clf, const data::Dataset& train, const data::Dataset& test,
              const GanEvalOptions& options);
  // images[n, pixels] in [0, 1]; asked[n] (may be null): the class each image was generated
  // for. On error *out is unchanged.
  Status evaluate(const float* images, int n, const int32_t* asked, GanEvalResult* out);

  bool ready() const { return clf_ != nullptr; }
  bool has_floor() const { return has_floor_; }
  double fd_floor() const { return fd_floor_; }

 private:
  // Feature mean [d] and covariance [d, d] of images [0, n) of data, into caller memory.
  Status statistics(const data::Dataset& data, int n, double* mean, double* cov);
  Status spread_against_test(const float* images, const float* probs, int n, GanEvalResult* r);

  Arena* arena_ = nullptr;
  models::ClassifierModel* clf_ = nullptr;
  data::Dataset train_;
  GanEvalOptions options_;
  double* test_mean_ = nullptr;
  double* test_cov_ = nullptr;
  double* test_spread_ = nullptr;  // [classes], or null: no class_spread
  bool has_floor_ = false;
  double fd_floor_ = 0.0;
};

}  // namespace ember::metrics
