// ember train --model classifier / ember eval on a classifier: the classifier that scores generators.
//
//   ember train --model classifier --data DIR --out mnist-clf.ember       (about 99% on MNIST)
//   ember eval --model mnist-clf.ember --data DIR --json acc.json
//
// Training shows a progress line, evaluates on the test set after every epoch, writes an
// atomic checkpoint each epoch and can continue from it (--resume). The number of classes
// follows the data: 10 for MNIST, 4 shapes for the built-in sprites.
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
#include "examples/ember/train-view.h"
#include "train/classifier-trainee.h"

namespace ember::tool {

namespace {

constexpr int kDefaultEpochs = 4;  // 99.1% on MNIST with the default conv net
constexpr float kDefaultLrFinal = 1e-4f;
constexpr size_t kToolSlack = 1u << 20;    // small buffers and alignment
constexpr int kDefaultEvalBatch = 500;


// --arch, --channels, --features, --widths, --bn into c (only those given).
void read_classifier_architecture(Cli& cli, models::ClassifierConfig* c, std::vector<ConfigFlag>* given) {
  static const ConfigFlag flags[] = {
      {"--arch", "arch", "conv|mlp", "network shape"},
      {"--channels", "channels", "C1,C2,C3", "conv: channels of the three convolutions"},
      {"--features", "features", "F", "conv: width of the feature layer (used by the Frechet distance)"},
      {"--widths", "widths", "W1,..", "mlp: hidden widths (the last is the feature layer)"},
      {"--bn", "bn", "0|1", "conv: BatchNorm before every ReLU"},
  };
  read_config_flags(cli, flags, sizeof flags / sizeof flags[0], c, given);
}


// Prints a progress line and a line per epoch (the classifier draws no pictures).
class ClassifierView : public TrainView {
 public:
  ClassifierView(train::ClassifierTrainee* t, const std::string& out) : TrainView(out, false), t_(t) {}
  void on_progress(const train::Progress& p) override {
    progress_line(p, "loss %.4f  acc %.2f%%", p.means[0], 100 * p.means[1]);
  }
  Status on_epoch(const train::EpochReport& r, const train::History&, Arena*) override {
    clear_progress();
    const models::ClassifierScore& score = t_->score();
    std::printf("epoch %d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%% (%d images)  lr %.2g  %.1f s\n",
                r.epoch, r.epochs, r.row[2], 100 * r.row[3], score.loss, 100 * score.accuracy, score.count, r.lr,
                r.seconds);
    std::fflush(stdout);
    return Status::ok();
  }

 private:
  train::ClassifierTrainee* t_;
};

}  // namespace

int train_classifier(int argc, char** argv) {
  Cli cli("train --model classifier", "train the classifier that scores generators (IS, FD); a checkpoint each epoch", argc,
          argv);
  train::ClassifierTrainee::Setup setup;
  models::ClassifierModel::Setup& model = setup.model;
  std::vector<ConfigFlag> arch_flags;
  read_classifier_architecture(cli, &model.config, &arch_flags);
  DataSpec data = read_data(cli, true);
  train::TrainOptions o;
  const RunFlags run = read_run_flags(cli, kDefaultEpochs, &o);
  model.batch = cli.integer("--batch", "B", "images per step", model.batch, 1, 65536);
  model.lr = cli.real("--lr", "X", "Adam learning rate (first epoch)", model.lr, 1e-8f, 10.0f);
  o.schedule.final = cli.real("--lr-final", "X", "rate of the last epoch, reached geometrically (0: constant)",
                              kDefaultLrFinal, 0.0f, 10.0f);
  setup.test_n = cli.integer("--test-n", "N", "test images evaluated after each epoch (0: all)", 0, 0, 1 << 30);
  if (!cli.finish()) return cli.exit_code();
  const std::string& out = run.out;
  model.seed = static_cast<uint64_t>(run.seed);
  data.seed = model.seed;
  setup.data = data.view();
  o.schedule.lr = model.lr;
  o.out = out.c_str();

  train::ClassifierTrainee trainee;
  train::Trainer trainer;
  Session session;
  Status s = trainee.configure(setup);
  if (s.is_ok() && o.resume) s = check_resume_flags(out, arch_flags, model.config);
  if (s.is_ok()) s = open_trainer(&trainer, &trainee, o, run, nullptr, &session);  // no pictures
  if (!s.is_ok()) return report("train --model classifier", s);
  if (nothing_to_train(trainer, o)) return 0;
  char arch[256];
  trainee.config().to_text(arch, sizeof arch);
  std::printf("classifier: %s\nparameters: %zu, %s, data: %s (%d train, %d test)\n", arch,
              trainee.model().param_count(), memory_text(session).c_str(), data.source.c_str(),
              trainee.train_data().count, trainee.test_data().count);
  ClassifierView view(&trainee, out);
  s = trainer.run(view.observer());
  if (!s.is_ok()) return report("train --model classifier", s);
  std::printf("wrote %s (%s.log.csv)\n", out.c_str(), stem_of(out).c_str());
  return 0;
}

int eval_classifier(int argc, char** argv) {
  Cli cli("eval", "test accuracy of a classifier checkpoint", argc, argv);
  const char* path = cli.input("--model", "FILE", "checkpoint written by `ember train --model classifier`", nullptr);
  const DataSpec data = read_data(cli, true);
  const int n_arg = cli.integer("--n", "N", "test images (0: all)", 0, 0, 1 << 30);
  const int eval_batch = cli.integer("--eval-batch", "E", "rows per classifier call", kDefaultEvalBatch, 1, 65536);
  const char* json = cli.output("--json", "FILE.json", "also write the figures as JSON", "", ".json");
  const int threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 0, 0, 256);
  if (!cli.finish()) return cli.exit_code();

  size_t dbytes = 0;
  Status s = data_bytes(data, false, true, &dbytes);
  LoadedClassifier m;
  MemoryPlan extra;
  extra.add("test set", dbytes);
  extra.add("small buffers", kToolSlack);
  if (s.is_ok()) s = load_for_inference(path, threads, eval_batch, extra, &m);
  data::Dataset train, test;
  if (s.is_ok()) s = load_data(&m.session.arena, data, false, true, &train, &test);
  if (s.is_ok()) s = train::check_classifier_data(m.model->config(), test, "test");
  models::ClassifierScore score;
  const int n = n_arg <= 0 || n_arg > test.count ? test.count : n_arg;
  const int classes = m.model->classes();
  std::vector<float> probs(static_cast<size_t>(n) * classes);
  if (s.is_ok()) s = m.model->evaluate(test, n, &score);
  if (s.is_ok()) s = m.model->predict(test, 0, n, probs.data(), nullptr);
  // The inception score of real images: the ceiling a generator's `is` under this classifier
  // is read against (a more confident classifier raises both).
  double real_is = 0.0;
  if (s.is_ok()) s = metrics::inception_score(probs.data(), n, classes, &m.session.arena, &real_is);
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
