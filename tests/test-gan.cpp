// GANs: the minibatch-stddev op (values, finite-difference gradients, graph shapes), the
// config text, and GanModel — every variant (mlp on the rings points, dcgan and mlp on the
// built-in sprites, conditional, mbstd, unrolled, minimax, several D or G steps, top-k, info)
// trains with finite moving losses and no allocation per step; checkpoints round-trip; same
// seed, same bits; averaging. The training schedules: test-gan-schedule.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "platform/context.h"
#include "models/config-text.h"
#include "models/gan-model.h"
#include "data/rings.h"
#include "data/sprites.h"
#include "nn/ops.h"
#include "tests/alloc-counter.h"
#include "tests/gan-testing.h"
#include "tests/gradcheck.h"
#include "tests/model-fixture.h"
#include "tests/temp-dir.h"
#include "tests/testing.h"

using namespace ember;
using namespace ember::models;
using ember::testing::check_gradient;
using ember::testing::random_vector;
namespace counter = ember::testing::alloc_counter;
using namespace ember::testing::gan;

namespace {

constexpr int kSide = 28;

// ---- the op against a direct double-precision computation ---------------------------------
std::vector<double> stddev_reference(const std::vector<float>& x, int n, int d) {
  double sum_std = 0;
  for (int j = 0; j < d; ++j) {
    double mean = 0, var = 0;
    for (int i = 0; i < n; ++i) mean += x[size_t(i) * d + j];
    mean /= n;
    for (int i = 0; i < n; ++i) var += (x[size_t(i) * d + j] - mean) * (x[size_t(i) * d + j] - mean);
    sum_std += std::sqrt(var / n + nn::kMinibatchStddevEps);
  }
  return {sum_std / d};
}

}  // namespace

TEST_CASE("minibatch_stddev: the statistic, pass-through and finite-difference gradients") {
  struct Case {
    int n, c, s;
  };
  for (Case k : {Case{4, 3, 1}, Case{5, 2, 6}, Case{2, 1, 9}}) {
    CAPTURE(k.c);
    CAPTURE(k.s);
    const int d = k.c * k.s, dy_row = d + k.s;
    std::vector<float> x = random_vector(size_t(k.n) * d, 1 + k.s), y(size_t(k.n) * dy_row), mean(d), inv(d);
    nn::minibatch_stddev_forward(x.data(), y.data(), mean.data(), inv.data(), k.n, k.c, k.s);
    const double want = stddev_reference(x, k.n, d)[0];
    for (int i = 0; i < k.n; ++i) {
      for (int j = 0; j < d; ++j) REQUIRE(y[size_t(i) * dy_row + j] == x[size_t(i) * d + j]);
      for (int j = 0; j < k.s; ++j) CHECK(y[size_t(i) * dy_row + d + j] == doctest::Approx(want).epsilon(1e-5));
    }
    // Gradient of L = <y, r> for x, then "backward adds": a second call doubles it.
    const std::vector<float> r = random_vector(y.size(), 7);
    std::vector<float> dx(x.size(), 0.0f);
    nn::minibatch_stddev_backward(x.data(), mean.data(), inv.data(), r.data(), dx.data(), k.n, k.c, k.s);
    auto loss = [&] {
      nn::minibatch_stddev_forward(x.data(), y.data(), mean.data(), inv.data(), k.n, k.c, k.s);
      return testing::project(y.data(), r.data(), y.size());
    };
    testing::GradTolerance tol;
    tol.h = 1e-3f, tol.rtol = 1e-2, tol.atol = 1e-3;
    check_gradient("minibatch_stddev dx", x.data(), dx.data(), x.size(), loss, tol);
    loss();  // the statistics of x itself again (the check left them at a perturbed x)
    std::vector<float> twice = dx;
    nn::minibatch_stddev_backward(x.data(), mean.data(), inv.data(), r.data(), twice.data(), k.n, k.c, k.s);
    for (size_t i = 0; i < dx.size(); ++i) REQUIRE(twice[i] == doctest::Approx(2 * dx[i]));
    nn::minibatch_stddev_backward(x.data(), mean.data(), inv.data(), r.data(), nullptr, k.n, k.c, k.s);
  }
  // Identical samples: the statistic is sqrt(eps), the gradient finite.
  std::vector<float> same(12, 0.5f), y(16), mean(3), inv(3), dx(12, 0.0f), r(16, 1.0f);
  nn::minibatch_stddev_forward(same.data(), y.data(), mean.data(), inv.data(), 4, 3, 1);
  CHECK(y[3] == doctest::Approx(std::sqrt(nn::kMinibatchStddevEps)));
  nn::minibatch_stddev_backward(same.data(), mean.data(), inv.data(), r.data(), dx.data(), 4, 3, 1);
  for (float g : dx) CHECK(g == 1.0f);
}

