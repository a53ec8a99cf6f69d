// The figures of a GAN on the rings (data/rings.h): how many of the 8 modes n generated
// points cover, and the share within kRingsQualityStds standard deviations of a mode.
#pragma once
#include "core/status.h"
#include "metrics/sample-metrics.h"

namespace ember::metrics {

// counts[kRingsModes] (may be null) gets the high-quality points per mode.
Status rings_figures(const float* points, int n, ModeCoverage* out, int* counts = nullptr);

}  // namespace ember::metrics
