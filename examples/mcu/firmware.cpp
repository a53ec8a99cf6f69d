// Sampling on a microcontroller: a sampler file (`ember export`: a VAE's decoder or a GAN's
// generator) compiled into the firmware as a constant array, set up in one static buffer,
// drawing kSamples samples from a fixed seed, printed as ASCII art over semihosting. No file
// system, no heap, no threads: the library's memory loaders only (nn::CheckpointRef::memory).
//
// The samples and the art are those of `example-sample-on-device FILE --n N --seed 1 --digest --in-place`
// on the same file (it draws them the same way, and prints with the same examples/api/
// ascii-art.h), so CI compares the two: the art, the hash (equal: bit for bit) and each
// sample's pixel sum (close: the same samples up to another libm's last bits).
//
// Built by examples/mcu/build.sh, which generates the sampler's header (SAMPLER_HEADER, the
// array SAMPLER_NAME) and sizes the buffer from the model's dry run (EMBER_MCU_ARENA bytes).
#include <cstdint>
#include <type_traits>

#include SAMPLER_HEADER
#include "examples/api/ascii-art.h"
#include "examples/mcu/semihosting.h"
#include "models/ae-model.h"
#include "models/gan-model.h"
#include "models/gan-sampling.h"

using namespace ember;

namespace {

#ifndef EMBER_MCU_SAMPLES
#define EMBER_MCU_SAMPLES 4
#endif
constexpr int kSamples = EMBER_MCU_SAMPLES;
constexpr uint64_t kSeed = 1;

alignas(Arena::kAlign) uint8_t g_arena[EMBER_MCU_ARENA];

// Either model; only the one the file holds is set up (each a few KB: graphs live in g_arena).
models::AeModel g_vae;
models::GanModel g_gan;

mcu::Line& out() {
  static mcu::Line line;
  return line;
}

int fail(const char* what, const Status& s) {
  out().text("firmware: ").text(what).text(": ").text(s.message()).text("\n").flush();
  return 1;
}

template <class Model, class Config>
Status set_up(Model* model, const Config& config, const nn::CheckpointRef& file, Arena* arena, Context* ctx) {
  typename Model::Setup setup;
  setup.config = config, setup.training = false, setup.eval_batch = 1;
  setup.int8_in_place = true;  // int8 weights stay in flash (SAMPLER_NAME): RAM holds the plan only
  if constexpr (std::is_same_v<Model, models::GanModel>) setup.generator_only = true;
  else setup.decoder_only = true;
  EMBER_TRY(model->configure(setup));
  EMBER_TRY(model->init(arena, ctx));
  uint64_t step = 0;
  return model->load(file, &step);
}

}  // namespace

int main() {
  const nn::CheckpointRef file = nn::CheckpointRef::memory(SAMPLER_NAME, sizeof SAMPLER_NAME);
  Arena arena(g_arena, sizeof g_arena);
  Context ctx;
  Context::Options one;
  one.threads = 1;
  Status s = ctx.init(&arena, one);
  if (!s.is_ok()) return fail("context", s);

  models::AeConfig vae;
  models::GanConfig gan;
  const bool is_vae = models::AeModel::read_config(file, &vae).is_ok();
  if (!is_vae) {
    s = models::GanModel::read_config(file, &gan);
    if (!s.is_ok()) return fail("the sampler is neither a VAE nor a GAN", s);
  }
  s = is_vae ? set_up(&g_vae, vae, file, &arena, &ctx) : set_up(&g_gan, gan, file, &arena, &ctx);
  if (!s.is_ok()) return fail("set-up", s);
  const int z_dim = is_vae ? vae.latent : gan.z_dim, rows = is_vae ? vae.rows : gan.rows;
  const int cols = is_vae ? vae.cols : gan.cols, classes = !is_vae && gan.cond ? gan.classes : 0;
  const size_t pixels = size_t(kSamples) * rows * cols;

  float *z = nullptr, *images = nullptr;
  int32_t* labels = nullptr;
  s = arena.alloc_array(size_t(kSamples) * z_dim, &z);
  if (s.is_ok()) s = arena.alloc_array(size_t(kSamples), &labels);
  if (s.is_ok()) s = arena.alloc_array(pixels, &images);
  if (!s.is_ok()) return fail("samples", s);
  // As sample-on-device: z ~ N(0, I) from the seed, a conditional GAN's classes in turn.
  const art::Grid grid(kSamples, classes);
  Rng rng(kSeed);
  rng.fill_normal(z, size_t(kSamples) * z_dim, 0.0f, 1.0f);
  for (int i = 0; i < kSamples; ++i) labels[i] = grid.by_class ? i % grid.rows : 0;
  s = is_vae ? g_vae.decode(z, kSamples, images) : g_gan.generate(z, labels, kSamples, images);
  if (!s.is_ok()) return fail("sampling", s);
  if (!is_vae) models::to_unit_pixels(images, pixels);

  // What `example-sample-on-device FILE --n kSamples --seed kSeed --digest` prints.
  art::print(images, kSamples, rows, cols, grid, [](char c) { out().ch(c); }, [] { out().flush(); });
  out().text("hash: ").hex32(art::hash(images, pixels)).text("\n").flush();
  for (int i = 0; i < kSamples; ++i) {
    const int64_t sum = art::sum_millionths(images + size_t(i) * rows * cols, size_t(rows) * cols);
    out().text("sum ").number(uint64_t(i)).text(": ");
    if (sum < 0) out().ch('-');
    out().number(uint64_t(sum < 0 ? -sum : sum)).text("\n").flush();
  }
  out().text("arena: ").number(arena.used()).text(" of ").number(sizeof g_arena).text(" bytes\n").flush();
  return 0;
}
