#include "examples/ember/pseudo-labels.h"

#include <vector>

#include "metrics/kmeans.h"
#include "metrics/pca.h"

namespace ember::tool {

namespace {
constexpr size_t kScratchSlack = 1u << 20;  // alignment and bookkeeping of the scratch arena
}  // namespace

Status cluster_images(models::Dataset* data, int k, uint64_t seed, Arena* keep, PseudoLabels* out) {
  const int n = data->count, dim = static_cast<int>(data->image_size());
  const int comps = dim < kPseudoLabelDims ? dim : kPseudoLabelDims;
  if (k < 2 || k > kMaxPseudoLabels || k > n)
    return Status::error(Code::invalid_argument, "clusters: %d clusters of %d images (2..%d, at most one per image)", k,
                         n, kMaxPseudoLabels);
  // PCA's model and scratch (a dim x dim covariance and its eigenvectors, in double), the
  // projected rows, the centres, k-means' own scratch.
  const size_t d2 = static_cast<size_t>(dim) * static_cast<size_t>(dim);
  const size_t rows = static_cast<size_t>(n);
  const size_t bytes = 4 * d2 * sizeof(double) + rows * (comps * sizeof(float) + sizeof(double) + sizeof(int32_t)) +
                       static_cast<size_t>(k) * comps * (sizeof(float) + sizeof(double)) + dim * sizeof(float) +
                       kScratchSlack;
  std::vector<uint8_t> buf(bytes);
  Arena scratch(buf.data(), buf.size());
  models::Pca pca;
  EMBER_TRY(models::pca_fit(*data, comps, &scratch, &pca));
  float *x = nullptr, *image = nullptr, *centres = nullptr;
  int32_t* assign = nullptr;
  std::vector<double> code(static_cast<size_t>(comps));
  EMBER_TRY(scratch.alloc_array(rows * comps, &x));
  EMBER_TRY(scratch.alloc_array(static_cast<size_t>(dim), &image));
  EMBER_TRY(scratch.alloc_array(static_cast<size_t>(k) * comps, &centres));
  EMBER_TRY(scratch.alloc_array(rows, &assign));
  for (int i = 0; i < n; ++i) {
    const uint8_t* px = data->image(i);
    for (int j = 0; j < dim; ++j) image[j] = px[j] / 255.0f;
    EMBER_TRY(models::pca_encode(pca, image, code.data()));
    for (int j = 0; j < comps; ++j) x[static_cast<size_t>(i) * comps + j] = static_cast<float>(code[j]);
  }
  models::KMeansResult r;
  EMBER_TRY(models::kmeans(x, n, comps, k, kPseudoLabelIterations, seed, &scratch, centres, assign, &r));
  uint8_t* labels = nullptr;
  EMBER_TRY(keep->alloc_array(rows, &labels));
  for (int i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(assign[i]);
  PseudoLabels p;
  p.iterations = r.iterations, p.converged = r.converged;
  if (data->labels) {
    std::vector<int32_t> truth(data->labels, data->labels + n);
    p.purity = models::cluster_purity(assign, truth.data(), n, k, data->classes, &scratch);
  }
  data->labels = labels, data->classes = k;
  *out = p;
  return Status::ok();
}

}  // namespace ember::tool
