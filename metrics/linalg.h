// Dense symmetric linear algebra in double for evaluation: eigen-decomposition, matrix
// functions (square root for the Fréchet distance) and the mean/covariance of many rows.
//
// Eigen-solver (Golub & Van Loan, "Matrix Computations", 4th ed., 8.3):
//  1. Householder tridiagonalisation (GVL 8.3.1): for k = 0..n-3 a reflector
//     H_k = I - beta v v^T zeroes column k below the subdiagonal; applied from both sides as a
//     symmetric rank-2 update of the trailing block (p = beta A v, w = p - (beta/2)(p.v) v,
//     A -= v w^T + w v^T). T = Q^T A Q with Q = H_0 ... H_{n-3}, accumulated backwards (each
//     H_k touches only the trailing block) into Q^T.
//  2. Implicit symmetric QR with the Wilkinson shift (GVL Alg. 8.3.2): on the bottom-most
//     unreduced block of T, a Givens rotation started from (d_l - mu, e_l) introduces a bulge
//     that further rotations chase to the bottom; each rotation is also applied to two rows of
//     the eigenvector matrix. An off-diagonal e_i is taken as zero once
//     |e_i| <= eps (|d_i| + |d_i+1|) (deflation). Convergence is cubic in practice; we cap the
//     total at kMaxSweepsPerEigenvalue * n steps and report an error past it.
//  The matrix is first scaled by its largest |entry| so nothing overflows or underflows,
//  and the eigenvalues are scaled back. Cost about 9 n^3 flops with vectors, 4/3 n^3
//  without.
//
// Layout: matrices are row-major n x n doubles. Eigenvectors come back as ROWS:
// vectors[j * n + i] is component i of the eigenvector of values[j]; values descending;
// each vector has unit length and its largest-|.| component positive (determinism).
// Only the symmetric part (A + A^T) / 2 of the input is used.
//
// Memory: scratch from the Arena (released before returning); outputs in caller buffers,
// written only on success.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "core/status.h"

namespace ember::metrics {

// a * b into *out; false when it does not fit in size_t (hostile sizes on 32-bit targets).
inline bool mul_fits(size_t a, size_t b, size_t* out) {
  if (a != 0 && b > SIZE_MAX / a) return false;
  *out = a * b;
  return true;
}

// Rewinds an arena's head to where it was at construction: scratch for one call.
struct ScratchScope {
  Arena* arena;
  size_t mark;
  explicit ScratchScope(Arena* a) : arena(a), mark(a->mark()) {}
  ~ScratchScope() { arena->rewind(mark); }
  ScratchScope(const ScratchScope&) = delete;
  ScratchScope& operator=(const ScratchScope&) = delete;
};

// Largest n the dense routines accept (n^2 doubles must be addressable with room to spare).
constexpr int kMaxMatrixOrder = 1 << 14;
// QR steps allowed per eigenvalue on average before "no convergence" (LAPACK uses 30).
constexpr int kMaxSweepsPerEigenvalue = 30;

// A = V diag(values) V^T. values: [n], descending. vectors: [n, n] rows as above, or nullptr
// for eigenvalues only (much cheaper). Errors: n out of range, non-finite entry, no
// convergence, arena too small.
Status symmetric_eigen(const double* a, int n, double* values, double* vectors, Arena* scratch);
// Arena bytes symmetric_eigen needs (0 when n is out of range).
size_t symmetric_eigen_scratch_bytes(int n, bool vectors);

// out = V diag(f(values)) V^T (out may alias a). f must be finite on the spectrum.
using ScalarFn = double (*)(double);
Status symmetric_function(const double* a, int n, ScalarFn f, double* out, Arena* scratch);
// The PSD square root: eigenvalues below zero (rounding of a PSD matrix) count as zero.
Status symmetric_sqrt(const double* a, int n, double* out, Arena* scratch);

// c[m, n] = a[m, k] * b[k, n] in double, row-major (c must not alias a or b).
void matmul(const double* a, const double* b, int m, int k, int n, double* c);

// Fills rows [first, first + count) of some data set as doubles into dst[count, dim].
using RowReader = void (*)(const void* ctx, int first, int count, int dim, double* dst);

// RowReader over float rows: ctx is the const float* of all rows [*, dim].
void read_float_rows(const void* ctx, int first, int count, int dim, double* dst);

// Mean [dim] and covariance [dim, dim] of n rows, divided by n (population) or by n - 1
// (unbiased; needs n >= 2). Two passes: the mean first, then the centred products summed
// in double. The product pass reads chunks of kCovarianceChunk rows, packs them into panels
// of 4 columns and accumulates 4 x 4 tiles of X^T X on the upper triangle only (mirrored at
// the end).
constexpr int kCovarianceChunk = 256;
Status mean_covariance(RowReader read, const void* ctx, int n, int dim, bool unbiased, double* mean, double* cov,
                       Arena* scratch);
// The same for float rows x[n, dim].
Status mean_covariance(const float* x, int n, int dim, bool unbiased, double* mean, double* cov, Arena* scratch);

}  // namespace ember::metrics
