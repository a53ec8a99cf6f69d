// The classifier and the classifier-based GAN scores: config text, learning the sprite
// shapes, no allocation per step or prediction, checkpoints, and GanEvaluator's plumbing on
// answers known from real images (IS near the class count, FD of a set with itself 0, the
// training-vs-test floor small, label accuracy = the classifier's accuracy, a training image
// found at distance 0).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "platform/context.h"
#include "models/ae-model.h"
#include "data/batcher.h"
#include "models/classifier-model.h"
#include "models/config-text.h"
#include "metrics/gan-eval.h"
#include "data/sprites.h"
#include "tests/alloc-counter.h"
#include "tests/model-fixture.h"
#include "tests/temp-dir.h"
#include "tests/testing.h"

using namespace ember;
using namespace ember::models;
namespace counter = ember::testing::alloc_counter;

namespace {

constexpr int kTrainCount = 2048, kTestCount = 256;
constexpr int kSmallTrainCount = 256;  // for the tests that need no good classifier
constexpr uint64_t kSeed = 5;
constexpr float kMinScale = 0.7f;  // large sprites: a small net learns them in a few hundred steps
constexpr size_t kPixels = size_t(data::kSpriteSide) * data::kSpriteSide;

// Sprites of the larger scales only, rendered with render_sprite (the full range of scales
// takes a small net thousands of steps: tiny hearts and triangles look alike).
data::Dataset large_sprites(Arena* arena, int n, uint64_t seed) {
  uint8_t *pixels = nullptr, *labels = nullptr;
  REQUIRE(arena->alloc_array(size_t(n) * kPixels, &pixels).is_ok());
  REQUIRE(arena->alloc_array(size_t(n), &labels).is_ok());
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    labels[i] = static_cast<uint8_t>(rng.below(data::kSpriteShapes));
    const float f[data::kSpriteFactors] = {rng.uniform(), rng.uniform(), kMinScale + (1 - kMinScale) * rng.uniform(),
                                     rng.uniform()};
    data::render_sprite(labels[i], f, pixels + size_t(i) * kPixels);
  }
  data::Dataset d;
  d.pixels = pixels, d.labels = labels, d.count = n, d.rows = d.cols = data::kSpriteSide, d.classes = data::kSpriteShapes;
  return d;
}

// A small conv net with BatchNorm (exercises every layer kind), or the mlp of `config`.
ClassifierModel::Setup sprite_setup(const char* config = "channels=4,4,8 features=8 bn=1", bool training = true) {
  ClassifierModel::Setup s;
  s.config.classes = data::kSpriteShapes;
  REQUIRE(for_each_pair(config, [&s](const char* k, const char* v) { return s.config.set(k, v); }).is_ok());
  s.batch = 32;
  s.eval_batch = 50;
  s.lr = 1e-3f;
  s.training = training;
  return s;
}
constexpr const char* kMlp = "arch=mlp widths=128,32";

// A model, its context and its data in one arena (plus `extra` bytes for an evaluator).
struct Fixture {
  std::vector<uint8_t> buf;
  std::unique_ptr<Arena> arena;
  Context ctx;
  std::unique_ptr<ClassifierModel> model = std::make_unique<ClassifierModel>();
  data::Dataset train, test;

  explicit Fixture(const ClassifierModel::Setup& s, int train_count = kSmallTrainCount, size_t extra = 0) {
    REQUIRE(model->configure(s).is_ok());
    size_t setup_bytes = 0;
    Context::Options o;
    o.threads = 1;
    REQUIRE(testing::setup_bytes(model.get(), 1, &setup_bytes).is_ok());
    const size_t data_bytes = size_t(train_count + kTestCount) * (kPixels + 1) + 4 * Arena::kAlign;
    buf.resize(setup_bytes + data_bytes + extra + Arena::kAlign);
    arena = std::make_unique<Arena>(buf.data(), buf.size());
    REQUIRE(ctx.init(arena.get(), o).is_ok());
    train = large_sprites(arena.get(), train_count, kSeed);
    test = large_sprites(arena.get(), kTestCount, kSeed + 1);
    const Status st = model->init(arena.get(), &ctx);
    REQUIRE_MESSAGE(st.is_ok(), st.message());
  }
};

