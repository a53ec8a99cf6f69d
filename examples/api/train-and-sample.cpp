// Train a VAE on the built-in sprites through the library's trainer, then sample from it.
//
//   build/example-train-and-sample [out.png]      (also writes out.ember and out.log.csv)
//
// One memory block for everything: sized by the dry run, allocated once, never grown.
#include <cstdio>
#include <memory>
#include <string>

// The library's headers, or the amalgamation's one header when it is on the include path
// (make amalgamate, then: g++ -std=c++17 -O2 -I dist THIS_FILE.cpp dist/ember.cpp).
#if __has_include("ember.h")
#include "ember.h"
#else
#include "io/image.h"
#include "io/png.h"
#include "platform/context.h"
#include "train/ae-trainee.h"
#endif

using namespace ember;

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : "vae-samples.png";
  const std::string checkpoint = out.substr(0, out.rfind('.')) + ".ember";
  constexpr int kSamples = 16, kLatent = 20, kPixels = 784;

  // 1. Describe the model, its data and the run; ask what they need (no memory taken yet).
  train::AeTrainee vae;  // small: its graph tables go in the arena
  train::AeTrainee::Setup setup;
  setup.model.config.kind = models::ModelKind::vae;  // 784-400-20, Bernoulli decoder
  setup.model.batch = 64;
  setup.data.source = "sprites", setup.data.sprites_train = 20000, setup.data.sprites_test = 1000;
  Status s = vae.configure(setup);
  train::TrainOptions run;
  run.epochs = 5;
  run.schedule.lr = setup.model.lr;
  run.out = checkpoint.c_str();
  run.replace = true;  // a demo: every run starts over (without this, an existing file is refused)
  train::Trainer trainer;
  Context::Options threads;
  size_t train_bytes = 0;
  std::unique_ptr<uint8_t[]> scratch_block(new uint8_t[1u << 20]);  // lent to the dry run, then freed
  Arena scratch(scratch_block.get(), 1u << 20);
  if (s.is_ok()) s = trainer.configure(&vae, run);
  if (s.is_ok()) s = trainer.bytes_needed(1, &scratch, &train_bytes);  // the Context's share included
  scratch_block.reset();
  const size_t sample_bytes = sizeof(float) * kSamples * (kPixels + kLatent) + 64 * 1024;  // z, images, the PNG canvas
  const size_t total = train_bytes + sample_bytes;

  // 2. The one block; everything below comes out of it.
  std::unique_ptr<uint8_t[]> block(new uint8_t[total]);
  Arena arena(block.get(), total);
  Context ctx;
  if (s.is_ok()) s = ctx.init(&arena, threads);
  if (s.is_ok()) s = trainer.init(&arena, &ctx);  // weights, data, batches, the log
  if (!s.is_ok()) return std::fprintf(stderr, "set-up: %s\n", s.message()), 1;
  std::printf("arena: %zu of %zu bytes used\n", arena.used(), arena.capacity());

  // 3. Train: no allocation from here on; a checkpoint and a log line after every epoch.
  train::TrainObserver show;
  show.on_epoch = [](void*, const train::EpochReport& r, const train::History&, Arena*) {
    std::printf("epoch %d  train loss %.2f  test loss %.2f\n", r.epoch, r.row[2], r.row[3]);
    return Status::ok();
  };
  s = trainer.run(show);
  if (!s.is_ok()) return std::fprintf(stderr, "training: %s\n", s.message()), 1;

  // 4. Sample: z ~ N(0, I), decode, draw a 4x4 grid.
  float *z = nullptr, *images = nullptr;
  if (s.is_ok()) s = arena.alloc_array(size_t(kSamples) * kLatent, &z);
  if (s.is_ok()) s = arena.alloc_array(size_t(kSamples) * kPixels, &images);
  Rng rng(7);
  if (s.is_ok()) rng.fill_normal(z, size_t(kSamples) * kLatent, 0.0f, 1.0f);
  if (s.is_ok()) s = vae.model().decode(z, kSamples, images);
  GridSpec spec;
  spec.cell_w = spec.cell_h = 28, spec.rows = spec.cols = 4, spec.scale = 2;
  GridLayout layout;
  Image canvas;
  uint8_t* pixels = nullptr;
  if (s.is_ok()) s = make_grid_layout(spec, &layout);
  if (s.is_ok()) s = arena.alloc_array(image_bytes(layout.width, layout.height, 1), &pixels);
  if (s.is_ok()) s = grid_canvas(layout, 1, pixels, image_bytes(layout.width, layout.height, 1), &canvas);
  for (int i = 0; i < kSamples && s.is_ok(); ++i)
    s = put_cell(canvas, layout, i / 4, i % 4, images + i * kPixels, 28, 28, 0, 1);
  if (s.is_ok()) s = png_write(out.c_str(), canvas.px, canvas.w, canvas.h, 1);
  if (!s.is_ok()) return std::fprintf(stderr, "%s\n", s.message()), 1;
  std::printf("wrote %s and %s\n", out.c_str(), checkpoint.c_str());
  return 0;
}
