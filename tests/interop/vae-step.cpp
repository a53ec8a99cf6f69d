// One VAE training step through the library, for tests/interop/parity.py to redo in PyTorch.
//
//   build/interop-vae-step MODEL.ember BATCH.npy EPS_OUT.npy
//
// Loads MODEL in training mode, runs train_step on BATCH ([B, pixels] or [B, 1, rows, cols] in
// [0, 1]) and prints "loss recon kl" (per image, batch means). The reparameterisation draws its
// eps from the model's noise stream in one fill_normal(eps, B * latent, 0, 1) call before
// anything else in the step (nn/op-pointwise.cpp reparam_forward, the only draw of the
// forward), so a copy of the stream taken just before the step replays it: that copy's draw is
// written to EPS_OUT, the same eps the step used, for PyTorch to take instead of drawing.
#include <cstdio>
#include <memory>
#include <vector>

#include "core/arena.h"
#include "core/rng.h"
#include "io/npy.h"
#include "models/ae-model.h"
#include "platform/context.h"

using namespace ember;

namespace {

int fail(const Status& s) {
  std::fprintf(stderr, "interop-vae-step: %s\n", s.message());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: interop-vae-step MODEL.ember BATCH.npy EPS_OUT.npy\n");
    return 2;
  }
  const char *model_path = argv[1], *batch_path = argv[2], *eps_path = argv[3];
  models::AeModel::Setup setup;
  Status s = models::AeModel::read_config(model_path, &setup.config);
  if (!s.is_ok()) return fail(s);
  const int pixels = setup.config.pixels(), latent = setup.config.latent;

  NpyArray info;
  s = npy_read_info(batch_path, &info);
  if (!s.is_ok()) return fail(s);
  if (info.rank < 1 || info.dims[0] < 1 || info.numel % info.dims[0] || info.numel / info.dims[0] != uint64_t(pixels))
    return fail(Status::error(Code::invalid_argument, "%s: want [batch, %d] values", batch_path, pixels));
  const int batch = static_cast<int>(info.dims[0]);
  std::vector<float> x(info.numel);
  s = npy_load(batch_path, x.data(), x.size());
  if (!s.is_ok()) return fail(s);

  // The model in training mode, one thread (the step's sums then have one fixed order).
  setup.batch = batch;
  setup.eval_batch = batch;
  setup.training = true;
  models::AeModel model;
  s = model.configure(setup);
  constexpr size_t kScratch = 1u << 20;
  std::unique_ptr<uint8_t[]> scratch_block(new uint8_t[kScratch]);
  Arena scratch(scratch_block.get(), kScratch);
  size_t bytes = 0;
  if (s.is_ok()) s = model.bytes_needed(1, &scratch, &bytes);
  if (!s.is_ok()) return fail(s);
  std::unique_ptr<uint8_t[]> block(new uint8_t[bytes]);
  Arena arena(block.get(), bytes);
  Context ctx;
  Context::Options threads;
  threads.threads = 1;
  s = ctx.init(&arena, threads);
  if (s.is_ok()) s = model.init(&arena, &ctx);
  uint64_t step = 0;
  if (s.is_ok()) s = model.load(model_path, &step);
  if (!s.is_ok()) return fail(s);

  const Rng replay = model.noise();  // the stream as the step will find it
  models::StepLoss loss;
  s = model.train_step(x.data(), &loss);
  if (!s.is_ok()) return fail(s);
  Rng r = replay;
  std::vector<float> eps(size_t(batch) * latent);
  r.fill_normal(eps.data(), eps.size(), 0.0f, 1.0f);
  const uint64_t dims[2] = {uint64_t(batch), uint64_t(latent)};
  s = npy_save(eps_path, dims, 2, eps.data());
  if (!s.is_ok()) return fail(s);
  std::printf("%.9g %.9g %.9g\n", loss.loss, loss.recon, loss.kl);
  return 0;
}
