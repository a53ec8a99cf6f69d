// Generator figures through a classifier; see gan_report.h.
#include "examples/ember/gan_report.h"

#include <climits>
#include <cmath>

#include "examples/ember/classifier_commands.h"
#include "examples/ember/json_file.h"

namespace ember::tool {

namespace {

constexpr int kEvalBatch = 500;
constexpr size_t kPictureBytes = 4u << 20;  // the pairs canvas (a few hundred KiB) and slack

void print_report(const models::GanEvalResult& r, const models::GanEvalOptions& o, int train_count) {
  std::printf("is             %.4f  (1 .. %d)\n", r.is, r.classes);
  std::printf("fd             %.4f", r.fd);
  if (r.has_floor)
    std::printf("  (floor %.4f: %d training images vs the test set)", r.fd_floor,
                o.floor_n < train_count ? o.floor_n : train_count);
  std::printf("\nclass_entropy  %.4f  (balanced: %.4f)\nclass_hist    ", r.class_entropy, std::log(double(r.classes)));
  for (int c = 0; c < r.classes; ++c) std::printf(" %d:%d", c, r.class_hist[c]);
  std::printf("\n");
  if (r.has_labels) std::printf("label_accuracy %.4f\n", r.label_accuracy);
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

Status write_json_file(const std::string& path, const models::GanEvalResult& r, const GanReportOptions& o) {
  JsonFile j(path);
  j.text("classifier", o.classifier).text("data", o.data.source).integer("n", r.n);
  j.number("is", r.is).number("fd", r.fd).number("fd_floor", r.fd_floor, r.has_floor);
  j.integers("class_hist", r.class_hist, r.classes);
  j.number("class_entropy", r.class_entropy).number("label_accuracy", r.label_accuracy, r.has_labels);
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
      cli.text("--classifier", "FILE", "classifier checkpoint (ember train --model classifier) for is, fd, ...", "");
  o->eval.floor_n = cli.integer("--fd-floor-n", "N", "training images for fd_floor (0: as many as generated)", 0, 0,
                                1 << 30);
  o->eval.nearest_max_train = cli.integer("--nn-max-train", "N",
                                          "nearest-image search over the first N training images (0: all)",
                                          o->eval.nearest_max_train, 0, 1 << 30);
  o->eval.pairs = cli.integer("--pairs", "K", "closest generated/training pairs reported", o->eval.pairs, 0,
                              models::kMaxGanPairs);
  o->pairs_png = cli.text("--pairs-png", "FILE", "PNG of the closest generated/training pairs", "");
}

Status gan_metrics_report(const float* images, int n, const int32_t* asked, const GanReportOptions& o,
                          models::GanEvalResult* out) {
  if (o.classifier.empty())
    return Status::error(Code::invalid_argument,
                         "generator figures need a classifier: --classifier FILE "
                         "(from ember train --model classifier)");
  models::ClassifierConfig config;
  EMBER_TRY(models::ClassifierModel::read_config(o.classifier.c_str(), &config));
  // FD estimates depend on the sample count: by default the floor uses as many real images.
  models::GanEvalOptions options = o.eval;
  if (options.floor_n == 0) options.floor_n = n;
  size_t dbytes = 0, eval_bytes = 0;
  EMBER_TRY(data_bytes(o.data, true, true, &dbytes));
  // Before loading, the test set's size is bounded by the data bytes over the image size.
  const size_t images_bound = dbytes / static_cast<size_t>(config.pixels());
  const int test_bound = images_bound > size_t(INT_MAX) ? INT_MAX : static_cast<int>(images_bound);
  EMBER_TRY(models::GanEvaluator::bytes_needed(config, test_bound, n, options, &eval_bytes));
  LoadedClassifier m;
  EMBER_TRY(load_for_inference(o.classifier.c_str(), o.threads, kEvalBatch, dbytes + eval_bytes + kPictureBytes, &m));
  Arena& arena = m.session.arena;
  models::Dataset train, test;
  EMBER_TRY(load_data(&arena, o.data, true, true, &train, &test));
  models::GanEvaluator eval;
  models::GanEvalResult r;
  EMBER_TRY(eval.init(&arena, m.model.get(), train, test, options));
  EMBER_TRY(eval.evaluate(images, n, asked, &r));
  if (!o.quiet) print_report(r, options, train.count);
  if (!o.json.empty()) EMBER_TRY(write_json_file(o.json, r, o));
  if (!o.pairs_png.empty() && r.has_nearest && r.pairs > 0)
    EMBER_TRY(write_nearest_pairs(&arena, images, train, r, o.pairs_png));
  if (out) *out = r;
  return Status::ok();
}

}  // namespace ember::tool
