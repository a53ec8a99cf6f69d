// ember train: flags into a trainer (train/trainer.h), and what a person watching sees: a
// progress line, a line per epoch, and the pictures. Autoencoders and VAEs here; GANs in
// gan-train.cpp and the classifier in cmd-classifier.cpp, on the same trainer.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "examples/ember/classifier-commands.h"
#include "examples/ember/cli.h"
#include "examples/ember/commands.h"
#include "examples/ember/gan-commands.h"
#include "examples/ember/model-options.h"
#include "examples/ember/pictures.h"
#include "examples/ember/train-view.h"
#include "train/ae-trainee.h"

namespace ember::tool {

namespace {

constexpr int kSampleCount = 64, kSampleCols = 8;
constexpr int kReconCount = 32, kReconCols = 16;
constexpr int kTraverseSteps = 11;
constexpr float kTraverseRange = 3.0f;
constexpr int kMaxTraverseDims = 10;
constexpr int kTraverseRankImages = 1 << 30;  // an upper bound on the test images the traversal ranks by
constexpr uint64_t kPictureSeed = 2024;   // the same z for every epoch's sample grid

// Prints each epoch and draws the loss chart, the samples (every epoch) and, after the last
// epoch, the reconstructions and the traversal.
class AeView : public TrainView {
 public:
  AeView(train::AeTrainee* t, const std::string& out, bool pictures, std::string title)
      : TrainView(out, pictures), t_(t), title_(std::move(title)) {}

  void on_progress(const train::Progress& p) override {
    progress_line(p, "loss %.3f", p.means[0]);
  }
  Status on_epoch(const train::EpochReport& r, const train::History& h, Arena* arena) override {
    clear_progress();
    const double* row = r.row;  // epoch, step, train_loss, test_loss, test_recon, test_kl, test_sq_err, seconds
    std::printf("epoch %d/%d  train %.3f  test %.3f", r.epoch, r.epochs, row[2], row[3]);
    models::AeModel& m = t_->model();
    const bool vae = m.config().kind == models::ModelKind::vae;
    if (vae) std::printf(" (recon %.3f + kl %.3f)", row[4], row[5]);
    std::printf("  sq_err %.3f  lr %.2g  %.1f s\n", row[6], r.lr, r.seconds);
    std::fflush(stdout);
    if (!pictures_) return Status::ok();
    static const train::History::Line kLines[] = {{"train_loss", "train (running mean over the epoch)"},
                                                  {"test_loss", "test"}};
    EMBER_TRY(h.write_svg((stem_ + ".loss.svg").c_str(), title_.c_str(), "loss per image", kLines, 2, arena));
    if (vae) EMBER_TRY(write_samples(m, arena, stem_ + ".samples.png", kSampleCount, kSampleCols, kPictureSeed));
    if (!r.last) return Status::ok();
    const data::Dataset& test = t_->test_data();
    EMBER_TRY(write_reconstructions(m, arena, test, stem_ + ".recon.png", kReconCount, kReconCols));
    const int dims = m.config().latent < kMaxTraverseDims ? m.config().latent : kMaxTraverseDims;
    // A VAE around z = 0 (the prior's centre); an ae around a real code (its codes are not
    // centred at 0).
    return write_traversal(m, arena, &test, vae ? -1 : 0, stem_ + ".traverse.png", dims, kTraverseSteps,
                           kTraverseRange);
  }
  // What the largest of those pictures takes (each is given back before the next).
  static size_t picture_bytes(const models::AeModel& m, int epochs) {
    const models::AeConfig& c = m.config();
    const int e = m.setup().eval_batch;
    const int dims = c.latent < kMaxTraverseDims ? c.latent : kMaxTraverseDims;
    const size_t sizes[] = {train::History::svg_bytes(epochs + 1, 2),
                            c.kind == models::ModelKind::vae ? samples_bytes(c, kSampleCount, kSampleCols) : 0,
                            reconstructions_bytes(c, e, kReconCount, kReconCols),
                            traversal_bytes(c, e, kTraverseRankImages, dims, kTraverseSteps)};
    return *std::max_element(sizes, sizes + 4);
  }

