// Built-in datasets and the batcher: sprites (determinism, balance, bounds, factors),
// rings (mode statistics), shuffled batches (coverage, resume, binarization, no allocation)
// and the errors that must leave the arena untouched.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "data/batcher.h"
#include "data/rings.h"
#include "data/sprites.h"
#include "tests/alloc-counter.h"

using namespace ember;
using namespace ember::data;
namespace counter = ember::testing::alloc_counter;

namespace {

struct Memory {
  std::unique_ptr<unsigned char[]> bytes;
  Arena arena;
  explicit Memory(size_t n) : bytes(new unsigned char[n]), arena(bytes.get(), n) {}
};

uint64_t fnv1a(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}
constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ull;

uint64_t sprites_hash(const data::Dataset& d, const float* factors) {
  uint64_t h = fnv1a(kFnvBasis, d.pixels, static_cast<size_t>(d.count) * d.image_size());
  h = fnv1a(h, d.labels, static_cast<size_t>(d.count));
  return fnv1a(h, factors, static_cast<size_t>(d.count) * data::kSpriteFactors * sizeof(float));
}

long mass(const data::Dataset& d, int i) {
  long m = 0;
  for (size_t k = 0; k < d.image_size(); ++k) m += d.image(i)[k];
  return m;
}

// count sprites of a seed, with their factors, in their own arena.
struct Sprites {
  Memory m{4 << 20};
  data::Dataset d;
  float* f = nullptr;
  Sprites(int count, uint64_t seed) { REQUIRE(make_sprites(&m.arena, count, seed, &d, &f).is_ok()); }
};

// A dataset whose image i has every pixel equal to pixel_of(i), label i % classes.
struct Synthetic {
  std::vector<uint8_t> pixels, labels;
  data::Dataset d;
  Synthetic(int count, int side, uint8_t (*pixel_of)(int)) : pixels(size_t(count) * side * side), labels(count) {
    for (int i = 0; i < count; ++i) {
      std::fill_n(pixels.begin() + size_t(i) * side * side, side * side, pixel_of(i));
      labels[i] = uint8_t(i % 3);
    }
    d.pixels = pixels.data();
    d.labels = labels.data();
    d.count = count;
    d.rows = d.cols = side;
    d.classes = 3;
  }
};
uint8_t pixel_is_index(int i) { return uint8_t(i); }

// The image index a batch row of a pixel_is_index dataset came from.
int index_of(const float* row) { return int(std::lround(row[0] * 255.0f)); }

}  // namespace

TEST_CASE("sprites: same seed same bytes, other seeds differ, pinned across platforms") {
  Memory m(4 << 20);
  data::Dataset a, b, c;
  float *fa = nullptr, *fb = nullptr, *fc = nullptr;
  REQUIRE(make_sprites(&m.arena, 64, 7, &a, &fa).is_ok());
  REQUIRE(make_sprites(&m.arena, 64, 7, &b, &fb).is_ok());
  REQUIRE(make_sprites(&m.arena, 64, 8, &c, &fc).is_ok());
  CHECK(std::memcmp(a.pixels, b.pixels, 64 * a.image_size()) == 0);
  CHECK(std::memcmp(a.labels, b.labels, 64) == 0);
  CHECK(std::memcmp(fa, fb, 64 * data::kSpriteFactors * sizeof(float)) == 0);
  CHECK(std::memcmp(a.pixels, c.pixels, 64 * a.image_size()) != 0);
  CHECK(std::memcmp(fa, fc, 64 * data::kSpriteFactors * sizeof(float)) != 0);
  // The test split is another seed, and a prefix of a set is the smaller set.
  data::Dataset test, prefix;
  REQUIRE(make_sprites(&m.arena, 64, data::sprites_test_seed(7), &test, nullptr).is_ok());
  CHECK(std::memcmp(a.pixels, test.pixels, 64 * a.image_size()) != 0);
  REQUIRE(make_sprites(&m.arena, 10, 7, &prefix, nullptr).is_ok());
  CHECK(std::memcmp(a.pixels, prefix.pixels, 10 * a.image_size()) == 0);
  // Same bits on every platform: the hash of seed 7 as x86-64 (-O0 and -O3 -march=native),
  // aarch64 and ARMv7 compute it.
  CHECK(sprites_hash(a, fa) == 0xe9a29f14d56b61a4ull);
}

