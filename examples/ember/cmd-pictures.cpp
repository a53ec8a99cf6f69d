// ember sample | reconstruct | interpolate | traverse | latent-map: pictures from a
// trained checkpoint, with an inference-only plan.
#include <cstdio>
#include <functional>
#include <string>

#include "examples/ember/cli.h"
#include "examples/ember/commands.h"
#include "examples/ember/gan-commands.h"
#include "examples/ember/interop.h"
#include "examples/ember/model-options.h"
#include "examples/ember/pictures.h"

namespace ember::tool {

namespace {

constexpr int kEvalBatch = 100;
constexpr int kAllImages = 1 << 30;
constexpr int kMaxSamples = 1 << 20;  // rows of a --z file

const char* model_path(Cli& cli) { return cli.input("--model", "FILE", "checkpoint written by `ember train`", nullptr); }

// --threads and --memory, which every picture command has.
struct RunOptions {
  int threads = 1;
  size_t memory = 0;
};
RunOptions run_options(Cli& cli) {
  RunOptions r;
  r.threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 1, 0, 256);
  r.memory = read_memory(cli);
  return r;
}

// What the picture takes, asked once the model is configured; `images`: an upper bound on the
// test images it may read (0 without data).
using PictureBytes = std::function<size_t(const models::AeModel& m, int images)>;
int at_most(int n, int images) { return n > 0 && n < images ? n : images; }

}  // namespace

// The memory plan of a picture command: the model for inference (sampler_only: its decoder
// alone), the test set when `data` is set, and the picture. `ember info` prints the plan of
// `ember sample` with its defaults.
Status plan_pictures(const char* path, int threads, const DataSpec* data, const PictureBytes& picture,
                     models::AeModel* model, MemoryPlan* extra, MemoryPlan* plan, bool sampler_only) {
  size_t dbytes = 0;
  if (data) EMBER_TRY(data_bytes(*data, false, true, &dbytes));
  EMBER_TRY(configure_for_inference(path, kEvalBatch, model, sampler_only));
  const size_t images = dbytes / static_cast<size_t>(model->config().pixels());  // the bytes hold them, and more
  extra->add("test set", dbytes);
  extra->add("picture", picture(*model, images < size_t(kAllImages) ? static_cast<int>(images) : kAllImages));
  return plan ? plan_for(model, threads, *extra, plan) : Status::ok();
}

Status plan_sample(const char* path, int threads, int n, int cols, MemoryPlan* plan) {
  models::AeModel model;
  MemoryPlan extra;
  const PictureBytes picture = [&](const models::AeModel& m, int) { return samples_bytes(m.config(), n, cols); };
  return plan_pictures(path, threads, nullptr, picture, &model, &extra, plan, true);
}

