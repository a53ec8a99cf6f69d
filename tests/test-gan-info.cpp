// InfoGAN's codes (config info = K categorical values, info_cont continuous): the config's
// limits, the sampler reading the code as the argmax of z's last K entries, info_std, Q learning to read the codes back,
// info_real's pseudo-labels, and an info checkpoint that loads into a sampler-only model.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "models/gan-model.h"
#include "tests/gan-testing.h"
#include "tests/temp-dir.h"

using namespace ember;
using namespace ember::models;
using namespace ember::testing::gan;

namespace {

// Samples G draws for z[n, z_dim] (the averaged or training weights, whichever generate uses).
std::vector<float> samples(GanModel& m, const std::vector<float>& z) {
  const int n = static_cast<int>(z.size()) / m.config().z_dim;
  std::vector<float> out(size_t(n) * m.dims());
  REQUIRE(m.generate(z.data(), nullptr, n, out.data()).is_ok());
  return out;
}

}  // namespace

TEST_CASE("gan info: the config keeps the code inside z and refuses what cannot work") {
  GanConfig c;
  REQUIRE(c.set("info", "10").is_ok());
  CHECK(c.validate().is_ok());
  CHECK(c.onehot_dim() == 10);
  char text[256];
  REQUIRE(c.to_text(text, sizeof text).is_ok());
  CHECK(std::string(text).find(" info=10") != std::string::npos);
  GanConfig d;
  REQUIRE(d.from_text(text).is_ok());
  CHECK(d.info == 10);
  d.info = 0;
  CHECK(!d.same_networks(c));  // Q and G's input split are parameters and shapes

  GanConfig e;
  e.info = 1;  // a one-value code carries nothing
  CHECK(std::string(e.validate().message()).find("info") != std::string::npos);
  e.info = e.z_dim;  // no noise left
  CHECK(e.validate().code() == Code::invalid_argument);
  e.info = 4, e.cond = true;
  CHECK(std::string(e.validate().message()).find("cond") != std::string::npos);
  GanConfig f;
  f.info_cont = 2;  // continuous codes need the categorical one
  CHECK(std::string(f.validate().message()).find("info_cont") != std::string::npos);
  f.info = 10, f.info_cont = f.z_dim - 10;  // no noise left
  CHECK(f.validate().code() == Code::invalid_argument);
  f.info_cont = 2;
  CHECK(f.validate().is_ok());
  f.info_std = 0.0f;  // no noise at all
  CHECK(std::string(f.validate().message()).find("info_std") != std::string::npos);
  f.info_std = 0.1f, f.info = 0, f.info_cont = 0;  // a scale without codes
  CHECK(f.validate().code() == Code::invalid_argument);
  GanConfig g;
  g.info_real = true;  // pseudo-labels for a code that is not there
  CHECK(std::string(g.validate().message()).find("info_real") != std::string::npos);
}

TEST_CASE("gan info: the sampler's code is the argmax of z's last entries") {
  for (const char* v : {"kind=dcgan z_dim=8 channels=4,8 info=3", "kind=mlp data=images z_dim=8 widths=16 info=3"}) {
    CAPTURE(v);
    Fixture f(setup(v));
    GanModel& m = *f;
    const int zd = m.config().z_dim;
    std::vector<float> z(static_cast<size_t>(zd));
    Rng(4).fill_normal(z.data(), z.size(), 0.0f, 1.0f);
    z[5] = 2.0f, z[6] = -1.0f, z[7] = 0.5f;  // code 0
    std::vector<float> same = z, other = z, noise = z;
    same[5] = 0.9f, same[6] = 0.1f, same[7] = -3.0f;  // other values, still code 0
    other[7] = 2.5f;                                   // code 2
    noise[0] += 1.0f;                                  // the Gaussian part moves
    const std::vector<float> base = samples(m, z);
    CHECK(bits_equal(samples(m, same), base));
    CHECK(!bits_equal(samples(m, other), base));
    CHECK(!bits_equal(samples(m, noise), base));
    std::vector<float> set = other;
    models::set_info_code(m.config(), set.data(), 0);  // back to code 0 by the helper
    CHECK(bits_equal(samples(m, set), base));
    CHECK((set[5] > 0.0f && set[6] < 0.0f && set[7] < 0.0f && set[4] == other[4]));
    CHECK(m.code_of(set.data()) == 0);
    CHECK(m.code_of(other.data()) == 2);
    // Rows are independent of the batch around them: two rows at once give the same bits.
    std::vector<float> two = z;
    two.insert(two.end(), other.begin(), other.end());
    const std::vector<float> both = samples(m, two);
    CHECK(bits_equal(std::vector<float>(both.begin(), both.begin() + m.dims()), base));
  }
}

