// Train a VAE on the built-in sprites with the library API, then sample from it.
//
//   build/example-train-and-sample [out.png]
//
// One memory block for everything: sized by the dry run, allocated once, never grown.
#include <cstdio>
#include <memory>

#include "platform/context.h"
#include "io/image.h"
#include "io/png.h"
#include "models/ae-model.h"
#include "data/batcher.h"
#include "data/sprites.h"

using namespace ember;

int main(int argc, char** argv) {
  const char* out = argc > 1 ? argv[1] : "vae-samples.png";
  constexpr int kImages = 20000, kSteps = 1500, kSamples = 16;
  constexpr size_t kScratchBytes = 1 << 20;

  // 1. Describe the model and ask what it needs. The dry run builds the graphs' tables in a
  // scratch arena and gives it back (this VAE's need a few KB; the block is reused below).
  models::AeModel vae;  // small: its graphs will live in the arena
  models::AeModel::Setup setup;
  setup.config.kind = models::ModelKind::vae;  // 784-400-20, Bernoulli decoder
  setup.batch = 64;
  size_t setup_bytes = 0;
  Context::Options threads;                    // one per core
  Status s = vae.configure(setup);
  {
    std::unique_ptr<uint8_t[]> scratch_block(new uint8_t[kScratchBytes]);
    Arena scratch(scratch_block.get(), kScratchBytes);
    if (s.is_ok()) s = vae.bytes_needed(threads.threads, &scratch, &setup_bytes);  // context + model
  }
  const size_t data_bytes = size_t(kImages) * (28 * 28 + 1) + sizeof(int32_t) * kImages;
  const size_t batch_bytes = sizeof(float) * setup.batch * 784 + sizeof(float) * kSamples * (784 + 20);
  const size_t total = setup_bytes + data_bytes + batch_bytes + 64 * 1024;

  // 2. The one block; everything below comes out of it.
  std::unique_ptr<uint8_t[]> block(new uint8_t[total]);
  Arena arena(block.get(), total);
  Context ctx;
  models::Dataset sprites;
  models::Batcher batches;
  float *x = nullptr, *z = nullptr, *images = nullptr;
  if (s.is_ok()) s = ctx.init(&arena, threads);
  if (s.is_ok()) s = models::make_sprites(&arena, kImages, /*seed=*/1, &sprites, nullptr);
  if (s.is_ok()) s = vae.init(&arena, &ctx);
  if (s.is_ok()) s = batches.init(&arena, sprites, setup.batch, /*seed=*/1);
  if (s.is_ok()) s = arena.alloc_array(batches.x_floats(), &x);
  if (s.is_ok()) s = arena.alloc_array(size_t(kSamples) * 20, &z);
  if (s.is_ok()) s = arena.alloc_array(size_t(kSamples) * 784, &images);
  if (!s.is_ok()) return std::fprintf(stderr, "set-up: %s\n", s.message()), 1;
  std::printf("arena: %zu of %zu bytes used\n", arena.used(), arena.capacity());

  // 3. Train: no allocation from here on.
  models::StepLoss loss;
  for (int step = 1; step <= kSteps && s.is_ok(); ++step) {
    batches.next(x, nullptr);
    s = vae.train_step(x, &loss);
    if (step % 250 == 0) std::printf("step %4d  loss %.2f (recon %.2f + kl %.2f)\n", step, loss.loss, loss.recon, loss.kl);
  }

  // 4. Sample: z ~ N(0, I), decode, draw a 4x4 grid.
  Rng rng(7);
  rng.fill_normal(z, size_t(kSamples) * 20, 0.0f, 1.0f);
  if (s.is_ok()) s = vae.decode(z, kSamples, images);
  GridSpec spec;
  spec.cell_w = spec.cell_h = 28, spec.rows = spec.cols = 4, spec.scale = 2;
  GridLayout layout;
  Image canvas;
  uint8_t* pixels = nullptr;
  if (s.is_ok()) s = make_grid_layout(spec, &layout);
  if (s.is_ok()) s = arena.alloc_array(image_bytes(layout.width, layout.height, 1), &pixels);
  if (s.is_ok()) s = grid_canvas(layout, 1, pixels, image_bytes(layout.width, layout.height, 1), &canvas);
  for (int i = 0; i < kSamples && s.is_ok(); ++i) s = put_cell(canvas, layout, i / 4, i % 4, images + i * 784, 28, 28, 0, 1);
  if (s.is_ok()) s = png_write(out, canvas.px, canvas.w, canvas.h, 1);
  if (!s.is_ok()) return std::fprintf(stderr, "%s\n", s.message()), 1;
  std::printf("wrote %s\n", out);
  return 0;
}
