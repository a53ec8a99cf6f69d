// ember train --model gan|dcgan|cgan: trains a GAN (models/gan-model.h) on the 2-D rings,
// the built-in sprites or MNIST, so a run can be watched: after every epoch it writes an
// atomic checkpoint (and can resume from it bit-exactly), a CSV log of the D and G losses,
// an SVG chart of them, and a picture of the generator with the same z every epoch — a
// sample grid for images (one row per class for a conditional GAN), a scatter plot over the
// eight modes for rings, with the modes covered and the high-quality share printed.
//
// One step is one models::GanModel::train_step: d_steps D updates, then g_steps G updates
// (with --unroll K, K look-ahead D updates before them). Each D update takes its own real
// batch, so an epoch — one pass over the training set — has count / (batch * (d_steps +
// unroll)) steps.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "examples/ember/cli.h"
#include "examples/ember/gan-commands.h"
#include "examples/ember/history.h"
#include "examples/ember/model-options.h"
#include "examples/ember/pictures.h"
#include "examples/ember/pseudo-labels.h"
#include "data/batcher.h"
#include "data/mnist.h"
#include "data/rings.h"
#include "data/sprites.h"

namespace ember::tool {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kDefaultEpochs = 20;
constexpr int kDefaultRingsPoints = 25600;   // with batch 128: 200 steps per epoch
constexpr int kSampleCols = 8;               // per-epoch grid: 8 x 8, or 8 per class
constexpr int kSampleRows = 8;
constexpr int kRingsFigurePoints = 10000;    // generated points scored each epoch
constexpr int kRingsPicturePoints = 2000;    // of which drawn
constexpr uint64_t kPictureSeed = 2024;      // the same z in every epoch's picture
constexpr double kRefreshSeconds = 0.25;     // progress-line updates
constexpr size_t kToolSlack = 4u << 20;      // pictures, alignment
constexpr double kTopkDecay = 0.99;          // --topk: the kept share shrinks by this each epoch (Sinha et al.)

double elapsed(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// The real data of a run: images (with labels) or rings points, batched real_rows at a time.
struct RealData {
  bool points = false;
  models::Dataset train, test;
  models::PointSet rings;
  models::Batcher images;
  models::PointBatcher xy;
  int steps_per_epoch() const { return points ? xy.steps_per_epoch() : images.steps_per_epoch(); }
  Status seek(int epoch, int step) { return points ? xy.seek(epoch, step) : images.seek(epoch, step); }
  int position() const { return points ? xy.position() : images.position(); }
  void next(float* x, int32_t* labels) {
    if (points) return xy.next(x, nullptr);
    images.next(x, labels);
    models::to_signed_pixels(x, images.x_floats());
  }
};

// The picture of the generator after an epoch, and for rings its figures (printed).
Status epoch_picture(models::GanModel& m, Arena* arena, const std::string& stem, int epoch, bool draw,
                     models::ModeCoverage* cover) {
  const models::GanConfig& c = m.config();
  const bool points = c.data == models::GanData::points;
  const int n = points ? kRingsFigurePoints : (c.onehot_dim() ? c.onehot_dim() : kSampleRows) * kSampleCols;
  std::vector<float> z(size_t(n) * c.z_dim), out(size_t(n) * c.dims());
  std::vector<int32_t> labels;
  EMBER_TRY(fill_labels(c, -1, n, kSampleCols, &labels));  // cond, info: one row per class or code
  EMBER_TRY(generate_samples(m, kPictureSeed, labels.data(), n, z.data(), out.data()));
  if (points) {
    EMBER_TRY(rings_figures(out.data(), n, cover));
    if (!draw) return Status::ok();
    char title[128];
    std::snprintf(title, sizeof title, "epoch %d: %d/%d modes, %.0f%% high quality", epoch, cover->covered,
                  models::kRingsModes, 100 * cover->high_quality);
    return write_rings_scatter(stem + ".samples.svg", out.data(), kRingsPicturePoints, title);
  }
  if (!draw) return Status::ok();
  RowNames names;
  return write_image_grid(arena, stem + ".samples.png", out.data(), n, c.rows, c.cols, kSampleCols,
                          names.make(c, -1, n / kSampleCols));
}

}  // namespace

int train_gan(int argc, char** argv) {
  Cli cli("train --model gan|dcgan|cgan",
          "train a GAN; a checkpoint, a log and a picture of the generator after each epoch", argc, argv);
  models::GanModel::Setup setup;
  read_gan_architecture(cli, &setup.config);
  DataSpec data = read_data(cli, true);
  const int epochs = cli.integer("--epochs", "N", "passes over the training set", kDefaultEpochs, 1, 1000000);
  setup.batch = cli.integer("--batch", "B", "real and fake samples per update", setup.batch, 1, 65536);
  setup.lr = cli.real("--lr", "X", "Adam learning rate of G and D", setup.lr, 1e-8f, 10.0f);
  const float lr_final = cli.real("--lr-final", "X", "decay both rates geometrically to X at the last epoch (0: constant)",
                                  0.0f, 0.0f, 10.0f);
  const int decay_from = cli.integer("--decay-from", "E", "with --lr-final: hold the rate until epoch E, then decay",
                                     0, 0, 1000000);
  setup.beta1 = cli.real("--beta1", "B", "Adam beta1 (DCGAN: 0.5)", setup.beta1, 0.0f, 0.9999f);
  const int rings_n = cli.integer("--rings-n", "N", "rings: training points", kDefaultRingsPoints, 1, 1 << 24);
  const int seed = cli.integer("--seed", "S", "weights, noise, shuffling and built-in data", 1, 0, 1 << 30);
  const int threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 0, 0, 256);
  const std::string out = cli.text("--out", "FILE", "checkpoint to write (pictures and logs go next to it)", nullptr);
  const bool resume = cli.flag("--resume", "continue from --out if it exists (its networks and schedule win, but for "
                                           "--gan-loss, --g-steps, --topk, --ema)");
  const bool pictures = !cli.flag("--no-pictures", "write no PNG/SVG pictures");
  const bool points = data.source == "rings";
  if (points && setup.config.cond) cli.error("--model cgan needs labelled images, not rings");
  if (points && setup.config.info_real) cli.error("--info-real clusters images, not rings");
  if (cli.given("--decay-from") && lr_final <= 0) cli.error("--decay-from: only with --lr-final");
  if (decay_from >= epochs) cli.error("--decay-from: must be below --epochs");
  const bool new_loss = cli.given("--gan-loss"), new_g_steps = cli.given("--g-steps"), new_topk = cli.given("--topk");
  const bool new_ema = cli.given("--ema");
  if (!cli.finish()) return cli.exit_code();
  setup.seed = static_cast<uint64_t>(seed);
  data.seed = setup.seed;
  models::GanConfig& config = setup.config;
  config.data = points ? models::GanData::points : models::GanData::images;
  config.classes = data.builtin() ? models::kSpriteShapes : models::kMnistClasses;