TEST_CASE("sprites: classes balanced, factors in range, border black, shapes where the factors say") {
  constexpr int kCount = 1200;
  Sprites set(kCount, 3);
  const data::Dataset& d = set.d;
  const float* f = set.f;
  CHECK(d.rows == 28);
  CHECK(d.cols == 28);
  CHECK(d.classes == data::kSpriteShapes);
  int per_class[data::kSpriteShapes] = {};
  for (int i = 0; i < kCount; ++i) {
    REQUIRE(d.labels[i] < data::kSpriteShapes);
    ++per_class[d.labels[i]];
  }
  for (int n : per_class) CHECK((n > kCount / 4 * 8 / 10 && n < kCount / 4 * 12 / 10));

  int border_lit = 0;
  for (int i = 0; i < kCount; ++i) {
    const float* fi = f + i * data::kSpriteFactors;
    for (int k = 0; k < data::kSpriteFactors; ++k) CHECK((fi[k] >= 0.0f && fi[k] < 1.0f));
    const data::SpriteGeometry g = data::sprite_geometry(d.labels[i], fi);
    CHECK(g.radius >= data::kSpriteMinRadius);
    CHECK(g.radius <= data::kSpriteMaxRadius);
    CHECK(g.centre_x - g.radius >= data::kSpriteMargin - 1e-4f);
    CHECK(g.centre_x + g.radius <= 28 - data::kSpriteMargin + 1e-4f);
    CHECK(g.centre_y - g.radius >= data::kSpriteMargin - 1e-4f);
    CHECK(g.centre_y + g.radius <= 28 - data::kSpriteMargin + 1e-4f);
    CHECK(g.degrees >= 0.0f);
    CHECK(g.degrees < 360.0f / data::sprite_symmetry_order(d.labels[i]));
    const uint8_t* p = d.image(i);
    for (int k = 0; k < 28; ++k)
      border_lit += (p[k] != 0) + (p[27 * 28 + k] != 0) + (p[k * 28] != 0) + (p[k * 28 + 27] != 0);
    // The centre of mass sits near the factors' centre (exactly for the symmetric shapes;
    // the heart's and a coarse triangle's are off by a fraction of the radius).
    double sum = 0, sx = 0, sy = 0;
    for (int r = 0; r < 28; ++r)
      for (int c = 0; c < 28; ++c) {
        sum += p[r * 28 + c];
        sx += p[r * 28 + c] * (c + 0.5);
        sy += p[r * 28 + c] * (r + 0.5);
      }
    REQUIRE(sum > 0);
    const double tolerance = d.labels[i] == data::kHeart ? 0.2 * g.radius + 0.3 : 0.3;
    CHECK(std::hypot(sx / sum - g.centre_x, sy / sum - g.centre_y) < tolerance);
  }
  CHECK(border_lit == 0);
}