TEST_CASE("gan info: info_std scales only the plain noise G sees, inside the model") {
  // Two models with the same weights (same seed, same shapes): one scales the noise by 0.25
  // itself, the other is given z with the noise already scaled. Their samples are the same
  // bits; the codes (continuous and categorical) are not scaled.
  Fixture scaled(setup("kind=dcgan z_dim=8 channels=4,8 info=3 info_cont=1 info_std=0.25"));
  Fixture plain(setup("kind=dcgan z_dim=8 channels=4,8 info=3 info_cont=1"));
  std::vector<float> z(size_t(4) * 8);
  Rng(6).fill_normal(z.data(), z.size(), 0.0f, 1.0f);
  std::vector<float> pre = z;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) pre[size_t(i) * 8 + j] *= 0.25f;  // 8 - 3 codes - 1 continuous
  CHECK(bits_equal(samples(*scaled, z), samples(*plain, pre)));
  CHECK(!bits_equal(samples(*scaled, z), samples(*plain, z)));
}

TEST_CASE("gan info: Q learns to read the codes back from G's samples" * EMBER_LEARNING) {
  // Start: Q guesses, CE ~ log 3, and predicts ~0 for each N(0, 1) continuous code, 0.5 E c^2
  // = 0.5 each. G and Q then cooperate on the code loss, which falls well below it while the
  // adversarial game goes on.
  const int steps = ember::testing::kEmulated ? 60 : 200, window = 20;
  for (int cont : {0, 2}) {
    CAPTURE(cont);
    const std::string v = "kind=dcgan z_dim=8 channels=4,8 info=3 info_cont=" + std::to_string(cont);
    Fixture f(setup(v.c_str(), 16));
    GanModel& m = *f;
    const Data d = sprites(128, 7);
    const Feed feed{d, m.real_rows(), m.dims()};
    std::vector<GanStepLoss> l(steps);
    for (int k = 0; k < steps; ++k) REQUIRE(m.train_step(feed.x(k), nullptr, &l[k]).is_ok());
    const double guess = std::log(3.0) + 0.5 * cont;
    CHECK(std::fabs(l[0].info_loss - guess) < 0.25 + 0.25 * cont);
    double first = 0, last = 0;
    for (int k = 0; k < window; ++k) first += l[k].info_loss / window, last += l[steps - 1 - k].info_loss / window;
    MESSAGE("info loss: first " << first << ", last " << last << " (guessing: " << guess << ")");
    CHECK(last < 0.5 * guess);
    CHECK(last < first);
    for (const GanStepLoss& s : l) REQUIRE((std::isfinite(s.d_loss) && s.d_loss > 0.0f && s.info_loss >= 0.0f));
  }
}

