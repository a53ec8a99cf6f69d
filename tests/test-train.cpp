// train/: the schedule, the history, the pseudo-labels and the trainer (resume gives the same
// bits as an uninterrupted run, for an autoencoder, a GAN and the classifier).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "data/sprites.h"
#include "tests/temp-dir.h"
#include "tests/testing.h"
#include "train/ae-trainee.h"
#include "train/classifier-trainee.h"
#include "train/gan-trainee.h"
#include "train/pseudo-labels.h"
#include "train/schedule.h"
#include "train/trainer.h"
#include "io/file.h"
#include "models/model-common.h"

using namespace ember;
using ember::testing::TempDir;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The log without its seconds column (wall time).
std::string log_without_seconds(const std::string& path) {
  std::istringstream in(slurp(path));
  std::string line, out;
  int seconds = -1;
  bool header = true;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    for (size_t i = 0; header && i < cells.size(); ++i)
      if (cells[i] == "seconds") seconds = static_cast<int>(i);
    header = false;
    for (size_t i = 0; i < cells.size(); ++i)
      if (static_cast<int>(i) != seconds) out += cells[i] + ",";
    out += "\n";
  }
  return out;
}

// A memory block sized by the trainer's dry run plus the Context's share.
struct Run {
  std::unique_ptr<uint8_t[]> block;
  Arena arena;
  Context ctx;
  train::Trainer trainer;
  Status start(train::Trainee* t, const train::TrainOptions& o) {
    Context::Options threads;
    threads.threads = 1;
    size_t bytes = 0;
    EMBER_TRY(trainer.configure(t, o));
    std::unique_ptr<uint8_t[]> scratch_block(new uint8_t[4u << 20]);
    Arena scratch(scratch_block.get(), 4u << 20);
    EMBER_TRY(trainer.bytes_needed(1, &scratch, &bytes));  // the Context's share included
    block.reset(new uint8_t[bytes]);
    new (&arena) Arena(block.get(), bytes);
    EMBER_TRY(ctx.init(&arena, threads));
    return trainer.init(&arena, &ctx);
  }
};

train::TrainOptions options(const std::string& out, int epochs, bool resume) {
  static std::string keep[8];
  static int next = 0;
  std::string& path = keep[next++ % 8];
  path = out;
  train::TrainOptions o;
  o.epochs = epochs, o.out = path.c_str(), o.resume = resume;
  o.schedule.lr = 2e-3f, o.schedule.final = 2e-4f;  // the rate changes every epoch
  return o;
}

train::AeTrainee::Setup small_vae() {
  train::AeTrainee::Setup s;
  s.model.config.kind = models::ModelKind::vae;
  s.model.config.depth = 1, s.model.config.widths[0] = 32, s.model.config.latent = 4;
  s.model.batch = 50;
  s.data.source = "sprites", s.data.sprites_train = 300, s.data.sprites_test = 60, s.data.seed = 5;
  s.model.seed = 5;
  return s;
}

}  // namespace

TEST_CASE("train: the schedule holds, decays geometrically and ends at the final rate") {
  train::Schedule s;
  s.lr = 1e-3f, s.epochs = 5;
  CHECK(s.at(0, 0) == 1e-3f);
  CHECK(s.at(4, 0) == 1e-3f);  // final <= 0: constant
  s.final = 1e-5f;
  CHECK(s.at(0, 0) == 1e-3f);
  CHECK(s.at(2, 0) == doctest::Approx(1e-4f).epsilon(1e-5));  // halfway in log space
  CHECK(s.at(4, 0) == doctest::Approx(1e-5f).epsilon(1e-5));
  s.decay_from = 2;  // held through epoch 2, then down to the final rate at epoch 4
  CHECK(s.at(2, 0) == 1e-3f);
  CHECK(s.at(3, 0) == doctest::Approx(1e-4f).epsilon(1e-5));
  CHECK(s.at(4, 0) == doctest::Approx(1e-5f).epsilon(1e-5));
  s.decay_from = 0, s.epochs = 1;
  CHECK(s.at(0, 0) == 1e-3f);  // one epoch runs at lr
  s.epochs = 100, s.time_limit = 60.0;  // over time: halfway after 30 s, whatever the epoch
  CHECK(s.at(1, 30.0) == doctest::Approx(1e-4f).epsilon(1e-5));
  CHECK(s.at(1, 600.0) == doctest::Approx(1e-5f).epsilon(1e-5));
}

