// ember train: trains an autoencoder or VAE, evaluates on the test set after each epoch,
// writes an atomic checkpoint each epoch (and can resume from it), and draws pictures.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <vector>

#include "examples/ember/classifier-commands.h"
#include "examples/ember/cli.h"
#include "examples/ember/commands.h"
#include "examples/ember/gan-commands.h"
#include "examples/ember/history.h"
#include "examples/ember/model-options.h"
#include "examples/ember/pictures.h"
#include "metrics/ae-eval.h"
#include "data/batcher.h"

namespace ember::tool {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kProgressEvery = 0.25;  // seconds between progress-line updates
constexpr int kSampleCount = 64, kSampleCols = 8;
constexpr int kReconCount = 32, kReconCols = 16;
constexpr int kTraverseSteps = 11;
constexpr float kTraverseRange = 3.0f;
constexpr int kMaxTraverseDims = 10;
constexpr uint64_t kPictureSeed = 2024;   // the same z for every epoch's sample grid
constexpr uint64_t kTestSeed = 77;        // binarization of the test set, evaluation noise

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void format_time(double s, char* buf, size_t cap) {
  const long t = static_cast<long>(s + 0.5);
  if (t >= 3600) std::snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

struct TrainOptions {
  int epochs = 10;
  float lr_final = 0;  // 0: constant rate
  double time_limit = 0;  // seconds of training (0: none); the schedule then runs on time
  models::Pixels pixels = models::Pixels::grey;
  int test_n = 0;
  bool resume = false, pictures = true;
  std::string out;
  int threads = 0;
};

// Learning rate of epoch e after `spent` seconds: lr, decayed geometrically to lr_final at
// the last epoch (or at the time limit).
float lr_at(float lr, const TrainOptions& o, int e, double spent) {
  if (o.lr_final <= 0) return lr;
  double frac = o.epochs > 1 ? static_cast<double>(e) / (o.epochs - 1) : 1.0;
  if (o.time_limit > 0) frac = std::min(1.0, spent / o.time_limit);
  return decayed_lr(lr, o.lr_final, frac);
}

Status write_pictures(models::AeModel& m, Arena* arena, const models::Dataset& test, const std::string& stem,
                      bool final_pictures) {
  const bool vae = m.config().kind == models::ModelKind::vae;
  if (vae) EMBER_TRY(write_samples(m, arena, stem + ".samples.png", kSampleCount, kSampleCols, kPictureSeed));
  if (!final_pictures) return Status::ok();
  EMBER_TRY(write_reconstructions(m, arena, test, stem + ".recon.png", kReconCount, kReconCols));
  const int dims = m.config().latent < kMaxTraverseDims ? m.config().latent : kMaxTraverseDims;
  // A VAE around z = 0 (the prior's centre); an ae around a real code (its codes are not
  // centred at 0).
  return write_traversal(m, arena, &test, vae ? -1 : 0, stem + ".traverse.png", dims, kTraverseSteps, kTraverseRange);
}

}  // namespace

int cmd_train(int argc, char** argv) {
  // GANs and the classifier have their own training commands (gan_train.cpp, cmd_classifier.cpp).
  std::vector<char*> rest;
  std::string kind;
  for (int i = 0; i < argc; ++i) {
    if (i + 1 < argc && !std::strcmp(argv[i], "--model")) kind = argv[i + 1];
    if (i + 1 < argc && !std::strcmp(argv[i], "--model") && kind == "classifier") ++i;
    else rest.push_back(argv[i]);
  }
  if (kind == "classifier") return train_classifier(static_cast<int>(rest.size()), rest.data());
  if (kind == "gan" || kind == "dcgan" || kind == "cgan") return train_gan(argc, argv);
  if (!kind.empty() && kind != "ae" && kind != "vae") {
    std::fprintf(stderr, "ember train: --model: one of: ae vae gan dcgan cgan classifier (not '%s')\n", kind.c_str());
    return 2;
  }
  Cli cli("train", "train an autoencoder or VAE; a checkpoint each epoch, pictures at the end (--model gan|dcgan|cgan|"
          "classifier --help: those models' options)", argc, argv);
  models::AeModel::Setup setup;
  read_architecture(cli, &setup.config);
  DataSpec data = read_data(cli, true);
  TrainOptions o;
  o.epochs = cli.integer("--epochs", "N", "passes over the training set", o.epochs, 1, 1000000);
  setup.batch = cli.integer("--batch", "B", "images per step", setup.batch, 1, 65536);
  setup.lr = cli.real("--lr", "X", "Adam learning rate", setup.lr, 1e-8f, 10.0f);
  setup.weight_decay = cli.real("--wd", "X", "decoupled weight decay (AdamW): each step w -= lr * X * w", 0.0f, 0.0f,
                                10.0f);
  o.lr_final = cli.real("--lr-final", "X", "decay the rate geometrically to X at the last epoch (0: constant)", 0.0f,
                        0.0f, 10.0f);
  o.time_limit = 60.0 * cli.real("--time-limit", "MIN",
                                  "stop after the epoch that would end past MIN minutes of training; --lr-final "
                                  "is then reached at MIN (0: no limit)", 0.0f, 0.0f, 1e6f);
  const int seed = cli.integer("--seed", "S", "weights, noise, shuffling and sprites", 1, 0, 1 << 30);
  o.threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 0, 0, 256);
  const char* binarize = cli.text("--binarize", "none|dynamic", "dynamic: a fresh 0/1 sample of every pixel each step",
                                  "none");
  o.test_n = cli.integer("--test-n", "N", "test images evaluated after each epoch (0: all)", 0, 0, 1 << 30);
  o.out = cli.text("--out", "FILE", "checkpoint to write (pictures and logs go next to it)", nullptr);
  o.resume = cli.flag("--resume", "continue from --out if it exists (its architecture wins)");
  o.pictures = !cli.flag("--no-pictures", "write no PNG/SVG pictures");
  if (std::strcmp(binarize, "dynamic") == 0) o.pixels = models::Pixels::binarized;
  else if (std::strcmp(binarize, "none") != 0) cli.error("--binarize: 'none' or 'dynamic'");
  if (!cli.finish()) return cli.exit_code();
  setup.seed = static_cast<uint64_t>(seed);
  data.seed = setup.seed;

