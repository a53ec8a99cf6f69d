// SVG charts: loss curves (line charts) and 2-D latent maps (scatter plots).
//
// Both writers stream straight into an AtomicWriter (io/file.h) through a small fixed
// buffer: the caller's arrays are read as they are, nothing is allocated, and the target
// file is either fully replaced or left as it was. Every argument is checked before the
// file is opened.
//
// This is a host-side feature: svg.cpp formats tick labels with std::snprintf("%g"), which
// pulls libc's float printf into a binary. Nothing else in the library prints floats, so a
// microcontroller build that never calls these functions does not link it in.
//
// Look: white background, a title above, the plot area framed in dark grey with a light
// grid at the tick positions, tick labels, axis labels, and a legend right of the plot.
// Sans-serif text, sizes in px. Colours come from a 10-colour qualitative palette
// (Tableau 10), so up to 10 series or classes are always told apart.
//
// Axes. Ticks are "nice": a step of 1, 2 or 5 times a power of ten, about 6 intervals.
// A line chart's axes run from the tick at or below the smallest value to the tick at or
// above the largest. With log_y the y axis is log10: values <= 0 cannot be drawn and are
// skipped like non-finite ones; ticks sit on powers of ten (every 1, 2, 5... decades) when
// the data spans a decade or more, else on nice linear values inside the range. A scatter
// plot's axes are the data range plus 5% on each side, with the nice ticks inside it;
// equal_aspect widens one axis so a unit is as long in x as in y (a circle stays round).
//
// Lines. Each series is one <path>; a non-finite point (or y <= 0 on a log axis) breaks
// the line, and a point with no neighbour on either side is drawn as a dot. Scatter
// points are semi-transparent <circle>s in data order; points with a non-finite
// coordinate are skipped. The legend uses <line> and <rect> swatches, so the count of
// <path> and <circle> elements is exactly the series and the drawn points.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace ember {

constexpr int kSvgPaletteSize = 10;
// Palette colour i (mod kSvgPaletteSize) as "#rrggbb".
const char* svg_palette(int i);

// Ticks at (k0 + i) * step for i = 0..count-1, step = {1, 2, 5} * 10^n. Integer multiples
// of the step, so 0.1 + 0.2 noise never reaches a label.
struct Ticks {
  double k0 = 0.0;    // index of the first tick (an integer)
  double step = 1.0;
  int count = 0;
  double value(int i) const { return (k0 + i) * step; }
  double first() const { return value(0); }
  double last() const { return value(count - 1); }
};
constexpr int kMaxTickTarget = 16;

// Nice ticks covering [lo, hi] (first() <= lo, last() >= hi) with about `target` intervals
// (clamped to 1..kMaxTickTarget): the step is the 1-2-5 value nearest (span / target) on a
// log scale, so there are at most 1.5 * target + 2 intervals. Robust to any input:
// lo > hi are swapped; non-finite bounds give [0, 1]; magnitudes are clamped to 1e300;
// a zero-width range (or one narrower than 1e-12 of its magnitude, which doubles cannot
// label) is widened around its centre (by 10% of its magnitude, or to [-1, 1] at 0).
Ticks nice_ticks(double lo, double hi, int target);

// A compact label for tick value v on a grid of `step`: enough significant digits to
// tell neighbouring ticks apart, no trailing zeros, "1e-5" rather than "1e-05", and "0"
// for values within a millionth of a step of zero. Returns the length (buf always ends in
// NUL; cap >= 32 is always enough).
size_t format_tick(double v, double step, char* buf, size_t cap);

constexpr int kMinSvgSide = 240, kMaxSvgSide = 8192;

// ---- line chart (loss curves) ----

struct Series {
  const char* name = nullptr;  // legend text (nullptr: "series <i>")
  const float* x = nullptr;    // nullptr: x is the point's index 0, 1, 2, ...
  const float* y = nullptr;
  int count = 0;
};

struct LineChart {
  const char* title = nullptr;    // any of the three texts may be nullptr
  const char* x_label = nullptr;
  const char* y_label = nullptr;
  const Series* series = nullptr;
  int series_count = 0;           // 1..kSvgPaletteSize
  bool log_y = false;
  int width = 720, height = 440;  // px, kMinSvgSide..kMaxSvgSide
};

Status write_line_chart(const char* path, const LineChart& chart);

// ---- scatter plot (2-D latent maps) ----

struct ScatterPlot {
  const char* title = nullptr;
  const char* x_label = nullptr;
  const char* y_label = nullptr;
  const float* x = nullptr;
  const float* y = nullptr;
  int count = 0;
  const uint8_t* classes = nullptr;          // per point, each < class_count (e.g. Dataset labels);
                                             // nullptr: one colour, no legend
  int class_count = 0;                       // 1..kSvgPaletteSize when classes are given
  const char* const* class_names = nullptr;  // class_count legend names; nullptr: "0", "1", ...
  bool equal_aspect = false;
  float point_radius = 2.5f;                 // px, kMinPointRadius..kMaxPointRadius
  int width = 640, height = 560;
};
constexpr float kMinPointRadius = 0.1f, kMaxPointRadius = 50.0f;  // coordinates have 0.1 px steps

Status write_scatter(const char* path, const ScatterPlot& plot);

}  // namespace ember