TEST_CASE("train: the history keeps rows in the arena, writes and reads its CSV") {
  TempDir dir("history");
  alignas(64) static uint8_t mem[4096];
  Arena arena(mem, sizeof mem);
  static const char* const kNames[] = {"epoch", "loss", "seconds"};
  train::History h;
  REQUIRE(h.init(&arena, kNames, 3, 3).is_ok());
  CHECK(arena.used() == train::History::bytes_needed(3, 3));
  const double r1[] = {1, 2.5, 10}, r2[] = {2, 1.25, 11}, r3[] = {3, 0.5, 12};
  REQUIRE(h.add(r1).is_ok());
  REQUIRE(h.add(r2).is_ok());
  REQUIRE(h.add(r3).is_ok());
  CHECK_FALSE(h.add(r3).is_ok());  // full
  CHECK(h.last("loss") == 0.5);
  CHECK(h.sum("seconds") == 33);
  CHECK(h.sum("absent") == 0);
  const std::string csv = dir.file("log.csv");
  REQUIRE(h.write_csv(csv.c_str()).is_ok());
  CHECK(slurp(csv) == "epoch,loss,seconds\n1,2.5,10\n2,1.25,11\n3,0.5,12\n");
  train::History back;
  REQUIRE(back.init(&arena, kNames, 3, 3).is_ok());
  REQUIRE(back.read_csv(csv.c_str(), 2).is_ok());  // rows past the checkpoint's epoch are dropped
  CHECK(back.rows() == 2);
  CHECK(back.last("loss") == 1.25);
  REQUIRE(back.read_csv(dir.file("missing.csv").c_str(), 9).is_ok());  // no log yet: empty
  CHECK(back.rows() == 0);
  {  // a log that repeats epochs holds more rows than the run has room for: said, not cut
    std::ofstream(dir.file("repeated.csv")) << "epoch,loss,seconds\n1,1,1\n2,1,1\n1,1,1\n2,1,1\n";
    const Status full = back.read_csv(dir.file("repeated.csv").c_str(), 2);
    CHECK_FALSE(full.is_ok());
    CHECK(std::string(full.message()).find("more rows up to epoch 2 than the 3 this run has room for") !=
          std::string::npos);
  }
  static const char* const kOther[] = {"epoch", "other", "seconds"};
  train::History other;
  REQUIRE(other.init(&arena, kOther, 3, 3).is_ok());
  const Status s = other.read_csv(csv.c_str(), 9);
  CHECK_FALSE(s.is_ok());
  CHECK(std::string(s.message()).find("not a log with the columns epoch,other,seconds") != std::string::npos);
}

TEST_CASE("train: pseudo-labels cluster images in the arena and give the scratch back" * EMBER_LEARNING) {
  const size_t cap = 64u << 20;
  std::unique_ptr<uint8_t[]> mem(new uint8_t[cap]);
  Arena arena(mem.get(), cap);
  data::Dataset d;
  REQUIRE(data::make_sprites(&arena, 400, 3, &d, nullptr).is_ok());
  const size_t before = arena.used();
  CHECK(train::pseudo_label_bytes(d.count, 784, 4) < cap - before);
  train::PseudoLabels pl;
  REQUIRE(train::cluster_images(&d, 4, 1, &arena, &pl).is_ok());
  CHECK(arena.used() == before + Arena::rounded(400));  // only the labels are kept
  CHECK(d.classes == 4);
  for (int i = 0; i < d.count; ++i) CHECK(d.labels[i] < 4);
  CHECK(pl.purity >= 0.25);  // 4 shapes; better than chance
  CHECK(pl.purity <= 1.0);
  CHECK_FALSE(train::cluster_images(&d, 1, 1, &arena, &pl).is_ok());
}

