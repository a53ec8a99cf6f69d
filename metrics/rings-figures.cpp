#include "metrics/rings-figures.h"

#include "data/rings.h"

namespace ember::metrics {

Status rings_figures(const float* points, int n, ModeCoverage* out, int* counts) {
  float centres[2 * data::kRingsModes];
  for (int k = 0; k < data::kRingsModes; ++k) {
    const data::Point2 p = data::rings_mode_centre(k);
    centres[2 * k] = p.x, centres[2 * k + 1] = p.y;
  }
  int local[data::kRingsModes];
  return mode_coverage(points, n, centres, data::kRingsModes, data::kRingsStd, kModeMinShare, counts ? counts : local, out);
}

}  // namespace ember::metrics