  const bool resuming = resume && access(out.c_str(), F_OK) == 0;
  if (resuming) {
    // The file's networks and schedule win, except the G objective, the G updates per step,
    // top-k and the averaging decay when given here: they change how training goes on, not
    // the networks or the steps per epoch.
    const models::GanConfig asked = config;
    const Status s = models::GanModel::read_config(out.c_str(), &config);
    if (!s.is_ok()) return report("train", s);
    if (new_loss) config.loss = asked.loss;
    if (new_g_steps) config.g_steps = asked.g_steps;
    if (new_topk) config.topk = asked.topk;
    if (new_ema && asked.ema > 0.0f && config.ema > 0.0f) config.ema = asked.ema;  // on/off must match the file
  }
  auto model = std::make_unique<models::GanModel>();
  Session session;
  RealData real;
  real.points = points;
  Status s = model->configure(setup);
  const int rows = s.is_ok() ? model->real_rows() : 0;
  size_t dbytes = 0;
  if (s.is_ok() && points) {
    dbytes = Arena::rounded(size_t(rings_n) * (sizeof(float) * models::kPointDims + 1)) +
             Arena::rounded(sizeof(int32_t) * size_t(rings_n));
  } else if (s.is_ok()) {
    s = data_bytes(data, true, true, &dbytes);
    dbytes += order_bytes(dbytes, size_t(config.dims()));
    if (config.info_real) dbytes += Arena::rounded(dbytes / size_t(config.dims()) + 1);  // a pseudo-label per image
  }
  if (s.is_ok()) s = open_session_for(model.get(), threads, dbytes + kToolSlack, &session);
  if (s.is_ok() && points) s = models::make_rings(&session.arena, rings_n, setup.seed, &real.rings);
  if (s.is_ok() && points) s = real.xy.init(&session.arena, real.rings, rows, setup.seed);
  if (s.is_ok() && !points) s = load_data(&session.arena, data, true, true, &real.train, &real.test);
  if (s.is_ok() && !points) s = check_image_size(real.train, config.rows, config.cols, "the model");
  if (s.is_ok() && !points && config.cond && !real.train.labels)
    s = Status::error(Code::invalid_argument, "a conditional GAN needs labelled training images");
  if (s.is_ok() && config.info_real) {
    PseudoLabels pl;
    s = cluster_images(&real.train, config.info, setup.seed, &session.arena, &pl);
    if (s.is_ok()) {
      std::printf("pseudo-labels: k-means of %d PCA components, %d clusters, %d iterations%s", kPseudoLabelDims,
                  config.info, pl.iterations, pl.converged ? " (converged)" : "");
      if (pl.purity >= 0) std::printf(", purity %.4f against the digit labels (not used to train)", pl.purity);
      std::printf("\n");
      // Codes drawn as often as their clusters hold images, so G's mix matches the data's.
      std::vector<double> sizes(size_t(config.info), 0.0);
      for (int i = 0; i < real.train.count; ++i) sizes[real.train.labels[i]] += 1.0;
      s = model->set_code_prior(sizes.data());
    }
  }
  if (s.is_ok() && !points) s = real.images.init(&session.arena, real.train, rows, setup.seed);
  if (!s.is_ok()) return report("train", s);
  std::vector<float> x(size_t(rows) * config.dims());
  std::vector<int32_t> labels(static_cast<size_t>(rows));

