// Sample-quality metrics for generators (GAN evaluation); pure math in double.
//
// Inception score (Salimans et al. 2016): IS = exp( (1/n) sum_i KL(p(y|x_i) || p(y)) ) with
//   p(y) = (1/n) sum_i p(y|x_i), from class probabilities [n, c] of a classifier. Ranges from
//   1 (every image gets the same prediction) to c (confident and classes balanced).
// Class histogram: counts of argmax predictions and their entropy in nats (log c = balanced).
// Fréchet distance (Heusel et al. 2017, FID on whatever features the caller extracts):
//   FD = |m1 - m2|^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2}),
//   computed with the symmetric eigen-solver of linalg.h: S1^{1/2} by eigen-decomposition,
//   then only the eigenvalues of the symmetric PSD M = S1^{1/2} S2 S1^{1/2} (tr M^{1/2} =
//   sum sqrt(lambda_i), negative rounding noise counted as 0). Feature statistics: use
//   feature_statistics (mean and unbiased covariance, as numpy.cov) on rows [n, d].
// 2-D mode coverage (the 8-Gaussians ring of Metz et al. 2016, unrolled GANs; the scoring
//   of Srivastava et al. 2017, VEEGAN): a sample is high quality when it lies within
//   kModeRadiusStd standard deviations (Euclidean distance) of the nearest mode centre; a mode
//   is covered when at least min_share of all samples are high-quality samples of it
//   (default kModeMinShare = 1%, close to VEEGAN/PacGAN's 20 of 2500). Note that a 2-D
//   Gaussian puts 1 - exp(-9/2) = 98.9% of its mass within 3 std, not the 1-D 99.7%.
// Nearest training image (memorisation check): for each generated image the L2 distance to
//   its nearest training image (pixels byte / 255). Brute force: |g|^2 + |t|^2 - 2 g.t with
//   the dot products from the caller's Context SGEMM (10k x 60k x 784 is 4.7e11 flops) or,
//   without a Context, plain float loops (use a subset: max_train).
//   The winner is picked in float; its distance is then recomputed exactly in double.
#pragma once
#include "core/arena.h"
#include "platform/context.h"
#include "core/status.h"
#include "data/dataset.h"
#include "metrics/linalg.h"

namespace ember::metrics {

// probs [n, classes], rows summing to 1 within kProbabilitySumTolerance.
constexpr double kProbabilitySumTolerance = 1e-3;
Status inception_score(const float* probs, int n, int classes, Arena* scratch, double* score);

// counts[classes] = how many rows have each argmax class (first on ties); entropy (nats) of
// the normalised counts, may be null.
Status class_histogram(const float* probs, int n, int classes, int* counts, double* entropy);
double histogram_entropy(const int* counts, int classes);  // nats; 0 for an empty histogram

// Mean [d] and unbiased covariance [d, d] of feature rows x[n, d] (n >= 2).
inline Status feature_statistics(const float* x, int n, int d, double* mean, double* cov, Arena* scratch) {
  return mean_covariance(x, n, d, true, mean, cov, scratch);
}
// FD between N(mean1, cov1) and N(mean2, cov2) in d dimensions (>= 0; rounding clamped).
Status frechet_distance(const double* mean1, const double* cov1, const double* mean2, const double* cov2, int d,
                        Arena* scratch, double* fd);

constexpr double kModeRadiusStd = 3.0;
constexpr double kModeMinShare = 0.01;
struct ModeCoverage {
  int covered = 0;            // modes with at least min_share of the samples
  double high_quality = 0.0;  // share of samples within kModeRadiusStd * std of some mode
};
// points [n, 2], centres [modes, 2], std_dev: the modes' standard deviation. counts[modes]
// gets the high-quality samples per mode (those nearest to it).
Status mode_coverage(const float* points, int n, const float* centres, int modes, double std_dev, double min_share,
                     int* counts, ModeCoverage* out);

struct NearestOptions {
  Context* ctx = nullptr;  // SGEMM for the dot products; nullptr: scalar loops
  int max_train = 0;       // use the first max_train training images (0: all)
};
// gen [n, train.image_size()] in [0, 1]. distance[i] (double) and nearest[i] (training index).
Status nearest_train(const float* gen, int n, const data::Dataset& train, const NearestOptions& options, Arena* scratch,
                     double* distance, int* nearest);
// Arena bytes nearest_train takes as scratch for n images of image_size pixels (0 on overflow).
size_t nearest_train_scratch_bytes(int n, size_t image_size);

struct DistanceSummary {
  double min = 0.0, median = 0.0, mean = 0.0;
};
// Summary of distance[n]; closest[top] (optional) gets the indices of the `top` smallest
// distances, ascending (pair them with nearest[] for the closest generated/training pairs).
Status summarize_distances(const double* distance, int n, Arena* scratch, DistanceSummary* out, int* closest, int top);

// Within-class spread, the diversity IS cannot see (IS is highest for one sharp image per
// class): spread[c] = the mean L2 distance (pixels in [0, 1]) between pairs of rows of class
// c: with the class's s rows in order m_0..m_{s-1} and h = floor(s / 2), the pairs
// (m_t, m_{t+h}) for t < min(h, max_pairs) — deterministic, each row in at most one pair.
// 0 for a class with fewer than 2 rows. x[n, dim] floats, cls[n] in 0..classes-1.
Status class_spread(const float* x, const int32_t* cls, int n, int dim, int classes, int max_pairs, Arena* scratch,
                    double* spread);
// The same over the first n images of a labelled Dataset (bytes / 255, its own labels).
Status class_spread(const data::Dataset& data, int n, int max_pairs, Arena* scratch, double* spread);

}  // namespace ember::metrics