TEST_CASE("minibatch_stddev: graph shapes, errors and gradients through a graph") {
  std::vector<uint8_t> buf(4 << 20);
  Arena arena(buf.data(), buf.size());
  nn::Params p(&arena);
  nn::Graph g(&p);
  const nn::T img = g.input("img", Shape(3, 2, 4, 4));
  const nn::T feat = g.input("feat", Shape(3, 5));
  CHECK(g.shape(g.minibatch_stddev(img)) == Shape(3, 3, 4, 4));
  const nn::T f = g.minibatch_stddev(g.linear(feat, 4, "fc"));
  CHECK(g.shape(f) == Shape(3, 5));
  const nn::T t = g.input("t", Shape(3, 1));
  g.minimize(g.bce_logits(g.linear(f, 1, "out"), t, nn::Reduction::mean));
  REQUIRE(g.status().is_ok());
  Context ctx;
  REQUIRE(ctx.init(&arena, Context::Options()).is_ok());
  REQUIRE(p.allocate(&arena, nn::ParamMode::train_adam).is_ok());
  Rng init(3);
  p.initialise(&init);
  REQUIRE(g.compile(&arena, &ctx, nn::CompileOptions()).is_ok());
  CHECK(g.check_plan().is_ok());
  Rng data(4);
  data.fill_uniform(g.data(feat), 15, -1.0f, 1.0f);
  for (int i = 0; i < 3; ++i) g.data(t)[i] = float(i % 2);
  REQUIRE(g.forward().is_ok());
  REQUIRE(g.backward().is_ok());
  // dL/d(fc.weight) by finite differences: the path through the statistic included.
  nn::Param& w = p[p.find("fc.weight")];
  std::vector<float> analytic(w.grad, w.grad + w.numel());
  check_gradient("fc.weight through mbstd", w.value, analytic.data(), w.numel(), [&] {
    REQUIRE(g.forward().is_ok());
    return double(g.loss());
  });

  nn::Graph bad(&p);
  bad.minibatch_stddev(bad.input("x", Shape(3, 2, 4)));
  CHECK(bad.status().code() == Code::shape_mismatch);
  CHECK(std::string(bad.status().message()).find("minibatch_stddev") != std::string::npos);
}

