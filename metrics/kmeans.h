// k-means clustering (Lloyd's algorithm with k-means++ seeding), for pseudo-labels without
// labels: an InfoGAN's code can be tied to clusters of the training images
// (models/gan-network.h, info_real).
//
// Seeding (Arthur & Vassilvitskii 2007): the first centre is a uniformly drawn row; each next
// one a row drawn with probability proportional to its squared distance to the nearest centre
// so far (spread-out centres, O(log k)-competitive in expectation). Then Lloyd's iterations:
// assign every row to its nearest centre (ties to the lower index), move each centre to the
// mean of its rows; stop when no assignment changes or after `iterations`. A centre left with
// no rows moves to the row farthest from its own centre (the worst-served row), so k clusters
// come out. Sums are in double, rows in order: the same input and seed give the same bits.
//
// Cost: O(n k dim) per iteration (MNIST reduced to 50 PCA components, k = 50: 150 M
// multiply-adds). Memory: scratch from the arena (n doubles, k * (dim + 1) doubles), released
// on return; nothing is allocated.
#pragma once
#include <cstdint>

#include "core/arena.h"
#include "core/status.h"

namespace ember::metrics {

struct KMeansResult {
  int iterations = 0;      // Lloyd iterations run
  bool converged = false;  // the last iteration changed no assignment
  double inertia = 0.0;    // sum of squared distances of the rows to their centres
};

// x[n, dim] -> centres[k, dim], assign[n] in 0..k-1. Needs 1 <= k <= n.
Status kmeans(const float* x, int n, int dim, int k, int iterations, uint64_t seed, Arena* scratch, float* centres,
              int32_t* assign, KMeansResult* out);

// Purity of a clustering against reference labels: the share of rows whose label is the most
// common label of their cluster (1: every cluster one label). labels in 0..classes-1.
double cluster_purity(const int32_t* assign, const int32_t* labels, int n, int k, int classes, Arena* scratch);

}  // namespace ember::metrics
