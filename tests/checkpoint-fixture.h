// The checkpoint tests' fixture (test-checkpoint.cpp, test-checkpoint-refusals.cpp): a small
// two-group model with optimizers and RNGs, a snapshot of every byte it owns, and helpers to
// edit a checkpoint's bytes and to expect a refusal that changes nothing.
#pragma once
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "io/crc32.h"
#include "nn/checkpoint.h"
#include "nn/optimizer.h"
#include "nn/params.h"
#include "tests/temp-dir.h"

namespace ember::testing::ckpt {

using namespace ember::nn;

struct TempDir : ember::testing::TempDir {
  TempDir() : ember::testing::TempDir("ckpt") {}
};


inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
// Rewrites the trailing CRC so a deliberately edited file passes the checksum and reaches
// the check under test.
inline void fix_crc(std::vector<uint8_t>& b) {
  const uint32_t c = crc32_update(0, b.data(), b.size() - 4);
  for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = uint8_t(c >> (8 * i));
}
inline void put_u64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = uint8_t(v >> (8 * i));
}

struct Variant {
  int64_t fc1_in = 7;
  bool extra = false;    // one more parameter
  bool missing = false;  // without "d.conv.weight"
  bool bn_trainable = false;
};

// A small two-group model: weights, a bias, a BatchNorm running mean (a state buffer) and a
// 4-D conv weight, with optimizers for both groups.
struct Model {
  std::vector<uint8_t> buf;
  Arena arena;
  Params params;
  Optimizer opts[2];
  Rng rngs[2] = {Rng(11, 1), Rng(12, 2)};
  uint64_t step = 0;

  explicit Model(ParamMode mode, uint64_t seed = 1, Variant v = Variant(),
                 OptimizerConfig cfg = OptimizerConfig::adam(1e-2f))
      : buf(1 << 20, 0xEE), arena(buf.data(), buf.size()), params(&arena) {
    opts[0] = Optimizer(cfg, 0);
    opts[1] = Optimizer(cfg, 1);
    int id;
    InitSpec init;
    params.set_group(0);
    REQUIRE(params.get_or_add("g.fc1.weight", Shape(5, v.fc1_in), init, true, &id).is_ok());
    REQUIRE(params.get_or_add("g.fc1.bias", Shape(5), InitSpec{Init::uniform, 0.5f}, true, &id).is_ok());
    REQUIRE(params.get_or_add("g.bn.running_mean", Shape(5), InitSpec{Init::normal, 1.0f}, v.bn_trainable, &id)
                .is_ok());
    params.set_group(1);
    REQUIRE(params.get_or_add("d.fc.weight", Shape(1, 5), init, true, &id).is_ok());
    if (!v.missing)
      REQUIRE(params.get_or_add("d.conv.weight", Shape(2, 3, 2, 2), init, true, &id).is_ok());
    if (v.extra) REQUIRE(params.get_or_add("d.extra.bias", Shape(3), init, true, &id).is_ok());
    REQUIRE(params.allocate(&arena, mode).is_ok());
    Rng rng(seed);
    params.initialise(&rng);
  }
  // Moments and grads filled with noise, optimizer counters and RNGs moved on: state that a
  // round trip must restore exactly.
  void scramble(uint64_t seed) {
    Rng r(seed);
    for (int i = 0; i < params.count(); ++i) {
      Param& p = params[i];
      r.fill_normal(p.value, p.numel(), 0, 1);
      if (p.m) r.fill_normal(p.m, p.numel(), 0, 1);
      if (p.v) r.fill_uniform(p.v, p.numel(), 0, 1);
    }
    opts[0].set_steps(int64_t(seed) * 7), opts[0].set_lr(0.25f / float(seed));
    opts[1].set_steps(int64_t(seed) * 3 + 1), opts[1].set_lr(0.125f / float(seed));
    for (int k = 0; k < int(seed % 5) + 1; ++k) rngs[0].normal(), rngs[1].next_u32();
    step = seed * 1000 + 7;
  }
  CheckpointState state(bool with_opts = true, bool with_rngs = true) {
    CheckpointState s;
    if (with_opts) s.opts = opts, s.n_opts = 2;
    if (with_rngs) s.rngs = rngs, s.n_rngs = 2;
    s.step = &step;
    return s;
  }
  Status save(const std::string& path) { return save_checkpoint(path.c_str(), params, state()); }
  Status load(const std::string& path) { return load_checkpoint(path.c_str(), &params, state()); }
  std::vector<uint8_t> to_memory() {
    uint64_t n = 0;
    REQUIRE(checkpoint_size(params, state(), &n).is_ok());
    std::vector<uint8_t> out(n);
    size_t written = 0;
    REQUIRE(save_checkpoint_to_memory(out.data(), out.size(), &written, params, state()).is_ok());
    REQUIRE(written == n);
    return out;
  }
};

// Every byte the model owns: the arena (values, grads, moments), the parameter table,
// optimizer counters, RNG states and the step counter.
struct Snapshot {
  std::vector<uint8_t> arena, table;
  int64_t t[2];
  float lr[2];
  Rng::State rng[2];
  uint64_t step;
  explicit Snapshot(const Model& m)
      : arena(m.buf),
        table(reinterpret_cast<const uint8_t*>(&m.params), reinterpret_cast<const uint8_t*>(&m.params) + sizeof m.params),
        step(m.step) {
    for (int i = 0; i < 2; ++i)
      t[i] = m.opts[i].steps(), lr[i] = m.opts[i].config().lr, rng[i] = m.rngs[i].save();
  }
  bool operator==(const Snapshot& o) const {
    for (int i = 0; i < 2; ++i)
      if (t[i] != o.t[i] || std::memcmp(&lr[i], &o.lr[i], 4) != 0 || std::memcmp(&rng[i], &o.rng[i], sizeof rng[i]))
        return false;
    return arena == o.arena && table == o.table && step == o.step;
  }
};

inline bool same_floats(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

inline bool has(const Status& s, const char* text) { return std::strstr(s.message(), text) != nullptr; }

// Loads bytes that must be refused; checks the code, a piece of the message and that the
// model did not change by a single byte. Through a file and through memory.
inline void expect_refused(Model& m, const TempDir& dir, const std::vector<uint8_t>& bytes, Code code, const char* text) {
  const std::string path = dir.file("bad.ckpt");
  write_bytes(path, bytes);
  const Snapshot before(m);
  Status s = m.load(path);
  CHECK_MESSAGE(s.code() == code, std::string(s.message()));
  CHECK_MESSAGE(has(s, text), std::string(s.message()));
  CHECK_MESSAGE(has(s, "bad.ckpt"), std::string(s.message()));
  CHECK(Snapshot(m) == before);
  s = load_checkpoint_from_memory(bytes.data(), bytes.size(), &m.params, m.state());
  CHECK_MESSAGE(s.code() == code, std::string(s.message()));
  CHECK_MESSAGE(has(s, text), std::string(s.message()));
  CHECK(Snapshot(m) == before);
}

}  // namespace ember::testing::ckpt
