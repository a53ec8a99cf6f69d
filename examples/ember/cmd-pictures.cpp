// ember sample | reconstruct | interpolate | traverse | latent-map: pictures from a
// trained checkpoint, with an inference-only plan.
#include <cstdio>
#include <string>

#include "examples/ember/cli.h"
#include "examples/ember/commands.h"
#include "examples/ember/gan-commands.h"
#include "examples/ember/model-options.h"
#include "examples/ember/pictures.h"

namespace ember::tool {

namespace {

constexpr int kEvalBatch = 100;
constexpr size_t kPictureBytes = 64u << 20;

const char* model_path(Cli& cli) { return cli.input("--model", "FILE", "checkpoint written by `ember train`", nullptr); }
int threads(Cli& cli) { return cli.integer("--threads", "T", "worker threads (0: one per core)", 1, 0, 256); }

// Loads the model (sampler_only: its decoder alone), and the test set when `data` is set.
Status open(const char* path, int t, const DataSpec* data, LoadedModel* m, data::Dataset* test,
            bool sampler_only = false) {
  size_t dbytes = 0;
  if (data) EMBER_TRY(data_bytes(*data, false, true, &dbytes));
  EMBER_TRY(load_for_inference(path, t, kEvalBatch, dbytes + kPictureBytes, m, sampler_only));
  if (!data) return Status::ok();
  data::Dataset unused;
  EMBER_TRY(load_data(&m->session.arena, *data, false, true, &unused, test));
  return check_image_size(*test, m->model->config().rows, m->model->config().cols, "the model");
}

int done(const char* cmd, const Status& s, const char* out) {
  if (!s.is_ok()) return report(cmd, s);
  std::printf("wrote %s\n", out);
  return 0;
}

}  // namespace

int cmd_sample(int argc, char** argv) {
  if (checkpoint_kind(argc, argv) == CheckpointKind::gan) return sample_gan(argc, argv);
  Cli cli("sample", "decode z ~ N(0, I) into a PNG grid", argc, argv);
  const char* path = model_path(cli);
  const int n = cli.integer("--n", "N", "samples", 64, 1, 10000);
  const int cols = cli.integer("--cols", "C", "grid columns", 8, 1, 1000);
  const int seed = cli.integer("--seed", "S", "seed of the z draws", 1, 0, 1 << 30);
  const char* out = cli.output("--out", "FILE.png", "picture to write", "samples.png", ".png");
  const int t = threads(cli);
  if (!cli.finish()) return cli.exit_code();
  LoadedModel m;
  Status s = open(path, t, nullptr, &m, nullptr, true);
  if (s.is_ok()) s = write_samples(*m.model, &m.session.arena, out, n, cols, uint64_t(seed));
  return done("sample", s, out);
}

int cmd_reconstruct(int argc, char** argv) {
  Cli cli("reconstruct", "the first test images (framed) above their reconstructions, as a PNG", argc, argv);
  const char* path = model_path(cli);
  const DataSpec data = read_data(cli, true);
  const int n = cli.integer("--n", "N", "images", 32, 1, 10000);
  const int cols = cli.integer("--cols", "C", "images per row", 16, 1, 1000);
  const char* out = cli.output("--out", "FILE.png", "picture to write", "recon.png", ".png");
  const int t = threads(cli);
  if (!cli.finish()) return cli.exit_code();
  LoadedModel m;
  data::Dataset test;
  Status s = open(path, t, &data, &m, &test);
  if (s.is_ok()) s = write_reconstructions(*m.model, &m.session.arena, test, out, n, cols);
  return done("reconstruct", s, out);
}

int cmd_interpolate(int argc, char** argv) {
  if (checkpoint_kind(argc, argv) == CheckpointKind::gan) return interpolate_gan(argc, argv);
  Cli cli("interpolate", "decode straight lines between the codes of random test-image pairs (PNG)", argc, argv);
  const char* path = model_path(cli);
  const DataSpec data = read_data(cli, true);
  const int pairs = cli.integer("--pairs", "N", "rows (image pairs)", 8, 1, 1000);
  const int steps = cli.integer("--steps", "N", "decoded points per row", 10, 2, 1000);
  const int seed = cli.integer("--seed", "S", "which pairs", 1, 0, 1 << 30);
  const char* out = cli.output("--out", "FILE.png", "picture to write", "interpolate.png", ".png");
  const int t = threads(cli);
  if (!cli.finish()) return cli.exit_code();
  LoadedModel m;
  data::Dataset test;
  Status s = open(path, t, &data, &m, &test);
  if (s.is_ok()) s = write_interpolations(*m.model, &m.session.arena, test, out, pairs, steps, uint64_t(seed));
  return done("interpolate", s, out);
}

int cmd_traverse(int argc, char** argv) {
  Cli cli("traverse", "vary one latent dimension at a time around a code (PNG, one row per dimension)", argc, argv);
  const char* path = model_path(cli);
  const char* src = cli.text("--data", "DIR|sprites",
                             "test images: show the most used dimensions (and --image's code as the start)", "");
  const int index = cli.integer("--image", "I", "start from this test image's code (-1: z = 0)", -1, -1, 1 << 30);
  const int dims = cli.integer("--dims", "N", "rows: the first N latent dimensions", 10, 1, 4096);
  const int steps = cli.integer("--steps", "N", "values per row", 11, 2, 1000);
  const float range = cli.real("--range", "R", "values from -R to R added to the dimension", 3.0f, 0.0f, 1000.0f);
  const char* out = cli.output("--out", "FILE.png", "picture to write", "traverse.png", ".png");
  const int t = threads(cli);
  if (!cli.finish()) return cli.exit_code();
  LoadedModel m;
  data::Dataset test;
  DataSpec data;
  data.source = src;
  Status s = open(path, t, *src ? &data : nullptr, &m, &test);
  if (s.is_ok())
    s = write_traversal(*m.model, &m.session.arena, *src ? &test : nullptr, index, out, dims, steps, range);
  return done("traverse", s, out);
}

int cmd_latent_map(int argc, char** argv) {
  Cli cli("latent-map", "2-D codes (encoder means) of test images coloured by label, as an SVG", argc, argv);
  const char* path = model_path(cli);
  const DataSpec data = read_data(cli, true);
  const int n = cli.integer("--n", "N", "test images (0: all)", 5000, 0, 1 << 30);
  const int dx = cli.integer("--dim-x", "D", "latent dimension on x (1-based; 0: the most spread)", 0, 0, 65536);
  const int dy = cli.integer("--dim-y", "D", "latent dimension on y (1-based; 0: the second most spread)", 0, 0, 65536);
  const char* out = cli.output("--out", "FILE.svg", "picture to write", "latent-map.svg", ".svg");
  const int t = threads(cli);
  if (!cli.finish()) return cli.exit_code();
  LoadedModel m;
  data::Dataset test;
  Status s = open(path, t, &data, &m, &test);
  std::string title = std::string("latent codes of ") + (data.builtin() ? "sprites" : "test images");
  if (s.is_ok())
    s = write_latent_map(*m.model, &m.session.arena, test, out, n, dx - 1, dy - 1, title.c_str());
  return done("latent-map", s, out);
}

}  // namespace ember::tool