TEST_CASE("gan info: info_real ties codes to given pseudo-labels, which must be there and in range" * EMBER_LEARNING) {
  // Pseudo-labels: the sprites' own shapes (kSpriteShapes of them), as codes 0..info-1.
  const int steps = 150, window = 20;  // also under emulation: fewer steps learn too little
  Fixture f(setup("kind=dcgan z_dim=8 channels=4,8 info=4 info_real=1", 16));
  GanModel& m = *f;
  const Data d = sprites(128, 9);
  const Feed feed{d, m.real_rows(), m.dims()};
  for (int32_t y : d.labels) REQUIRE((y >= 0 && y < 4));
  const std::vector<float> before = group_state(m, kDiscriminator, false, true);
  CHECK(std::string(m.train_step(feed.x(0), nullptr, nullptr).message()).find("pseudo-label") != std::string::npos);
  std::vector<int32_t> bad(feed.labels(0), feed.labels(0) + 16);
  bad[5] = 4;
  CHECK(std::string(m.train_step(feed.x(0), bad.data(), nullptr).message()).find("row 5") != std::string::npos);
  CHECK(bits_equal(group_state(m, kDiscriminator, false, true), before));  // refused before anything changed
  std::vector<GanStepLoss> l(steps);
  for (int k = 0; k < steps; ++k) REQUIRE(m.train_step(feed.x(k), feed.labels(k), &l[k]).is_ok());
  double first = 0, last = 0;
  for (int k = 0; k < window; ++k)
    first += l[k].info_real_loss / window, last += l[steps - 1 - k].info_real_loss / window;
  MESSAGE("Q on real images: first " << first << ", last " << last << " (guessing: " << std::log(4.0) << ")");
  CHECK(std::fabs(l[0].info_real_loss - std::log(4.0)) < 0.3);
  CHECK(last < 0.8 * first);  // a tiny D learns the shapes slowly (about 0.63 here)
  // Sampling takes no labels: the code comes from z.
  std::vector<float> z(size_t(3) * 8), out(size_t(3) * m.dims());
  Rng(2).fill_normal(z.data(), z.size(), 0.0f, 1.0f);
  CHECK(m.generate(z.data(), nullptr, 3, out.data()).is_ok());
}

TEST_CASE("gan info: codes follow the prior, in sampling and in training; set_info_code wins over it") {
  Fixture f(setup("kind=dcgan z_dim=8 channels=4,8 info=3", 32));
  GanModel& m = *f;
  const int n = 30000;
  std::vector<float> z(size_t(n) * 8);
  Rng(11).fill_normal(z.data(), z.size(), 0.0f, 1.0f);
  auto shares = [&]() {
    std::vector<double> s(3, 0.0);
    for (int i = 0; i < n; ++i) s[size_t(m.code_of(&z[size_t(i) * 8]))] += 1.0 / n;
    return s;
  };
  std::vector<double> uniform = shares();
  for (double u : uniform) CHECK(u == doctest::Approx(1.0 / 3).epsilon(0.05));
  const double weights[3] = {1.0, 3.0, 6.0};  // shares 0.1, 0.3, 0.6
  REQUIRE(m.set_code_prior(weights).is_ok());
  const std::vector<double> skewed = shares();
  MESSAGE("code shares with prior 1:3:6: " << skewed[0] << " " << skewed[1] << " " << skewed[2]);
  CHECK(std::fabs(skewed[0] - 0.1) < 0.01);
  CHECK(std::fabs(skewed[1] - 0.3) < 0.015);
  CHECK(std::fabs(skewed[2] - 0.6) < 0.015);
  // A forced code holds against a strong prior.
  const double strong[3] = {1.0, 1.0, 1e6};
  REQUIRE(m.set_code_prior(strong).is_ok());
  std::vector<float> row(z.begin(), z.begin() + 8);
  set_info_code(m.config(), row.data(), 0);
  CHECK(m.code_of(row.data()) == 0);
  // Training draws its fake codes from the prior too (the G step's code labels).
  REQUIRE(m.set_code_prior(weights).is_ok());
  const Data d = sprites(32, 4);
  std::vector<int> counts(3, 0);
  for (int k = 0; k < 40; ++k) {
    REQUIRE(m.train_step(&d.x[0], nullptr, nullptr).is_ok());
    const int32_t* codes = m.g_graph().label_data(m.nodes().g_code);
    for (int i = 0; i < 32; ++i) ++counts[size_t(codes[i])];
  }
  CHECK(counts[2] > counts[1]);
  CHECK(counts[1] > counts[0]);
  // Bad weights are refused and change nothing.
  const double bad[3] = {1.0, 0.0, 1.0};
  CHECK(std::string(m.set_code_prior(bad).message()).find("weight 1") != std::string::npos);
  CHECK(std::fabs(shares()[2] - 0.6) < 0.015);
}

