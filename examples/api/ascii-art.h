// Samples as ASCII art, for a board with a serial console and no display: shared by
// example-sample-on-device and the bare-metal firmware (examples/mcu/), so the two print the
// same characters for the same samples and CI can compare them. Header-only; the character
// sink is the caller's (stdout, or a semihosting line).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace ember::art {

// n samples on a grid: row-major and about square, or, cycling through `classes`, one row
// per class (column-major: sample i is class i % rows).
struct Grid {
  int rows = 0, cols = 0;
  bool by_class = false;
  Grid(int n, int classes) : by_class(classes > 0) {
    if (by_class) rows = n < classes ? n : classes, cols = (n + rows - 1) / rows;
    else cols = int(std::ceil(std::sqrt(double(n)))), rows = (n + cols - 1) / cols;
  }
  int sample_at(int r, int c) const { return by_class ? c * rows + r : r * cols + c; }
};

// [0, 1] -> a character, dark to bright; NaN as dark.
inline char shade(float v) {
  static const char kShades[] = " .:-=+*#%@";
  v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;
  return kShades[static_cast<int>(v * (sizeof kShades - 2) + 0.5f)];
}

// One character per pixel, a grid row's samples side by side, a blank line after each grid
// row; put(char) writes a character, end_line() after each '\n' (to flush a line buffer).
template <class Put, class EndLine>
void print(const float* images, int n, int rows, int cols, const Grid& grid, Put put, EndLine end_line) {
  for (int r = 0; r < grid.rows; ++r) {
    for (int y = 0; y < rows; ++y) {
      for (int c = 0; c < grid.cols; ++c) {
        const int i = grid.sample_at(r, c);
        for (int x = 0; x < cols; ++x) put(i < n ? shade(images[(size_t(i) * rows + y) * cols + x]) : ' ');
        put(c + 1 < grid.cols ? ' ' : '\n');
      }
      end_line();
    }
    put('\n');
    end_line();
  }
}

// What CI compares between two builds of the same sampler: FNV-1a of the samples' bytes (equal:
// bit for bit), and each sample's pixel sum in millionths (close: the same samples up to the
// last bits of a different libm's exp or tanh).
inline uint32_t hash(const float* images, size_t count) {
  uint32_t h = 2166136261u;
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(images);
  for (size_t i = 0; i < count * sizeof(float); ++i) h = (h ^ bytes[i]) * 16777619u;
  return h;
}
inline int64_t sum_millionths(const float* image, size_t count) {
  double s = 0.0;
  for (size_t i = 0; i < count; ++i) s += image[i];
  return static_cast<int64_t>(std::llround(s * 1e6));
}

}  // namespace ember::art
