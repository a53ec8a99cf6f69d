// PCA baseline and the "squared error per image" score autoencoders are compared with.
//
// Fit: the mean and the population covariance (divided by n) of the training images,
// accumulated in double by mean_covariance (linalg.h: two passes, blocked X^T X on the upper
// triangle), then the full symmetric eigen-decomposition;
// the top k eigenvectors are the components.
//
// Score (Hinton & Salakhutdinov 2006, "squared error per image"): the mean over images of
// sum_pixels (x - x_hat)^2 with x = byte / 255 and x_hat = mean + B^T B (x - mean), B the k
// orthonormal component rows; all in double (MNIST's figure: docs/lab-notes.md). On the
// training set the score equals the sum of the dropped eigenvalues (what the tests check).
//
// Memory: pca_fit puts the model (mean, components, all eigenvalues) at the arena head and
// uses the space after it as scratch (released); nothing is allocated on failure.
#pragma once
#include "core/arena.h"
#include "core/status.h"
#include "data/dataset.h"

namespace ember::metrics {

struct Pca {
  int dim = 0;                    // values per image
  int components = 0;             // k, 0..dim
  const double* mean = nullptr;   // [dim]
  const double* basis = nullptr;  // [components, dim]: orthonormal rows, by descending variance
  const double* variances = nullptr;  // [dim]: all covariance eigenvalues, descending
};

// Fits k components on a Dataset (pixels byte / 255) or on float rows x[n, dim].
Status pca_fit(const data::Dataset& train, int k, Arena* arena, Pca* out);
Status pca_fit(const float* x, int n, int dim, int k, Arena* arena, Pca* out);

// code[k] = B (x - mean) and x_hat[dim] = mean + B^T code, for one image (pca_reconstruct
// fills code too; x_hat may alias x).
Status pca_encode(const Pca& pca, const float* x, double* code);
Status pca_reconstruct(const Pca& pca, const float* x, double* code, float* x_hat);

// Squared error per image of the PCA reconstruction on a Dataset or on float rows x[n, dim].
Status pca_squared_error(const Pca& pca, const data::Dataset& data, Arena* scratch, double* per_image);
Status pca_squared_error(const Pca& pca, const float* x, int n, Arena* scratch, double* per_image);

// The same score for any model's reconstructions: (1/n) sum_i sum_j (x_ij - x_hat_ij)^2,
// accumulated in double (0 when n <= 0 or dim <= 0).
double squared_error_per_image(const float* x, const float* x_hat, int n, int dim);

}  // namespace ember::metrics
