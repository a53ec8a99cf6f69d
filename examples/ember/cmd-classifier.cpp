// ember train --model classifier / ember eval on a classifier: the classifier that scores generators.
//
//   ember train --model classifier --data DIR --out mnist-clf.ember       (about 99% on MNIST)
//   ember eval --model mnist-clf.ember --data DIR --json acc.json
//
// Training shows a progress line, evaluates on the test set after every epoch, writes an
// atomic checkpoint each epoch and can continue from it (--resume). The number of classes
// follows the data: 10 for MNIST, 4 shapes for the built-in sprites.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "examples/ember/classifier-commands.h"
#include "examples/ember/cli.h"
#include "examples/ember/json-file.h"
#include "examples/ember/model-options.h"
#include "data/batcher.h"
#include "data/mnist.h"
#include "metrics/sample-metrics.h"
#include "data/sprites.h"

namespace ember::tool {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kDefaultEpochs = 4;  // 99.1% on MNIST with the default conv net
constexpr float kDefaultLrFinal = 1e-4f;
constexpr double kRefreshSeconds = 0.25;   // progress-line updates
constexpr size_t kToolSlack = 1u << 20;    // small buffers and alignment
constexpr int kDefaultEvalBatch = 500;

double elapsed(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// --arch, --channels, --features, --widths, --bn into c (only those given).
void read_classifier_architecture(Cli& cli, models::ClassifierConfig* c) {
  static const ConfigFlag flags[] = {
      {"--arch", "arch", "conv|mlp", "network shape"},
      {"--channels", "channels", "C1,C2,C3", "conv: channels of the three convolutions"},
      {"--features", "features", "F", "conv: width of the feature layer (used by the Frechet distance)"},
      {"--widths", "widths", "W1,..", "mlp: hidden widths (the last is the feature layer)"},
      {"--bn", "bn", "0|1", "conv: BatchNorm before every ReLU"},
  };
  read_config_flags(cli, flags, sizeof flags / sizeof flags[0], c);
}

int classes_of(const DataSpec& data) { return data.builtin() ? models::kSpriteShapes : models::kMnistClasses; }

Status check_data(const models::ClassifierConfig& c, const models::Dataset& d, const char* what) {
  if (d.rows != c.rows || d.cols != c.cols)
    return Status::error(Code::shape_mismatch, "%s data has %dx%d images, the classifier %dx%d", what, d.rows, d.cols,
                         c.rows, c.cols);
  if (!d.labels) return Status::error(Code::invalid_argument, "%s data has no labels", what);
  if (d.classes > c.classes)
    return Status::error(Code::shape_mismatch, "%s data has %d classes, the classifier %d", what, d.classes,
                         c.classes);
  return Status::ok();
}

void print_progress(int epoch, int epochs, int i, int spe, double loss, double acc, double rate, double left) {
  const long s = static_cast<long>(left + 0.5);
  std::fprintf(stderr, "\repoch %d/%d  step %d/%d  loss %.4f  acc %.2f%%  %.0f steps/s  %ld:%02ld left   ", epoch,
               epochs, i, spe, loss, 100 * acc, rate, s / 60, s % 60);
}

}  // namespace

int train_classifier(int argc, char** argv) {
  Cli cli("train --model classifier", "train the classifier that scores generators (IS, FD); a checkpoint each epoch", argc,
          argv);
  models::ClassifierModel::Setup setup;
  read_classifier_architecture(cli, &setup.config);
  DataSpec data = read_data(cli, true);
  const int epochs = cli.integer("--epochs", "N", "passes over the training set", kDefaultEpochs, 1, 1000000);
  setup.batch = cli.integer("--batch", "B", "images per step", setup.batch, 1, 65536);
  setup.lr = cli.real("--lr", "X", "Adam learning rate (first epoch)", setup.lr, 1e-8f, 10.0f);
  const float lr_final = cli.real("--lr-final", "X", "rate of the last epoch, reached geometrically (0: constant)",
                                  kDefaultLrFinal, 0.0f, 10.0f);
  const int seed = cli.integer("--seed", "S", "weights, shuffling and sprites", 1, 0, 1 << 30);
  const int threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 0, 0, 256);
  const int test_n = cli.integer("--test-n", "N", "test images evaluated after each epoch (0: all)", 0, 0, 1 << 30);
  const std::string out = cli.text("--out", "FILE", "checkpoint to write", nullptr);
  const bool resume = cli.flag("--resume", "continue from --out if it exists (its architecture wins)");
  if (!cli.finish()) return cli.exit_code();
  setup.seed = static_cast<uint64_t>(seed);
  data.seed = setup.seed;
  setup.config.classes = classes_of(data);

