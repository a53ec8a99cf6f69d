// Shared by the GAN tests: small real data (rings points or sprites in [-1, 1]), a model
// set up from config text, and whole-group state snapshots for bit-exact comparisons.
#pragma once
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "models/config-text.h"
#include "models/gan-model.h"
#include "data/rings.h"
#include "data/sprites.h"
#include "tests/model-fixture.h"
#include "tests/testing.h"

namespace ember::testing::gan {

using models::GanConfig;
using models::GanData;
using models::GanModel;

// ---- data -----------------------------------------------------------------------------------
struct Data {
  std::vector<float> x;      // rows of dims values, in the generator's range
  std::vector<int32_t> labels;
};

inline Data rings(int n, uint64_t seed) {
  std::vector<uint8_t> buf(size_t(n) * 16 + 4096);
  Arena arena(buf.data(), buf.size());
  data::PointSet ps;
  REQUIRE(data::make_rings(&arena, n, seed, &ps).is_ok());
  Data d;
  d.x.assign(ps.xy, ps.xy + size_t(n) * 2);
  d.labels.assign(ps.mode, ps.mode + n);
  return d;
}

inline Data sprites(int n, uint64_t seed) {
  Data d;
  d.x = ember::testing::sprite_pixels(n, seed, &d.labels);
  models::to_signed_pixels(d.x.data(), d.x.size());
  return d;
}

using Fixture = ember::testing::ModelFixture<GanModel>;

inline GanModel::Setup setup(const char* text, int batch = 8, uint64_t seed = 1) {
  GanModel::Setup s;
  s.config = GanConfig();
  const Status st = models::for_each_pair(text, [&s](const char* k, const char* v) { return s.config.set(k, v); });
  REQUIRE_MESSAGE(st.is_ok(), st.message());
  REQUIRE(s.config.validate().is_ok());
  s.batch = batch;
  s.eval_batch = 5;
  s.seed = seed;
  s.lr = 1e-3f;
  return s;
}

inline Data data_for(const GanConfig& c, int n, uint64_t seed) {
  return c.data == GanData::points ? rings(n, seed) : sprites(n, seed);
}

// Step k's real rows (and labels), cycling through the data.
struct Feed {
  const Data& d;
  int rows, dims;
  int batches() const { return static_cast<int>(d.labels.size()) / rows; }
  const float* x(int k) const { return &d.x[size_t(k % batches()) * rows * dims]; }
  const int32_t* labels(int k) const { return &d.labels[size_t(k % batches()) * rows]; }
};

// Every parameter array of a group (values, and Adam moments when moments), concatenated.
inline std::vector<float> group_state(GanModel& m, uint8_t group, bool trainable_only, bool moments) {
  std::vector<float> out;
  nn::Params& p = m.params();
  for (int i = 0; i < p.count(); ++i) {
    if (p[i].group != group || (trainable_only && !p[i].trainable)) continue;
    out.insert(out.end(), p[i].value, p[i].value + p[i].numel());
    if (moments && p[i].m) out.insert(out.end(), p[i].m, p[i].m + p[i].numel());
    if (moments && p[i].v) out.insert(out.end(), p[i].v, p[i].v + p[i].numel());
  }
  return out;
}

inline bool bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace ember::testing::gan
