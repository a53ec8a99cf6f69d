// sprites: a built-in image dataset generated from a seed (no download), in the spirit of
// dSprites: simple white shapes on black, 28x28 grey bytes like MNIST, whose factors of
// variation are known, so what a VAE's latents learn can be compared with the truth.
//
// Label = shape: 0 square, 1 ellipse (axes 1 : kSpriteEllipseAspect), 2 equilateral
// triangle, 3 heart. Every shape is drawn in a canonical frame inside the unit disc (its
// "bounding radius" is 1) and then scaled, rotated and moved. Each image records its
// factors as four floats, each uniform and independent:
//
//   factor[0] x         in [0, 1): horizontal position, as a fraction of the travel the
//                        scale allows: 0 = bounding disc touching the left margin, 1 = right.
//   factor[1] y         in [0, 1): vertical position likewise, 0 = top, 1 = bottom.
//   factor[2] scale     in [0, 1): bounding radius kSpriteMinRadius + scale *
//                        (kSpriteMaxRadius - kSpriteMinRadius) pixels.
//   factor[3] rotation  in [0, 1): counter-clockwise rotation as a fraction of the shape's
//                        symmetry period (square 90 deg, ellipse 180, triangle 120, heart
//                        360), so every value is a different picture and the image is
//                        periodic in it (0 and 1 look the same).
//
// sprite_geometry() turns factors into pixels and degrees. The bounding disc always lies
// within [kSpriteMargin, 28 - kSpriteMargin] in both axes (pixel c covers [c, c+1)), so the
// outermost kSpriteMargin rows and columns stay black.
//
// Anti-aliasing: each pixel is the coverage of a kSpriteSubsamples x kSpriteSubsamples grid
// of sample points, byte = round(255 * inside / samples), so 17 grey levels.
//
// Determinism: one ember::Rng (seed, stream kSpritesStream) draws, per image in order, the
// shape (below(4), which never rejects) and the four factors (uniform(), one draw each):
// image i always uses draws 5i..5i+4, so the first n images of a larger set are the set of
// n. Rendering uses only IEEE-754 float +, -, *, / (compiled with -ffp-contract=off) and our
// own polynomial sine/cosine instead of libm's, so the bytes are identical on every platform.
//
// Splits: the training set is make_sprites(seed), the test set make_sprites(
// sprites_test_seed(seed)) = seed + kSpritesTestSeedOffset; the offset is large and odd so
// nearby training seeds (1, 2, 3...) never produce one another's test sets.
#pragma once
#include <cstdint>

#include "core/arena.h"
#include "core/status.h"
#include "data/dataset.h"

namespace ember::data {

enum SpriteShape : uint8_t { kSquare = 0, kEllipse = 1, kTriangle = 2, kHeart = 3 };
constexpr int kSpriteShapes = 4;
constexpr int kSpriteSide = 28;           // rows = cols
constexpr int kSpriteFactors = 4;         // x, y, scale, rotation
constexpr float kSpriteMargin = 1.0f;     // black border, pixels
constexpr float kSpriteMinRadius = 5.0f;  // bounding radius at scale 0, pixels
constexpr float kSpriteMaxRadius = 11.0f; // ... and at scale 1
constexpr float kSpriteEllipseAspect = 0.6f;  // minor / major semi-axis
constexpr int kSpriteSubsamples = 4;      // per axis and pixel
constexpr int kSpritesTrainCount = 60000; // MNIST-sized defaults
constexpr int kSpritesTestCount = 10000;
constexpr uint64_t kSpritesTestSeedOffset = 0x9e3779b97f4a7c15ull;

inline uint64_t sprites_test_seed(uint64_t train_seed) { return train_seed + kSpritesTestSeedOffset; }

const char* sprite_shape_name(int shape);  // "square", ... ("?" when out of range)
int sprite_symmetry_order(int shape);      // rotations mapping the shape onto itself: 4, 2, 3, 1

// Factors in image terms.
struct SpriteGeometry {
  float centre_x = 0, centre_y = 0;  // pixels from the top-left corner (y grows down)
  float radius = 0;                  // bounding radius, pixels
  float degrees = 0;                 // counter-clockwise rotation, [0, 360 / symmetry order)
};
SpriteGeometry sprite_geometry(int shape, const float factors[kSpriteFactors]);

// Renders one sprite into pixels[28 * 28] (every byte written). factors outside [0, 1]
// are clamped, so the shape always stays inside the margin; a shape outside 0..3 draws
// a square.
void render_sprite(int shape, const float factors[kSpriteFactors], uint8_t* pixels);

// Generates `count` sprites into the arena: pixels, labels and, when factors is not null,
// *factors = float[count][kSpriteFactors]. Fills *out (rows = cols = 28, classes = 4).
// On error (count < 1, null arena/out, arena too small) *out, *factors and the arena are
// unchanged. Bytes: count * (784 + 1 [+ 16 with factors]), rounded to the arena alignment.
Status make_sprites(Arena* arena, int count, uint64_t seed, Dataset* out, float** factors);

}  // namespace ember::data