TEST_CASE("gan: config text round trip and clear errors") {
  GanConfig c;
  for (auto kv : {std::pair<const char*, const char*>{"kind", "dcgan"}, {"cond", "1"}, {"classes", "4"},
                  {"mbstd", "1"}, {"gan_loss", "minimax"}, {"d_steps", "2"}, {"g_steps", "3"}, {"unroll", "3"}, {"topk", "0.5"},
                  {"z_dim", "16"},
                  {"channels", "8,16"}})
    REQUIRE(c.set(kv.first, kv.second).is_ok());
  char text[256];
  REQUIRE(c.to_text(text, sizeof text).is_ok());
  CHECK(std::string(text) ==
        "kind=dcgan data=images rows=28 cols=28 z_dim=16 widths=256,512 channels=8,16 cond=1 classes=4 mbstd=1 "
        "gan_loss=minimax d_steps=2 g_steps=3 unroll=3 ema=0 topk=0.5 info=0 info_cont=0 info_std=1 info_real=0");
  GanConfig d;
  REQUIRE(d.from_text(text).is_ok());
  char again[256];
  REQUIRE(d.to_text(again, sizeof again).is_ok());
  CHECK(std::string(again) == text);
  d.d_steps = 5, d.g_steps = 1, d.unroll = 0, d.topk = 0, d.loss = GanLoss::ns;
  CHECK(d.same_networks(c));  // the schedule is not the network
  d.ema = 0.999f, c.ema = 0.9999f;
  CHECK(d.same_networks(c));  // another averaging decay: the same parameters
  c.ema = 0.0f;
  CHECK(!d.same_networks(c));  // averaging off: no ema.* parameters
  d.ema = 0.0f;
  d.mbstd = false;
  CHECK(!d.same_networks(c));

  CHECK(std::string(c.set("gan_loss", "wgan").message()).find("one of: minimax ns") != std::string::npos);
  CHECK(c.set("cond", "2").code() == Code::invalid_argument);
  CHECK(c.set("d_steps", "0").code() == Code::invalid_argument);
  CHECK(c.set("g_steps", "0").code() == Code::invalid_argument);
  GanConfig e = c;
  REQUIRE(e.set("topk", "1.5").is_ok());  // a share above 1: parsed, then refused by validate
  CHECK(std::string(e.validate().message()).find("topk") != std::string::npos);
  CHECK(c.set("unroll", "-1").code() == Code::invalid_argument);
  CHECK(c.set("nope", "1").code() == Code::invalid_argument);
  CHECK(d.from_text("kind=dcgan data=points").code() == Code::invalid_argument);
  CHECK(d.from_text("kind=dcgan rows=30").code() == Code::invalid_argument);
  char small[16];
  CHECK(c.to_text(small, sizeof small).code() == Code::invalid_argument);
}

TEST_CASE("gan: every variant trains with finite, moving losses and no allocation per step") {
  const char* variants[] = {
      "kind=mlp data=points z_dim=4 widths=32,32",
      "kind=mlp data=points z_dim=4 widths=32 mbstd=1",
      "kind=mlp data=points z_dim=4 widths=32,32 unroll=2",
      "kind=mlp data=points z_dim=4 widths=32 gan_loss=minimax d_steps=2",
      "kind=mlp data=points z_dim=4 widths=32 g_steps=2 topk=0.5",
      "kind=mlp data=images z_dim=8 widths=32,64 cond=1 classes=4",
      "kind=dcgan z_dim=8 channels=4,8",
      "kind=dcgan z_dim=8 channels=4,8 cond=1 classes=4 mbstd=1 unroll=1",
      "kind=dcgan z_dim=8 channels=4,8 info=3 info_cont=1 ema=0.9",
      "kind=mlp data=points z_dim=6 widths=32 info=4 mbstd=1",
      "kind=dcgan z_dim=10 channels=4,8 info=4 info_cont=1 info_std=0.5 info_real=1",
  };
  const int steps = ember::testing::kEmulated ? 8 : 30;
  for (const char* v : variants) {
    CAPTURE(v);
    Fixture f(setup(v));
    GanModel& m = *f;
    const GanConfig& c = m.config();
    const Data d = data_for(c, 64, 5);
    const Feed feed{d, m.real_rows(), m.dims()};
    std::vector<GanStepLoss> losses(steps);
    REQUIRE(m.train_step(feed.x(0), feed.labels(0), &losses[0]).is_ok());
    const bool counting = counter::available();
    if (counting) counter::start();
    for (int k = 1; k < steps; ++k) REQUIRE(m.train_step(feed.x(k), feed.labels(k), &losses[k]).is_ok());
    if (counting) CHECK(counter::stop() == 0);
    int d_moved = 0, g_moved = 0;
    for (int k = 0; k < steps; ++k) {
      const GanStepLoss& l = losses[k];
      REQUIRE((std::isfinite(l.d_loss) && std::isfinite(l.g_loss)));
      CHECK((l.d_real > 0.0f && l.d_real < 1.0f && l.d_fake > 0.0f && l.d_fake < 1.0f));
      CHECK(l.d_loss > 0.0f);
      // ns: -log D(G(z)) > 0; minimax: log(1 - D(G(z))) < 0.
      CHECK((c.loss == GanLoss::ns ? l.g_loss > 0.0f : l.g_loss < 0.0f));
      d_moved += std::fabs(l.d_loss - losses[0].d_loss) > 1e-3f;
      g_moved += std::fabs(l.g_loss - losses[0].g_loss) > 1e-3f;
    }
    CHECK(d_moved > steps / 2);
    CHECK(g_moved > steps / 2);

    // Samples: any count (not a multiple of the eval batch), the right size, G's range.
    const int n = 7;
    std::vector<float> z(size_t(n) * c.z_dim), out(size_t(n) * m.dims(), -9.0f);
    Rng(3).fill_normal(z.data(), z.size(), 0.0f, 1.0f);
    const std::vector<int32_t> classes = {0, 1, 2, 3, 0, 1, 2};
    if (counting) counter::start();
    REQUIRE(m.generate(z.data(), classes.data(), n, out.data()).is_ok());
    if (counting) CHECK(counter::stop() == 0);
    for (float x : out) REQUIRE(std::isfinite(x));
    if (c.data == GanData::images)
      for (float x : out) REQUIRE((x >= -1.0f && x <= 1.0f));
  }
}

