// ember eval: quality figures of a trained autoencoder / VAE on the test set.
//
//   recon_sq_err  squared error per image of the mean reconstruction (x = byte / 255)
//   pca_sq_err    the same for PCA with --pca-k components fitted on the training set
//   neg_elbo      one-sample negative ELBO per image (vae; for an ae its training loss)
//   nll_iwae      importance-weighted -log p(x) with --k samples (vae)
//   nll_naive     the same with z drawn from the prior instead of the encoder (vae)
//
// --decoder S.ember: the model's decoder replaced by a sampler file's (`ember export`, e.g.
// --weights int8), widened to float: what int8 weights cost, with the model's own encoder.
// A layer with int8 weights computes exactly the float layer on the widened weights
// (nn/quantize.h), so these are the int8 decoder's figures.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "examples/ember/classifier-commands.h"
#include "examples/ember/gan-commands.h"
#include "examples/ember/gan-report.h"
#include "examples/ember/cli.h"
#include "examples/ember/commands.h"
#include "examples/ember/json-file.h"
#include "examples/ember/model-options.h"
#include "metrics/ae-eval.h"
#include "metrics/likelihood.h"
#include "metrics/pca.h"
#include "nn/checkpoint.h"
#include "nn/quantize.h"

namespace ember::tool {

namespace {

constexpr uint64_t kEvalSeed = 77;  // as `ember train` uses for its test figures
constexpr size_t kScratchBytes = 64u << 20;
const char* const kMetrics[] = {"recon_sq_err", "pca_sq_err", "neg_elbo", "nll_iwae", "nll_naive"};

bool wants(const std::string& list, const char* metric) {
  size_t at = 0;
  while (at <= list.size()) {
    const size_t comma = list.find(',', at);
    const std::string item = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (item == metric || item == "all") return true;
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return false;
}

struct Results {
  std::vector<std::pair<std::string, double>> values;
  void add(const char* key, double v) {
    values.emplace_back(key, v);
    std::printf("%-14s %.4f\n", key, v);
  }
};

// Mean -log p(x) over images [0, n) of data: IWAE (prior = false) or naive (prior = true).
Status likelihood(metrics::AeEvaluator& eval, const data::Dataset& data, int n, data::Pixels pixels, int k,
                  bool prior, Arena* arena, double* mean) {
  metrics::AeLatentModel lm(&eval);
  Rng rng(kEvalSeed, prior ? 2 : 1);
  const bool tty = isatty(fileno(stderr)) != 0;
  const auto start = std::chrono::steady_clock::now();
  double sum = 0, last = 0;
  for (int i = 0; i < n; ++i) {
    eval.load_rows(data, i, i + 1, pixels, kEvalSeed, eval.x_buffer());
    double nll = 0;
    EMBER_TRY(prior ? metrics::nll_naive(lm, eval.x_buffer(), k, &rng, arena, &nll)
                    : metrics::nll_iwae(lm, eval.x_buffer(), k, &rng, arena, &nll));
    sum += nll;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (tty && t - last > 1.0) {
      last = t;
      std::fprintf(stderr, "\r%s k=%d: %d/%d images, mean %.3f, %.0f s left   ", prior ? "nll_naive" : "nll_iwae", k,
                   i + 1, n, sum / (i + 1), t / (i + 1) * (n - i - 1));
    }
  }
  if (tty) std::fprintf(stderr, "\r%*s\r", 70, "");
  *mean = sum / n;
  return Status::ok();
}

// The decoder of `model` replaced by the sampler file's (same architecture, any weights).
Status swap_decoder(const char* path, models::AeModel* model) {
  LoadedModel d;
  EMBER_TRY(load_for_inference(path, 1, 1, MemoryPlan(), &d, true));
  models::AeConfig mine = model->config(), theirs = d.model->config();
  theirs.weights = mine.weights;
  char a[models::kModelConfigText], b[models::kModelConfigText];
  EMBER_TRY(mine.to_text(a, sizeof a));
  EMBER_TRY(theirs.to_text(b, sizeof b));
  if (std::strcmp(a, b) != 0) return Status::error(Code::shape_mismatch, "--decoder %s is '%s', the model '%s'", path, b, a);
  return nn::dequantize_params(d.model->params(), &model->params(), true);
}

}  // namespace

int cmd_eval(int argc, char** argv) {
  // Classifiers (test accuracy), GANs and raw images (sample quality) have their own commands.
  for (int i = 0; i < argc; ++i)  // images made elsewhere: no checkpoint of ours to look at
    if (!std::strcmp(argv[i], "--samples")) return eval_samples(argc, argv);
  const CheckpointKind kind = checkpoint_kind(argc, argv);
  if (kind == CheckpointKind::classifier) return eval_classifier(argc, argv);
  if (kind == CheckpointKind::gan) return eval_gan(argc, argv);
  Cli cli("eval", "quality metrics on the test set", argc, argv);
  const char* path = cli.input("--model", "FILE", "checkpoint written by `ember train`", nullptr);
  const DataSpec data = read_data(cli, true);
  const std::string metrics =
      cli.text("--metric", "LIST", "comma list of recon_sq_err,pca_sq_err,neg_elbo,nll_iwae,nll_naive or all",
               "recon_sq_err,neg_elbo");
  const int n_arg = cli.integer("--n", "N", "test images (0: all)", 0, 0, 1 << 30);
  const int k = cli.integer("--k", "K", "importance samples for nll_iwae / nll_naive", 5000, 1, 1 << 24);
  const int pca_k = cli.integer("--pca-k", "K", "PCA components for pca_sq_err", 30, 1, 100000);
  const int eval_batch = cli.integer("--eval-batch", "E", "rows per decoder call", 500, 1, 65536);
  const char* decoder = cli.input("--decoder", "FILE", "a sampler file (ember export, e.g. --weights int8) whose "
                                  "decoder replaces the model's, with the model's encoder", "");
  const char* binarize = cli.text("--binarize", "none|fixed",
                                  "fixed: test images binarized once (seeded), for models trained with dynamic "
                                  "binarization", "none");
  const char* json = cli.output("--json", "FILE.json", "also write the figures as JSON", "", ".json");
  const int threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 0, 0, 256);
  const size_t memory = read_memory(cli);
  for (size_t at = 0; at < metrics.size();) {
    const size_t comma = metrics.find(',', at);
    const std::string item = metrics.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    bool known = item == "all";
    for (const char* m : kMetrics) known |= item == m;
    if (!known) cli.error("--metric: unknown '" + item + "'");
    at = comma == std::string::npos ? metrics.size() : comma + 1;
  }
  data::Pixels pixels = data::Pixels::grey;
  if (!std::strcmp(binarize, "fixed")) pixels = data::Pixels::binarized;
  else if (std::strcmp(binarize, "none") != 0) cli.error("--binarize: 'none' or 'fixed'");
  if (!cli.finish()) return cli.exit_code();