std::vector<float> grey(const data::Dataset& d, int first, int n) {
  std::vector<float> x(size_t(n) * d.image_size());
  fill_range(d, first, n, x.data(), nullptr);
  return x;
}

// Trains f's model on its sprites for `steps` batches.
void train(Fixture& f, int steps) {
  std::vector<uint8_t> order_mem(size_t(f.train.count) * 4 + Arena::kAlign);
  Arena order_arena(order_mem.data(), order_mem.size());
  data::Batcher b;
  REQUIRE(b.init(&order_arena, f.train, f.model->setup().batch, kSeed).is_ok());
  std::vector<float> x(b.x_floats());
  std::vector<int32_t> y(size_t(b.batch()));
  for (int i = 0; i < steps; ++i) {
    b.next(x.data(), y.data());
    REQUIRE(f.model->train_step(x.data(), y.data(), nullptr).is_ok());
  }
}

// The mlp classifier trained once, shared by the tests that need a good one.
Fixture& trained() {
  static Fixture* f = nullptr;
  if (!f) {
    metrics::GanEvalOptions o;
    size_t eval_bytes = 0;
    REQUIRE(metrics::GanEvaluator::bytes_needed(sprite_setup(kMlp).config, kTestCount, kTrainCount, o, &eval_bytes).is_ok());
    f = new Fixture(sprite_setup(kMlp), kTrainCount, eval_bytes);
    train(*f, 600);  // also under qemu: fewer steps leave IS below the bound
  }
  return *f;
}

}  // namespace

TEST_CASE("classifier: config text round trip and clear errors") {
  ClassifierConfig c;
  REQUIRE(c.set("arch", "mlp").is_ok());
  REQUIRE(c.set("widths", "64,32").is_ok());
  REQUIRE(c.set("classes", "4").is_ok());
  REQUIRE(c.set("bn", "1").is_ok());
  char text[256];
  REQUIRE(c.to_text(text, sizeof text).is_ok());
  CHECK(std::string(text) ==
        "kind=classifier arch=mlp rows=28 cols=28 classes=4 channels=32,32,64 features=128 widths=64,32 bn=1");
  ClassifierConfig d;
  REQUIRE(d.from_text(text).is_ok());
  CHECK(d.feature_dim() == 32);
  char again[256];
  REQUIRE(d.to_text(again, sizeof again).is_ok());
  CHECK(std::string(again) == text);
  CHECK(ClassifierConfig().feature_dim() == 128);

  CHECK(c.set("arch", "resnet").code() == Code::invalid_argument);
  CHECK(c.set("classes", "1").code() == Code::invalid_argument);
  CHECK(c.set("channels", "8,8").code() == Code::invalid_argument);
  CHECK(c.set("kind", "vae").code() == Code::invalid_argument);
  CHECK(c.set("latent", "3").code() == Code::invalid_argument);
  CHECK(d.from_text("arch=conv").code() == Code::invalid_argument);  // no kind
  CHECK(d.from_text("kind=classifier arch=conv rows=30").code() == Code::invalid_argument);  // 30 % 4
  CHECK(d.from_text("kind=vae arch=mlp rows=28 cols=28 widths=400 latent=20").code() == Code::invalid_argument);
  CHECK(d.feature_dim() == 32);  // untouched by the failures
  AeConfig ae;
  CHECK(ae.from_text(text).code() == Code::invalid_argument);  // an AE does not take it either
  char small[16];
  CHECK(c.to_text(small, sizeof small).code() == Code::invalid_argument);
}