TEST_CASE("gan: the same seed gives the same bits, with 1 and 2 threads") {
  const char* v = "kind=dcgan z_dim=8 channels=4,8 mbstd=1";
  const Data d = sprites(32, 6);
  auto run = [&](uint64_t seed, int threads) {
    Fixture f(setup(v, 8, seed), threads);
    std::vector<float> losses;
    for (int k = 0; k < 4; ++k) {
      GanStepLoss l;
      REQUIRE(f->train_step(&d.x[size_t(k) * 8 * kSide * kSide], nullptr, &l).is_ok());
      losses.insert(losses.end(), {l.d_loss, l.g_loss, l.d_real, l.d_fake});
    }
    std::vector<float> state = group_state(*f, kGenerator, false, true);
    const std::vector<float> ds = group_state(*f, kDiscriminator, false, true);
    state.insert(state.end(), ds.begin(), ds.end());
    state.insert(state.end(), losses.begin(), losses.end());
    return state;
  };
  const std::vector<float> first = run(9, 1);
  CHECK(bits_equal(run(9, 1), first));
  CHECK(bits_equal(run(9, 2), first));
  CHECK(!bits_equal(run(10, 1), first));
}

TEST_CASE("gan: bad labels are refused before anything changes") {
  Fixture f(setup("kind=mlp data=points z_dim=4 widths=16 cond=1 classes=8"));
  Data d = rings(8, 1);
  const std::vector<float> before = group_state(*f, kDiscriminator, false, true);
  d.labels[5] = 8;
  Status s = f->train_step(d.x.data(), d.labels.data(), nullptr);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(std::string(s.message()).find("row 5") != std::string::npos);
  CHECK(f->train_step(d.x.data(), nullptr, nullptr).code() == Code::invalid_argument);
  CHECK(f->d_step(d.x.data(), d.labels.data(), nullptr).code() == Code::invalid_argument);
  std::vector<float> z(4), out(2);
  CHECK(f->generate(z.data(), nullptr, 1, out.data()).code() == Code::invalid_argument);
  CHECK(bits_equal(group_state(*f, kDiscriminator, false, true), before));
}

