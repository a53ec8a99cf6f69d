// ember train --model gan|dcgan|cgan: flags into the trainer (train/gan-trainee.h), and what a
// person watching sees: after every epoch a line of D and G figures, a CSV log, an SVG chart
// of them, and a picture of the generator with the same z every epoch — a sample grid for
// images (one row per class or code), a scatter plot over the eight modes for rings, with the
// modes covered and the high-quality share printed.
#include <cstdio>
#include <string>
#include <vector>

#include "examples/ember/cli.h"
#include "examples/ember/gan-commands.h"
#include "examples/ember/model-options.h"
#include "examples/ember/pictures.h"
#include "examples/ember/train-view.h"
#include "models/gan-sampling.h"
#include "train/gan-trainee.h"

namespace ember::tool {

namespace {

constexpr int kDefaultEpochs = 20;
constexpr int kSampleCols = 8;             // per-epoch grid: 8 x 8, or 8 per class
constexpr int kSampleRows = 8;
constexpr int kRingsPicturePoints = 2000;  // of the points scored each epoch, drawn

// The per-epoch grid: 8 x 8, or a row per class or code.
int sample_count(const models::GanConfig& c) { return (c.onehot_dim() ? c.onehot_dim() : kSampleRows) * kSampleCols; }

class GanView : public TrainView {
 public:
  GanView(train::GanTrainee* t, const std::string& out, bool pictures, std::string title)
      : TrainView(out, pictures), t_(t), title_(std::move(title)) {}

  void on_progress(const train::Progress& p) override {
    progress_line(p, "D %.3f  G %.3f  D(x) %.2f  D(G(z)) %.2f", p.means[0], p.means[1], p.means[2], p.means[3]);
  }
  Status on_epoch(const train::EpochReport& r, const train::History& h, Arena* arena) override {
    clear_progress();
    const double* row = r.row;  // epoch, step, d_loss, g_loss, d_real, d_fake, seconds, ...
    const models::GanConfig& c = t_->config();
    std::printf("epoch %d/%d  D %.4f  G %.4f  D(x) %.3f  D(G(z)) %.3f", r.epoch, r.epochs, row[2], row[3], row[4],
                row[5]);
    const metrics::ModeCoverage& cover = t_->coverage();
    if (t_->points()) std::printf("  modes %d/%d  high quality %.3f", cover.covered, data::kRingsModes, cover.high_quality);
    if (c.info > 0) std::printf("  Q %.4f", row[h.index_of("info_loss")]);
    if (c.info_real) std::printf("  Q(x) %.4f", row[h.index_of("info_real_loss")]);
    std::printf("  %.1f s\n", r.seconds);
    std::fflush(stdout);
    if (!pictures_) return Status::ok();
    static const train::History::Line kLines[] = {
        {"d_loss", "D loss"}, {"g_loss", "G loss"}, {"d_real", "D(x)"}, {"d_fake", "D(G(z))"}};
    EMBER_TRY(h.write_svg((stem_ + ".loss.svg").c_str(), title_.c_str(), "loss, probability", kLines, 4, arena));
    if (t_->points()) {
      char title[128];
      std::snprintf(title, sizeof title, "epoch %d: %d/%d modes, %.0f%% high quality", r.epoch, cover.covered,
                    data::kRingsModes, 100 * cover.high_quality);
      return write_rings_scatter(stem_ + ".samples.svg", t_->figure_points(), kRingsPicturePoints, title);
    }
    const int n = sample_count(c);
    std::vector<float> z(size_t(n) * c.z_dim), out(size_t(n) * c.dims());
    std::vector<int32_t> labels(size_t(n), 0);
    EMBER_TRY(models::fill_labels(c, -1, n, kSampleCols, labels.data()));  // cond, info: a row per class or code
    EMBER_TRY(models::generate_samples(t_->model(), train::kGanPictureSeed, labels.data(), n, z.data(), out.data()));
    RowNames names;
    return write_image_grid(arena, stem_ + ".samples.png", out.data(), n, c.rows, c.cols, kSampleCols,
                            names.make(c, -1, n / kSampleCols));
  }
  // What the largest of those pictures takes (each is given back before the next); the rings
  // scatter plot takes none.
  static size_t picture_bytes(const models::GanConfig& c, int epochs) {
    const size_t chart = train::History::svg_bytes(epochs + 1, 4);
    if (c.data == models::GanData::points) return chart;
    const size_t grid = image_grid_bytes(c.rows, c.cols, sample_count(c), kSampleCols, true);
    return grid > chart ? grid : chart;
  }

