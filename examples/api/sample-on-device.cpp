// On-device sampling: a trained generator — a VAE's decoder or a GAN's generator — loaded from
// its checkpoint into one static buffer with an inference-only plan (values only: no
// gradients, no Adam state, and only the generator's weights: no discriminator, no encoder),
// drawing samples as a PNG grid and/or as ASCII art for a board
// with a serial console and no display.
//
//   example-sample-on-device MODEL.ember [--n N] [--seed S] [--label L] [--png OUT.png] [--ascii] [--digest]
//                            [--in-place]
//
// --in-place: the file is read into the top of the buffer, where a board's flash would hold
// it, and loaded from there; int8 weights (ember export --weights int8) are then read in place,
// not copied (what examples/mcu/ does). "needs" counts the rest, the RAM a board needs.
//
// No heap: the model objects are small locals, and everything else — context, graph tables,
// weights, plan, noise, samples, canvas, encoded PNG — is carved out of one static buffer,
// sized up front by the model's dry run (made in that same buffer before it is used; too
// small: the program says by how much). The checkpoint's config text decides what is
// built: read as a VAE, else as a GAN. A conditional GAN draws class L for every sample with
// --label L, else the samples cycle through the classes, one grid row per class. The art goes
// to stdout (one character per pixel, a grid row's samples side by side, then a blank line),
// everything else to stderr. Without --png, --ascii is implied.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "ascii-art.h"
// The library's headers, or the amalgamation's one header when it is on the include path
// (make amalgamate, then: g++ -std=c++17 -O2 -I dist THIS_FILE.cpp dist/ember.cpp).
#if __has_include("ember.h")
#include "ember.h"
#else
#include "platform/context.h"
#include "io/image.h"
#include "io/png.h"
#include "models/ae-model.h"
#include "models/gan-model.h"
#include "io/file.h"
#endif

using namespace ember;
using art::Grid;

namespace {
constexpr size_t kBufferBytes = 8u << 20;  // the device's whole budget for ember (an --info 50 DCGAN needs 5.5 MB)
constexpr int kDefaultSamples = 16, kMaxSamples = 4096;
constexpr int kEvalBatch = 1;              // one sample per generator call: the smallest plan
constexpr int kPngScale = 2;               // each pixel a 2x2 block in the PNG
alignas(Arena::kAlign) uint8_t g_buffer[kBufferBytes];

// The checkpoint decides which of the two is used (each a few KB: the graphs live in g_buffer).
struct Models {
  models::AeModel vae;
  models::GanModel gan;
};

struct Options {
  const char *model = nullptr, *png = nullptr;
  long long n = kDefaultSamples, seed = 1, label = -1;
  bool ascii = false, digest = false, in_place = false;
};

// What the checkpoint holds: a VAE, or a GAN on images (conditional: classes > 0).
struct Generator {
  bool gan = false;
  int z_dim = 0, rows = 0, cols = 0, classes = 0;
  size_t bytes = 0;  // arena bytes the context and the model take
};

// Configures the model and sizes its set-up (the context's share included) with a dry run
// in the static buffer, which it leaves as it was.
template <class Model, class Config>
Status configure(Model* model, const Config& config, size_t ram, bool in_place, size_t* bytes) {
  typename Model::Setup setup;
  setup.config = config, setup.training = false, setup.eval_batch = kEvalBatch;
  setup.int8_in_place = in_place;
  // Only what draws samples: no D, no encoder, no averaged copies (the file's averages are
  // loaded as G's own weights).
  if constexpr (std::is_same_v<Model, models::GanModel>) setup.generator_only = true;
  else setup.decoder_only = true;
  EMBER_TRY(model->configure(setup));
  Arena scratch(g_buffer, ram);
  return model->bytes_needed(1, &scratch, bytes);
}

// --in-place: the file's bytes at the top of the buffer; *ram is what is left below them.
Status read_into_flash(const char* path, nn::CheckpointRef* ref, size_t* ram) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) return Status::error(Code::io_error, "%s: cannot open", path);
  long size = -1;
  if (std::fseek(f, 0, SEEK_END) == 0) size = std::ftell(f);
  const size_t at = size >= 0 && size_t(size) <= kBufferBytes ? (kBufferBytes - size_t(size)) / Arena::kAlign * Arena::kAlign : 0;
  const bool ok = size >= 0 && size_t(size) <= kBufferBytes && std::fseek(f, 0, SEEK_SET) == 0 &&
                  std::fread(g_buffer + at, 1, size_t(size), f) == size_t(size);
  std::fclose(f);
  if (!ok) return Status::error(Code::io_error, "%s: cannot read it into the %zu-byte buffer", path, kBufferBytes);
  *ref = nn::CheckpointRef::memory(g_buffer + at, size_t(size));
  *ram = at;
  return Status::ok();
}