 private:
  train::AeTrainee* t_;
  std::string title_;
};

std::string ae_title(const models::AeConfig& c, const std::string& data) {
  std::string title = std::string(models::kind_name(c.kind)) + " " + models::arch_name(c.arch);
  if (c.arch == models::Arch::mlp)
    for (int i = 0; i < c.depth; ++i) title += (i ? "-" : " ") + std::to_string(c.widths[i]);
  return title + ", latent " + std::to_string(c.latent) + ", " + models::likelihood_name(c.likelihood) +
         " decoder, on " + data;
}

}  // namespace

Status plan_ae_training(const train::AeTrainee::Setup& setup, const train::TrainOptions& options, int threads,
                        bool pictures, MemoryPlan* plan) {
  auto trainee = std::make_unique<train::AeTrainee>();
  train::Trainer trainer;
  EMBER_TRY(trainee->configure(setup));
  EMBER_TRY(trainer.configure(trainee.get(), options));
  return plan_training(trainer, threads, pictures ? AeView::picture_bytes(trainee->model(), options.epochs) : 0, plan);
}

int cmd_train(int argc, char** argv) {
  // GANs and the classifier have their own flags (gan-train.cpp, cmd-classifier.cpp).
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
  train::AeTrainee::Setup setup;
  models::AeModel::Setup& model = setup.model;
  std::vector<ConfigFlag> arch_flags;
  read_architecture(cli, &model.config, &arch_flags);
  DataSpec data = read_data(cli, true);
  train::TrainOptions o;
  const RunFlags run = read_run_flags(cli, o.epochs, &o);
  model.batch = cli.integer("--batch", "B", "images per step", model.batch, 1, 65536);
  model.lr = cli.real("--lr", "X", "Adam learning rate", model.lr, 1e-8f, 10.0f);
  model.weight_decay = cli.real("--wd", "X", "decoupled weight decay (AdamW): each step w -= lr * X * w", 0.0f, 0.0f,
                                10.0f);
  o.schedule.final = cli.real("--lr-final", "X", "decay the rate geometrically to X at the last epoch (0: constant)",
                              0.0f, 0.0f, 10.0f);
  o.time_limit = 60.0 * cli.real("--time-limit", "MIN",
                                  "stop after the epoch that would end past MIN minutes of training; --lr-final "
                                  "is then reached at MIN (0: no limit)", 0.0f, 0.0f, 1e6f);
  const char* binarize = cli.text("--binarize", "none|dynamic", "dynamic: a fresh 0/1 sample of every pixel each step",
                                  "none");
  setup.test_n = cli.integer("--test-n", "N", "test images evaluated after each epoch (0: all)", 0, 0, 1 << 30);
  const bool pictures = !cli.flag("--no-pictures", "write no PNG/SVG pictures");
  if (std::strcmp(binarize, "dynamic") == 0) setup.pixels = data::Pixels::binarized;
  else if (std::strcmp(binarize, "none") != 0) cli.error("--binarize: 'none' or 'dynamic'");
  if (!cli.finish()) return cli.exit_code();
  const std::string& out = run.out;
  model.seed = static_cast<uint64_t>(run.seed);
  data.seed = model.seed;
  setup.data = data.view();
  o.schedule.lr = model.lr;
  o.out = out.c_str();

  train::AeTrainee trainee;
  Status s = trainee.configure(setup);
  train::Trainer trainer;
  Session session;
  if (s.is_ok() && o.resume) s = check_resume_flags(out, arch_flags, model.config);
  auto picture_bytes = [&] { return pictures ? AeView::picture_bytes(trainee.model(), o.epochs) : 0; };
  if (s.is_ok()) s = open_trainer(&trainer, &trainee, o, run, picture_bytes, &session);
  if (!s.is_ok()) return report("train", s);
  if (nothing_to_train(trainer, o)) return 0;
  const models::AeConfig& c = trainee.model().config();
  char arch[256];
  c.to_text(arch, sizeof arch);
  std::printf("model: %s\nparameters: %zu, %s, data: %s (%d train, %d test)\n", arch,
              trainee.model().param_count(), memory_text(session).c_str(), data.source.c_str(),
              trainee.train_data().count, trainee.test_data().count);
  AeView view(&trainee, out, pictures, ae_title(c, data.source));
  s = trainer.run(view.observer());
  if (!s.is_ok()) return report("train", s);
  std::printf("wrote %s (%s.log.csv%s)\n", out.c_str(), stem_of(out).c_str(),
              !pictures ? "" : c.kind == models::ModelKind::vae ? ", .loss.svg, .samples.png, .recon.png, .traverse.png"
                                                                : ", .loss.svg, .recon.png, .traverse.png");
  return 0;
}

}  // namespace ember::tool
