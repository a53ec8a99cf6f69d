#include "metrics/kmeans.h"

#include <cstring>

#include "core/rng.h"

namespace ember::metrics {

namespace {

size_t at(int row, int dim) { return static_cast<size_t>(row) * static_cast<size_t>(dim); }

double squared_distance(const float* a, const float* b, int dim) {
  double s = 0.0;
  for (int j = 0; j < dim; ++j) {
    const double d = static_cast<double>(a[j]) - b[j];
    s += d * d;
  }
  return s;
}

// Nearest centre of row x (ties to the lower index) and its squared distance.
int nearest(const float* x, const float* centres, int k, int dim, double* dist) {
  int best = 0;
  double best_d = squared_distance(x, centres, dim);
  for (int c = 1; c < k; ++c) {
    const double d = squared_distance(x, centres + at(c, dim), dim);
    if (d < best_d) best = c, best_d = d;
  }
  *dist = best_d;
  return best;
}

// k-means++: centres drawn with probability proportional to the squared distance to the
// nearest centre so far (min_d[n] is scratch).
void seed_centres(const float* x, int n, int dim, int k, Rng* rng, double* min_d, float* centres) {
  int pick = static_cast<int>(rng->below(static_cast<uint32_t>(n)));
  std::memcpy(centres, x + at(pick, dim), at(1, dim) * sizeof(float));
  for (int i = 0; i < n; ++i) min_d[i] = squared_distance(x + at(i, dim), centres, dim);
  for (int c = 1; c < k; ++c) {
    double total = 0.0;
    for (int i = 0; i < n; ++i) total += min_d[i];
    if (total > 0.0) {
      const double u = static_cast<double>(rng->uniform()) * total;
      double run = 0.0;
      pick = n - 1;
      for (int i = 0; i < n; ++i) {
        run += min_d[i];
        if (run > u) {
          pick = i;
          break;
        }
      }
    } else {
      pick = static_cast<int>(rng->below(static_cast<uint32_t>(n)));  // every row is a centre already
    }
    float* centre = centres + at(c, dim);
    std::memcpy(centre, x + at(pick, dim), at(1, dim) * sizeof(float));
    for (int i = 0; i < n; ++i) {
      const double d = squared_distance(x + at(i, dim), centre, dim);
      if (d < min_d[i]) min_d[i] = d;
    }
  }
}

}  // namespace

Status kmeans(const float* x, int n, int dim, int k, int iterations, uint64_t seed, Arena* scratch, float* centres,
              int32_t* assign, KMeansResult* out) {
  if (!x || !scratch || !centres || !assign || !out)
    return Status::error(Code::invalid_argument, "kmeans: data, scratch arena and outputs are required");
  if (n < 1 || dim < 1 || k < 1 || k > n)
    return Status::error(Code::invalid_argument, "kmeans: need 1 <= k <= n and dim >= 1, got k %d, n %d, dim %d", k, n,
                         dim);
  if (iterations < 1) return Status::error(Code::invalid_argument, "kmeans: iterations %d < 1", iterations);
  const size_t mark = scratch->mark();
  double *dist = nullptr, *sums = nullptr, *counts = nullptr;
  Status s = scratch->alloc_array(static_cast<size_t>(n), &dist);
  if (s.is_ok()) s = scratch->alloc_array(at(k, dim), &sums);
  if (s.is_ok()) s = scratch->alloc_array(static_cast<size_t>(k), &counts);
  if (!s.is_ok()) {
    scratch->rewind(mark);
    return s;
  }
  Rng rng(seed);
  seed_centres(x, n, dim, k, &rng, dist, centres);
  for (int i = 0; i < n; ++i) assign[i] = -1;
  KMeansResult r;
  for (r.iterations = 1; r.iterations <= iterations; ++r.iterations) {
    int changed = 0;
    r.inertia = 0.0;
    for (int i = 0; i < n; ++i) {
      const int c = nearest(x + at(i, dim), centres, k, dim, &dist[i]);
      changed += c != assign[i];
      assign[i] = c;
      r.inertia += dist[i];
    }
    if (changed == 0) {
      r.converged = true;
      break;
    }
    std::memset(sums, 0, at(k, dim) * sizeof(double));
    std::memset(counts, 0, static_cast<size_t>(k) * sizeof(double));
    for (int i = 0; i < n; ++i) {
      const float* row = x + at(i, dim);
      double* sum = sums + at(assign[i], dim);
      for (int j = 0; j < dim; ++j) sum[j] += row[j];
      counts[assign[i]] += 1.0;
    }
    for (int c = 0; c < k; ++c) {
      if (counts[c] == 0.0) {  // empty: take the worst-served row (it leaves its cluster)
        int far = 0;
        for (int i = 1; i < n; ++i) far = dist[i] > dist[far] ? i : far;
        std::memcpy(centres + at(c, dim), x + at(far, dim), at(1, dim) * sizeof(float));
        dist[far] = 0.0;
        continue;
      }
      for (int j = 0; j < dim; ++j) centres[at(c, dim) + j] = static_cast<float>(sums[at(c, dim) + j] / counts[c]);
    }
  }
  if (r.iterations > iterations) r.iterations = iterations;
  scratch->rewind(mark);
  *out = r;
  return Status::ok();
}

double cluster_purity(const int32_t* assign, const int32_t* labels, int n, int k, int classes, Arena* scratch) {
  const size_t mark = scratch->mark();
  int32_t* table = nullptr;  // [k, classes] counts
  if (n < 1 || !scratch->alloc_array(at(k, classes), &table).is_ok()) {
    scratch->rewind(mark);
    return 0.0;
  }
  std::memset(table, 0, at(k, classes) * sizeof(int32_t));
  for (int i = 0; i < n; ++i) ++table[at(assign[i], classes) + static_cast<size_t>(labels[i])];
  long long kept = 0;
  for (int c = 0; c < k; ++c) {
    int32_t most = 0;
    for (int y = 0; y < classes; ++y) most = table[at(c, classes) + y] > most ? table[at(c, classes) + y] : most;
    kept += most;
  }
  scratch->rewind(mark);
  return static_cast<double>(kept) / n;
}

}  // namespace ember::metrics