// Trains `epochs` epochs in one run, and the same as 1 epoch then resumed to `epochs`; the
// checkpoints must be the same bytes and the logs the same numbers.
template <class Trainee, class Setup>
void check_resume_same_bits(const Setup& setup, int epochs, const char* tag) {
  TempDir dir(tag);
  const std::string whole = dir.file("whole.ember"), parts = dir.file("parts.ember");
  {
    auto t = std::make_unique<Trainee>();  // big graph tables: on the heap in a test
    REQUIRE(t->configure(setup).is_ok());
    Run r;
    REQUIRE(r.start(t.get(), options(whole, epochs, false)).is_ok());
    CHECK_FALSE(r.trainer.resumed());
    REQUIRE(r.trainer.run().is_ok());
    CHECK(r.trainer.history().rows() == epochs);
    CHECK(r.trainer.step() == uint64_t(epochs) * t->steps_per_epoch());
  }
  for (int e : {1, epochs}) {
    auto t = std::make_unique<Trainee>();
    REQUIRE(t->configure(setup).is_ok());
    Run r;
    REQUIRE(r.start(t.get(), options(parts, e, true)).is_ok());
    CHECK(r.trainer.resumed() == (e == epochs));
    REQUIRE(r.trainer.run().is_ok());
  }
  CHECK(slurp(whole).size() > 1000);
  CHECK(slurp(whole) == slurp(parts));
  const std::string log = log_without_seconds(dir.file("whole.log.csv"));
  CHECK(log == log_without_seconds(dir.file("parts.log.csv")));
  CHECK(std::count(log.begin(), log.end(), '\n') == epochs + 1);
}

TEST_CASE("train: an interrupted and resumed run gives the same bits as one run") {
  SUBCASE("VAE") { check_resume_same_bits<train::AeTrainee>(small_vae(), 3, "resume-vae"); }
  SUBCASE("GAN on rings, with minibatch stddev and top-k") {
    train::GanTrainee::Setup s;
    s.model.config.widths[0] = s.model.config.widths[1] = 16, s.model.config.z_dim = 4;
    s.model.config.mbstd = true, s.model.config.topk = 0.5f;
    s.model.batch = 32, s.model.lr = 1e-3f, s.model.seed = 3;
    s.data.source = "rings", s.rings_n = 320;
    check_resume_same_bits<train::GanTrainee>(s, 3, "resume-gan");
  }
  SUBCASE("classifier (mlp)") {
    train::ClassifierTrainee::Setup s;
    s.model.config.arch = models::ClassifierArch::mlp, s.model.config.widths[0] = 32;
    s.model.batch = 50, s.model.seed = 2;
    s.data.source = "sprites", s.data.sprites_train = 200, s.data.sprites_test = 50;
    check_resume_same_bits<train::ClassifierTrainee>(s, 2, "resume-clf");
  }
}

TEST_CASE("train: the trainer refuses a run it cannot do before taking memory") {
  auto t = std::make_unique<train::AeTrainee>();
  REQUIRE(t->configure(small_vae()).is_ok());
  train::Trainer trainer;
  train::TrainOptions o;
  CHECK_FALSE(trainer.configure(t.get(), o).is_ok());  // no checkpoint path
  o.out = "/tmp/x.ember", o.epochs = 0;
  CHECK_FALSE(trainer.configure(t.get(), o).is_ok());
  o.epochs = 3, o.schedule.decay_from = 3;
  CHECK_FALSE(trainer.configure(t.get(), o).is_ok());
  CHECK_FALSE(trainer.configure(nullptr, o).is_ok());
  size_t bytes = 0;
  CHECK_FALSE(train::Trainer().bytes_needed(1, nullptr, &bytes).is_ok());  // not configured
  // A checkpoint that cannot be written is refused at init, before any training.
  TempDir dir("unwritable");
  Run r;
  const Status s = r.start(t.get(), options(dir.file("no-such-folder/v.ember"), 1, false));
  CHECK_FALSE(s.is_ok());
  CHECK(std::string(s.message()).find("no-such-folder") != std::string::npos);
  CHECK(r.trainer.step() == 0);
}

