// Shared by the model tests: a model (AeModel, GanModel, ...) configured and initialised in
// an arena sized by its own bytes_needed, and the built-in sprites as float pixels.
#pragma once
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/arena.h"
#include "platform/context.h"
#include "data/sprites.h"
#include "models/ae-model.h"
#include "models/gan-model.h"

namespace ember::testing {

// model->bytes_needed (the Context included) with a dry run in a scratch arena.
template <class Model>
Status setup_bytes(Model* model, int threads, size_t* bytes) {
  std::vector<uint8_t> scratch_block(8u << 20);
  Arena scratch(scratch_block.data(), scratch_block.size());
  return model->bytes_needed(threads, &scratch, bytes);
}

template <class Model>
struct ModelFixture {
  std::vector<uint8_t> buf;
  std::unique_ptr<Arena> arena;
  Context ctx;
  std::unique_ptr<Model> model = std::make_unique<Model>();

  explicit ModelFixture(const typename Model::Setup& s, int threads = 1) {
    const Status c = model->configure(s);
    REQUIRE_MESSAGE(c.is_ok(), c.message());
    size_t bytes = 0;
    Context::Options o;
    o.threads = threads;
    const Status b = setup_bytes(model.get(), threads, &bytes);
    REQUIRE_MESSAGE(b.is_ok(), b.message());
    buf.resize(bytes + Arena::kAlign);
    arena = std::make_unique<Arena>(buf.data(), buf.size());
    REQUIRE(ctx.init(arena.get(), o).is_ok());
    const Status s2 = model->init(arena.get(), &ctx);
    REQUIRE_MESSAGE(s2.is_ok(), s2.message());
  }
  Model& operator*() { return *model; }
  Model* operator->() { return model.get(); }
};

// n images of the built-in sprites as floats in [0, 1]; their shapes into *labels if given.
inline std::vector<float> sprite_pixels(int n, uint64_t seed, std::vector<int32_t>* labels = nullptr) {
  const size_t pixels = size_t(data::kSpriteSide) * data::kSpriteSide;
  std::vector<uint8_t> buf(size_t(n) * (pixels + 1) + 4096);
  Arena arena(buf.data(), buf.size());
  data::Dataset d;
  REQUIRE(data::make_sprites(&arena, n, seed, &d, nullptr).is_ok());
  std::vector<float> x(size_t(n) * pixels);
  for (size_t i = 0; i < x.size(); ++i) x[i] = d.pixels[i] / 255.0f;
  if (labels) labels->assign(d.labels, d.labels + n);
  return x;
}

// Small set-ups on 16 x 16 images (sizing and set-up tests).
inline models::AeModel::Setup small_ae(models::ModelKind kind, models::Arch arch, bool training, bool decoder_only = false) {
  models::AeModel::Setup s;
  s.config.kind = kind, s.config.arch = arch;
  s.config.rows = s.config.cols = 16;
  s.config.widths[0] = 32, s.config.latent = 4;
  s.config.conv_channels[0] = 4, s.config.conv_channels[1] = 8;
  s.batch = 8, s.eval_batch = 5;
  s.training = training, s.decoder_only = decoder_only;
  return s;
}

inline models::GanModel::Setup small_gan(models::GanKind kind, bool training, bool generator_only = false) {
  models::GanModel::Setup s;
  s.config.kind = kind;
  s.config.rows = s.config.cols = 16;
  s.config.z_dim = 8;
  s.config.widths[0] = 16, s.config.widths[1] = 16;
  s.config.channels[0] = 4, s.config.channels[1] = 8;
  s.batch = 8, s.eval_batch = 3;
  s.training = training, s.generator_only = generator_only;
  return s;
}

}  // namespace ember::testing