  const bool resuming = o.resume && access(o.out.c_str(), F_OK) == 0;
  if (resuming) {
    const Status s = models::AeModel::read_config(o.out.c_str(), &setup.config);
    if (!s.is_ok()) return report("train", s);
  }
  auto model = std::make_unique<models::AeModel>();
  Session session;
  models::Dataset train, test;
  models::Batcher batcher;
  models::AeEvaluator eval;
  std::vector<float> x;
  Status s = model->configure(setup);
  size_t dbytes = 0;
  if (s.is_ok()) s = data_bytes(data, true, true, &dbytes);
  const size_t eval_bytes = 8 * Arena::rounded(sizeof(float) * size_t(setup.eval_batch) * setup.config.pixels());
  const size_t picture_bytes = 16u << 20;
  if (s.is_ok()) s = open_session_for(model.get(), o.threads, dbytes + eval_bytes + picture_bytes + (1u << 20), &session);
  if (s.is_ok()) s = load_data(&session.arena, data, true, true, &train, &test);
  if (s.is_ok()) s = check_image_size(train, setup.config.rows, setup.config.cols, "the model");
  if (s.is_ok()) s = eval.init(&session.arena, model.get());
  if (s.is_ok()) s = batcher.init(&session.arena, train, setup.batch, setup.seed, o.pixels);
  if (!s.is_ok()) return report("train", s);
  x.resize(batcher.x_floats());

  const std::string stem = stem_of(o.out);
  History history({"epoch", "step", "train_loss", "test_loss", "test_recon", "test_kl", "test_sq_err", "seconds"});
  uint64_t step = 0;
  if (resuming) {
    s = model->load(o.out.c_str(), &step);
    if (s.is_ok()) s = history.read_csv(stem + ".log.csv");
    const int spe = batcher.steps_per_epoch();
    if (s.is_ok()) s = batcher.seek(static_cast<int>(step / spe), static_cast<int>(step % spe));
    if (!s.is_ok()) return report("train", s);
    std::printf("resuming %s at step %llu (epoch %llu)\n", o.out.c_str(), static_cast<unsigned long long>(step),
                static_cast<unsigned long long>(step / spe + 1));
  }
  char arch[256];
  setup.config.to_text(arch, sizeof arch);
  std::printf("model: %s\nparameters: %zu, arena: %.1f MiB, threads: %d, data: %s (%d train, %d test)\n", arch,
              model->param_count(), session.arena.capacity() / 1048576.0, session.ctx.threads(), data.source.c_str(),
              train.count, test.count);