TEST_CASE("classifier: learns the sprite shapes" * EMBER_LEARNING) {
  Fixture& f = trained();
  ClassifierModel& m = *f.model;
  ClassifierScore score;
  REQUIRE(m.evaluate(f.test, 0, &score).is_ok());
  MESSAGE("sprite test accuracy " << score.accuracy << ", loss " << score.loss);
  CHECK(score.count == kTestCount);
  CHECK(score.accuracy >= 0.9);
  CHECK(score.loss < 0.3);
  CHECK(score.correct == static_cast<int>(std::lround(score.accuracy * kTestCount)));

  const int n = 73;  // not a multiple of the eval batch
  const std::vector<float> x = grey(f.test, 0, n);
  std::vector<float> probs(size_t(n) * 4), feat(size_t(n) * 32), feat2(feat.size());
  REQUIRE(m.predict(x.data(), n, probs.data(), feat.data()).is_ok());
  int right = 0;
  for (int i = 0; i < n; ++i) {
    const float* p = &probs[size_t(i) * 4];
    CHECK(p[0] + p[1] + p[2] + p[3] == doctest::Approx(1.0f).epsilon(1e-5));
    int best = 0;
    for (int c = 1; c < 4; ++c) best = p[c] > p[best] ? c : best;
    right += best == f.test.labels[i];
  }
  CHECK(right >= 0.85 * n);
  for (float v : feat) CHECK(v >= 0.0f);  // after the ReLU
  REQUIRE(m.predict(x.data(), n, nullptr, feat2.data()).is_ok());  // either output optional
  CHECK(feat == feat2);

  // Bad input changes nothing and says what is wrong.
  std::vector<float> xb = grey(f.train, 0, 32);
  std::vector<int32_t> yb(f.train.labels, f.train.labels + 32);
  yb[7] = 4;
  const Status bad = m.train_step(xb.data(), yb.data(), nullptr);
  CHECK(bad.code() == Code::invalid_argument);
  CHECK(std::string(bad.message()).find("row 7") != std::string::npos);
  REQUIRE(m.predict(x.data(), 1, nullptr, feat2.data()).is_ok());
  CHECK(std::equal(feat2.begin(), feat2.begin() + 32, feat.begin()));  // the weights did not move
  CHECK(m.predict(f.test, f.test.count - 1, 2, probs.data(), nullptr).code() == Code::invalid_argument);
  data::Dataset wrong = f.test;
  wrong.rows = 14, wrong.cols = 56;
  CHECK(m.evaluate(wrong, 0, &score).code() == Code::shape_mismatch);
  data::Dataset unlabelled = f.test;
  unlabelled.labels = nullptr;
  CHECK(m.evaluate(unlabelled, 0, &score).code() == Code::invalid_argument);
}

TEST_CASE("classifier: the conv nets train, with no allocation per step or prediction" * EMBER_LEARNING) {
  const char* variants[] = {"channels=4,8,8 features=16", "channels=4,4,8 features=8 bn=1"};
  for (const char* v : variants) {
    CAPTURE(v);
    ClassifierModel::Setup setup = sprite_setup(v);
    setup.lr = 3e-3f;
    Fixture f(setup);
    ClassifierModel& m = *f.model;
    ClassifierScore before, after;
    REQUIRE(m.evaluate(f.test, 0, &before).is_ok());
    train(f, 1);
    const bool counting = counter::available();
    if (counting) counter::start();
    train(f, ember::testing::kEmulated ? 30 : 60);
    if (counting) CHECK(counter::stop() <= 3);  // train() itself: its three vectors
    REQUIRE(m.evaluate(f.test, 0, &after).is_ok());
    MESSAGE("loss " << before.loss << " -> " << after.loss << ", accuracy " << after.accuracy);
    CHECK(after.loss < 0.9 * before.loss);

    // Predictions from floats and from the dataset agree, in chunks, without allocating.
    const int n = 73;
    const std::vector<float> x = grey(f.test, 0, n);
    const int d = m.feature_dim();
    std::vector<float> probs(size_t(n) * 4), feat(size_t(n) * d), probs2(probs.size()), feat2(feat.size());
    std::vector<float> xb = grey(f.train, 0, 32);
    std::vector<int32_t> yb(f.train.labels, f.train.labels + 32);
    float loss = -1;
    int correct = -1;
    if (counting) counter::start();
    REQUIRE(m.train_step(xb.data(), yb.data(), &loss, &correct).is_ok());
    REQUIRE(m.predict(x.data(), n, probs.data(), feat.data()).is_ok());
    REQUIRE(m.predict(f.test, 0, n, probs2.data(), feat2.data()).is_ok());
    REQUIRE(m.evaluate(f.test, 100, &after).is_ok());
    if (counting) CHECK(counter::stop() == 0);
    CHECK(loss > 0.0f);
    CHECK((correct >= 0 && correct <= 32));
    CHECK(after.count == 100);
    CHECK(probs == probs2);
    CHECK(feat == feat2);
  }
}

