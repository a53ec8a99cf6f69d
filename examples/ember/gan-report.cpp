// Generator figures through a classifier; see gan-report.h.
#include "examples/ember/gan-report.h"

#include <climits>
#include <cmath>
#include <vector>

#include "examples/ember/classifier-commands.h"
#include "examples/ember/json-file.h"
#include "examples/ember/model-options.h"

namespace ember::tool {

namespace {

constexpr int kEvalBatch = 500;
constexpr size_t kPictureBytes = 4u << 20;  // the pairs canvas (a few hundred KiB) and slack

void print_report(const metrics::GanEvalResult& r, const metrics::GanEvalOptions& o, int train_count) {
  std::printf("is             %.4f  (1 .. %d)\n", r.is, r.classes);
  std::printf("fd             %.4f", r.fd);
  if (r.has_floor)
    std::printf("  (floor %.4f: %d training images vs the test set)", r.fd_floor,
                o.floor_n < train_count ? o.floor_n : train_count);
  std::printf("\nclass_entropy  %.4f  (balanced: %.4f)\nclass_hist    ", r.class_entropy, std::log(double(r.classes)));
  for (int c = 0; c < r.classes; ++c) std::printf(" %d:%d", c, r.class_hist[c]);
  std::printf("\n");
  if (r.has_labels) std::printf("label_accuracy %.4f\n", r.label_accuracy);
  if (r.has_spread) {
    std::printf("class_spread   %.4f  (within-class distance over the test set's; 1: as varied)\n             ",
                r.class_spread);
    for (int c = 0; c < r.classes; ++c) std::printf(" %d:%.2f/%.2f", c, r.spread_gen[c], r.spread_real[c]);
    std::printf("\n");
  }
  if (r.has_nearest) {
    const int searched = o.nearest_max_train > 0 && o.nearest_max_train < train_count ? o.nearest_max_train : train_count;
    std::printf("nn_dist        min %.4f  median %.4f  mean %.4f  (%d training images)\n", r.nn_dist.min,
                r.nn_dist.median, r.nn_dist.mean, searched);
    if (r.pairs > 0) std::printf("closest pairs ");
    for (int i = 0; i < r.pairs; ++i)
      std::printf(" %d~%d (%.3f)", r.pair_gen[i], r.pair_train[i], r.pair_dist[i]);
    if (r.pairs > 0) std::printf("  (generated~training index)\n");
  }
}

Status write_json_file(const std::string& path, const metrics::GanEvalResult& r, const GanReportOptions& o) {
  JsonFile j(path);
  j.text("classifier", o.classifier).text("data", o.data.source).integer("n", r.n);
  j.number("is", r.is).number("fd", r.fd).number("fd_floor", r.fd_floor, r.has_floor);
  j.integers("class_hist", r.class_hist, r.classes);
  j.number("class_entropy", r.class_entropy).number("label_accuracy", r.label_accuracy, r.has_labels);
  j.number("class_spread", r.class_spread, r.has_spread);
  if (!r.has_nearest) return j.null("nn_dist").close();
  j.begin_object("nn_dist").number("min", r.nn_dist.min).number("median", r.nn_dist.median);
  j.number("mean", r.nn_dist.mean).begin_array("pairs");
  for (int i = 0; i < r.pairs; ++i) {
    j.begin_object(nullptr).integer("gen", r.pair_gen[i]).integer("train", r.pair_train[i]);
    j.number("dist", r.pair_dist[i]).end_object();
  }
  return j.end_array().end_object().close();
}

}  // namespace

void read_gan_report_options(Cli& cli, GanReportOptions* o) {
  o->classifier =
      cli.input("--classifier", "FILE", "classifier checkpoint (ember train --model classifier) for is, fd, ...", "");
  o->eval.floor_n = cli.integer("--fd-floor-n", "N", "training images for fd_floor (0: as many as generated)", 0, 0,
                                1 << 30);
  o->eval.nearest_max_train = cli.integer("--nn-max-train", "N",
                                          "nearest-image search over the first N training images (0: all)",
                                          o->eval.nearest_max_train, 0, 1 << 30);
  o->eval.pairs = cli.integer("--pairs", "K", "closest generated/training pairs reported", o->eval.pairs, 0,
                              metrics::kMaxGanPairs);
  o->pairs_png = cli.text("--pairs-png", "FILE", "PNG of the closest generated/training pairs", "");
}

Status gan_metrics_report(const float* images, int n, const int32_t* asked, const GanReportOptions& o,
                          metrics::GanEvalResult* out) {
  if (o.classifier.empty())
    return Status::error(Code::invalid_argument,
                         "generator figures need a classifier: --classifier FILE "
                         "(from ember train --model classifier)");
  models::ClassifierConfig config;
  EMBER_TRY(models::ClassifierModel::read_config(o.classifier.c_str(), &config));
  // FD estimates depend on the sample count: by default the floor uses as many real images.
  metrics::GanEvalOptions options = o.eval;
  if (options.floor_n == 0) options.floor_n = n;
  size_t dbytes = 0, eval_bytes = 0;
  EMBER_TRY(data_bytes(o.data, true, true, &dbytes));
  // Before loading, the test set's size is bounded by the data bytes over the image size.
  const size_t images_bound = dbytes / static_cast<size_t>(config.pixels());
  const int test_bound = images_bound > size_t(INT_MAX) ? INT_MAX : static_cast<int>(images_bound);
  EMBER_TRY(metrics::GanEvaluator::bytes_needed(config, test_bound, n, options, &eval_bytes));
  LoadedClassifier m;
  MemoryPlan extra;
  extra.add("datasets", dbytes);
  extra.add("evaluation", eval_bytes);
  extra.add("picture", kPictureBytes);
  EMBER_TRY(load_for_inference(o.classifier.c_str(), o.threads, kEvalBatch, extra, &m));
  Arena& arena = m.session.arena;
  data::Dataset train, test;
  EMBER_TRY(load_data(&arena, o.data, true, true, &train, &test));
  metrics::GanEvaluator eval;
  metrics::GanEvalResult r;
  EMBER_TRY(eval.init(&arena, m.model.get(), train, test, options));
  EMBER_TRY(eval.evaluate(images, n, asked, &r));
  if (!o.quiet) print_report(r, options, train.count);
  if (!o.json.empty()) EMBER_TRY(write_json_file(o.json, r, o));
  if (!o.pairs_png.empty() && r.has_nearest && r.pairs > 0)
    EMBER_TRY(write_nearest_pairs(&arena, images, train, r, o.pairs_png));
  if (out) *out = r;
  return Status::ok();
}

Status read_raw_images(const std::string& path, int pixels, std::vector<float>* out, int* n) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::error(Code::io_error, "%s: cannot open", path.c_str());
  long bytes = -1;
  if (std::fseek(f, 0, SEEK_END) == 0) bytes = std::ftell(f);
  const size_t image_bytes = sizeof(float) * static_cast<size_t>(pixels);
  Status s = Status::ok();
  if (bytes < 0 || std::fseek(f, 0, SEEK_SET) != 0) s = Status::error(Code::io_error, "%s: cannot seek", path.c_str());
  else if (bytes == 0 || size_t(bytes) % image_bytes != 0 || size_t(bytes) / image_bytes > size_t(INT_MAX))
    s = Status::error(Code::invalid_argument, "%s: %ld bytes is not a whole number of images of %d float32 pixels "
                      "(%zu bytes each)", path.c_str(), bytes, pixels, image_bytes);
  if (s.is_ok()) {
    out->resize(size_t(bytes) / sizeof(float));
    if (std::fread(out->data(), sizeof(float), out->size(), f) != out->size())
      s = Status::error(Code::io_error, "%s: short read", path.c_str());
  }
  std::fclose(f);
  for (size_t i = 0; s.is_ok() && i < out->size(); ++i) {
    const float v = (*out)[i];
    if (!(v >= 0.0f && v <= 1.0f)) {  // also NaN
      char value[32];  // Status formats no floating point
      std::snprintf(value, sizeof value, "%g", double(v));
      s = Status::error(Code::invalid_argument, "%s: image %zu, pixel %zu is %s: pixels must lie in [0, 1]", path.c_str(),
                        i / size_t(pixels), i % size_t(pixels), value);
    }
  }
  if (s.is_ok()) *n = static_cast<int>(out->size() / size_t(pixels));
  return s;
}

