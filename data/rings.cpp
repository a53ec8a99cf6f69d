#include "data/rings.h"

#include <cstddef>
#include <cstdint>

#include "core/rng.h"

namespace ember::data {

namespace {

constexpr uint64_t kRingsStream = 0x72696e6773ull;  // "rings": keeps this stream apart from others on the same seed
constexpr float kDiagonal = 1.41421356237f;          // kRingsRadius * cos(45 deg) = sqrt(2)

// Mode centres counter-clockwise from the positive x axis, 45 degrees apart.
constexpr Point2 kCentres[kRingsModes] = {
    {kRingsRadius, 0.0f},  {kDiagonal, kDiagonal},   {0.0f, kRingsRadius},   {-kDiagonal, kDiagonal},
    {-kRingsRadius, 0.0f}, {-kDiagonal, -kDiagonal}, {0.0f, -kRingsRadius}, {kDiagonal, -kDiagonal},
};
static_assert(kRingsRadius == 2.0f, "kDiagonal assumes a radius of 2");

constexpr size_t kBytesPerPoint = 2 * sizeof(float) + sizeof(uint8_t);

}  // namespace

Point2 rings_mode_centre(int k) {
  const int m = k % kRingsModes;
  return kCentres[m < 0 ? m + kRingsModes : m];
}

int rings_nearest_mode(float x, float y, float* squared_distance) {
  int best = 0;
  float best_d2 = 0.0f;
  for (int k = 0; k < kRingsModes; ++k) {
    const float dx = x - kCentres[k].x, dy = y - kCentres[k].y;
    const float d2 = dx * dx + dy * dy;
    if (k == 0 || d2 < best_d2) best = k, best_d2 = d2;
  }
  if (squared_distance) *squared_distance = best_d2;
  return best;
}

Status make_rings(Arena* arena, int count, uint64_t seed, PointSet* out) {
  if (!arena || !out) return Status::error(Code::invalid_argument, "rings: null arena or output");
  if (count < 1) return Status::error(Code::invalid_argument, "rings: count %d, need at least 1", count);
  const size_t n = static_cast<size_t>(count);
  if (n > (SIZE_MAX - Arena::kAlign) / kBytesPerPoint)
    return Status::error(Code::out_of_memory, "rings: %d points overflow the address space", count);
  // One block, floats first (the arena aligns its start), so failure leaves the arena as it was.
  uint8_t* block = nullptr;
  const Status s = arena->alloc_array(n * kBytesPerPoint, &block);
  if (!s.is_ok()) return Status::error(s.code(), "rings: %d points: %s", count, s.message());
  float* xy = reinterpret_cast<float*>(block);
  uint8_t* mode = block + n * 2 * sizeof(float);

  Rng rng(seed, kRingsStream);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t k = rng.below(kRingsModes);
    mode[i] = static_cast<uint8_t>(k);
    const float dx = rng.normal(), dy = rng.normal();
    xy[2 * i] = kCentres[k].x + kRingsStd * dx;
    xy[2 * i + 1] = kCentres[k].y + kRingsStd * dy;
  }
  out->xy = xy;
  out->mode = mode;
  out->count = count;
  return Status::ok();
}

}  // namespace ember::data
