// Semi-supervised pieces (metrics/semisup.h): the stratified label draw on the built-in
// sprites (exact counts, determinism, uniformity, refusals), standardisation, the head
// learning separable and non-linear toy problems with no allocation per step, and
// self-training moving a boundary that a badly placed labelled point had skewed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "platform/context.h"
#include "metrics/semisup.h"
#include "data/sprites.h"
#include "tests/alloc-counter.h"
#include "tests/model-fixture.h"

using namespace ember;
using namespace ember::models;
namespace counter = ember::testing::alloc_counter;

namespace {

constexpr uint64_t kSeed = 11;
constexpr int kSprites = 400;

// An arena over a vector, with a single-threaded context in it.
struct Memory {
  std::vector<uint8_t> buf;
  std::unique_ptr<Arena> arena;
  Context ctx;
  explicit Memory(size_t bytes) : buf(bytes) {
    arena = std::make_unique<Arena>(buf.data(), buf.size());
    Context::Options o;
    o.threads = 1;
    REQUIRE(ctx.init(arena.get(), o).is_ok());
  }
};

// A configured and initialised head in its own memory.
struct Head {
  Memory mem{16u << 20};
  std::unique_ptr<metrics::CodeHead> head = std::make_unique<metrics::CodeHead>();
  explicit Head(const metrics::CodeHead::Setup& s) {
    REQUIRE(head->configure(s).is_ok());
    size_t bytes = 0, ctx_bytes = 0;
    REQUIRE(testing::setup_bytes(head.get(), 1, &bytes).is_ok());
    Context::Options o;
    o.threads = 1;
    REQUIRE(Context::bytes_needed(o, &ctx_bytes).is_ok());
    REQUIRE(bytes - ctx_bytes < mem.arena->free_bytes());  // the context is already in the arena
    REQUIRE(head->init(mem.arena.get(), &mem.ctx).is_ok());
  }
};

metrics::CodeHead::Setup setup(int inputs, int classes, int hidden, int max_rows) {
  metrics::CodeHead::Setup s;
  s.inputs = inputs, s.classes = classes, s.hidden = hidden, s.max_rows = max_rows;
  s.batch = 32, s.eval_batch = 64, s.lr = 0.05f, s.seed = kSeed;
  return s;
}

// n points of `classes` Gaussian blobs in 2-D: class c centred at centres[c] with the given
// spreads; labels cycle 0, 1, ..., classes - 1.
void blobs(int n, int classes, const float (*centres)[2], float sx, float sy, uint64_t seed, std::vector<float>* x,
           std::vector<int32_t>* y) {
  Rng rng(seed);
  x->resize(size_t(n) * 2), y->resize(size_t(n));
  for (int i = 0; i < n; ++i) {
    const int c = i % classes;
    (*y)[i] = c;
    (*x)[2 * i] = centres[c][0] + sx * rng.normal();
    (*x)[2 * i + 1] = centres[c][1] + sy * rng.normal();
  }
}

double error_of(metrics::CodeHead& h, const std::vector<float>& x, const std::vector<int32_t>& y) {
  double e = 1.0;
  REQUIRE(h.error_rate(x.data(), y.data(), static_cast<int>(y.size()), &e).is_ok());
  return e;
}

}  // namespace