TEST_CASE("classifier: checkpoints round trip and carry the architecture") {
  const ember::testing::TempDir dir("classifier");
  const std::string path = dir.file("clf.ember");
  Fixture a(sprite_setup());  // with BatchNorm: its running statistics travel too
  train(a, 10);
  REQUIRE(a.model->save(path.c_str(), 10).is_ok());
  ClassifierConfig read;
  REQUIRE(ClassifierModel::read_config(path.c_str(), &read).is_ok());
  CHECK(read.channels[2] == 8);
  CHECK(read.batchnorm);
  CHECK(read.classes == 4);

  Fixture b(sprite_setup("channels=4,4,8 features=8 bn=1", false));  // inference only
  uint64_t step = 0;
  REQUIRE(b.model->load(path.c_str(), &step).is_ok());
  CHECK(step == 10);
  const std::vector<float> x = grey(a.test, 0, 20);
  std::vector<float> pa(80), pb(80), fa(160), fb(160);
  REQUIRE(a.model->predict(x.data(), 20, pa.data(), fa.data()).is_ok());
  REQUIRE(b.model->predict(x.data(), 20, pb.data(), fb.data()).is_ok());
  CHECK(pa == pb);
  CHECK(fa == fb);

  // A training model resumes: Adam state and step restored, the next steps agree.
  Fixture c(sprite_setup());
  REQUIRE(c.model->load(path.c_str(), &step).is_ok());
  train(a, 3);
  train(c, 3);  // the same three batches (train() restarts the batcher)
  REQUIRE(a.model->predict(x.data(), 20, pa.data(), nullptr).is_ok());
  REQUIRE(c.model->predict(x.data(), 20, pb.data(), nullptr).is_ok());
  CHECK(pa == pb);

  Fixture other(sprite_setup("channels=4,4,8 features=12 bn=1"));
  const Status s = other.model->load(path.c_str(), &step);
  CHECK(s.code() == Code::shape_mismatch);
  CHECK(std::string(s.message()).find("features=8") != std::string::npos);
  AeConfig ae;
  CHECK(AeModel::read_config(path.c_str(), &ae).code() == Code::invalid_argument);
  CHECK(ClassifierModel::read_config(dir.file("missing").c_str(), &read).code() == Code::io_error);
}