TEST_CASE("gan info: a checkpoint loads into a sampler-only model that draws the same images") {
  ember::testing::TempDir dir;
  const std::string path = dir.file("info.ember");
  Fixture f(setup("kind=dcgan z_dim=8 channels=4,8 info=3 info_cont=1 ema=0.9"));
  const Data d = sprites(32, 8);
  const Feed feed{d, f->real_rows(), f->dims()};
  for (int k = 0; k < 5; ++k) REQUIRE(f->train_step(feed.x(k), nullptr, nullptr).is_ok());
  const double prior[3] = {2.0, 1.0, 5.0};
  REQUIRE(f->set_code_prior(prior).is_ok());
  REQUIRE(f->refresh_ema_stats().is_ok());
  REQUIRE(f->save(path.c_str(), 5).is_ok());
  GanModel::Setup s = setup("kind=dcgan z_dim=8 channels=4,8 info=3 info_cont=1 ema=0.9");
  s.training = false;
  Fixture g(s);
  uint64_t step = 0;
  REQUIRE(g->load(path.c_str(), &step).is_ok());
  std::vector<float> z(size_t(6) * 8);
  Rng(5).fill_normal(z.data(), z.size(), 0.0f, 1.0f);
  CHECK(bits_equal(samples(*g, z), samples(*f, z)));  // also the codes: the prior came along
  for (int i = 0; i < 6; ++i) CHECK(g->code_of(&z[size_t(i) * 8]) == f->code_of(&z[size_t(i) * 8]));
  // Generator only: G's averaged weights and statistics are loaded as G's own (no copies,
  // no D, no Q heads), with the prior; the same images and codes.
  s.generator_only = true;
  Fixture gen(s);
  CHECK(gen->params().find("ema.g.fc.weight") < 0);
  CHECK(gen->params().find("d.q.weight") < 0);
  REQUIRE(gen->load(path.c_str(), &step).is_ok());
  CHECK(bits_equal(samples(*gen, z), samples(*f, z)));
  // Its sampler file (G's averages as G, ema=0) keeps the prior and the images.
  const std::string gen_path = dir.file("info-g.ember");
  REQUIRE(gen->save(gen_path.c_str(), 5).is_ok());
  GanConfig saved;
  REQUIRE(GanModel::read_config(gen_path.c_str(), &saved).is_ok());
  CHECK(saved.ema == 0.0f);
  GanModel::Setup s2 = s;
  s2.config = saved;
  Fixture gen2(s2);
  REQUIRE(gen2->load(gen_path.c_str(), &step).is_ok());
  CHECK(bits_equal(samples(*gen2, z), samples(*f, z)));
  for (int i = 0; i < 6; ++i) CHECK(gen2->code_of(&z[size_t(i) * 8]) == f->code_of(&z[size_t(i) * 8]));
  for (int i = 0; i < 6; ++i) CHECK(gen->code_of(&z[size_t(i) * 8]) == f->code_of(&z[size_t(i) * 8]));
  // A model without the code cannot take the file.
  GanModel::Setup plain = setup("kind=dcgan z_dim=8 channels=4,8 ema=0.9");
  plain.training = false;
  Fixture h(plain);
  CHECK(h->load(path.c_str(), &step).code() == Code::shape_mismatch);
}