TEST_CASE("sprites: pixel mass grows with scale, as the radius squared") {
  constexpr int kCount = 800;
  Sprites set(kCount, 11);
  const data::Dataset& d = set.d;
  const float* f = set.f;
  for (int shape = 0; shape < data::kSpriteShapes; ++shape) {
    double small = 0, large = 0;
    int n_small = 0, n_large = 0;
    double ratio_min = 1e9, ratio_max = 0;  // mass / radius^2 is the shape's area in bytes
    for (int i = 0; i < kCount; ++i) {
      if (d.labels[i] != shape) continue;
      const float scale = f[i * data::kSpriteFactors + 2];
      const double r = data::sprite_geometry(shape, f + i * data::kSpriteFactors).radius;
      const double ms = double(mass(d, i));
      if (scale < 0.3f) small += ms, ++n_small;
      if (scale > 0.7f) large += ms, ++n_large;
      ratio_min = std::min(ratio_min, ms / (r * r));
      ratio_max = std::max(ratio_max, ms / (r * r));
    }
    REQUIRE(n_small > 0);
    REQUIRE(n_large > 0);
    CHECK(large / n_large > 2.0 * small / n_small);
    CHECK(ratio_max < 1.2 * ratio_min);
  }
  // Rendering a factor vector directly: a bigger scale, all else equal, lights more.
  uint8_t small[784], large[784];
  const float f_small[4] = {0.5f, 0.5f, 0.1f, 0.3f}, f_large[4] = {0.5f, 0.5f, 0.9f, 0.3f};
  for (int shape = 0; shape < data::kSpriteShapes; ++shape) {
    data::render_sprite(shape, f_small, small);
    data::render_sprite(shape, f_large, large);
    long ms = 0, ml = 0;
    for (int k = 0; k < 784; ++k) ms += small[k], ml += large[k];
    CHECK(ml > 3 * ms);
  }
}

TEST_CASE("sprites and rings: bad arguments and a too-small arena fail, leaving everything unchanged") {
  Memory m(64 << 10);
  data::Dataset d;
  d.count = -5;
  float* f = reinterpret_cast<float*>(&d);
  const size_t used = m.arena.used();
  const Status small = make_sprites(&m.arena, 100, 1, &d, &f);  // needs 100 * 801 bytes
  CHECK(small.code() == Code::out_of_memory);
  CHECK(std::string(small.message()).find("sprites") != std::string::npos);
  CHECK(std::string(small.message()).find("short by") != std::string::npos);
  CHECK(make_sprites(&m.arena, 0, 1, &d, &f).code() == Code::invalid_argument);
  CHECK(make_sprites(nullptr, 1, 1, &d, &f).code() == Code::invalid_argument);
  CHECK(data::make_sprites(&m.arena, 1, 1, nullptr, nullptr).code() == Code::invalid_argument);
  CHECK(make_sprites(&m.arena, 1 << 30, 1, &d, &f).code() == Code::out_of_memory);
  CHECK(m.arena.used() == used);
  CHECK(d.count == -5);
  CHECK(d.pixels == nullptr);
  CHECK(f == reinterpret_cast<float*>(&d));

  data::PointSet p;
  const Status few = make_rings(&m.arena, 100000, 1, &p);
  CHECK(few.code() == Code::out_of_memory);
  CHECK(std::string(few.message()).find("rings") != std::string::npos);
  CHECK(make_rings(&m.arena, -1, 1, &p).code() == Code::invalid_argument);
  CHECK(data::make_rings(&m.arena, 10, 1, nullptr).code() == Code::invalid_argument);
  CHECK(m.arena.used() == used);
  CHECK(p.xy == nullptr);
  CHECK(p.count == 0);
}