TEST_CASE("gan: checkpoints carry the config and resume exactly; samplers load them") {
  const ember::testing::TempDir dir("gan");
  const std::string path = dir.file("gan.ckpt");
  const char* v = "kind=dcgan z_dim=8 channels=4,8 cond=1 classes=4";
  const Data d = sprites(6 * 8, 3);
  const Feed feed{d, 8, kSide * kSide};
  Fixture a(setup(v));
  for (int k = 0; k < 3; ++k) REQUIRE(a->train_step(feed.x(k), feed.labels(k), nullptr).is_ok());
  REQUIRE(a->save(path.c_str(), 3).is_ok());
  GanConfig read;
  REQUIRE(GanModel::read_config(path.c_str(), &read).is_ok());
  CHECK((read.kind == GanKind::dcgan && read.cond && read.classes == 4 && read.channels[1] == 8));

  // Another schedule (d_steps, gan_loss) loads the same networks.
  const std::string other = std::string(v) + " d_steps=1 gan_loss=minimax";
  Fixture b(setup(other.c_str()));
  uint64_t step = 0;
  REQUIRE(b->load(path.c_str(), &step).is_ok());
  CHECK(step == 3);
  CHECK(b->d_optimizer().steps() == 3);
  Fixture c(setup(v));
  REQUIRE(c->load(path.c_str(), &step).is_ok());
  for (int k = 3; k < 5; ++k) {
    GanStepLoss la, lc;
    REQUIRE(a->train_step(feed.x(k), feed.labels(k), &la).is_ok());
    REQUIRE(c->train_step(feed.x(k), feed.labels(k), &lc).is_ok());
    CHECK((la.d_loss == lc.d_loss && la.g_loss == lc.g_loss));  // bit-identical continuation
  }
  REQUIRE(a->save(path.c_str(), 5).is_ok());

  // An inference-only model loads the training checkpoint and samples the same images.
  GanModel::Setup inf = setup(v);
  inf.training = false;
  Fixture s(inf);
  REQUIRE(s->load(path.c_str(), &step).is_ok());
  std::vector<float> z(3 * 8), x1(3 * kSide * kSide), x2(x1.size());
  Rng(1).fill_normal(z.data(), z.size(), 0.0f, 1.0f);
  const int32_t classes[3] = {3, 0, 1};
  REQUIRE(a->generate(z.data(), classes, 3, x1.data()).is_ok());
  REQUIRE(s->generate(z.data(), classes, 3, x2.data()).is_ok());
  CHECK(bits_equal(x1, x2));
  CHECK(s->train_step(feed.x(0), feed.labels(0), nullptr).code() == Code::invalid_argument);

  // A generator-only model takes G's weights alone (D's are skipped), samples the same
  // images in less memory, and refuses to save or to train.
  GanModel::Setup gen = inf;
  gen.generator_only = true;
  Fixture o(gen);
  size_t full_bytes = 0, gen_bytes = 0;
  REQUIRE(s->bytes_needed(1, nullptr, &full_bytes).is_ok());  // set up: what init took
  REQUIRE(o->bytes_needed(1, nullptr, &gen_bytes).is_ok());
  CHECK(gen_bytes + a->param_count(kDiscriminator) * sizeof(float) <= full_bytes);
  CHECK(o->params().find("d.conv1.weight") < 0);
  REQUIRE(o->load(path.c_str(), &step).is_ok());
  CHECK(step == 5);
  REQUIRE(o->generate(z.data(), classes, 3, x2.data()).is_ok());
  CHECK(bits_equal(x1, x2));
  CHECK(o->train_step(feed.x(0), feed.labels(0), nullptr).code() == Code::invalid_argument);
  // Saved, it is a sampler file: G alone, which loads back into a generator-only model and
  // draws the same images, and which a model with D refuses.
  const std::string gen_path = dir.file("gen.ckpt");
  REQUIRE(o->save(gen_path.c_str(), 5).is_ok());
  CHECK(std::filesystem::file_size(gen_path) < std::filesystem::file_size(path));
  Fixture o2(gen);
  REQUIRE(o2->load(gen_path.c_str(), &step).is_ok());
  REQUIRE(o2->generate(z.data(), classes, 3, x2.data()).is_ok());
  CHECK(bits_equal(x1, x2));
  Fixture whole(inf);
  CHECK(whole->load(gen_path.c_str(), &step).code() == Code::shape_mismatch);
  GanModel::Setup trains_gen = setup(v);
  trains_gen.generator_only = true;
  GanModel never;
  CHECK(never.configure(trains_gen).code() == Code::invalid_argument);

  // Other networks refuse the file and keep their weights.
  Fixture e(setup("kind=dcgan z_dim=8 channels=4,8 cond=1 classes=4 mbstd=1"));
  const std::vector<float> e0 = group_state(*e, kDiscriminator, false, false);
  const Status st = e->load(path.c_str(), &step);
  CHECK(st.code() == Code::shape_mismatch);
  CHECK(std::string(st.message()).find("mbstd=0") != std::string::npos);
  CHECK(bits_equal(group_state(*e, kDiscriminator, false, false), e0));
}