Status open_generator(const nn::CheckpointRef& path, size_t ram, bool in_place, Models* m, Generator* g) {
  models::AeConfig vae;
  models::GanConfig gan;
  const Status as_vae = models::AeModel::read_config(path, &vae);
  if (as_vae.is_ok()) {
    if (vae.kind != models::ModelKind::vae)
      return Status::error(Code::invalid_argument, "%s: a plain autoencoder has no prior to sample from", path.name());
    g->z_dim = vae.latent, g->rows = vae.rows, g->cols = vae.cols;
    return configure(&m->vae, vae, ram, in_place, &g->bytes);
  }
  if (as_vae.code() != Code::invalid_argument || !models::GanModel::read_config(path, &gan).is_ok())
    return as_vae;  // damaged, or neither kind: the VAE reader's message says which
  if (gan.data != models::GanData::images)
    return Status::error(Code::invalid_argument, "%s: a GAN on 2-D points has no pictures to draw", path.name());
  g->gan = true, g->z_dim = gan.z_dim, g->rows = gan.rows, g->cols = gan.cols;
  g->classes = gan.cond ? gan.classes : 0;
  return configure(&m->gan, gan, ram, in_place, &g->bytes);
}

bool parse_args(int argc, char** argv, Options* o) {
  auto number = [](const char* text, long long lo, long long hi, long long* out) {
    char* end = nullptr;
    *out = std::strtoll(text, &end, 10);
    return end != text && !*end && *out >= lo && *out <= hi;
  };
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : nullptr;
    bool ok = true;
    if (!std::strcmp(a, "--ascii")) o->ascii = true;
    else if (!std::strcmp(a, "--digest")) o->digest = o->ascii = true;
    else if (!std::strcmp(a, "--in-place")) o->in_place = true;
    else if (!std::strcmp(a, "--png") && v) o->png = v, ++i;
    else if (!std::strcmp(a, "--n") && v) ok = number(v, 1, kMaxSamples, &o->n), ++i;
    else if (!std::strcmp(a, "--seed") && v) ok = number(v, 0, INT64_MAX, &o->seed), ++i;
    else if (!std::strcmp(a, "--label") && v) ok = number(v, 0, INT32_MAX, &o->label), ++i;
    else if (a[0] != '-' && !o->model) o->model = a;
    else ok = false;
    if (!ok) return std::fprintf(stderr, "sample-on-device: bad argument '%s'%s%s\n", a, v ? " " : "", v ? v : ""), false;
  }
  if (!o->png) o->ascii = true;
  return o->model;
}

// The art, then (--digest) what CI compares with the firmware's (examples/mcu/): the
// samples' hash and each sample's pixel sum in millionths.
void print_ascii(const float* images, int n, const Generator& g, const Grid& grid, bool digest) {
  art::print(images, n, g.rows, g.cols, grid, [](char c) { std::putchar(c); }, [] {});
  if (!digest) return;
  const size_t pixels = size_t(g.rows) * g.cols;
  std::printf("hash: %08x\n", static_cast<unsigned>(art::hash(images, size_t(n) * pixels)));
  for (int i = 0; i < n; ++i)
    std::printf("sum %d: %lld\n", i, static_cast<long long>(art::sum_millionths(images + size_t(i) * pixels, pixels)));
}

Status write_png(const char* path, const float* images, int n, const Generator& g, const Grid& grid,
                 const GridLayout& layout, Arena* arena) {
  const size_t canvas_bytes = image_bytes(layout.width, layout.height, 1);
  const size_t png_cap = png_max_bytes(layout.width, layout.height, 1);
  uint8_t *pixels = nullptr, *png = nullptr;
  size_t png_size = 0;
  Image canvas;
  EMBER_TRY(arena->alloc_array(canvas_bytes, &pixels));
  EMBER_TRY(arena->alloc_array(png_cap, &png));
  EMBER_TRY(grid_canvas(layout, 1, pixels, canvas_bytes, &canvas));
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c)
      if (grid.sample_at(r, c) < n)
        EMBER_TRY(put_cell(canvas, layout, r, c, images + size_t(grid.sample_at(r, c)) * g.rows * g.cols, g.cols, g.rows, 0, 1));
  // The PNG in memory first: a board without a file system would send these bytes instead.
  EMBER_TRY(png_encode(canvas.px, canvas.w, canvas.h, 1, png, png_cap, &png_size));
  AtomicWriter file;
  EMBER_TRY(file.open(path));
  EMBER_TRY(file.write(png, png_size));
  EMBER_TRY(file.commit());
  std::fprintf(stderr, "wrote %s (%d x %d samples, %zu bytes)\n", path, grid.rows, grid.cols, png_size);
  return Status::ok();
}