namespace {

// Loads the model (sampler_only: its decoder alone), and the test set when `data` is set, in
// a session planned by plan_pictures.
Status open(const char* path, const RunOptions& r, const DataSpec* data, const PictureBytes& picture, LoadedModel* m,
            data::Dataset* test, bool sampler_only = false) {
  MemoryPlan extra;
  EMBER_TRY(plan_pictures(path, r.threads, data, picture, m->model.get(), &extra, nullptr, sampler_only));
  m->session.limit = r.memory;
  EMBER_TRY(open_for_inference(path, r.threads, extra, m));
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
  Cli cli("sample", "decode z ~ N(0, I), or given latents, into a PNG grid (and .npy files)", argc, argv);
  const char* path = model_path(cli);
  int n = cli.integer("--n", "N", "samples", 64, 1, 10000);
  const int cols = cli.integer("--cols", "C", "grid columns", 8, 1, 1000);
  const int seed = cli.integer("--seed", "S", "seed of the z draws", 1, 0, 1 << 30);
  const SampleFiles files = read_sample_files(cli);
  const char* given_out = cli.output("--out", "FILE.png", "picture to write (default samples.png, none when only "
                                     "--save-x is given)", "", ".png");
  const RunOptions r = run_options(cli);
  if (!cli.finish()) return cli.exit_code();
  const std::string out = *given_out || !*files.save_x ? (*given_out ? given_out : "samples.png") : "";
  models::AeConfig config;
  Status s = models::AeModel::read_config(path, &config);
  if (s.is_ok() && *files.z_in) s = latent_rows(files.z_in, config.latent, kMaxSamples, &n);
  if (!s.is_ok()) return report("sample", s);
  LoadedModel m;
  const PictureBytes picture = [&](const models::AeModel& md, int) { return samples_bytes(md.config(), n, cols); };
  s = open(path, r, nullptr, picture, &m, nullptr, true);
  if (s.is_ok()) s = write_samples(*m.model, &m.session.arena, out, n, cols, uint64_t(seed), files);
  if (!s.is_ok()) return report("sample", s);
  for (const char* f : {out.c_str(), files.save_z, files.save_x})
    if (*f) std::printf("wrote %s\n", f);
  return 0;
}

int cmd_reconstruct(int argc, char** argv) {
  Cli cli("reconstruct", "the first test images (framed) above their reconstructions, as a PNG", argc, argv);
  const char* path = model_path(cli);
  const DataSpec data = read_data(cli, true);
  const int n = cli.integer("--n", "N", "images", 32, 1, 10000);
  const int cols = cli.integer("--cols", "C", "images per row", 16, 1, 1000);
  const char* out = cli.output("--out", "FILE.png", "picture to write", "recon.png", ".png");
  const RunOptions r = run_options(cli);
  if (!cli.finish()) return cli.exit_code();
  LoadedModel m;
  data::Dataset test;
  const PictureBytes picture = [&](const models::AeModel& md, int images) {
    return reconstructions_bytes(md.config(), md.setup().eval_batch, at_most(n, images), cols);
  };
  Status s = open(path, r, &data, picture, &m, &test);
  if (s.is_ok()) s = write_reconstructions(*m.model, &m.session.arena, test, out, n, cols);
  return done("reconstruct", s, out);
}

int cmd_interpolate(int argc, char** argv) {
  if (checkpoint_kind(argc, argv) == CheckpointKind::gan) return interpolate_gan(argc, argv);
  Cli cli("interpolate", "decode straight lines between the codes of random test-image pairs (PNG); without --data, "
          "slerp between z pairs from the prior (the decoder alone: also a sampler file)", argc, argv);
  const char* path = model_path(cli);
  const DataSpec data = read_data(cli, false);
  const int pairs = cli.integer("--pairs", "N", "rows (image pairs)", 8, 1, 1000);
  const int steps = cli.integer("--steps", "N", "decoded points per row", 10, 2, 1000);
  const int seed = cli.integer("--seed", "S", "which pairs", 1, 0, 1 << 30);
  const char* out = cli.output("--out", "FILE.png", "picture to write", "interpolate.png", ".png");
  const RunOptions r = run_options(cli);
  if (!cli.finish()) return cli.exit_code();
  LoadedModel m;
  data::Dataset test;
  const PictureBytes picture = [&](const models::AeModel& md, int) { return interpolations_bytes(md.config(), pairs, steps); };
  if (data.source.empty()) {  // the prior's z pairs, the decoder alone
    Status s = open(path, r, nullptr, picture, &m, nullptr, true);
    if (s.is_ok()) s = write_prior_interpolations(*m.model, &m.session.arena, out, pairs, steps, uint64_t(seed));
    return done("interpolate", s, out);
  }
  Status s = open(path, r, &data, picture, &m, &test);
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
  const RunOptions r = run_options(cli);
  if (!cli.finish()) return cli.exit_code();
  LoadedModel m;
  data::Dataset test;
  DataSpec data;
  data.source = src;
  const PictureBytes picture = [&](const models::AeModel& md, int images) {
    return traversal_bytes(md.config(), md.setup().eval_batch, images, dims, steps);
  };
  Status s = open(path, r, *src ? &data : nullptr, picture, &m, &test);
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
  const RunOptions r = run_options(cli);
  if (!cli.finish()) return cli.exit_code();
  LoadedModel m;
  data::Dataset test;
  const PictureBytes picture = [&](const models::AeModel& md, int images) {
    return latent_map_bytes(md.config(), md.setup().eval_batch, at_most(n, images));
  };
  Status s = open(path, r, &data, picture, &m, &test);
  std::string title = std::string("latent codes of ") + (data.builtin() ? "sprites" : "test images");
  if (s.is_ok())
    s = write_latent_map(*m.model, &m.session.arena, test, out, n, dx - 1, dy - 1, title.c_str());
  return done("latent-map", s, out);
}

}  // namespace ember::tool
