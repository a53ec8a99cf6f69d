#include "train/pseudo-labels.h"

#include "metrics/kmeans.h"
#include "metrics/pca.h"

namespace ember::train {

namespace {
constexpr size_t kScratchSlack = 1u << 20;  // alignment and the small buffers of PCA and k-means
}  // namespace

size_t pseudo_label_bytes(int n, int dim, int k) {
  const int comps = dim < kPseudoLabelDims ? dim : kPseudoLabelDims;
  const size_t d2 = static_cast<size_t>(dim) * static_cast<size_t>(dim);
  const size_t rows = static_cast<size_t>(n);
  return Arena::rounded(rows) + 4 * d2 * sizeof(double) +
         rows * (comps * sizeof(float) + sizeof(double) + 2 * sizeof(int32_t)) +
         static_cast<size_t>(k) * comps * (sizeof(float) + sizeof(double)) + dim * (sizeof(float) + sizeof(double)) +
         kScratchSlack;
}

Status cluster_images(data::Dataset* data, int k, uint64_t seed, Arena* arena, PseudoLabels* out) {
  const int n = data->count, dim = static_cast<int>(data->image_size());
  const int comps = dim < kPseudoLabelDims ? dim : kPseudoLabelDims;
  if (k < 2 || k > kMaxPseudoLabels || k > n)
    return Status::error(Code::invalid_argument, "clusters: %d clusters of %d images (2..%d, at most one per image)", k,
                         n, kMaxPseudoLabels);
  const size_t rows = static_cast<size_t>(n);
  uint8_t* labels = nullptr;  // kept: taken before the scratch, which is given back at the end
  EMBER_TRY(arena->alloc_array(rows, &labels));
  const size_t mark = arena->mark();
  Status s = [&]() -> Status {
    metrics::Pca pca;
    EMBER_TRY(metrics::pca_fit(*data, comps, arena, &pca));
    float *x = nullptr, *image = nullptr, *centres = nullptr;
    double* code = nullptr;
    int32_t *assign = nullptr, *truth = nullptr;
    EMBER_TRY(arena->alloc_array(rows * comps, &x));
    EMBER_TRY(arena->alloc_array(static_cast<size_t>(dim), &image));
    EMBER_TRY(arena->alloc_array(static_cast<size_t>(comps), &code));
    EMBER_TRY(arena->alloc_array(static_cast<size_t>(k) * comps, &centres));
    EMBER_TRY(arena->alloc_array(rows, &assign));
    for (int i = 0; i < n; ++i) {
      const uint8_t* px = data->image(i);
      for (int j = 0; j < dim; ++j) image[j] = px[j] / 255.0f;
      EMBER_TRY(metrics::pca_encode(pca, image, code));
      for (int j = 0; j < comps; ++j) x[static_cast<size_t>(i) * comps + j] = static_cast<float>(code[j]);
    }
    metrics::KMeansResult r;
    EMBER_TRY(metrics::kmeans(x, n, comps, k, kPseudoLabelIterations, seed, arena, centres, assign, &r));
    for (int i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(assign[i]);
    PseudoLabels p;
    p.iterations = r.iterations, p.converged = r.converged;
    if (data->labels) {
      EMBER_TRY(arena->alloc_array(rows, &truth));
      for (int i = 0; i < n; ++i) truth[i] = data->labels[i];
      p.purity = metrics::cluster_purity(assign, truth, n, k, data->classes, arena);
    }
    *out = p;
    return Status::ok();
  }();
  arena->rewind(mark);
  if (!s.is_ok()) return s;
  data->labels = labels, data->classes = k;
  return Status::ok();
}

}  // namespace ember::train