TEST_CASE("truncate_noise: noise entries within [-t, t], small ones and the code entries untouched, refusals") {
  GanConfig c;
  REQUIRE(c.from_text("kind=dcgan z_dim=8 channels=4,8 info=3").is_ok());
  const int n = 200;
  std::vector<float> z(size_t(n) * 8);
  Rng(4).fill_normal(z.data(), z.size(), 0.0f, 1.0f);
  const std::vector<float> before = z;
  Rng a(9), b(9);
  REQUIRE(truncate_noise(c, a, 0.5f, z.data(), n).is_ok());
  int redrawn = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < 8; ++j) {
      const size_t k = size_t(i) * 8 + j;
      if (j >= 5 || std::fabs(before[k]) <= 0.5f) {
        CHECK(z[k] == before[k]);  // codes, and draws already inside
      } else {
        CHECK(std::fabs(z[k]) <= 0.5f);
        ++redrawn;
      }
    }
  CHECK(redrawn > n * 5 / 2);  // P(|z| > 0.5) = 0.62 of the 5 noise entries
  std::vector<float> again = before;
  REQUIRE(truncate_noise(c, b, 0.5f, again.data(), n).is_ok());
  CHECK(bits_equal(z, again));
  again = before;
  CHECK(truncate_noise(c, b, 0.01f, again.data(), n).code() == Code::invalid_argument);
  CHECK(bits_equal(again, before));
}

TEST_CASE("slerp: exact ends, the radius kept between equal-norm ends, the straight line for parallel ones") {
  constexpr int d = 7;
  float a[d], b[d], out[d];
  Rng rng(3);
  rng.fill_normal(a, d, 0.0f, 1.0f);
  rng.fill_normal(b, d, 0.0f, 1.0f);
  auto norm = [](const float* v) {
    double s = 0;
    for (int k = 0; k < d; ++k) s += double(v[k]) * v[k];
    return std::sqrt(s);
  };
  const double na = norm(a), nb = norm(b);
  for (int k = 0; k < d; ++k) b[k] = static_cast<float>(b[k] * na / nb);  // |b| = |a|
  slerp(a, b, d, 0.0f, out);
  for (int k = 0; k < d; ++k) CHECK(out[k] == doctest::Approx(a[k]).epsilon(1e-6));
  slerp(a, b, d, 1.0f, out);
  for (int k = 0; k < d; ++k) CHECK(out[k] == doctest::Approx(b[k]).epsilon(1e-5));
  for (float t : {0.25f, 0.5f, 0.9f}) {
    slerp(a, b, d, t, out);
    CHECK(norm(out) == doctest::Approx(na).epsilon(1e-5));  // a straight line would dip inside
  }
  float mid_line[d];
  for (int k = 0; k < d; ++k) mid_line[k] = 0.5f * (a[k] + b[k]);
  CHECK(norm(mid_line) < 0.99 * na);
  // Parallel ends: the straight line (no division by sin 0).
  for (int k = 0; k < d; ++k) b[k] = 2 * a[k];
  slerp(a, b, d, 0.5f, out);
  for (int k = 0; k < d; ++k) CHECK(out[k] == doctest::Approx(1.5f * a[k]).epsilon(1e-5));
}