// Sizes everything, then loads, generates and draws. A too-small buffer is refused up front.
Status sample(const Options& o) {
  Models m;
  Generator g;
  nn::CheckpointRef file = nn::CheckpointRef::file(o.model);
  size_t ram = kBufferBytes;  // the buffer below the file's bytes (--in-place), else all of it
  if (o.in_place) EMBER_TRY(read_into_flash(o.model, &file, &ram));
  EMBER_TRY(open_generator(file, ram, o.in_place, &m, &g));
  if (o.label >= 0 && !g.classes) return Status::error(Code::invalid_argument, "--label: the model is not conditional");
  if (o.label >= g.classes)
    return Status::error(Code::invalid_argument, "--label %lld: the model has classes 0..%d", o.label, g.classes - 1);
  const int n = int(o.n);
  const Grid grid(n, o.label < 0 ? g.classes : 0);
  GridSpec spec;
  spec.cell_w = g.cols, spec.cell_h = g.rows, spec.rows = grid.rows, spec.cols = grid.cols, spec.scale = kPngScale;
  GridLayout layout;
  if (o.png) EMBER_TRY(make_grid_layout(spec, &layout));

  // Everything the buffer must hold, added up before anything is taken from it (in 64 bits:
  // no config a file can hold wraps it around on a 32-bit board).
  Context::Options one_thread;
  one_thread.threads = 1;
  auto rounded = [](uint64_t bytes) { return (bytes + Arena::kAlign - 1) / Arena::kAlign * Arena::kAlign; };
  const uint64_t pixels = uint64_t(n) * g.rows * g.cols;
  uint64_t data = rounded(sizeof(float) * uint64_t(n) * g.z_dim) + rounded(sizeof(int32_t) * uint64_t(n)) +
                  rounded(sizeof(float) * pixels);
  if (o.png)
    data += rounded(image_bytes(layout.width, layout.height, 1)) + rounded(png_max_bytes(layout.width, layout.height, 1));
  const uint64_t need = g.bytes + data;
  std::fprintf(stderr, "%s: %s, %d x %d pixels; needs %llu bytes (context and model %zu, samples %llu), buffer %zu\n",
               o.model, g.gan ? (g.classes ? "a conditional GAN" : "a GAN") : "a VAE", g.rows, g.cols,
               static_cast<unsigned long long>(need), g.bytes, static_cast<unsigned long long>(data), ram);
  if (need > ram)
    return Status::error(Code::out_of_memory, "the static buffer is %llu bytes short: raise kBufferBytes or lower --n",
                         static_cast<unsigned long long>(need - ram));

  Arena arena(g_buffer, ram);
  Context ctx;
  uint64_t step = 0;
  float *z = nullptr, *images = nullptr;
  int32_t* labels = nullptr;
  EMBER_TRY(ctx.init(&arena, one_thread));
  EMBER_TRY(g.gan ? m.gan.init(&arena, &ctx) : m.vae.init(&arena, &ctx));
  EMBER_TRY(g.gan ? m.gan.load(file, &step) : m.vae.load(file, &step));
  EMBER_TRY(arena.alloc_array(size_t(n) * g.z_dim, &z));
  EMBER_TRY(arena.alloc_array(size_t(n), &labels));
  EMBER_TRY(arena.alloc_array(size_t(pixels), &images));

  // z ~ N(0, I) from the seed; a conditional GAN's class per sample; then the generator.
  Rng rng(uint64_t(o.seed));
  rng.fill_normal(z, size_t(n) * g.z_dim, 0.0f, 1.0f);
  for (int i = 0; i < n; ++i) labels[i] = int32_t(o.label >= 0 ? o.label : grid.by_class ? i % grid.rows : 0);
  EMBER_TRY(g.gan ? m.gan.generate(z, labels, n, images) : m.vae.decode(z, n, images));
  if (g.gan) models::to_unit_pixels(images, size_t(pixels));  // tanh's [-1, 1] to [0, 1]

  if (o.ascii) print_ascii(images, n, g, grid, o.digest);
  if (o.png) EMBER_TRY(write_png(o.png, images, n, g, grid, layout, &arena));
  std::fprintf(stderr, "%d samples from %s (trained %llu steps), seed %lld; arena used %zu of %zu bytes\n", n, o.model,
               static_cast<unsigned long long>(step), o.seed, arena.used(), ram);
  return Status::ok();
}
}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, &o))
    return std::fprintf(stderr, "usage: %s MODEL.ember [--n N (1..%d, default %d)] [--seed S] [--label L] "
                        "[--png OUT.png] [--ascii] [--digest] [--in-place]\n", argv[0], kMaxSamples, kDefaultSamples), 2;
  const Status s = sample(o);
  if (!s.is_ok()) return std::fprintf(stderr, "sample-on-device: %s\n", s.message()), 1;
  return 0;
}