TEST_CASE("semisup: the stratified draw takes exactly k of every class, from a seed") {
  std::vector<uint8_t> mem(1u << 20);
  Arena arena(mem.data(), mem.size());
  data::Dataset d;
  REQUIRE(make_sprites(&arena, kSprites, kSeed, &d, nullptr).is_ok());
  constexpr int k = 7;
  const int n = k * d.classes;
  std::vector<int32_t> a(n), b(n), c(n);
  REQUIRE(metrics::draw_per_class(d, k, 1, a.data(), n).is_ok());
  REQUIRE(metrics::draw_per_class(d, k, 1, b.data(), n).is_ok());
  REQUIRE(metrics::draw_per_class(d, k, 2, c.data(), n).is_ok());
  CHECK(a == b);  // deterministic
  CHECK(a != c);  // another seed, another draw
  for (const std::vector<int32_t>* v : {&a, &c}) {
    for (int j = 0; j < n; ++j) {
      const int row = (*v)[j];
      REQUIRE(row >= 0);
      REQUIRE(row < d.count);
      CHECK(d.labels[row] == j / k);                    // grouped by class, k each
      if (j % k) CHECK((*v)[j - 1] < row);              // ascending, so distinct
    }
  }

  SUBCASE("refusals leave the output untouched") {
    int have[data::kSpriteShapes] = {0};
    for (int i = 0; i < d.count; ++i) ++have[d.labels[i]];
    const int smallest = *std::min_element(have, have + data::kSpriteShapes);
    std::vector<int32_t> out(size_t(smallest + 1) * d.classes, -7);
    const Status s = metrics::draw_per_class(d, smallest + 1, 1, out.data(), static_cast<int>(out.size()));
    CHECK(s.code() == Code::invalid_argument);
    CHECK(std::string(s.message()).find("fewer than") != std::string::npos);
    CHECK(std::all_of(out.begin(), out.end(), [](int32_t v) { return v == -7; }));
    const Status small = metrics::draw_per_class(d, k, 1, out.data(), n - 3);
    CHECK(std::string(small.message()).find("3 short") != std::string::npos);
    CHECK(std::all_of(out.begin(), out.end(), [](int32_t v) { return v == -7; }));
    CHECK(metrics::draw_per_class(d, 0, 1, out.data(), n).code() == Code::invalid_argument);
    data::Dataset unlabelled = d;
    unlabelled.labels = nullptr;
    CHECK(metrics::draw_per_class(unlabelled, 1, 1, out.data(), n).code() == Code::invalid_argument);
    std::vector<uint8_t> bad(d.labels, d.labels + d.count);
    bad[5] = 9;
    data::Dataset hostile = d;
    hostile.labels = bad.data();
    CHECK(metrics::draw_per_class(hostile, 1, 1, out.data(), n).code() == Code::corrupt_data);
  }
}

TEST_CASE("semisup: every row of a class is drawn equally often") {
  // 40 rows, 10 per class; k = 3 -> each row is in a draw with probability 0.3.
  constexpr int kRows = 40, kClasses = 4, k = 3, kDraws = 4000;
  std::vector<uint8_t> pixels(kRows), labels(kRows);
  for (int i = 0; i < kRows; ++i) labels[i] = static_cast<uint8_t>(i % kClasses);
  data::Dataset d;
  d.pixels = pixels.data(), d.labels = labels.data(), d.count = kRows, d.rows = d.cols = 1, d.classes = kClasses;
  std::vector<int> hits(kRows, 0);
  std::vector<int32_t> idx(k * kClasses);
  for (int s = 0; s < kDraws; ++s) {
    REQUIRE(metrics::draw_per_class(d, k, static_cast<uint64_t>(s), idx.data(), k * kClasses).is_ok());
    for (int32_t r : idx) ++hits[r];
  }
  for (int i = 0; i < kRows; ++i) {  // binomial(4000, 0.3): std 29, so +-120 is 4 sigma
    CHECK(hits[i] > 1200 - 120);
    CHECK(hits[i] < 1200 + 120);
  }
}

