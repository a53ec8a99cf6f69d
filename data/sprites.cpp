#include "data/sprites.h"

#include <cstddef>
#include <cstring>

#include "core/rng.h"

namespace ember::data {

namespace {

constexpr uint64_t kSpritesStream = 0x7370726974657321ull;  // "sprites!"
constexpr size_t kImageBytes = static_cast<size_t>(kSpriteSide) * kSpriteSide;
constexpr int kSamples = kSpriteSubsamples * kSpriteSubsamples;
constexpr int kSymmetryOrder[kSpriteShapes] = {4, 2, 3, 1};
constexpr const char* kShapeNames[kSpriteShapes] = {"square", "ellipse", "triangle", "heart"};

constexpr float kHalfPi = 1.57079632679f;
constexpr float kFullTurnDegrees = 360.0f;
constexpr float kRoot2Inv = 0.70710678118f;  // 1 / sqrt(2)
constexpr float kCos30 = 0.86602540378f;     // sqrt(3) / 2

// Canonical shapes: u to the right, v up, all inside the unit disc.
constexpr float kSquareHalfSide = kRoot2Inv;  // corners on the unit circle
constexpr float kEllipseInvMinor2 = 1.0f / (kSpriteEllipseAspect * kSpriteEllipseAspect);
constexpr float kTriangleInradius = 0.5f;     // vertices on the unit circle at 90, 210, 330 deg
// Heart: a unit-side square standing on a corner (|u| + |v| <= 1/sqrt(2)) with a disc of
// radius 1/2 on the midpoint of each upper edge; the discs reach exactly radius 1.
constexpr float kHeartHalfDiagonal = kRoot2Inv;
constexpr float kHeartLobe = 0.5f * kRoot2Inv;  // lobe centres at (+-kHeartLobe, kHeartLobe)
constexpr float kHeartLobeRadius2 = 0.25f;

float clamp01(float f) { return f < 0.0f ? 0.0f : (f > 1.0f ? 1.0f : f); }
float abs_f(float f) { return f < 0.0f ? -f : f; }

bool inside(int shape, float u, float v) {
  switch (shape) {
    case kSquare:
      return abs_f(u) <= kSquareHalfSide && abs_f(v) <= kSquareHalfSide;
    case kEllipse:
      return u * u + v * v * kEllipseInvMinor2 <= 1.0f;
    case kTriangle:
      return v >= -kTriangleInradius && u * kCos30 + v * 0.5f <= kTriangleInradius &&
             -u * kCos30 + v * 0.5f <= kTriangleInradius;
    default: {  // kHeart
      if (abs_f(u) + abs_f(v) <= kHeartHalfDiagonal) return true;
      const float du = abs_f(u) - kHeartLobe, dv = v - kHeartLobe;
      return du * du + dv * dv <= kHeartLobeRadius2;
    }
  }
}

// sin and cos of x in [0, pi/2] by Taylor polynomials (Horner, float): errors below
// 1e-7, and the same bits everywhere, unlike libm's sinf/cosf.
float sin_quadrant(float x) {
  const float x2 = x * x;
  return x * (1.0f + x2 * (-1.0f / 6 + x2 * (1.0f / 120 + x2 * (-1.0f / 5040 + x2 * (1.0f / 362880 +
                                                                          x2 * (-1.0f / 39916800))))));
}
float cos_quadrant(float x) {
  const float x2 = x * x;
  return 1.0f + x2 * (-0.5f + x2 * (1.0f / 24 + x2 * (-1.0f / 720 + x2 * (1.0f / 40320 +
                                                                  x2 * (-1.0f / 3628800 + x2 * (1.0f / 479001600))))));
}

// sin and cos of the angle turn * 360 degrees, turn in [0, 1].
void sin_cos_of_turn(float turn, float* s, float* c) {
  const float quarters = turn * 4.0f;
  int q = static_cast<int>(quarters);
  if (q > 3) q = 3;
  const float x = (quarters - static_cast<float>(q)) * kHalfPi;
  const float sx = sin_quadrant(x), cx = cos_quadrant(x);
  switch (q) {  // angle = q * 90 deg + x
    case 0: *s = sx, *c = cx; break;
    case 1: *s = cx, *c = -sx; break;
    case 2: *s = -sx, *c = -cx; break;
    default: *s = -cx, *c = sx; break;
  }
}

int valid_shape(int shape) { return shape >= 0 && shape < kSpriteShapes ? shape : kSquare; }

}  // namespace

const char* sprite_shape_name(int shape) {
  return shape >= 0 && shape < kSpriteShapes ? kShapeNames[shape] : "?";
}

int sprite_symmetry_order(int shape) { return kSymmetryOrder[valid_shape(shape)]; }

SpriteGeometry sprite_geometry(int shape, const float factors[kSpriteFactors]) {
  SpriteGeometry g;
  g.radius = kSpriteMinRadius + clamp01(factors[2]) * (kSpriteMaxRadius - kSpriteMinRadius);
  // The bounding disc travels between the margins: [margin + r, side - margin - r].
  const float lowest = kSpriteMargin + g.radius;
  const float travel = static_cast<float>(kSpriteSide) - 2.0f * lowest;
  g.centre_x = lowest + clamp01(factors[0]) * travel;
  g.centre_y = lowest + clamp01(factors[1]) * travel;
  g.degrees = clamp01(factors[3]) * (kFullTurnDegrees / static_cast<float>(sprite_symmetry_order(shape)));
  return g;
}

void render_sprite(int shape, const float factors[kSpriteFactors], uint8_t* pixels) {
  shape = valid_shape(shape);
  std::memset(pixels, 0, kImageBytes);
  const SpriteGeometry g = sprite_geometry(shape, factors);
  float sn = 0.0f, cs = 1.0f;
  sin_cos_of_turn(clamp01(factors[3]) / static_cast<float>(kSymmetryOrder[shape]), &sn, &cs);
  const float inv_radius = 1.0f / g.radius;

  float offsets[kSpriteSubsamples];  // sample positions within a pixel: (i + 1/2) / n
  for (int i = 0; i < kSpriteSubsamples; ++i)
    offsets[i] = (static_cast<float>(i) + 0.5f) / static_cast<float>(kSpriteSubsamples);

  // Only pixels the bounding disc touches can be lit (all >= kSpriteMargin > 0, so the
  // int conversions are floors).
  const int first_col = static_cast<int>(g.centre_x - g.radius), last_col = static_cast<int>(g.centre_x + g.radius);
  const int first_row = static_cast<int>(g.centre_y - g.radius), last_row = static_cast<int>(g.centre_y + g.radius);
  for (int row = first_row; row <= last_row && row < kSpriteSide; ++row) {
    for (int col = first_col; col <= last_col && col < kSpriteSide; ++col) {
      int lit = 0;
      for (int j = 0; j < kSpriteSubsamples; ++j) {
        const float dy = g.centre_y - (static_cast<float>(row) + offsets[j]);  // up is positive
        for (int i = 0; i < kSpriteSubsamples; ++i) {
          const float dx = (static_cast<float>(col) + offsets[i]) - g.centre_x;
          // Rotate the sample by -angle into the shape's frame, then unit the radius.
          const float u = (dx * cs + dy * sn) * inv_radius;
          const float v = (dy * cs - dx * sn) * inv_radius;
          lit += inside(shape, u, v) ? 1 : 0;
        }
      }
      pixels[static_cast<size_t>(row) * kSpriteSide + static_cast<size_t>(col)] =
          static_cast<uint8_t>((lit * 255 + kSamples / 2) / kSamples);
    }
  }
}

Status make_sprites(Arena* arena, int count, uint64_t seed, Dataset* out, float** factors) {
  if (!arena || !out) return Status::error(Code::invalid_argument, "sprites: null arena or output");
  if (count < 1) return Status::error(Code::invalid_argument, "sprites: count %d, need at least 1", count);
  // One block: factors first (float-aligned at the block start), then pixels, then labels,
  // so a failure leaves the arena exactly as it was.
  const size_t factor_bytes = factors ? kSpriteFactors * sizeof(float) : 0;
  const size_t per_image = factor_bytes + kImageBytes + 1;
  const size_t n = static_cast<size_t>(count);
  if (n > (SIZE_MAX - Arena::kAlign) / per_image)
    return Status::error(Code::out_of_memory, "sprites: %d images overflow the address space", count);
  uint8_t* block = nullptr;
  const Status s = arena->alloc_array(n * per_image, &block);
  if (!s.is_ok()) return Status::error(s.code(), "sprites: %d images: %s", count, s.message());
  float* f = factors ? reinterpret_cast<float*>(block) : nullptr;
  uint8_t* pixels = block + n * factor_bytes;
  uint8_t* labels = pixels + n * kImageBytes;

  Rng rng(seed, kSpritesStream);
  for (size_t i = 0; i < n; ++i) {
    const int shape = static_cast<int>(rng.below(kSpriteShapes));
    float own[kSpriteFactors];
    for (float& x : own) x = rng.uniform();
    render_sprite(shape, own, pixels + i * kImageBytes);
    labels[i] = static_cast<uint8_t>(shape);
    if (f) std::memcpy(f + i * kSpriteFactors, own, sizeof own);
  }
  Dataset d;
  d.pixels = pixels;
  d.labels = labels;
  d.count = count;
  d.rows = d.cols = kSpriteSide;
  d.classes = kSpriteShapes;
  *out = d;
  if (factors) *factors = f;
  return Status::ok();
}

}  // namespace ember::data