namespace {

bool has(const Status& s, const char* text) { return std::string(s.message()).find(text) != std::string::npos; }

// A trainee without a model: 4 steps per epoch; its "loss" is not finite on the steps listed
// in bad_steps (counted over the whole run), and its test figure is NaN from epoch nan_epoch.
class FakeTrainee : public train::Trainee {
 public:
  std::vector<int> bad_steps;
  int nan_epoch = 1 << 30, calls = 0, batch = 4, train = 16;
  int columns(const char** names, int cap) const override {
    static const char* kNames[] = {"epoch", "step", "train_loss", "test_loss", "seconds"};
    for (int i = 0; i < 5 && i < cap; ++i) names[i] = kNames[i];
    return 5;
  }
  Status bytes_needed(int threads, Arena*, size_t* bytes) override {
    return models::added_to_context(threads, 0, bytes);  // the Context alone
  }
  Status init(Arena*, Context*) override { return Status::ok(); }
  int step_values() const override { return 1; }
  int steps_per_epoch() const override { return train / batch; }
  int batch_size() const override { return batch; }
  int train_size() const override { return train; }
  Status seek(int, int) override { return Status::ok(); }
  Status step(double* sums) override {
    const int k = calls++;
    if (std::find(bad_steps.begin(), bad_steps.end(), k) != bad_steps.end())
      return Status::error(Code::not_finite, "fake: loss not finite");
    sums[0] += 1.0;
    return Status::ok();
  }
  Status end_epoch(int epoch, const double* means, double* row) override {
    row[2] = means[0];
    row[3] = epoch + 1 >= nan_epoch ? std::nan("") : 0.5;
    return Status::ok();
  }
  Status save(const char* path, uint64_t step, const char* run) const override {
    saved_run = run ? run : "";
    AtomicWriter w;
    EMBER_TRY(w.open(path));
    const std::string text = std::string("EMBRCKPT step ") + std::to_string(step);
    EMBER_TRY(w.write(text.data(), text.size()));
    ++saves;
    return w.commit();
  }
  mutable int saves = 0;
  mutable std::string saved_run;
};

Status run_fake(FakeTrainee* t, const train::TrainOptions& o, std::vector<int>* skipped = nullptr) {
  Run r;
  EMBER_TRY(r.start(t, o));
  train::TrainObserver obs;
  obs.user = skipped;
  obs.on_epoch = [](void* u, const train::EpochReport& rep, const train::History&, Arena*) {
    if (u) static_cast<std::vector<int>*>(u)->push_back(rep.skipped);
    return Status::ok();
  };
  return r.trainer.run(obs);
}

}  // namespace

TEST_CASE("train: nothing the user has is replaced unasked") {
  TempDir dir("overwrite");
  const std::string path = dir.file("v.ember");
  FakeTrainee t;
  const Status first_run = run_fake(&t, options(path, 1, false));
  REQUIRE_MESSAGE(first_run.is_ok(), std::string(first_run.message()));
  const std::string first = slurp(path);
  CHECK(first.rfind("EMBRCKPT", 0) == 0);
  CHECK(t.saved_run == "batch=4 train=16 steps=4");

  // The same path again without --resume or --force: refused, the file as it was.
  train::Trainer trainer;
  Status s = trainer.configure(&t, options(path, 2, false));
  CHECK(s.code() == Code::invalid_argument);
  CHECK_MESSAGE(has(s, "--force"), std::string(s.message()));
  CHECK(slurp(path) == first);
  // --force replaces it.
  train::TrainOptions force = options(path, 2, false);
  force.replace = true;
  CHECK(run_fake(&t, force).is_ok());
  CHECK(slurp(path) != first);

  // A file that is not a checkpoint is never replaced, not even with --force; nor a folder.
  const std::string notes = dir.file("notes.ember");
  { std::ofstream(notes) << "my notes"; }
  force.out = notes.c_str();
  s = trainer.configure(&t, force);
  CHECK(s.code() == Code::invalid_argument);
  CHECK_MESSAGE(has(s, "not an ember checkpoint"), std::string(s.message()));
  CHECK(slurp(notes) == "my notes");
  train::TrainOptions folder = options(dir.path, 1, false);
  folder.replace = true;
  CHECK(has(trainer.configure(&t, folder), "folder"));
}