  const bool resuming = resume && access(out.c_str(), F_OK) == 0;
  if (resuming) {
    const Status s = models::ClassifierModel::read_config(out.c_str(), &setup.config);
    if (!s.is_ok()) return report("train --model classifier", s);
  }
  auto model = std::make_unique<models::ClassifierModel>();
  Session session;
  models::Dataset train, test;
  models::Batcher batcher;
  Status s = model->configure(setup);
  size_t dbytes = 0;
  if (s.is_ok()) s = data_bytes(data, true, true, &dbytes);
  const size_t order = order_bytes(dbytes, static_cast<size_t>(setup.config.pixels()));
  if (s.is_ok()) s = open_session_for(model.get(), threads, dbytes + order + kToolSlack, &session);
  if (s.is_ok()) s = load_data(&session.arena, data, true, true, &train, &test);
  if (s.is_ok()) s = check_data(setup.config, train, "training");
  if (s.is_ok()) s = check_data(setup.config, test, "test");
  if (s.is_ok()) s = batcher.init(&session.arena, train, setup.batch, setup.seed);
  if (!s.is_ok()) return report("train --model classifier", s);
  std::vector<float> x(batcher.x_floats());
  std::vector<int32_t> y(static_cast<size_t>(setup.batch));

  const int spe = batcher.steps_per_epoch();
  uint64_t step = 0;
  if (resuming) {
    s = model->load(out.c_str(), &step);
    if (s.is_ok()) s = batcher.seek(static_cast<int>(step / spe), static_cast<int>(step % spe));
    if (!s.is_ok()) return report("train --model classifier", s);
    std::printf("resuming %s at step %llu (epoch %llu)\n", out.c_str(), static_cast<unsigned long long>(step),
                static_cast<unsigned long long>(step / spe + 1));
  }
  char arch[256];
  setup.config.to_text(arch, sizeof arch);
  std::printf("classifier: %s\nparameters: %zu, arena: %.1f MiB, threads: %d, data: %s (%d train, %d test)\n", arch,
              model->param_count(), session.arena.capacity() / 1048576.0, session.ctx.threads(), data.source.c_str(),
              train.count, test.count);