TEST_CASE("gan_eval: real images score like real images" * EMBER_LEARNING) {
  Fixture& f = trained();
  ClassifierModel& m = *f.model;
  const size_t before = f.arena->mark();
  metrics::GanEvaluator eval;
  metrics::GanEvalOptions o;
  o.floor_n = kTestCount;  // as many training images as test images below
  o.pairs = 3;
  REQUIRE(eval.init(f.arena.get(), &m, f.train, f.test, o).is_ok());
  REQUIRE(eval.has_floor());

  // The test set itself: IS near 4 (balanced, confident), FD 0, labels = the accuracy.
  const std::vector<float> test = grey(f.test, 0, kTestCount);
  std::vector<int32_t> labels(f.test.labels, f.test.labels + kTestCount);
  metrics::GanEvalResult r;
  REQUIRE(eval.evaluate(test.data(), kTestCount, labels.data(), &r).is_ok());
  ClassifierScore score;
  REQUIRE(m.evaluate(f.test, 0, &score).is_ok());
  MESSAGE("IS " << r.is << " fd " << r.fd << " floor " << r.fd_floor << " entropy " << r.class_entropy);
  CHECK(r.n == kTestCount);
  CHECK(r.classes == 4);
  CHECK(r.is > 3.3);
  CHECK(r.is <= 4.0);
  CHECK(r.fd < 1e-6);
  CHECK(r.has_labels);
  CHECK(r.label_accuracy == doctest::Approx(score.accuracy));
  CHECK(r.class_entropy > 0.95 * std::log(4.0));
  int total = 0;
  for (int c = 0; c < 4; ++c) total += r.class_hist[c];
  CHECK(total == kTestCount);
  CHECK(r.has_nearest);
  // The test set against itself: as varied as itself, up to the few it misclassifies.
  REQUIRE(r.has_spread);
  MESSAGE("class_spread of the test set " << r.class_spread);
  CHECK(r.class_spread == doctest::Approx(1.0).epsilon(0.05));
  // One image per class, repeated: no spread at all (IS would not notice).
  std::vector<float> same(test.size());
  for (int i = 0; i < kTestCount; ++i)
    std::copy(test.begin() + size_t(i % 4) * 784, test.begin() + size_t(i % 4 + 1) * 784, same.begin() + size_t(i) * 784);
  metrics::GanEvalResult rs;
  REQUIRE(eval.evaluate(same.data(), kTestCount, nullptr, &rs).is_ok());
  CHECK(rs.class_spread == 0.0);

  // Noise is far from the test set; real training images are close (the floor).
  std::vector<float> noise = ember::testing::random_vector(test.size(), 9, 0.0f, 1.0f);
  metrics::GanEvalResult rn;
  REQUIRE(eval.evaluate(noise.data(), kTestCount, nullptr, &rn).is_ok());
  CHECK(!rn.has_labels);
  CHECK(r.fd_floor == eval.fd_floor());
  CHECK(eval.fd_floor() > 0.0);
  CHECK(eval.fd_floor() < 0.05 * rn.fd);
  CHECK(rn.nn_dist.min > 1.0);

  // Copies of training images are found at distance ~0, paired with themselves.
  std::vector<float> copies = grey(f.train, 100, 40);
  for (size_t i = 0; i < size_t(20) * 784; ++i) copies[i] = noise[i];  // the first 20: noise
  metrics::GanEvalResult rc;
  REQUIRE(eval.evaluate(copies.data(), 40, nullptr, &rc).is_ok());
  CHECK(rc.nn_dist.min < 1e-5);
  REQUIRE(rc.pairs == 3);
  for (int i = 0; i < rc.pairs; ++i) {
    CHECK(rc.pair_gen[i] >= 20);
    CHECK(rc.pair_train[i] == 100 + rc.pair_gen[i]);
    CHECK(rc.pair_dist[i] < 1e-5);
  }
  CHECK(rc.nn_dist.median > rc.nn_dist.min);

  // Bad input: out-of-range labels, NaN pixels, too few images; the result is untouched.
  labels[5] = 4;
  metrics::GanEvalResult keep = r;
  CHECK(eval.evaluate(test.data(), kTestCount, labels.data(), &r).code() == Code::invalid_argument);
  copies[784 * 3 + 10] = NAN;
  const Status nan = eval.evaluate(copies.data(), 40, nullptr, &r);
  CHECK(std::string(nan.message()).find("image 3 pixel 10") != std::string::npos);
  CHECK(eval.evaluate(test.data(), 1, nullptr, &r).code() == Code::invalid_argument);
  CHECK(r.is == keep.is);
  CHECK(r.fd == keep.fd);

  // The scratch went back; only the test statistics stay.
  CHECK(f.arena->mark() > before);
  f.arena->rewind(before);
}

TEST_CASE("gan_eval: bytes_needed is enough; bad arguments" * EMBER_LEARNING) {
  Fixture& f = trained();
  metrics::GanEvalOptions o;
  size_t need = 0;
  const int images = 300;
  REQUIRE(metrics::GanEvaluator::bytes_needed(f.model->config(), kTestCount, images, o, &need).is_ok());
  // An arena of exactly that size holds init and the largest evaluate.
  std::vector<uint8_t> mem(need + Arena::kAlign);
  Arena arena(mem.data(), mem.size());
  metrics::GanEvaluator eval;
  const Status s = eval.init(&arena, f.model.get(), f.train, f.test, o);
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  const std::vector<float> x = grey(f.train, 0, images);
  metrics::GanEvalResult r;
  const Status e = eval.evaluate(x.data(), images, nullptr, &r);
  REQUIRE_MESSAGE(e.is_ok(), e.message());
  CHECK(r.nn_dist.min < 1e-5);  // training images against themselves

  metrics::GanEvaluator again;
  metrics::GanEvalOptions bad;
  bad.pairs = metrics::kMaxGanPairs + 1;
  CHECK(again.init(&arena, f.model.get(), f.train, f.test, bad).code() == Code::invalid_argument);
  CHECK(eval.init(&arena, f.model.get(), f.train, f.test, o).code() == Code::invalid_argument);  // twice
  CHECK(again.evaluate(x.data(), 10, nullptr, &r).code() == Code::invalid_argument);         // no init
  CHECK(metrics::GanEvaluator::bytes_needed(f.model->config(), 1, 10, o, &need).code() == Code::invalid_argument);
  data::Dataset one = f.test;
  one.count = 1;
  CHECK(again.init(&arena, f.model.get(), f.train, one, o).code() == Code::invalid_argument);
}