TEST_CASE("gan: a conditional D lets the class interact with the image, not just add a per-class bias") {
  // logit(x, y) must not split as f(x) + g(y): otherwise D cannot reject a good image of the
  // wrong class, and G learns to ignore y. With rows (x1, a), (x1, b), (x2, a), (x2, b),
  // an additive D gives l0 - l1 == l2 - l3 exactly.
  for (GanKind kind : {GanKind::mlp, GanKind::dcgan}) {
    CAPTURE(int(kind));
    GanConfig c;
    c.kind = kind, c.cond = true, c.classes = 3, c.channels[0] = 8, c.channels[1] = 16;
    c.widths[0] = 16, c.widths[1] = 16;
    constexpr int kRows = 4;
    std::vector<uint8_t> buf(16 << 20);
    Arena arena(buf.data(), buf.size());
    nn::Params p(&arena);
    nn::Graph g(&p);
    const nn::T x = g.input("x", Shape(kRows, c.dims()));
    const nn::T y = g.input("y", Shape(kRows, c.classes));
    const nn::T logit = gan_discriminator(g, c, x, y);
    g.mark_output(logit);
    REQUIRE(g.status().is_ok());
    Context ctx;
    REQUIRE(ctx.init(&arena, Context::Options()).is_ok());
    REQUIRE(p.allocate(&arena, nn::ParamMode::inference).is_ok());
    if (kind == GanKind::dcgan) dcgan_init(p);
    Rng init(5);
    p.initialise(&init);
    nn::CompileOptions forward_only;
    forward_only.training = false;
    REQUIRE(g.compile(&arena, &ctx, forward_only).is_ok());
    Rng data(6);
    std::vector<float> img(size_t(2) * c.dims());
    data.fill_uniform(img.data(), img.size(), -1.0f, 1.0f);
    for (int r = 0; r < kRows; ++r) {
      std::memcpy(g.data(x) + size_t(r) * c.dims(), img.data() + size_t(r / 2) * c.dims(), sizeof(float) * c.dims());
      for (int k = 0; k < c.classes; ++k) g.data(y)[r * c.classes + k] = k == r % 2 ? 1.0f : 0.0f;
    }
    REQUIRE(g.forward().is_ok());
    const float* l = g.data(logit);
    const double gap1 = double(l[0]) - l[1], gap2 = double(l[2]) - l[3];
    CHECK(std::fabs(gap1 - gap2) > 1e-3 * (std::fabs(gap1) + std::fabs(gap2) + 1e-3));
  }
}