  std::string title = std::string(models::kind_name(setup.config.kind)) + " " + models::arch_name(setup.config.arch);
  if (setup.config.arch == models::Arch::mlp)
    for (int i = 0; i < setup.config.depth; ++i) title += (i ? "-" : " ") + std::to_string(setup.config.widths[i]);
  title += ", latent " + std::to_string(setup.config.latent) + ", " + models::likelihood_name(setup.config.likelihood) +
           " decoder, on " + data.source;
  const bool tty = isatty(fileno(stderr)) != 0;
  const int spe = batcher.steps_per_epoch();
  const auto run_start = Clock::now();
  const uint64_t first_step = step;
  const uint64_t total_steps = static_cast<uint64_t>(o.epochs) * spe;
  double spent = history.sum("seconds");  // training seconds, including earlier runs of a resumed model
  while (step < total_steps) {
    const int epoch = static_cast<int>(step / spe);
    const double last = history.last("seconds");
    if (o.time_limit > 0 && spent + last > o.time_limit) {
      std::printf("time limit: stopping after %.1f of %.1f minutes\n", spent / 60, o.time_limit / 60);
      break;
    }
    model->optimizer().set_lr(lr_at(setup.lr, o, epoch, spent));
    const auto epoch_start = Clock::now();
    auto last_print = epoch_start;
    double sum = 0;
    int n = 0;
    for (int i = batcher.position(); i < spe; ++i, ++step) {
      batcher.next(x.data(), nullptr);
      models::StepLoss l;
      s = model->train_step(x.data(), &l);
      if (!s.is_ok()) return report("train", s);
      sum += l.loss, ++n;
      if (tty && std::chrono::duration<double>(Clock::now() - last_print).count() > kProgressEvery) {
        last_print = Clock::now();
        const double rate = (step + 1 - first_step) / seconds_since(run_start);
        char left[32];
        format_time((total_steps - step - 1) / rate, left, sizeof left);
        std::fprintf(stderr, "\repoch %d/%d  step %d/%d  loss %.3f  %.0f steps/s  %s left   ", epoch + 1, o.epochs,
                     i + 1, spe, sum / n, rate, left);
      }
    }
    models::AeEvalResult r;
    s = eval.evaluate(test, o.test_n, o.pixels, kTestSeed, &r);
    if (!s.is_ok()) return report("train", s);
    const double train_loss = sum / (n ? n : 1), seconds = seconds_since(epoch_start);
    spent += seconds;
    history.add({double(epoch + 1), double(step), train_loss, r.loss, r.recon, r.kl, r.recon_sq_err, seconds});
    if (tty) std::fprintf(stderr, "\r%*s\r", 78, "");
    std::printf("epoch %d/%d  train %.3f  test %.3f", epoch + 1, o.epochs, train_loss, r.loss);
    if (setup.config.kind == models::ModelKind::vae) std::printf(" (recon %.3f + kl %.3f)", r.recon, r.kl);
    std::printf("  sq_err %.3f  lr %.2g  %.1f s\n", r.recon_sq_err, model->optimizer().config().lr, seconds);
    std::fflush(stdout);
    s = model->save(o.out.c_str(), step);
    if (s.is_ok()) s = history.write_csv(stem + ".log.csv");
    if (s.is_ok() && o.pictures)
      s = history.write_svg(stem + ".loss.svg", title.c_str(), "loss per image",
                            {{"train_loss", "train (running mean over the epoch)"}, {"test_loss", "test"}});
    const bool last_epoch = step == total_steps || (o.time_limit > 0 && spent + seconds > o.time_limit);
    if (s.is_ok() && o.pictures) s = write_pictures(*model, &session.arena, test, stem, last_epoch);
    if (!s.is_ok()) return report("train", s);
  }
  std::printf("wrote %s (%s.log.csv%s)\n", o.out.c_str(), stem.c_str(),
              o.pictures ? ", .loss.svg, .samples.png, .recon.png, .traverse.png" : "");
  return 0;
}

}  // namespace ember::tool
