// Load a trained VAE (a checkpoint from `ember train --model vae`) into a static buffer
// with an inference-only plan, and print samples as ASCII art — what a board without a
// display or a heap would run.
//
//   build/example-sample-static model.ember [n]
#include <cstdio>
#include <cstdlib>

#include "core/context.h"
#include "models/ae_model.h"

using namespace ember;

namespace {
constexpr size_t kBufferBytes = 8u << 20;   // the device's whole budget for ember
alignas(64) uint8_t g_buffer[kBufferBytes];  // static: no heap anywhere
models::AeModel g_model;
const char kShades[] = " .:-=+*#%@";  // dark to bright

void print_ascii(const float* img, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const float v = img[r * cols + c] < 0 ? 0 : img[r * cols + c] > 1 ? 1 : img[r * cols + c];
      std::putchar(kShades[static_cast<int>(v * (sizeof kShades - 2) + 0.5f)]);
    }
    std::putchar('\n');
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return std::fprintf(stderr, "usage: %s MODEL.ember [n]\n", argv[0]), 2;
  const int n = argc > 2 ? std::atoi(argv[2]) : 2;

  // The checkpoint says what to build; an inference plan needs values only (no gradients,
  // no Adam moments) and a decoder batch of 1.
  models::AeModel::Setup setup;
  Status s = models::AeModel::read_config(argv[1], &setup.config);
  setup.training = false;
  setup.eval_batch = 1;
  size_t need = 0, ctx_need = 0;
  Context::Options one_thread;
  one_thread.threads = 1;
  if (s.is_ok()) s = g_model.configure(setup);
  if (s.is_ok()) s = g_model.bytes_needed(1, &need);
  if (s.is_ok()) s = Context::bytes_needed(one_thread, &ctx_need);
  if (!s.is_ok()) return std::fprintf(stderr, "%s\n", s.message()), 1;
  std::printf("model needs %zu bytes + %zu for the context; buffer has %zu\n", need, ctx_need, kBufferBytes);

  Arena arena(g_buffer, kBufferBytes);
  Context ctx;
  uint64_t step = 0;
  float *z = nullptr, *img = nullptr;
  const int latent = setup.config.latent, pixels = setup.config.pixels();
  s = ctx.init(&arena, one_thread);
  if (s.is_ok()) s = g_model.init(&arena, &ctx);  // a too-small buffer says by how much
  if (s.is_ok()) s = g_model.load(argv[1], &step);
  if (s.is_ok()) s = arena.alloc_array(size_t(latent), &z);
  if (s.is_ok()) s = arena.alloc_array(size_t(pixels), &img);
  if (!s.is_ok()) return std::fprintf(stderr, "%s\n", s.message()), 1;

  Rng rng(1);
  for (int i = 0; i < n && s.is_ok(); ++i) {
    rng.fill_normal(z, size_t(latent), 0.0f, 1.0f);
    s = g_model.decode(z, 1, img);
    if (s.is_ok()) print_ascii(img, setup.config.rows, setup.config.cols), std::putchar('\n');
  }
  if (!s.is_ok()) return std::fprintf(stderr, "%s\n", s.message()), 1;
  std::printf("%d samples from %s (trained %llu steps), arena used %zu bytes\n", n, argv[1],
              static_cast<unsigned long long>(step), arena.used());
  return 0;
}
