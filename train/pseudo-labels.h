// Pseudo-labels for an InfoGAN with info_real: the training images clustered without their
// labels (PCA to kPseudoLabelDims components, then k-means with k clusters), so that Q can tie
// each code value to one cluster. The digit labels, when the data has them, only measure the
// clusters' purity; they never reach training.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "core/status.h"
#include "data/dataset.h"

namespace ember::train {

constexpr int kPseudoLabelDims = 50;        // PCA components the clustering sees
constexpr int kPseudoLabelIterations = 50;  // Lloyd iterations at most
constexpr int kMaxPseudoLabels = 255;       // labels are bytes

struct PseudoLabels {
  int iterations = 0;
  bool converged = false;
  double purity = -1.0;  // against the data's own labels when it has them (-1: none)
};

// Arena bytes cluster_images takes for n images of `dim` pixels into k clusters: the labels it
// keeps (n bytes) plus its scratch (PCA's dim x dim covariance and eigenvectors in double, the
// projected rows, k-means' state), which it gives back before returning.
size_t pseudo_label_bytes(int n, int dim, int k);
// Replaces data->labels with k cluster ids (data->classes = k), kept in the arena.
Status cluster_images(data::Dataset* data, int k, uint64_t seed, Arena* arena, PseudoLabels* out);

}  // namespace ember::train