TEST_CASE("rings: 8 modes on a circle of radius 2, each N(centre, 0.02^2), labels right") {
  for (int k = 0; k < data::kRingsModes; ++k) {
    const Point2 c = rings_mode_centre(k);
    CHECK(c.x == doctest::Approx(2.0 * std::cos(k * M_PI / 4)).epsilon(1e-6));
    CHECK(c.y == doctest::Approx(2.0 * std::sin(k * M_PI / 4)).epsilon(1e-6));
    CHECK(data::rings_mode_centre(k + data::kRingsModes).x == c.x);
    CHECK(data::rings_mode_centre(k - data::kRingsModes).y == c.y);
    float d2 = -1;
    CHECK(data::rings_nearest_mode(c.x + 0.5f, c.y - 0.3f, &d2) == k);
    CHECK(d2 == doctest::Approx(0.34).epsilon(1e-4));
  }
  Memory m(1 << 20);
  constexpr int kCount = 16000;
  data::PointSet p, same;
  REQUIRE(make_rings(&m.arena, kCount, 5, &p).is_ok());
  REQUIRE(make_rings(&m.arena, kCount, 5, &same).is_ok());
  CHECK(std::memcmp(p.xy, same.xy, sizeof(float) * 2 * kCount) == 0);
  // Pinned like the sprites: the first 1000 points of seed 1 on x86-64, aarch64 and ARMv7.
  data::PointSet pinned;
  REQUIRE(make_rings(&m.arena, 1000, 1, &pinned).is_ok());
  CHECK(fnv1a(kFnvBasis, pinned.xy, sizeof(float) * 2 * 1000) == 0xac4b4abce18edd2bull);
  CHECK(p.count == kCount);
  double n[data::kRingsModes] = {}, sx[data::kRingsModes] = {}, sy[data::kRingsModes] = {}, sxx[data::kRingsModes] = {}, syy[data::kRingsModes] = {};
  int wrong = 0, outside = 0;
  for (int i = 0; i < kCount; ++i) {
    const int k = p.mode[i];
    REQUIRE(k < data::kRingsModes);
    const double x = p.xy[2 * i], y = p.xy[2 * i + 1];
    n[k] += 1, sx[k] += x, sy[k] += y, sxx[k] += x * x, syy[k] += y * y;
    float d2 = 0;
    wrong += data::rings_nearest_mode(p.xy[2 * i], p.xy[2 * i + 1], &d2) != k;
    outside += d2 > data::kRingsQualityRadius * data::kRingsQualityRadius;
  }
  CHECK(wrong == 0);
  CHECK(outside < kCount * 2 / 100);  // 1.1% of a 2-D Gaussian lies beyond 3 std
  for (int k = 0; k < data::kRingsModes; ++k) {
    CHECK(n[k] > kCount / data::kRingsModes * 0.9);
    const double mx = sx[k] / n[k], my = sy[k] / n[k];
    CHECK(std::fabs(mx - data::rings_mode_centre(k).x) < 0.003);
    CHECK(std::fabs(my - data::rings_mode_centre(k).y) < 0.003);
    CHECK(std::sqrt(sxx[k] / n[k] - mx * mx) == doctest::Approx(data::kRingsStd).epsilon(0.1));
    CHECK(std::sqrt(syy[k] / n[k] - my * my) == doctest::Approx(data::kRingsStd).epsilon(0.1));
  }
}

TEST_CASE("batcher: each epoch visits every index once (minus the dropped tail), epochs differ, labels follow") {
  constexpr int kCount = 103, kBatch = 10;
  Synthetic s(kCount, 2, pixel_is_index);
  Memory m(1 << 16);
  data::Batcher b;
  REQUIRE(b.init(&m.arena, s.d, kBatch, 42).is_ok());
  CHECK(b.steps_per_epoch() == 10);
  CHECK(b.x_floats() == size_t(kBatch * 4));
  std::vector<float> x(b.x_floats());
  std::vector<int32_t> labels(kBatch);
  std::vector<std::vector<int>> orders;
  for (int e = 0; e < 3; ++e) {
    std::vector<int> seen;
    for (int step = 0; step < b.steps_per_epoch(); ++step) {
      CHECK(b.epoch() == e);
      CHECK(b.position() == step);
      b.next(x.data(), labels.data());
      for (int r = 0; r < kBatch; ++r) {
        const int i = index_of(&x[r * 4]);
        seen.push_back(i);
        CHECK(labels[r] == i % 3);
        CHECK(x[r * 4 + 3] == float(i) / 255.0f);
      }
    }
    std::set<int> distinct(seen.begin(), seen.end());
    CHECK(distinct.size() == size_t(kBatch * 10));  // 100 distinct, 3 dropped
    CHECK(*distinct.rbegin() < kCount);
    orders.push_back(seen);
  }
  CHECK(b.epoch() == 3);
  CHECK(orders[0] != orders[1]);
  CHECK(orders[1] != orders[2]);
  // Over many epochs the dropped tail changes, so every index gets seen.
  std::set<int> ever;
  for (const auto& o : orders) ever.insert(o.begin(), o.end());
  CHECK(ever.size() == size_t(kCount));
}

