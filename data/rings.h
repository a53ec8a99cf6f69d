// rings: the 2-D toy for GAN mode collapse — a mixture of 8 Gaussians on a circle.
//
// Mode k (0..7) is centred at kRingsRadius * (cos(k * 45 deg), sin(k * 45 deg)) with an
// isotropic standard deviation kRingsStd, and every mode is equally likely: the set-up of
// Metz et al., "Unrolled Generative Adversarial Networks" (2017). The modes are far apart
// (about 1.53 between neighbours, 75 std), so a collapsed generator shows as whole modes
// missing. Metrics count a generated point as "high quality" when it lies within
// kRingsQualityRadius (3 std) of some mode centre, and a mode as "covered" when it has
// such points.
//
// Generation: one ember::Rng (seed, kRingsStream); each point draws its mode with below(8)
// and then its two offsets with normal(), so the same seed gives the same bits everywhere.
// The centres come from a table of exact constants (no libm trigonometry), so points,
// labels and the nearest-mode decision are identical on every platform.
#pragma once
#include <cstdint>

#include "core/arena.h"
#include "core/status.h"

namespace ember::data {

constexpr int kRingsModes = 8;
constexpr float kRingsRadius = 2.0f;
constexpr float kRingsStd = 0.02f;
constexpr float kRingsQualityStds = 3.0f;
constexpr float kRingsQualityRadius = kRingsQualityStds * kRingsStd;

// A set of labelled 2-D points held in an arena.
struct PointSet {
  const float* xy = nullptr;      // [count, 2] as (x, y)
  const uint8_t* mode = nullptr;  // [count], the mode each point was drawn from
  int count = 0;
};

struct Point2 {
  float x = 0.0f, y = 0.0f;
};

// Centre of mode k (k taken modulo kRingsModes, so any int is accepted).
Point2 rings_mode_centre(int k);

// The mode whose centre is nearest to (x, y); *squared_distance (may be null) receives the
// squared distance to it. A point is high quality when that distance is at most
// kRingsQualityRadius (compare squares: d2 <= kRingsQualityRadius * kRingsQualityRadius).
int rings_nearest_mode(float x, float y, float* squared_distance);

// Draws `count` points into the arena (count * 9 bytes, rounded to the arena alignment).
// On error (count < 1, null arguments, arena too small) *out and the arena are unchanged.
Status make_rings(Arena* arena, int count, uint64_t seed, PointSet* out);

}  // namespace ember::data
