// The small model the checkpoint harness loads into, shared with the seed corpus generator
// (make-corpus.cpp) so the seeds are valid checkpoints of exactly this model: two groups, a
// trainable weight and bias, a state buffer (no moments), a 4-D conv weight, an Adam
// optimizer per group and two RNG streams; 1 KiB of parameters in a 64 KiB arena. And a
// sampler with int8 weights (nn/quantize.h): a Linear's [5, 7] per row, a ConvTranspose2d's
// [3, 2, 2, 2] per output channel (axis 1) and a float bias, read in place or copied.
#pragma once
#include <cstring>
#include <vector>

#include "core/arena.h"
#include "core/rng.h"
#include "nn/checkpoint.h"
#include "nn/optimizer.h"
#include "nn/params.h"

namespace ember::fuzz {

struct CheckpointModel {
  std::vector<uint8_t> buf;
  Arena arena;
  nn::Params params;
  nn::Optimizer opts[2];
  Rng rngs[2] = {Rng(11, 1), Rng(12, 2)};
  uint64_t step = 0;
  char meta[128] = {0};
  bool ok = true;

  CheckpointModel() : buf(1 << 16, 0xEE), arena(buf.data(), buf.size()), params(&arena) {
    opts[0] = nn::Optimizer(nn::OptimizerConfig::adam(1e-3f), 0);
    opts[1] = nn::Optimizer(nn::OptimizerConfig::adam(1e-3f), 1);
    int id = 0;
    const nn::InitSpec init;
    params.set_group(0);
    ok &= params.get_or_add("g.fc.weight", Shape(5, 7), init, true, &id).is_ok();
    ok &= params.get_or_add("g.fc.bias", Shape(5), init, true, &id).is_ok();
    ok &= params.get_or_add("g.bn.running_mean", Shape(5), init, false, &id).is_ok();
    params.set_group(1);
    ok &= params.get_or_add("d.conv.weight", Shape(2, 3, 2, 2), init, true, &id).is_ok();
    ok &= params.allocate(&arena, nn::ParamMode::train_adam).is_ok();
    Rng rng(1);
    params.initialise(&rng);
  }
  // For loading: every piece of state, the meta text into `meta`.
  nn::CheckpointState state() {
    nn::CheckpointState s;
    s.opts = opts, s.n_opts = 2;
    s.rngs = rngs, s.n_rngs = 2;
    s.step = &step;
    s.meta_out = meta, s.meta_cap = sizeof meta;
    return s;
  }
};

struct Int8Model {
  std::vector<uint8_t> buf;
  Arena arena;
  nn::Params params;
  bool ok = true;

  explicit Int8Model(bool in_place) : buf(1 << 14, 0xEE), arena(buf.data(), buf.size()), params(&arena) {
    int id = 0;
    const nn::InitSpec init;
    ok &= params.get_or_add("g.fc.weight", Shape(5, 7), init, true, &id).is_ok() && params.set_int8(id, 0).is_ok();
    ok &= params.get_or_add("g.fc.bias", Shape(5), init, true, &id).is_ok();
    ok &= params.get_or_add("g.deconv.weight", Shape(3, 2, 2, 2), init, true, &id).is_ok() &&
          params.set_int8(id, 1).is_ok();
    params.set_int8_in_place(in_place);
    ok &= params.allocate(&arena, nn::ParamMode::inference).is_ok();
    Rng rng(1);
    params.initialise(&rng);
  }
  // Seed values (make-corpus.cpp): every int8 value from -127 to 127 in turn, scales > 0.
  void fill() {
    int v = -127;
    for (int i = 0; i < params.count(); ++i) {
      nn::Param& p = params[i];
      if (p.storage != nn::Storage::int8) {
        for (size_t k = 0; k < p.numel(); ++k) p.value[k] = 0.25f * float(k);
        continue;
      }
      for (size_t k = 0; k < p.numel(); ++k, v = v == 127 ? -127 : v + 1) const_cast<int8_t*>(p.q)[k] = int8_t(v);
      for (int64_t c = 0; c < p.channels(); ++c) p.scale[c] = 0.01f * float(c + 1);
    }
  }
};

}  // namespace ember::fuzz