  const std::string stem = stem_of(out);
  std::vector<std::string> columns = {"epoch", "step", "d_loss", "g_loss", "d_real", "d_fake", "seconds"};
  if (points) columns.insert(columns.end(), {"modes_covered", "high_quality"});
  const bool info = config.info > 0;
  if (info) columns.push_back("info_loss");
  if (config.info_real) columns.push_back("info_real_loss");
  History history(columns);
  const int spe = real.steps_per_epoch();
  uint64_t step = 0;
  if (resuming) {
    s = model->load(out.c_str(), &step);
    if (s.is_ok()) s = history.read_csv(stem + ".log.csv");
    if (s.is_ok()) s = real.seek(static_cast<int>(step / spe), static_cast<int>(step % spe));
    if (!s.is_ok()) return report("train", s);
    std::printf("resuming %s at step %llu (epoch %llu)\n", out.c_str(), static_cast<unsigned long long>(step),
                static_cast<unsigned long long>(step / spe + 1));
  }
  char arch[256];
  config.to_text(arch, sizeof arch);
  std::printf("model: %s\nparameters: G %zu, D %zu; arena: %.1f MiB, threads: %d, data: %s (%d %s)\n", arch,
              model->param_count(models::kGenerator), model->param_count(models::kDiscriminator),
              session.arena.capacity() / 1048576.0, session.ctx.threads(), points ? "rings" : data.source.c_str(),
              points ? rings_n : real.train.count, points ? "points" : "training images");
  std::fflush(stdout);