  const bool need_train = wants(metrics, "pca_sq_err");
  size_t dbytes = 0;
  Status s = data_bytes(data, need_train, true, &dbytes);
  LoadedModel m(memory);
  MemoryPlan extra;
  extra.add("datasets", dbytes);
  extra.add("evaluation scratch", kScratchBytes);
  if (s.is_ok()) s = load_for_inference(path, threads, eval_batch, extra, &m);
  if (s.is_ok() && *decoder) s = swap_decoder(decoder, m.model.get());
  data::Dataset train, test;
  if (s.is_ok()) s = load_data(&m.session.arena, data, need_train, true, &train, &test);
  metrics::AeEvaluator eval;
  if (s.is_ok()) s = eval.init(&m.session.arena, m.model.get());
  if (!s.is_ok()) return report("eval", s);
  const int n = n_arg <= 0 || n_arg > test.count ? test.count : n_arg;
  const bool vae = m.model->config().kind == models::ModelKind::vae;
  char arch[256];
  m.model->config().to_text(arch, sizeof arch);
  std::printf("model %s (step %llu)\ndata %s, %d test images%s\n", arch, static_cast<unsigned long long>(m.step),
              data.source.c_str(), n, pixels == data::Pixels::binarized ? " (binarized, fixed seed)" : "");
  if (*decoder) std::printf("decoder %s\n", decoder);

  Results r;
  Arena& arena = m.session.arena;
  if (wants(metrics, "recon_sq_err") || wants(metrics, "neg_elbo")) {
    metrics::AeEvalResult e;
    s = eval.evaluate(test, n, pixels, kEvalSeed, &e);
    if (!s.is_ok()) return report("eval", s);
    if (wants(metrics, "recon_sq_err")) r.add("recon_sq_err", e.recon_sq_err);
    if (wants(metrics, "neg_elbo")) {
      r.add(vae ? "neg_elbo" : "recon_loss", e.loss);
      if (vae) r.add("recon_nll", e.recon), r.add("kl", e.kl);
    }
  }
  if (wants(metrics, "pca_sq_err")) {
    const size_t mark = arena.mark();
    metrics::Pca pca;
    double err = 0;
    s = metrics::pca_fit(train, pca_k, &arena, &pca);
    data::Dataset first = test;
    first.count = n;
    if (s.is_ok()) s = metrics::pca_squared_error(pca, first, &arena, &err);
    arena.rewind(mark);
    if (!s.is_ok()) return report("eval", s);
    r.add("pca_sq_err", err);
  }
  for (const bool prior : {false, true}) {
    const char* key = prior ? "nll_naive" : "nll_iwae";
    if (!wants(metrics, key)) continue;
    if (!vae) {
      if (metrics != "all") std::fprintf(stderr, "ember eval: %s needs a vae; skipped\n", key);
      continue;
    }
    double v = 0;
    s = likelihood(eval, test, n, pixels, k, prior, &arena, &v);
    if (!s.is_ok()) return report("eval", s);
    r.add(key, v);
  }
  if (*json) {
    JsonFile j(json);
    j.text("model", arch).text("data", data.source).integer("n", n).integer("k", k);
    for (const auto& kv : r.values) j.number(kv.first.c_str(), kv.second);
    s = j.close();
    if (!s.is_ok()) return report("eval", s);
  }
  return 0;
}

}  // namespace ember::tool
