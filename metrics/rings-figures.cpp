#include "metrics/rings-figures.h"

#include "data/rings.h"

namespace ember::models {

Status rings_figures(const float* points, int n, ModeCoverage* out, int* counts) {
  float centres[2 * kRingsModes];
  for (int k = 0; k < kRingsModes; ++k) {
    const Point2 p = rings_mode_centre(k);
    centres[2 * k] = p.x, centres[2 * k + 1] = p.y;
  }
  int local[kRingsModes];
  return mode_coverage(points, n, centres, kRingsModes, kRingsStd, kModeMinShare, counts ? counts : local, out);
}

}  // namespace ember::models
