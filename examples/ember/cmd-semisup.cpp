// ember semisup: do an autoencoder's codes help a classifier that has only a few labels?
//
//   ember train --model vae --data DIR --out vae.ember            (pretraining, no labels)
//   ember semisup --encoder vae.ember --data DIR --labels 100 --draws 5 --json semisup.json
//
// For each draw, `--labels` training images (the same number of every class) are drawn
// from a seed; then, on exactly those images,
//   codes     the head (one ReLU layer of --hidden units and softmax; --hidden 0: softmax
//             regression) learns the classes from the encoder's codes mu(x), standardised
//             with the mean and spread of the codes of all training images (no labels
//             needed for those);
//   codes+st  optionally (--self-train R) R rounds of pseudo-labelling over the codes of the
//             unlabelled training images (metrics/semisup.h);
//   scratch   the same head, same training, on the raw pixels (byte / 255): no pretraining;
//   conv      optionally (--conv) the conv classifier of `ember train --model classifier`
//             from random weights, trained on the same labelled images.
// Each prints its test error per draw, then the mean and the sample standard deviation.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "examples/ember/classifier-commands.h"
#include "examples/ember/cli.h"
#include "examples/ember/commands.h"
#include "examples/ember/json-file.h"
#include "examples/ember/model-options.h"
#include "data/batcher.h"
#include "data/mnist.h"
#include "metrics/semisup.h"
#include "data/sprites.h"

namespace ember::tool {

namespace {

constexpr const char* kCmd = "semisup";
constexpr size_t kSlack = 1u << 20;
constexpr int kEvalBatch = 500;
constexpr float kDefaultLr = 1e-2f;
constexpr int kDefaultEpochs = 300;      // full-batch steps on 100 labels
constexpr int kDefaultHidden = 256;
constexpr float kDefaultWeightDecay = 1e-3f;
constexpr float kDefaultMinStd = 0.1f;   // standardising: a code dimension's gain is at most 10
constexpr int kDefaultConvSteps = 300;
constexpr uint64_t kDrawStream = 0x1abe1;  // derive_seed(seed, draw, kDrawStream)

using Series = std::vector<double>;

struct Method {
  const char* key;    // in the JSON
  const char* title;  // in the table
  Series errors;
};

double mean_of(const Series& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / v.size();
}
// Sample standard deviation (n - 1); 0 for a single draw.
double std_of(const Series& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / (v.size() - 1));
}

// x[n, pixels] = images [0, n) of data as byte / 255.
std::vector<float> grey_pixels(const data::Dataset& data) {
  std::vector<float> x(static_cast<size_t>(data.count) * data.image_size());
  for (int at = 0; at < data.count; at += kEvalBatch)
    data::fill_range(data, at, data.count - at < kEvalBatch ? data.count - at : kEvalBatch,
                       x.data() + static_cast<size_t>(at) * data.image_size(), nullptr);
  return x;
}

// codes[n, latent] = mu(x) of every image of data, a batch at a time.
Status encode_all(models::AeModel& enc, const data::Dataset& data, std::vector<float>* codes) {
  const int latent = enc.config().latent;
  std::vector<float> x(static_cast<size_t>(kEvalBatch) * data.image_size());
  codes->assign(static_cast<size_t>(data.count) * latent, 0.0f);
  for (int at = 0; at < data.count; at += kEvalBatch) {
    const int rows = data::fill_range(data, at, kEvalBatch, x.data(), nullptr);
    EMBER_TRY(enc.encode(x.data(), rows, codes->data() + static_cast<size_t>(at) * latent, nullptr));
  }
  return Status::ok();
}

std::vector<int32_t> labels_of(const data::Dataset& d) { return std::vector<int32_t>(d.labels, d.labels + d.count); }

// The default conv classifier from random weights, full-batch Adam on the labelled images.
Status conv_error(const data::Dataset& test, const std::vector<float>& x, const std::vector<int32_t>& y,
                  int classes, int steps, uint64_t seed, int threads, double* error) {
  models::ClassifierModel::Setup s;
  s.config.classes = classes;
  s.config.rows = test.rows, s.config.cols = test.cols;
  s.batch = static_cast<int>(y.size());
  s.eval_batch = kEvalBatch;
  s.seed = seed;
  auto model = std::make_unique<models::ClassifierModel>();
  Session session;
  EMBER_TRY(model->configure(s));
  MemoryPlan extra;
  extra.add("small buffers", kSlack);
  EMBER_TRY(open_session_for(model.get(), threads, extra, &session));
  for (int i = 0; i < steps; ++i) EMBER_TRY(model->train_step(x.data(), y.data(), nullptr));
  models::ClassifierScore score;
  EMBER_TRY(model->evaluate(test, 0, &score));
  *error = 1.0 - score.accuracy;
  return Status::ok();
}

void print_row(const char* what, const std::vector<Method>& methods, int draw) {
  std::printf("%-8s", what);
  for (const Method& m : methods) std::printf("  %12.2f%%", 100 * m.errors[static_cast<size_t>(draw)]);
  std::printf("\n");
}

}  // namespace