TEST_CASE("batcher: seek(epoch, step) reproduces the batches of running there, binarized too") {
  constexpr int kCount = 57, kBatch = 8;  // 7 steps per epoch
  Synthetic s(kCount, 3, pixel_is_index);
  for (data::Pixels mode : {data::Pixels::grey, data::Pixels::binarized}) {
    Memory m(1 << 16);
    data::Batcher run, resumed;
    REQUIRE(run.init(&m.arena, s.d, kBatch, 9, mode).is_ok());
    REQUIRE(resumed.init(&m.arena, s.d, kBatch, 9, mode).is_ok());
    std::vector<float> x(run.x_floats()), y(run.x_floats());
    std::vector<int32_t> lx(kBatch), ly(kBatch);
    for (int step = 0; step < 2 * 7 + 3; ++step) run.next(x.data(), lx.data());
    REQUIRE(resumed.seek(2, 3).is_ok());
    for (int step = 0; step < 9; ++step) {  // across the next epoch boundary
      run.next(x.data(), lx.data());
      resumed.next(y.data(), ly.data());
      CHECK(x == y);
      CHECK(lx == ly);
    }
    CHECK(resumed.epoch() == run.epoch());
    CHECK(resumed.position() == run.position());
    // Bad seeks change nothing.
    CHECK(resumed.seek(-1, 0).code() == Code::invalid_argument);
    CHECK(resumed.seek(0, 7).code() == Code::invalid_argument);
    CHECK(resumed.seek(0, -1).code() == Code::invalid_argument);
    CHECK(resumed.epoch() == run.epoch());
    CHECK(resumed.position() == run.position());
  }
}

TEST_CASE("batcher: dynamic binarization gives 0/1 with mean pixel/255, fresh every batch") {
  constexpr uint8_t kLevels[] = {0, 51, 128, 200, 255};
  constexpr int kSide = 16, kSteps = 100;
  for (uint8_t level : kLevels) {
    // Several identical images, batch 1: consecutive steps within an epoch show the same
    // grey image, so their binarizations must still differ.
    std::vector<uint8_t> pixels(4 * kSide * kSide, level);
    data::Dataset d;
    d.pixels = pixels.data();
    d.count = 4;
    d.rows = d.cols = kSide;
    Memory m(1 << 12);
    data::Batcher b;
    REQUIRE(b.init(&m.arena, d, 1, 77, data::Pixels::binarized).is_ok());
    std::vector<float> x(b.x_floats()), previous(b.x_floats(), -1.0f);
    int32_t label = -1;
    double sum = 0;
    int repeats = 0, not_binary = 0;
    for (int step = 0; step < kSteps; ++step) {
      b.next(x.data(), &label);
      for (float v : x) not_binary += v != 0.0f && v != 1.0f, sum += v;
      repeats += x == previous;
      previous = x;
    }
    CHECK(label == 0);  // an unlabelled set gives label 0
    CHECK(not_binary == 0);
    const double p = level / 255.0, n = double(kSteps) * kSide * kSide;
    CHECK(std::fabs(sum / n - p) <= 4 * std::sqrt(p * (1 - p) / n));  // exact for 0 and 255
    if (level != 0 && level != 255) CHECK(repeats == 0);
  }
}