TEST_CASE("train: a resume must agree with the checkpoint's run; one with nothing left writes nothing") {
  TempDir dir("resume-contract");
  const std::string path = dir.file("v.ember");
  auto t = std::make_unique<train::AeTrainee>();
  REQUIRE(t->configure(small_vae()).is_ok());
  {
    Run r;
    REQUIRE(r.start(t.get(), options(path, 1, false)).is_ok());
    REQUIRE(r.trainer.run().is_ok());
  }
  const std::string ckpt = slurp(path), log = slurp(dir.file("v.log.csv"));

  train::AeTrainee::Setup other_batch = small_vae();
  other_batch.model.batch = 25;
  auto b = std::make_unique<train::AeTrainee>();
  REQUIRE(b->configure(other_batch).is_ok());
  train::Trainer trainer;
  Status s = trainer.configure(b.get(), options(path, 3, true));
  CHECK_MESSAGE(has(s, "batch 50"), std::string(s.message()));
  CHECK_MESSAGE(has(s, "25"), std::string(s.message()));

  train::AeTrainee::Setup other_data = small_vae();
  other_data.data.sprites_train = 600;
  auto d = std::make_unique<train::AeTrainee>();
  REQUIRE(d->configure(other_data).is_ok());
  Run r;
  s = r.start(d.get(), options(path, 3, true));
  CHECK_MESSAGE(has(s, "training set of 300"), std::string(s.message()));
  CHECK_MESSAGE(has(s, "600"), std::string(s.message()));

  // Already 1 epoch of --epochs 1: nothing to train, nothing written.
  auto same = std::make_unique<train::AeTrainee>();
  REQUIRE(same->configure(small_vae()).is_ok());
  Run done;
  REQUIRE(done.start(same.get(), options(path, 1, true)).is_ok());
  CHECK(done.trainer.nothing_to_train());
  CHECK(done.trainer.epochs_done() == 1);
  REQUIRE(done.trainer.run().is_ok());
  CHECK(slurp(path) == ckpt);
  CHECK(slurp(dir.file("v.log.csv")) == log);
}

TEST_CASE("train: steps whose loss is not finite are skipped and counted; a diverging run stops unsaved") {
  TempDir dir("diverge");
  SUBCASE("a few bad steps: skipped, counted per epoch, the run goes on") {
    FakeTrainee t;
    t.bad_steps = {1, 2, 6};
    std::vector<int> skipped;
    REQUIRE(run_fake(&t, options(dir.file("a.ember"), 3, false), &skipped).is_ok());
    CHECK(skipped == std::vector<int>{2, 1, 0});
    CHECK(t.saves == 3);
  }
  SUBCASE("skip_limit bad steps in a row stop the run; the last good checkpoint stays") {
    FakeTrainee t;
    for (int k = 5; k < 40; ++k) t.bad_steps.push_back(k);  // from epoch 2 on
    train::TrainOptions o = options(dir.file("b.ember"), 5, false);
    o.skip_limit = 6;
    const Status s = run_fake(&t, o);
    CHECK(s.code() == Code::not_finite);
    CHECK_MESSAGE(has(s, "6 steps in a row"), std::string(s.message()));
    CHECK_MESSAGE(has(s, "keeps epoch 2"), std::string(s.message()));
    CHECK(t.saves == 2);
    CHECK(slurp(dir.file("b.ember")) == "EMBRCKPT step 8");
  }
  SUBCASE("a test figure that is not finite stops the run before the save") {
    FakeTrainee t;
    t.nan_epoch = 1;
    const Status s = run_fake(&t, options(dir.file("c.ember"), 3, false));
    CHECK(s.code() == Code::not_finite);
    CHECK_MESSAGE(has(s, "test_loss"), std::string(s.message()));
    CHECK_MESSAGE(has(s, "nothing was saved"), std::string(s.message()));
    CHECK(t.saves == 0);
    CHECK(!std::ifstream(dir.file("c.ember")).good());
  }
}

TEST_CASE("train: a log row whose epoch is not a number is not kept on resume (found by fuzzing)") {
  TempDir dir("history-nan");
  const std::string path = dir.file("h.log.csv");
  { std::ofstream(path) << "epoch,loss,seconds\n1,2,3\nnan1,4,5\n2,6,7\n"; }
  static const char* const kNames[] = {"epoch", "loss", "seconds"};
  std::vector<uint8_t> buf(1 << 12);
  Arena arena(buf.data(), buf.size());
  train::History h;
  REQUIRE(h.init(&arena, kNames, 3, 6).is_ok());
  REQUIRE(h.read_csv(path.c_str(), 4).is_ok());
  REQUIRE(h.rows() == 2);
  CHECK(h.row(0)[0] == 1.0);
  CHECK(h.row(1)[0] == 2.0);
}