 private:
  train::GanTrainee* t_;
  std::string title_;
};

}  // namespace

int train_gan(int argc, char** argv) {
  Cli cli("train --model gan|dcgan|cgan",
          "train a GAN; a checkpoint, a log and a picture of the generator after each epoch", argc, argv);
  train::GanTrainee::Setup setup;
  models::GanModel::Setup& model = setup.model;
  std::vector<ConfigFlag> arch_flags;
  read_gan_architecture(cli, &model.config, &arch_flags);
  DataSpec data = read_data(cli, true);
  train::TrainOptions o;
  const RunFlags run = read_run_flags(cli, kDefaultEpochs, &o);
  model.batch = cli.integer("--batch", "B", "real and fake samples per update", model.batch, 1, 65536);
  model.lr = cli.real("--lr", "X", "Adam learning rate of G and D", model.lr, 1e-8f, 10.0f);
  o.schedule.final = cli.real("--lr-final", "X", "decay both rates geometrically to X at the last epoch (0: constant)",
                              0.0f, 0.0f, 10.0f);
  o.schedule.decay_from = cli.integer("--decay-from", "E", "with --lr-final: hold the rate until epoch E, then decay",
                                      0, 0, 1000000);
  model.beta1 = cli.real("--beta1", "B", "Adam beta1 (DCGAN: 0.5)", model.beta1, 0.0f, 0.9999f);
  setup.rings_n = cli.integer("--rings-n", "N", "rings: training points", setup.rings_n, 1, 1 << 24);
  const bool pictures = !cli.flag("--no-pictures", "write no PNG/SVG pictures");
  const bool points = data.source == "rings";
  if (points && model.config.cond) cli.error("--model cgan needs labelled images, not rings");
  if (points && model.config.info_real) cli.error("--info-real clusters images, not rings");
  if (cli.given("--decay-from") && o.schedule.final <= 0) cli.error("--decay-from: only with --lr-final");
  if (o.schedule.decay_from >= o.epochs) cli.error("--decay-from: must be below --epochs");
  setup.keep_loss = cli.given("--gan-loss"), setup.keep_g_steps = cli.given("--g-steps");
  setup.keep_topk = cli.given("--topk"), setup.keep_ema = cli.given("--ema");
  if (!cli.finish()) return cli.exit_code();
  const std::string& out = run.out;
  model.seed = static_cast<uint64_t>(run.seed);
  data.seed = model.seed;
  setup.data = data.view();
  o.schedule.lr = model.lr;
  o.out = out.c_str();

  train::GanTrainee trainee;
  train::Trainer trainer;
  Session session;
  Status s = trainee.configure(setup);
  // --gan-loss, --g-steps, --topk and --ema may change on a resume; the networks may not.
  if (s.is_ok() && o.resume) s = check_resume_flags(out, arch_flags, model.config);
  auto picture_bytes = [&] { return pictures ? GanView::picture_bytes(trainee.config(), o.epochs) : 0; };
  if (s.is_ok()) s = open_trainer(&trainer, &trainee, o, run, picture_bytes, &session);
  if (!s.is_ok()) return report("train", s);
  if (nothing_to_train(trainer, o)) return 0;
  const models::GanConfig& c = trainee.config();
  if (c.info_real) {
    const train::PseudoLabels& pl = trainee.pseudo_labels();
    std::printf("pseudo-labels: k-means of %d PCA components, %d clusters, %d iterations%s", train::kPseudoLabelDims,
                c.info, pl.iterations, pl.converged ? " (converged)" : "");
    if (pl.purity >= 0) std::printf(", purity %.4f against the class labels (not used to train)", pl.purity);
    std::printf("\n");
  }
  char arch[256];
  c.to_text(arch, sizeof arch);
  models::GanModel& m = trainee.model();
  std::printf("model: %s\nparameters: G %zu, D %zu; %s, data: %s (%d %s)\n", arch,
              m.param_count(models::kGenerator), m.param_count(models::kDiscriminator), memory_text(session).c_str(),
              points ? "rings" : data.source.c_str(), trainee.data_count(), points ? "points" : "training images");
  std::fflush(stdout);
  GanView view(&trainee, out, pictures, std::string(points ? "GAN on rings" : "GAN") + ": " + arch);
  s = trainer.run(view.observer());
  if (!s.is_ok()) return report("train", s);
  std::printf("wrote %s (%s.log.csv%s)\n", out.c_str(), stem_of(out).c_str(),
              pictures ? (points ? ", .loss.svg, .samples.svg" : ", .loss.svg, .samples.png") : "");
  return 0;
}

}  // namespace ember::tool