TEST_CASE("batcher: next() allocates nothing, across epoch boundaries, in every mode") {
  if (!counter::available()) return;
  Synthetic s(50, 28, pixel_is_index);
  Memory m(1 << 16);
  data::Batcher grey, binary;
  REQUIRE(grey.init(&m.arena, s.d, 16, 1).is_ok());
  REQUIRE(binary.init(&m.arena, s.d, 16, 1, data::Pixels::binarized).is_ok());
  data::PointBatcher points;
  data::PointSet p;
  REQUIRE(make_rings(&m.arena, 40, 1, &p).is_ok());
  REQUIRE(points.init(&m.arena, p, 8, 1).is_ok());
  std::vector<float> x(grey.x_floats()), xy(16);
  std::vector<int32_t> labels(16);
  counter::start();
  for (int step = 0; step < 20; ++step) {
    grey.next(x.data(), labels.data());
    binary.next(x.data(), labels.data());
    points.next(xy.data(), labels.data());
  }
  const bool seeked = grey.seek(5, 1).is_ok();
  grey.next(x.data(), nullptr);
  const size_t allocations = counter::stop();
  CHECK(seeked);
  CHECK(allocations == 0);
}

TEST_CASE("batcher: bad arguments and a too-small arena fail and leave the arena unchanged") {
  Synthetic s(1000, 4, pixel_is_index);
  Memory m(1 << 12);  // 1000 indices need 4000 bytes; the arena has at most 4096 - 512
  void* taken = nullptr;
  REQUIRE(m.arena.alloc(512, &taken).is_ok());
  const size_t used = m.arena.used();
  data::Batcher b;
  const Status small = b.init(&m.arena, s.d, 10, 1);
  CHECK(small.code() == Code::out_of_memory);
  CHECK(std::string(small.message()).find("batcher") != std::string::npos);
  CHECK(b.init(&m.arena, s.d, 0, 1).code() == Code::invalid_argument);
  CHECK(b.init(&m.arena, s.d, 1001, 1).code() == Code::invalid_argument);
  data::Dataset empty;
  CHECK(b.init(&m.arena, empty, 1, 1).code() == Code::invalid_argument);
  CHECK(b.seek(0, 0).code() == Code::invalid_argument);  // never initialised
  CHECK(m.arena.used() == used);
  CHECK(b.steps_per_epoch() == 0);
  data::PointBatcher pb;
  CHECK(pb.init(&m.arena, data::PointSet(), 1, 1).code() == Code::invalid_argument);
  CHECK(m.arena.used() == used);
}

TEST_CASE("fill_range and gather: evaluation batches in order, the last one partial") {
  Synthetic s(23, 2, pixel_is_index);
  constexpr int kBatch = 10;
  std::vector<float> x(kBatch * 4, -1.0f);
  std::vector<int32_t> labels(kBatch, -1);
  int seen = 0;
  for (int first = 0; first < s.d.count; first += kBatch) {
    const int valid = fill_range(s.d, first, kBatch, x.data(), labels.data());
    CHECK(valid == std::min(kBatch, s.d.count - first));
    for (int r = 0; r < kBatch; ++r) {
      if (r < valid) {
        CHECK(index_of(&x[r * 4]) == first + r);
        CHECK(labels[r] == (first + r) % 3);
        ++seen;
      } else {
        CHECK(x[r * 4] == 0.0f);
        CHECK(x[r * 4 + 3] == 0.0f);
        CHECK(labels[r] == 0);
      }
    }
  }
  CHECK(seen == s.d.count);
  CHECK(fill_range(s.d, 23, kBatch, x.data(), nullptr) == 0);
  CHECK(fill_range(s.d, -3, kBatch, x.data(), nullptr) == 0);
  CHECK(fill_range(s.d, 2147483600, kBatch, x.data(), nullptr) == 0);

  const int32_t picks[3] = {22, 0, 7};
  REQUIRE(gather(s.d, picks, 3, x.data(), labels.data()).is_ok());
  CHECK(index_of(&x[0]) == 22);
  CHECK(index_of(&x[4]) == 0);
  CHECK(index_of(&x[8]) == 7);
  CHECK(labels[0] == 22 % 3);
  const int32_t bad[2] = {1, 23};
  std::vector<float> before = x;
  const Status s_bad = gather(s.d, bad, 2, x.data(), labels.data());
  CHECK(s_bad.code() == Code::invalid_argument);
  CHECK(std::string(s_bad.message()).find("23") != std::string::npos);
  CHECK(x == before);
}