TEST_CASE("semisup: input moments and standardisation") {
  // Column 0: 1, 3 (mean 2, std 1); column 1: constant 5 (std 0 -> the floor).
  const float x[] = {1, 5, 3, 5};
  std::vector<uint8_t> mem(1u << 16);
  Arena arena(mem.data(), mem.size());
  float mean[2] = {-1, -1}, inv[2] = {-1, -1};
  REQUIRE(metrics::input_moments(x, 2, 2, 0.25f, &arena, mean, inv).is_ok());
  CHECK(mean[0] == doctest::Approx(2));
  CHECK(mean[1] == doctest::Approx(5));
  CHECK(inv[0] == doctest::Approx(1));
  CHECK(inv[1] == doctest::Approx(4));  // 1 / min_std
  CHECK(arena.mark() == 0);             // scratch released
  float y[4];
  std::memcpy(y, x, sizeof y);
  metrics::standardise(y, 2, 2, mean, inv);
  CHECK(y[0] == doctest::Approx(-1));
  CHECK(y[2] == doctest::Approx(1));
  CHECK(y[1] == 0);
  const float bad[] = {1, NAN};
  float m2[2] = {9, 9}, i2[2] = {9, 9};
  const Status s = metrics::input_moments(bad, 1, 2, 0.25f, &arena, m2, i2);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(std::string(s.message()).find("(0, 1)") != std::string::npos);
  CHECK(m2[0] == 9);
  CHECK(metrics::input_moments(x, 2, 2, 0.0f, &arena, m2, i2).code() == Code::invalid_argument);
}

TEST_CASE("semisup: the head learns blobs linearly and XOR with a hidden layer, allocation-free") {
  const float four[4][2] = {{-3, -3}, {3, -3}, {-3, 3}, {3, 3}};
  std::vector<float> x, tx;
  std::vector<int32_t> y, ty;
  blobs(256, 4, four, 1.0f, 1.0f, 1, &x, &y);
  blobs(512, 4, four, 1.0f, 1.0f, 2, &tx, &ty);
  Head lin(setup(2, 4, 0, 256));
  float loss = -1;
  const bool counting = counter::available();
  if (counting) counter::start();
  REQUIRE(lin.head->fit(x.data(), y.data(), 256, nullptr, 256, 40, &loss).is_ok());
  const double err = error_of(*lin.head, tx, ty);
  if (counting) CHECK(counter::stop() == 0);
  CHECK(err < 0.02);
  CHECK(loss < 0.2f);

  // XOR: the diagonal quadrants share a class; no line separates them.
  std::vector<int32_t> xy(y), txy(ty);
  for (int32_t& v : xy) v = v == 0 || v == 3;
  for (int32_t& v : txy) v = v == 0 || v == 3;
  Head flat(setup(2, 2, 0, 256)), deep(setup(2, 2, 16, 256));
  REQUIRE(flat.head->fit(x.data(), xy.data(), 256, nullptr, 256, 40, nullptr).is_ok());
  REQUIRE(deep.head->fit(x.data(), xy.data(), 256, nullptr, 256, 40, nullptr).is_ok());
  CHECK(error_of(*flat.head, tx, txy) > 0.2);
  CHECK(error_of(*deep.head, tx, txy) < 0.05);

  SUBCASE("fewer rows than a batch, rows picked by index, determinism") {
    const int32_t rows[] = {0, 1, 2, 3, 4, 5, 6, 7};  // two of each class
    Head a(setup(2, 4, 0, 8)), b(setup(2, 4, 0, 8));
    REQUIRE(a.head->fit(x.data(), y.data(), 256, rows, 8, 400, nullptr).is_ok());
    REQUIRE(b.head->fit(x.data(), y.data(), 256, rows, 8, 400, nullptr).is_ok());
    std::vector<int32_t> pa(ty.size()), pb(ty.size());
    std::vector<float> ca(ty.size());
    REQUIRE(a.head->classify(tx.data(), 512, pa.data(), ca.data()).is_ok());
    REQUIRE(b.head->classify(tx.data(), 512, pb.data(), nullptr).is_ok());
    CHECK(pa == pb);
    CHECK(error_of(*a.head, tx, ty) < 0.1);
    CHECK(std::all_of(ca.begin(), ca.end(), [](float p) { return p >= 0.25f && p <= 1.0f; }));
    a.head->reset(kSeed);  // the same seed again: the same model after the same fit
    REQUIRE(a.head->fit(x.data(), y.data(), 256, rows, 8, 400, nullptr).is_ok());
    REQUIRE(a.head->classify(tx.data(), 512, pb.data(), nullptr).is_ok());
    CHECK(pa == pb);
  }
  SUBCASE("bad arguments") {
    std::vector<int32_t> bad(y);
    bad[3] = 4;
    const Status s = lin.head->fit(x.data(), bad.data(), 256, nullptr, 256, 1, nullptr);
    CHECK(std::string(s.message()).find("label 4 of row 3") != std::string::npos);
    const int32_t outside[] = {0, 256};
    CHECK(lin.head->fit(x.data(), y.data(), 256, outside, 2, 1, nullptr).code() == Code::invalid_argument);
    Head small(setup(2, 4, 0, 8));
    CHECK(small.head->fit(x.data(), y.data(), 256, nullptr, 9, 1, nullptr).code() == Code::invalid_argument);
    metrics::CodeHead unready;
    int32_t p;
    CHECK(unready.classify(x.data(), 1, &p, nullptr).code() == Code::invalid_argument);
    metrics::CodeHead::Setup no_rows = setup(2, 4, 0, 0);
    CHECK(unready.configure(no_rows).code() == Code::invalid_argument);
  }
}