TEST_CASE("gan: ema averages G's weights, samples with them, leaves training alone and survives checkpoints") {
  const ember::testing::TempDir dir("gan-ema");
  const std::string path = dir.file("ema.ckpt");
  const char* plain = "kind=dcgan z_dim=8 channels=4,8";
  const char* averaged = "kind=dcgan z_dim=8 channels=4,8 ema=0.9";
  const Data d = sprites(6 * 8, 4);
  const Feed feed{d, 8, kSide * kSide};
  Fixture a(setup(plain)), b(setup(averaged));
  CHECK(b->param_count(kGenerator) == a->param_count(kGenerator));  // the averages are state, not trained
  nn::Params& pb = b->params();
  const int w = pb.find("g.fc.weight"), e = pb.find("ema.g.fc.weight");
  REQUIRE((w >= 0 && e >= 0));
  CHECK(pb.find("g.bn1.running_mean") >= 0);
  const int m = pb.find("g.bn1.running_mean"), em = pb.find("ema.g.bn1.running_mean");
  REQUIRE((m >= 0 && em >= 0));  // statistics have averaged-model copies, recomputed on demand
  std::vector<float> expect(pb[w].value, pb[w].value + pb[w].numel());
  CHECK(bits_equal(expect, std::vector<float>(pb[e].value, pb[e].value + pb[e].numel())));
  const bool counting = counter::available();
  if (counting) counter::start();
  for (int k = 0; k < 4; ++k) {
    GanStepLoss la, lb;
    REQUIRE(a->train_step(feed.x(k), nullptr, &la).is_ok());
    REQUIRE(b->train_step(feed.x(k), nullptr, &lb).is_ok());
    CHECK((la.d_loss == lb.d_loss && la.g_loss == lb.g_loss));  // the average never feeds training
    for (size_t i = 0; i < expect.size(); ++i) expect[i] = 0.9f * expect[i] + (1.0f - 0.9f) * pb[w].value[i];
  }
  if (counting) CHECK(counter::stop() == 0);
  CHECK(bits_equal(expect, std::vector<float>(pb[e].value, pb[e].value + pb[e].numel())));
  CHECK(bits_equal(group_state(*a, kGenerator, true, true), group_state(*b, kGenerator, true, true)));

  // generate() uses the averages and puts the training weights back.
  std::vector<float> z(3 * 8), xa(3 * kSide * kSide), xb(xa.size());
  Rng(2).fill_normal(z.data(), z.size(), 0.0f, 1.0f);
  const std::vector<float> before = group_state(*b, kGenerator, false, true);
  REQUIRE(a->generate(z.data(), nullptr, 3, xa.data()).is_ok());
  REQUIRE(b->generate(z.data(), nullptr, 3, xb.data()).is_ok());
  CHECK(!bits_equal(xa, xb));
  CHECK(bits_equal(before, group_state(*b, kGenerator, false, true)));

  // refresh_ema_stats: fills only the averaged model's statistics, the same bits each call,
  // and leaves the training run alone (training weights and statistics, D's statistics).
  // Every value of both networks but the averaged statistics (prefix ema.g.bn).
  auto all_else = [&pb] {
    std::vector<float> out;
    for (int i = 0; i < pb.count(); ++i)
      if (std::strncmp(pb[i].name, "ema.g.bn", 8) != 0) out.insert(out.end(), pb[i].value, pb[i].value + pb[i].numel());
    return out;
  };
  const std::vector<float> before_all = all_else();
  const std::vector<float> stats_before(pb[em].value, pb[em].value + pb[em].numel());
  if (counting) counter::start();
  REQUIRE(b->refresh_ema_stats().is_ok());
  if (counting) CHECK(counter::stop() == 0);
  const std::vector<float> refreshed(pb[em].value, pb[em].value + pb[em].numel());
  CHECK(!bits_equal(stats_before, refreshed));
  CHECK(bits_equal(before_all, all_else()));
  REQUIRE(b->refresh_ema_stats().is_ok());
  CHECK(bits_equal(refreshed, std::vector<float>(pb[em].value, pb[em].value + pb[em].numel())));
  CHECK(a->refresh_ema_stats().is_ok());  // without ema: nothing to do
  std::vector<float> xr(xa.size());
  REQUIRE(b->generate(z.data(), nullptr, 3, xr.data()).is_ok());
  CHECK(!bits_equal(xb, xr));  // the new statistics are used
  xb = xr;

  // A checkpoint carries the averages: an inference model samples the same images, and a
  // model without ema refuses the file.
  REQUIRE(b->save(path.c_str(), 4).is_ok());
  GanModel::Setup inf = setup(averaged);
  inf.training = false;
  Fixture s(inf);
  uint64_t step = 0;
  REQUIRE(s->load(path.c_str(), &step).is_ok());
  std::vector<float> xs(xa.size());
  REQUIRE(s->generate(z.data(), nullptr, 3, xs.data()).is_ok());
  CHECK(bits_equal(xb, xs));
  CHECK(a->load(path.c_str(), &step).code() == Code::shape_mismatch);
  GanConfig bad;
  REQUIRE(bad.set("ema", "1").is_ok());
  CHECK(bad.validate().code() == Code::invalid_argument);
}