TEST_CASE("point batcher: shuffled (x, y) batches cover the set once per epoch, modes follow") {
  Memory m(1 << 16);
  data::PointSet p;
  REQUIRE(make_rings(&m.arena, 64, 2, &p).is_ok());
  data::PointBatcher b;
  REQUIRE(b.init(&m.arena, p, 16, 4).is_ok());
  CHECK(b.steps_per_epoch() == 4);
  std::vector<float> xy(32);
  std::vector<int32_t> modes(16);
  std::vector<std::pair<float, float>> seen, first_epoch;
  for (int e = 0; e < 2; ++e) {
    seen.clear();
    for (int step = 0; step < 4; ++step) {
      b.next(xy.data(), modes.data());
      for (int r = 0; r < 16; ++r) {
        seen.emplace_back(xy[2 * r], xy[2 * r + 1]);
        CHECK(data::rings_nearest_mode(xy[2 * r], xy[2 * r + 1], nullptr) == modes[r]);
      }
    }
    if (e == 0) first_epoch = seen;
    std::vector<std::pair<float, float>> all;
    for (int i = 0; i < 64; ++i) all.emplace_back(p.xy[2 * i], p.xy[2 * i + 1]);
    std::vector<std::pair<float, float>> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    std::sort(all.begin(), all.end());
    CHECK(sorted == all);
  }
  CHECK(seen != first_epoch);
}

TEST_CASE("sprites: rotation turns the shape counter-clockwise, position moves it right and down") {
  // The heart at rotation 0 has its lobes up and its tip down; a quarter turn
  // counter-clockwise points the tip right, so the lobes are on the left.
  uint8_t p[784];
  auto balance = [&](int axis) {  // mass after the centre minus mass before it, along axis
    long before = 0, after = 0;
    for (int r = 0; r < 28; ++r)
      for (int c = 0; c < 28; ++c) (((axis == 0 ? c : r) < 14) ? before : after) += p[r * 28 + c];
    return after - before;
  };
  const float upright[4] = {0.5f, 0.5f, 1.0f, 0.0f}, quarter[4] = {0.5f, 0.5f, 1.0f, 0.25f};
  data::render_sprite(data::kHeart, upright, p);
  CHECK(balance(1) < 0);  // more mass in the top half (rows grow down)
  data::render_sprite(data::kHeart, quarter, p);
  CHECK(balance(0) < 0);  // more mass in the left half
  CHECK(data::sprite_geometry(data::kHeart, quarter).degrees == doctest::Approx(90.0f));
  // x = 0 touches the left margin, x = 1 the right; y = 0 the top.
  const float left_top[4] = {0.0f, 0.0f, 0.5f, 0.0f}, right_bottom[4] = {1.0f, 1.0f, 0.5f, 0.0f};
  render_sprite(data::kSquare, left_top, p);
  CHECK(balance(0) < 0);
  CHECK(balance(1) < 0);
  render_sprite(data::kSquare, right_bottom, p);
  CHECK(balance(0) > 0);
  CHECK(balance(1) > 0);
  // Rotation is periodic with the symmetry: the square at 0 and at 1 (90 deg) coincide.
  uint8_t q[784];
  const float turned[4] = {0.3f, 0.6f, 0.4f, 1.0f}, plain[4] = {0.3f, 0.6f, 0.4f, 0.0f};
  data::render_sprite(data::kSquare, turned, p);
  data::render_sprite(data::kSquare, plain, q);
  int differ = 0;
  for (int k = 0; k < 784; ++k) differ += std::abs(p[k] - q[k]) > 16;
  CHECK(differ == 0);
}