  const bool tty = isatty(fileno(stderr)) != 0;
  const auto start = Clock::now();
  const uint64_t first_step = step, total_steps = static_cast<uint64_t>(epochs) * spe;
  while (step < total_steps) {
    const int epoch = static_cast<int>(step / spe);
    if (lr_final > 0 && epochs > 1) {  // one epoch runs at --lr
      const double t = static_cast<double>(epoch) / (epochs - 1);
      model->optimizer().set_lr(decayed_lr(setup.lr, lr_final, t));
    }
    const auto epoch_start = Clock::now();
    auto shown = epoch_start;
    double loss_sum = 0;
    long right = 0, seen = 0;
    for (int i = batcher.position(); i < spe; ++i, ++step) {
      batcher.next(x.data(), y.data());
      float loss = 0;
      int correct = 0;
      s = model->train_step(x.data(), y.data(), &loss, &correct);
      if (!s.is_ok()) return report("train --model classifier", s);
      loss_sum += loss, right += correct, seen += setup.batch;
      if (tty && elapsed(shown) > kRefreshSeconds) {
        shown = Clock::now();
        const double rate = (step + 1 - first_step) / elapsed(start);
        print_progress(epoch + 1, epochs, i + 1, spe, loss_sum * setup.batch / seen, double(right) / seen, rate,
                       (total_steps - step - 1) / rate);
      }
    }
    models::ClassifierScore score;
    s = model->evaluate(test, test_n, &score);
    if (!s.is_ok()) return report("train --model classifier", s);
    if (tty) std::fprintf(stderr, "\r%*s\r", 90, "");
    const double batches = seen > 0 ? double(seen) / setup.batch : 1.0;
    std::printf("epoch %d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%% (%d images)  lr %.2g  %.1f s\n",
                epoch + 1, epochs, loss_sum / batches, seen ? 100.0 * right / seen : 0.0, score.loss,
                100 * score.accuracy, score.count, model->optimizer().config().lr, elapsed(epoch_start));
    std::fflush(stdout);
    s = model->save(out.c_str(), step);
    if (!s.is_ok()) return report("train --model classifier", s);
  }
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

int eval_classifier(int argc, char** argv) {
  Cli cli("eval", "test accuracy of a classifier checkpoint", argc, argv);
  const char* path = cli.text("--model", "FILE", "checkpoint written by `ember train --model classifier`", nullptr);
  const DataSpec data = read_data(cli, true);
  const int n_arg = cli.integer("--n", "N", "test images (0: all)", 0, 0, 1 << 30);
  const int eval_batch = cli.integer("--eval-batch", "E", "rows per classifier call", kDefaultEvalBatch, 1, 65536);
  const char* json = cli.text("--json", "FILE", "also write the figures as JSON", "");
  const int threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 0, 0, 256);
  if (!cli.finish()) return cli.exit_code();

  size_t dbytes = 0;
  Status s = data_bytes(data, false, true, &dbytes);
  LoadedClassifier m;
  if (s.is_ok()) s = load_for_inference(path, threads, eval_batch, dbytes + kToolSlack, &m);
  models::Dataset train, test;
  if (s.is_ok()) s = load_data(&m.session.arena, data, false, true, &train, &test);
  if (s.is_ok()) s = check_data(m.model->config(), test, "test");
  models::ClassifierScore score;
  const int n = n_arg <= 0 || n_arg > test.count ? test.count : n_arg;
  const int classes = m.model->classes();
  std::vector<float> probs(static_cast<size_t>(n) * classes);
  if (s.is_ok()) s = m.model->evaluate(test, n, &score);
  if (s.is_ok()) s = m.model->predict(test, 0, n, probs.data(), nullptr);
  // The inception score of real images: the ceiling a generator's `is` under this classifier
  // is read against (a more confident classifier raises both).
  double real_is = 0.0;
  if (s.is_ok()) s = models::inception_score(probs.data(), n, classes, &m.session.arena, &real_is);
  if (!s.is_ok()) return report("eval", s);
  std::vector<int> count(classes, 0), right(classes, 0);
  for (int i = 0; i < n; ++i) {
    const float* p = &probs[static_cast<size_t>(i) * classes];
    int best = 0;
    for (int c = 1; c < classes; ++c) best = p[c] > p[best] ? c : best;
    const int label = test.labels[i];
    ++count[label];
    right[label] += best == label;
  }
  char arch[256];
  m.model->config().to_text(arch, sizeof arch);
  std::printf("classifier %s (step %llu)\ndata %s, %d test images\n", arch, static_cast<unsigned long long>(m.step),
              data.source.c_str(), n);
  std::printf("accuracy       %.4f  (%d of %d)\nloss           %.4f\nper class     ", score.accuracy, score.correct,
              score.count, score.loss);
  for (int c = 0; c < classes; ++c) std::printf(" %d:%.3f", c, count[c] ? double(right[c]) / count[c] : 0.0);
  std::printf("\nis             %.4f  (of the test images: the ceiling for generated ones)\n", real_is);
  if (*json) {
    JsonFile j(json);
    j.text("model", arch).text("data", data.source).integer("n", n).number("accuracy", score.accuracy);
    j.number("loss", score.loss).number("is", real_is).begin_array("per_class");
    for (int c = 0; c < classes; ++c) j.element(count[c] ? double(right[c]) / count[c] : 0.0);
    const Status w = j.end_array().close();
    if (!w.is_ok()) return report("eval", w);
  }
  return 0;
}

}  // namespace ember::tool