  const std::string title = std::string(points ? "GAN on rings" : "GAN") + ": " + arch;
  const bool tty = isatty(fileno(stderr)) != 0;
  const auto start = Clock::now();
  const uint64_t first_step = step, total_steps = static_cast<uint64_t>(epochs) * spe;
  while (step < total_steps) {
    const int epoch = static_cast<int>(step / spe);
    if (lr_final > 0 && epochs - decay_from > 1) {
      const double t = epoch <= decay_from ? 0.0 : static_cast<double>(epoch - decay_from) / (epochs - 1 - decay_from);
      const float lr = decayed_lr(setup.lr, lr_final, t);
      model->g_optimizer().set_lr(lr);
      model->d_optimizer().set_lr(lr);
    }
    model->set_topk_share(static_cast<float>(std::pow(kTopkDecay, epoch)));  // no-op without topk
    const auto epoch_start = Clock::now();
    auto shown = epoch_start;
    double sum[6] = {0, 0, 0, 0, 0, 0};
    int n = 0;
    for (int i = real.position(); i < spe; ++i, ++step) {
      real.next(x.data(), labels.data());
      models::GanStepLoss l;
      s = model->train_step(x.data(), config.cond || config.info_real ? labels.data() : nullptr, &l);
      if (!s.is_ok()) return report("train", s);
      sum[0] += l.d_loss, sum[1] += l.g_loss, sum[2] += l.d_real, sum[3] += l.d_fake, sum[4] += l.info_loss, sum[5] += l.info_real_loss, ++n;
      if (tty && elapsed(shown) > kRefreshSeconds) {
        shown = Clock::now();
        const double rate = (step + 1 - first_step) / elapsed(start);
        const long left = static_cast<long>((total_steps - step - 1) / rate + 0.5);
        std::fprintf(stderr, "\repoch %d/%d  step %d/%d  D %.3f  G %.3f  D(x) %.2f  D(G(z)) %.2f  %.1f steps/s  %ld:%02ld left  ",
                     epoch + 1, epochs, i + 1, spe, sum[0] / n, sum[1] / n, sum[2] / n, sum[3] / n, rate, left / 60,
                     left % 60);
      }
    }
    const double m = n ? n : 1, seconds = elapsed(epoch_start);
    models::ModeCoverage cover;
    s = model->refresh_ema_stats();  // the averaged generator's statistics, for pictures and file
    if (s.is_ok()) s = epoch_picture(*model, &session.arena, stem, epoch + 1, pictures, &cover);
    if (!s.is_ok()) return report("train", s);
    std::vector<double> row = {double(epoch + 1), double(step), sum[0] / m, sum[1] / m, sum[2] / m, sum[3] / m, seconds};
    if (points) row.insert(row.end(), {double(cover.covered), cover.high_quality});
    if (info) row.push_back(sum[4] / m);
    if (config.info_real) row.push_back(sum[5] / m);
    history.add(row);
    if (tty) std::fprintf(stderr, "\r%*s\r", 100, "");
    std::printf("epoch %d/%d  D %.4f  G %.4f  D(x) %.3f  D(G(z)) %.3f", epoch + 1, epochs, sum[0] / m, sum[1] / m,
                sum[2] / m, sum[3] / m);
    if (points) std::printf("  modes %d/%d  high quality %.3f", cover.covered, models::kRingsModes, cover.high_quality);
    if (info) std::printf("  Q %.4f", sum[4] / m);
    if (config.info_real) std::printf("  Q(x) %.4f", sum[5] / m);
    std::printf("  %.1f s\n", seconds);
    std::fflush(stdout);
    s = model->save(out.c_str(), step);
    if (s.is_ok()) s = history.write_csv(stem + ".log.csv");
    if (s.is_ok() && pictures)
      s = history.write_svg(stem + ".loss.svg", title.c_str(), "loss, probability",
                            {{"d_loss", "D loss"}, {"g_loss", "G loss"}, {"d_real", "D(x)"}, {"d_fake", "D(G(z))"}});
    if (!s.is_ok()) return report("train", s);
  }
  std::printf("wrote %s (%s.log.csv%s)\n", out.c_str(), stem.c_str(),
              pictures ? (points ? ", .loss.svg, .samples.svg" : ", .loss.svg, .samples.png") : "");
  return 0;
}

}  // namespace ember::tool