int eval_samples(int argc, char** argv) {
  Cli cli("eval --samples", "sample quality of images made elsewhere (raw float32 in [0, 1], image after image): is, "
          "fd, fd_floor, class_hist, nn_dist, through --classifier", argc, argv);
  const std::string path = cli.text("--samples", "FILE", "raw float32 images, the classifier's size, pixels in [0, 1]",
                                    nullptr);
  GanReportOptions o;
  o.data = read_data(cli, false);
  read_gan_report_options(cli, &o);
  o.json = cli.output("--json", "FILE.json", "also write the figures as JSON", "", ".json");
  o.threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 0, 0, 256);
  if (!cli.finish()) return cli.exit_code();
  models::ClassifierConfig config;
  std::vector<float> images;
  int n = 0;
  Status s = o.classifier.empty() ? Status::error(Code::invalid_argument, "eval --samples needs --classifier FILE")
                                  : models::ClassifierModel::read_config(o.classifier.c_str(), &config);
  if (s.is_ok() && o.data.source.empty()) s = Status::error(Code::invalid_argument, "eval: images need --data DIR|sprites");
  if (s.is_ok()) s = read_raw_images(path, config.pixels(), &images, &n);
  if (s.is_ok() && n < 2)
    s = Status::error(Code::invalid_argument, "%s: %d image; the figures need 2 or more", path.c_str(), n);
  if (s.is_ok()) s = gan_metrics_report(images.data(), n, nullptr, o);
  return s.is_ok() ? 0 : report("eval", s);
}

}  // namespace ember::tool