int cmd_semisup(int argc, char** argv) {
  Cli cli(kCmd,
          "few-label classification on an autoencoder's codes vs from scratch (test error, mean +- std over draws)\n"
          "  The encoder is pretrained without labels by `ember train --model ae|vae --data DIR --out FILE`.\n"
          "  codes: the head on standardised codes mu(x); scratch: the same head on the raw pixels;\n"
          "  conv (--conv): the conv classifier of `ember train --model classifier` from random weights.",
          argc, argv);
  const char* encoder = cli.input("--encoder", "FILE", "autoencoder / VAE checkpoint written by `ember train`", nullptr);
  DataSpec data = read_data(cli, true);
  const int labels = cli.integer("--labels", "N", "labelled training images per draw (N / classes per class)", 100,
                                 1, 1 << 24);
  const int draws = cli.integer("--draws", "D", "independent draws of the labelled images", 5, 1, 1000);
  const int seed = cli.integer("--seed", "S", "draws, head weights, sprites", 1, 0, 1 << 30);
  metrics::CodeHead::Setup hs;
  hs.hidden = cli.integer("--hidden", "H", "head: 0 = softmax regression, else one ReLU layer of H units", kDefaultHidden, 0,
                          1 << 16);
  const int epochs = cli.integer("--epochs", "E", "head: passes over the labelled images", kDefaultEpochs, 1,
                                 1 << 20);
  hs.batch = cli.integer("--batch", "B", "head: rows per Adam step", 100, 1, 65536);
  hs.lr = cli.real("--lr", "X", "head: Adam learning rate", kDefaultLr, 1e-8f, 10.0f);
  hs.weight_decay = cli.real("--wd", "X", "head: L2 weight decay", kDefaultWeightDecay, 0.0f, 100.0f);
  const float min_std = cli.real("--min-std", "X", "standardising codes: spread floor (gain <= 1 / X)",
                                 kDefaultMinStd, 1e-6f, 1e6f);
  metrics::SelfTraining st;
  st.rounds = cli.integer("--self-train", "R", "rounds of pseudo-labelling the unlabelled codes (0: none)", 0, 0,
                          1000);
  st.fraction = cli.real("--self-fraction", "F", "share of unlabelled images pseudo-labelled in the last round",
                         st.fraction, 0.0f, 1.0f);
  st.epochs = cli.integer("--self-epochs", "E", "head epochs per self-training round", st.epochs, 1, 1 << 20);
  const bool conv = cli.flag("--conv", "also train the conv classifier from scratch on the labelled images (slow)");
  const int conv_steps = cli.integer("--conv-steps", "N", "conv: full-batch Adam steps", kDefaultConvSteps, 1,
                                     1 << 20);
  const std::string json = cli.output("--json", "FILE.json", "also write the figures as JSON", "", ".json");
  const int threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 0, 0, 256);
  if (!cli.finish()) return cli.exit_code();
  data.seed = static_cast<uint64_t>(seed);

  // The encoder and the data in one session; the two heads in another.
  size_t dbytes = 0;
  Status s = data_bytes(data, true, true, &dbytes);
  LoadedModel enc;
  MemoryPlan enc_extra;
  enc_extra.add("datasets", dbytes);
  enc_extra.add("small buffers", kSlack);
  if (s.is_ok()) s = load_for_inference(encoder, threads, kEvalBatch, enc_extra, &enc);
  data::Dataset train, test;
  if (s.is_ok()) s = load_data(&enc.session.arena, data, true, true, &train, &test);
  if (s.is_ok() && (!train.labels || !test.labels))
    s = Status::error(Code::invalid_argument, "the data has no labels");
  if (s.is_ok()) s = check_image_size(train, enc.model->config().rows, enc.model->config().cols, "the encoder");
  const int classes = train.classes;
  if (s.is_ok() && labels % classes != 0)
    s = Status::error(Code::invalid_argument, "--labels %d is not a multiple of the %d classes", labels, classes);
  if (!s.is_ok()) return report(kCmd, s);
  const int per_class = labels / classes, latent = enc.model->config().latent;

  std::vector<float> codes, test_codes;
  s = encode_all(*enc.model, train, &codes);
  if (s.is_ok()) s = encode_all(*enc.model, test, &test_codes);
  if (!s.is_ok()) return report(kCmd, s);

  hs.classes = classes, hs.eval_batch = kEvalBatch, hs.seed = static_cast<uint64_t>(seed);
  metrics::CodeHead::Setup ps = hs;  // the scratch head: the same, on pixels
  hs.inputs = latent, hs.max_rows = train.count;
  ps.inputs = static_cast<int>(train.image_size()), ps.max_rows = labels;
  auto code_head = std::make_unique<metrics::CodeHead>(), pixel_head = std::make_unique<metrics::CodeHead>();
  Session heads;
  size_t pbytes = 0, ctx_bytes = 0;
  Context::Options co;
  co.threads = threads;
  s = code_head->configure(hs);
  if (s.is_ok()) s = pixel_head->configure(ps);
  if (s.is_ok()) s = setup_bytes(pixel_head.get(), threads, &pbytes);
  if (s.is_ok()) s = Context::bytes_needed(co, &ctx_bytes);
  pbytes -= pbytes >= ctx_bytes ? ctx_bytes : 0;  // the second model shares the first one's context
  const size_t scratch = metrics::self_training_bytes(train.count) + 2 * Arena::rounded(sizeof(double) * latent);
  MemoryPlan heads_extra;
  heads_extra.add("the pixel head", pbytes);
  heads_extra.add("self-training scratch", scratch);
  heads_extra.add("small buffers", kSlack);
  if (s.is_ok()) s = open_session_for(code_head.get(), threads, heads_extra, &heads);
  if (s.is_ok()) s = pixel_head->init(&heads.arena, &heads.ctx);
  std::vector<float> mean(latent), inv_std(latent);
  if (s.is_ok()) s = metrics::input_moments(codes.data(), train.count, latent, min_std, &heads.arena, mean.data(),
                                           inv_std.data());
  if (!s.is_ok()) return report(kCmd, s);
  metrics::standardise(codes.data(), train.count, latent, mean.data(), inv_std.data());
  metrics::standardise(test_codes.data(), test.count, latent, mean.data(), inv_std.data());
  const std::vector<float> test_pixels = grey_pixels(test);
  const std::vector<int32_t> test_labels = labels_of(test);

  char arch[256];
  enc.model->config().to_text(arch, sizeof arch);
  std::printf("encoder %s (%s, step %llu)\ndata %s: %d training images, %d test; %d labelled per draw (%d per class)\n"
              "head: %s, %d epochs, lr %g, weight decay %g%s\n",
              encoder, arch, static_cast<unsigned long long>(enc.step), data.source.c_str(), train.count, test.count,
              labels, per_class, hs.hidden ? ("ReLU " + std::to_string(hs.hidden) + " + softmax").c_str()
                                           : "softmax regression",
              epochs, hs.lr, hs.weight_decay, st.rounds ? "" : "; no self-training");
  if (st.rounds)
    std::printf("self-training: %d rounds of %d epochs, up to %.0f%% of the unlabelled codes\n", st.rounds, st.epochs,
                100.0 * st.fraction);

  std::vector<Method> methods = {{"codes", "codes", {}}};
  if (st.rounds) methods.push_back({"codes_self_train", "codes+self", {}});
  methods.push_back({"scratch_pixels", "scratch", {}});
  if (conv) methods.push_back({"scratch_conv", "conv", {}});
  std::printf("\n%-8s", "draw");
  for (const Method& m : methods) std::printf("  %13s", m.title);
  std::printf("\n");

  std::vector<int32_t> idx(static_cast<size_t>(labels)), row_labels(static_cast<size_t>(train.count), -1),
      y(static_cast<size_t>(labels));
  std::vector<float> x(static_cast<size_t>(labels) * train.image_size());
  for (int d = 0; d < draws; ++d) {
    const uint64_t draw_seed = data::derive_seed(static_cast<uint64_t>(seed), static_cast<uint64_t>(d), kDrawStream);
    s = metrics::draw_per_class(train, per_class, draw_seed, idx.data(), labels);
    if (s.is_ok()) s = data::gather(train, idx.data(), labels, x.data(), y.data());
    if (!s.is_ok()) return report(kCmd, s);
    std::fill(row_labels.begin(), row_labels.end(), -1);  // only the drawn rows have labels
    for (int j = 0; j < labels; ++j) row_labels[static_cast<size_t>(idx[j])] = y[static_cast<size_t>(j)];
    size_t m = 0;
    double err = 0;
    code_head->reset(draw_seed);
    s = code_head->fit(codes.data(), row_labels.data(), train.count, idx.data(), labels, epochs, nullptr);
    if (s.is_ok()) s = code_head->error_rate(test_codes.data(), test_labels.data(), test.count, &err);
    methods[m++].errors.push_back(err);
    if (s.is_ok() && st.rounds) {
      s = metrics::self_train(code_head.get(), codes.data(), train.count, idx.data(), y.data(), labels, st,
                             &heads.arena);
      if (s.is_ok()) s = code_head->error_rate(test_codes.data(), test_labels.data(), test.count, &err);
      methods[m++].errors.push_back(err);
    }
    pixel_head->reset(draw_seed);
    if (s.is_ok()) s = pixel_head->fit(x.data(), y.data(), labels, nullptr, labels, epochs, nullptr);
    if (s.is_ok()) s = pixel_head->error_rate(test_pixels.data(), test_labels.data(), test.count, &err);
    methods[m++].errors.push_back(err);
    if (s.is_ok() && conv) {
      s = conv_error(test, x, y, classes, conv_steps, draw_seed, threads, &err);
      methods[m++].errors.push_back(err);
    }
    if (!s.is_ok()) return report(kCmd, s);
    print_row(std::to_string(d + 1).c_str(), methods, d);
    std::fflush(stdout);
  }
  std::printf("%-8s", "mean");
  for (const Method& m : methods) std::printf("  %6.2f+-%5.2f%%", 100 * mean_of(m.errors), 100 * std_of(m.errors));
  std::printf("\n(test error over %d draws of %d labels; +- is the sample standard deviation)\n", draws, labels);
  if (!json.empty()) {
    JsonFile j(json);
    j.text("encoder", encoder).text("model", arch).text("data", data.source).integer("labels", labels);
    j.integer("per_class", per_class).integer("draws", draws).integer("seed", seed).integer("hidden", hs.hidden);
    j.integer("epochs", epochs).setting("lr", hs.lr).setting("weight_decay", hs.weight_decay);
    j.setting("min_std", min_std).integer("self_train_rounds", st.rounds);
    for (const Method& m : methods) {
      j.begin_object(m.key).number("mean", mean_of(m.errors)).number("std", std_of(m.errors));
      j.numbers("errors", m.errors.data(), static_cast<int>(m.errors.size())).end_object();
    }
    s = j.close();
    if (!s.is_ok()) return report(kCmd, s);
  }
  return 0;
}

}  // namespace ember::tool