TEST_CASE("semisup: self-training pulls a skewed boundary into the gap between the classes") {
  // Two blobs at x = -2 and +2 (spread 0.5). The only labelled class-1 point sits at
  // x = -1, near class 0, so the supervised boundary lands near x = -1.5 and misreads the
  // right tail of class 0; the confident pseudo-labels (the far sides of each blob) move it
  // to the middle.
  const float two[2][2] = {{-2, 0}, {2, 0}};
  std::vector<float> x, tx;
  std::vector<int32_t> y, ty;
  blobs(400, 2, two, 0.5f, 0.5f, 3, &x, &y);
  blobs(1000, 2, two, 0.5f, 0.5f, 4, &tx, &ty);
  x[0] = -2.0f, x[1] = 0.0f;  // row 0: class 0, at its centre
  x[2] = -1.0f, x[3] = 0.0f;  // row 1: class 1, near class 0
  const int32_t labelled[] = {0, 1}, labels[] = {0, 1};
  metrics::CodeHead::Setup s = setup(2, 2, 0, 400);
  s.weight_decay = 1e-3f;
  Head h(s);
  std::vector<int32_t> row_labels(400, -1);
  row_labels[0] = 0, row_labels[1] = 1;
  REQUIRE(h.head->fit(x.data(), row_labels.data(), 400, labelled, 2, 1000, nullptr).is_ok());
  const double supervised = error_of(*h.head, tx, ty);
  CHECK(supervised > 0.03);

  std::vector<uint8_t> scratch_mem(metrics::self_training_bytes(400) + Arena::kAlign);  // + aligning the start
  Arena scratch(scratch_mem.data(), scratch_mem.size());
  metrics::SelfTraining st;
  st.rounds = 3, st.epochs = 20;
  const size_t before = scratch.mark();
  const bool counting = counter::available();
  if (counting) counter::start();
  const Status trained = self_train(h.head.get(), x.data(), 400, labelled, labels, 2, st, &scratch);
  const size_t allocations = counting ? counter::stop() : 0;
  REQUIRE_MESSAGE(trained.is_ok(), trained.message());
  CHECK(allocations == 0);
  CHECK(scratch.mark() == before);
  CHECK(error_of(*h.head, tx, ty) < supervised / 2);

  const int32_t twice[] = {0, 0}, bad_label[] = {0, 2};
  CHECK(self_train(h.head.get(), x.data(), 400, twice, labels, 2, st, &scratch).code() ==
        Code::invalid_argument);
  CHECK(self_train(h.head.get(), x.data(), 400, labelled, bad_label, 2, st, &scratch).code() ==
        Code::invalid_argument);
  std::vector<uint8_t> few(4096);
  Arena tiny(few.data(), few.size());
  CHECK(self_train(h.head.get(), x.data(), 400, labelled, labels, 2, st, &tiny).code() ==
        Code::out_of_memory);
}
