// Pseudo-labels for `ember train --info K --info-real`: the training images clustered without
// their labels (PCA to kPseudoLabelDims components, then k-means with K clusters), so that
// an InfoGAN's Q can tie each code value to one cluster.
#pragma once
#include <cstdint>

#include "core/arena.h"
#include "core/status.h"
#include "data/dataset.h"

namespace ember::tool {

constexpr int kPseudoLabelDims = 50;         // PCA components the clustering sees
constexpr int kPseudoLabelIterations = 50;   // Lloyd iterations at most
constexpr int kMaxPseudoLabels = 255;        // labels are bytes

struct PseudoLabels {
  int iterations = 0;
  bool converged = false;
  double purity = -1.0;  // against the data's own labels when it has them (never used to train)
};

// Replaces data->labels with k cluster ids (data->classes = k), held in `keep` (count bytes
// from its head); the PCA and k-means scratch comes from the heap, once, before training.
Status cluster_images(models::Dataset* data, int k, uint64_t seed, Arena* keep, PseudoLabels* out);

}  // namespace ember::tool
