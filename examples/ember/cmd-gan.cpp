// The GAN forms of `ember sample`, `ember interpolate` and `ember eval`, and the pieces the
// GAN commands share (gan-commands.h).
//
//   ember sample --model dcgan.ember --n 64 --out grid.png        (cgan: --label L, or a row per class;
//                                                                  --info: --label L draws code L)
//   ember interpolate --model dcgan.ember --pairs 8 --steps 10     (slerp between two z)
//   ember eval --model dcgan.ember --classifier clf.ember --data DIR --json fig.json
//   ember eval --model rings.ember                                 (modes_covered, high_quality)
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "io/svg.h"
#include "examples/ember/gan-commands.h"
#include "examples/ember/gan-report.h"
#include "examples/ember/interop.h"
#include "examples/ember/json-file.h"
#include "examples/ember/model-options.h"
#include "examples/ember/pictures.h"
#include "data/rings.h"
#include "io/npy.h"

namespace ember::tool {

namespace {

constexpr int kEvalBatch = 500;
constexpr int kDefaultEvalSamples = 10000;

bool is_points(const models::GanConfig& c) { return c.data == models::GanData::points; }

const char* model_path(Cli& cli) {
  return cli.input("--model", "FILE", "GAN checkpoint written by `ember train --model gan|dcgan|cgan`", nullptr);
}
int read_threads(Cli& cli) { return cli.integer("--threads", "T", "worker threads (0: one per core)", 1, 0, 256); }
size_t floats(size_t n) { return Arena::rounded(sizeof(float) * n); }
int read_label(Cli& cli) {
  return cli.integer("--label", "L", "conditional GAN: the class of every sample; --info GAN: the code (-1: one row "
                     "per class or code)", -1, -1, 1 << 20);
}

Status write_rings_json(const std::string& path, const char* model, int n, const metrics::ModeCoverage& r,
                        const int* counts) {
  JsonFile j(path);
  j.text("model", model).integer("n", n).integer("modes_covered", r.covered).number("high_quality", r.high_quality);
  return j.integers("mode_counts", counts, data::kRingsModes).close();
}

// G on the latents of the .npy at path (n rows), as generate_samples draws them: an info code
// set from the labels when they are given, images mapped to [0, 1].
Status generate_from(models::GanModel& m, const char* path, const int32_t* labels, int n, float* z, float* out) {
  const models::GanConfig& c = m.config();
  EMBER_TRY(npy_load(path, z, size_t(n) * c.z_dim));
  for (int i = 0; i < n && c.info > 0 && labels; ++i) models::set_info_code(c, z + size_t(i) * c.z_dim, labels[i]);
  EMBER_TRY(m.generate(z, c.cond ? labels : nullptr, n, out));
  if (!is_points(c)) models::to_unit_pixels(out, size_t(n) * c.dims());
  return Status::ok();
}

}  // namespace

Status fill_labels(const models::GanConfig& c, int label, int n, int per_row, std::vector<int32_t>* out) {
  out->assign(size_t(n), 0);
  return models::fill_labels(c, label, n, per_row, out->data());
}

const char* const* RowNames::make(const models::GanConfig& c, int label, int rows) {
  if (!c.onehot_dim()) return nullptr;
  for (int r = 0; r < rows; ++r) text.push_back(std::to_string(label >= 0 ? label : r % c.onehot_dim()));
  for (const std::string& t : text) ptr.push_back(t.c_str());
  return ptr.data();
}

void read_gan_architecture(Cli& cli, models::GanConfig* c, std::vector<ConfigFlag>* given) {
  const std::string model = cli.text("--model", "gan|dcgan|cgan", "MLP GAN, DCGAN, or conditional GAN", "gan");
  if (model != "gan" && model != "dcgan" && model != "cgan") cli.error("--model: one of gan dcgan cgan");
  const std::string arch = cli.text("--arch", "mlp|dcgan", "cgan: the networks (gan is mlp, dcgan is dcgan)", "dcgan");
  c->kind = model == "gan" || (model == "cgan" && arch == "mlp") ? models::GanKind::mlp : models::GanKind::dcgan;
  c->cond = model == "cgan";
  if (cli.given("--arch") && model != "cgan") cli.error("--arch: only with --model cgan");
  if (arch != "mlp" && arch != "dcgan") cli.error("--arch: mlp or dcgan");
  static const ConfigFlag flags[] = {
      {"--z", "z_dim", "D", "noise dimensions"},
      {"--widths", "widths", "W1,..", "mlp: G's hidden widths (D mirrors them)"},
      {"--channels", "channels", "C1,C2", "dcgan: D's conv channels (G mirrors them)"},
      {"--gan-loss", "gan_loss", "ns|minimax", "G's objective: non-saturating or the original minimax"},
      {"--d-steps", "d_steps", "K", "D updates per step"},
      {"--g-steps", "g_steps", "K", "G updates per step (after the D updates)"},
      {"--unroll", "unroll", "K", "unrolled D: K look-ahead D steps for each G update (first-order; 0: off)"},
      {"--ema", "ema", "D", "sample with an average of G's weights, decay D (e.g. 0.999; 0: off)"},
      {"--topk", "topk", "F", "top-k G updates: learn from the fakes D likes best, a share annealed 0.99^epoch "
                              "down to F (e.g. 0.5; 0: off)"},
      {"--info", "info", "K", "InfoGAN: the last K entries of z pick a code (their argmax) that a head on D "
                              "learns to read back, so G keeps its kinds of sample apart (e.g. 10; 0: off)"},
      {"--info-cont", "info_cont", "K", "with --info: K continuous codes too (the z entries before the code), read "
                                        "back by a second head (e.g. 2)"},
      {"--info-std", "info_std", "S", "with --info: G sees the plain noise entries of z times S, so the code decides "
                                      "the kind of sample (ClusterGAN: 0.1; 1: as drawn)"},
  };
  read_config_flags(cli, flags, sizeof flags / sizeof flags[0], c, given);
  if (given) {  // what a resume may change (train/gan-trainee.h: the keep_* options)
    static const char* const kMayChange[] = {"--gan-loss", "--g-steps", "--topk", "--ema"};
    for (const char* f : kMayChange)
      for (size_t i = 0; i < given->size(); ++i)
        if (!std::strcmp((*given)[i].flag, f)) given->erase(given->begin() + static_cast<long>(i--));
  }
  c->mbstd = cli.flag("--mbstd", "minibatch standard-deviation feature in D (against mode collapse)");
  c->info_real = cli.flag("--info-real", "with --info K: Q also learns which of K k-means clusters each real image is "
                                         "in (pseudo-labels; no class labels), tying each code to a cluster");
}

float read_truncation(Cli& cli) {
  return cli.real("--truncation", "T", "redraw each noise entry until |z| <= T (the truncation trick; 0: off)", 0.0f,
                  0.0f, 100.0f);
}

Status write_rings_scatter(const std::string& path, const float* points, int n, const char* title) {
  std::vector<float> x, y;
  std::vector<uint8_t> cls;
  for (int i = 0; i < n; ++i) x.push_back(points[2 * i]), y.push_back(points[2 * i + 1]), cls.push_back(0);
  for (int k = 0; k < data::kRingsModes; ++k) {
    const data::Point2 p = data::rings_mode_centre(k);
    x.push_back(p.x), y.push_back(p.y), cls.push_back(1);
  }
  static const char* const kNames[] = {"generated", "mode centres"};
  ScatterPlot plot;
  plot.title = title;
  plot.x_label = "x";
  plot.y_label = "y";
  plot.x = x.data(), plot.y = y.data(), plot.count = static_cast<int>(x.size());
  plot.classes = cls.data(), plot.class_count = 2, plot.class_names = kNames;
  plot.equal_aspect = true;
  return write_scatter(path.c_str(), plot);
}

Status plan_gan_sample(const char* path, int threads, int cols, int label, int* n, models::GanModel* model,
                       MemoryPlan* extra, MemoryPlan* plan) {
  EMBER_TRY(configure_for_inference(path, kEvalBatch, model));
  const models::GanConfig& c = model->config();
  // A conditional GAN draws a row per class by default, so that every class shows.
  if (*n == 0) *n = c.cond && label < 0 ? c.onehot_dim() * cols : 64;
  // The samples and their grid live in the session: its plan holds them.
  extra->add("samples (z and images)", floats(size_t(*n) * c.z_dim) + floats(size_t(*n) * c.dims()));
  if (!is_points(c)) extra->add("picture", image_grid_bytes(c.rows, c.cols, *n, cols, c.cond || label >= 0));
  return plan ? plan_for(model, threads, *extra, plan) : Status::ok();
}

int sample_gan(int argc, char** argv) {
  Cli cli("sample", "G(z) for z ~ N(0, I): a PNG grid (rings: an SVG scatter plot)", argc, argv);
  const char* path = model_path(cli);
  int n = cli.integer("--n", "N", "samples (0: 64, or a row of --cols per class for a conditional GAN)", 0, 0,
                      100000);
  const int cols = cli.integer("--cols", "C", "grid columns", 8, 1, 1000);
  const int seed = cli.integer("--seed", "S", "seed of the z draws", 1, 0, 1 << 30);
  const float truncation = read_truncation(cli);
  const int label = read_label(cli);
  const SampleFiles files = read_sample_files(cli);
  const char* out = cli.output("--out", "FILE", "picture to write: .png (rings: .svg; default samples.png or .svg, none "
                               "when only --save-x is given)", "", ".png .svg");
  const int threads = read_threads(cli);
  Loaded<models::GanModel> m(read_memory(cli));
  if (!cli.finish()) return cli.exit_code();
  const models::GanConfig& c = m.model->config();
  MemoryPlan extra;
  models::GanConfig file_config;
  Status s = models::GanModel::read_config(path, &file_config);
  if (s.is_ok() && *files.z_in) s = latent_rows(files.z_in, file_config.z_dim, 100000, &n);
  if (s.is_ok()) s = plan_gan_sample(path, threads, cols, label, &n, m.model.get(), &extra, nullptr);
  const bool by_label = c.cond || label >= 0;
  if (s.is_ok()) s = open_for_inference(path, threads, extra, &m);
  if (!s.is_ok()) return report("sample", s);
  const std::string ext = is_points(c) ? ".svg" : ".png";
  const std::string out_path = *out ? out : *files.save_x ? "" : "samples" + ext;
  const bool ext_ok = out_path.size() >= ext.size() && out_path.compare(out_path.size() - ext.size(), ext.size(), ext) == 0;
  if (!out_path.empty() && !ext_ok)
    return report("sample", Status::error(Code::invalid_argument, "--out %s: %s draws %s, so the name must end in %s",
                                          out, path, is_points(c) ? "a scatter plot of 2-D points" : "images",
                                          ext.c_str()));
  out = out_path.c_str();
  float *z = nullptr, *img = nullptr;
  s = m.session.arena.alloc_array(size_t(n) * c.z_dim, &z);
  if (s.is_ok()) s = m.session.arena.alloc_array(size_t(n) * c.dims(), &img);
  std::vector<int32_t> labels;
  RowNames names;
  if (s.is_ok()) s = fill_labels(c, label, n, cols, &labels);
  // An info code is drawn from z like the rest unless asked for (the training grid shows a
  // row per code instead).
  if (s.is_ok() && *files.z_in) s = generate_from(*m.model, files.z_in, by_label ? labels.data() : nullptr, n, z, img);
  else if (s.is_ok())
    s = generate_samples(*m.model, uint64_t(seed), by_label ? labels.data() : nullptr, n, z, img, truncation);
  if (s.is_ok() && *files.save_z) s = save_latents(files.save_z, z, n, c.z_dim);
  if (s.is_ok() && *files.save_x)
    s = save_samples(files.save_x, img, n, is_points(c) ? 0 : c.rows, is_points(c) ? c.dims() : c.cols);
  metrics::ModeCoverage cover;
  const bool picture = *out != 0;
  if (s.is_ok() && picture && is_points(c)) s = rings_figures(img, n, &cover);
  if (s.is_ok() && picture && is_points(c)) {
    char title[96];
    std::snprintf(title, sizeof title, "%d samples of G: %d/%d modes, %.0f%% high quality", n, cover.covered,
                  data::kRingsModes, 100 * cover.high_quality);
    s = write_rings_scatter(out, img, n, title);
  }
  else if (s.is_ok() && picture)
    s = write_image_grid(&m.session.arena, out, img, n, c.rows, c.cols, cols,
                         by_label ? names.make(c, label, (n + cols - 1) / cols) : nullptr);
  if (!s.is_ok()) return report("sample", s);
  for (const char* f : {out, files.save_z, files.save_x})
    if (*f) std::printf("wrote %s\n", f);
  return 0;
}

int interpolate_gan(int argc, char** argv) {
  Cli cli("interpolate", "G along great-circle paths (slerp) between random z pairs, one row per pair (PNG)", argc,
          argv);
  const char* path = model_path(cli);
  const int pairs = cli.integer("--pairs", "N", "rows (z pairs)", 8, 1, 1000);
  const int steps = cli.integer("--steps", "N", "points per row, ends included", 10, 2, 1000);
  const int seed = cli.integer("--seed", "S", "which pairs", 1, 0, 1 << 30);
  const int label = read_label(cli);
  const char* out = cli.output("--out", "FILE.png", "picture to write", "interpolate.png", ".png");
  const int threads = read_threads(cli);
  Loaded<models::GanModel> m(read_memory(cli));
  if (!cli.finish()) return cli.exit_code();
  MemoryPlan extra;
  Status s = configure_for_inference(path, kEvalBatch, m.model.get());
  const models::GanConfig& gc = m.model->config();
  extra.add("picture", image_grid_bytes(gc.rows, gc.cols, pairs * steps, steps, gc.cond || label >= 0));
  if (s.is_ok()) s = open_for_inference(path, threads, extra, &m);
  if (s.is_ok() && is_points(m.model->config()))
    s = Status::error(Code::invalid_argument, "interpolate: %s generates points, not images", path);
  if (!s.is_ok()) return report("interpolate", s);
  const models::GanConfig& c = m.model->config();
  const int d = c.z_dim, n = pairs * steps;
  std::vector<float> ends(size_t(2) * d), z(size_t(n) * d), img(size_t(n) * c.dims());
  std::vector<int32_t> labels;
  RowNames names;
  s = fill_labels(c, label, n, steps, &labels);
  Rng rng(static_cast<uint64_t>(seed));
  for (int p = 0; p < pairs; ++p) {
    rng.fill_normal(ends.data(), ends.size(), 0.0f, 1.0f);
    for (int t = 0; t < steps; ++t)
      models::slerp(ends.data(), ends.data() + d, d, float(t) / float(steps - 1), &z[size_t(p * steps + t) * d]);
  }
  // An info code is only forced when asked for: otherwise it changes along the path, as z does.
  const bool by_label = c.cond || label >= 0;
  for (int i = 0; i < n && c.info > 0 && by_label; ++i) models::set_info_code(c, &z[size_t(i) * d], labels[size_t(i)]);
  if (s.is_ok()) s = m.model->generate(z.data(), c.cond ? labels.data() : nullptr, n, img.data());
  if (s.is_ok()) {
    models::to_unit_pixels(img.data(), img.size());
    s = write_image_grid(&m.session.arena, out, img.data(), n, c.rows, c.cols, steps,
                         by_label ? names.make(c, label, pairs) : nullptr);
  }
  if (!s.is_ok()) return report("interpolate", s);
  std::printf("wrote %s\n", out);
  return 0;
}

int eval_gan(int argc, char** argv) {
  Cli cli("eval", "sample quality of a GAN: is, fd, fd_floor, class_hist, label_accuracy, nn_dist (images, with "
          "--classifier), or modes_covered and high_quality (rings)", argc, argv);
  const char* path = model_path(cli);
  GanReportOptions o;
  o.data = read_data(cli, false);
  read_gan_report_options(cli, &o);
  const int n = cli.integer("--n", "N", "generated samples", kDefaultEvalSamples, 2, 1 << 22);
  const int seed = cli.integer("--seed", "S", "seed of the z draws", 1, 0, 1 << 30);
  const float truncation = read_truncation(cli);
  o.json = cli.output("--json", "FILE.json", "also write the figures as JSON", "", ".json");
  o.threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 0, 0, 256);
  if (!cli.finish()) return cli.exit_code();
  Loaded<models::GanModel> m;
  Status s = load_for_inference(path, o.threads, kEvalBatch, MemoryPlan(), &m);
  if (!s.is_ok()) return report("eval", s);
  const models::GanConfig& c = m.model->config();
  std::vector<float> z(size_t(n) * c.z_dim), out(size_t(n) * c.dims());
  std::vector<int32_t> asked;
  s = fill_labels(c, -1, n, 1, &asked);  // conditional: classes in turn, n / classes each
  if (s.is_ok())
    s = generate_samples(*m.model, uint64_t(seed), c.cond ? asked.data() : nullptr, n, z.data(), out.data(), truncation);
  if (s.is_ok() && is_points(c)) {
    metrics::ModeCoverage cover;
    int counts[data::kRingsModes];
    s = rings_figures(out.data(), n, &cover, counts);
    if (s.is_ok()) {
      std::printf("modes_covered  %d/%d\nhigh_quality   %.4f  (within %.0f std of a mode)\nmode_counts   ",
                  cover.covered, data::kRingsModes, cover.high_quality, data::kRingsQualityStds);
      for (int k = 0; k < data::kRingsModes; ++k) std::printf(" %d", counts[k]);
      std::printf("\n");
    }
    if (s.is_ok() && !o.json.empty()) s = write_rings_json(o.json, path, n, cover, counts);
  } else if (s.is_ok()) {
    if (o.data.source.empty()) s = Status::error(Code::invalid_argument, "eval: images need --data DIR|sprites");
    if (s.is_ok()) s = gan_metrics_report(out.data(), n, c.cond ? asked.data() : nullptr, o);
  }
  if (!s.is_ok()) return report("eval", s);
  return 0;
}

}  // namespace ember::tool
