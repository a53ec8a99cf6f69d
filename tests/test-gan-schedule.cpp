// GAN training schedules: a G step leaves D alone and a D step leaves G alone; unrolling
// restores D exactly; g_steps; top-k G updates (the mask, share 1 = the plain update).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "models/gan-model.h"
#include "tests/gan-testing.h"

using namespace ember;
using namespace ember::models;
using namespace ember::testing::gan;

TEST_CASE("gan: a G step leaves D's weights and Adam state alone, a D step leaves G's") {
  for (const char* v : {"kind=mlp data=points z_dim=4 widths=16 mbstd=1", "kind=dcgan z_dim=8 channels=4,8 cond=1 classes=4"}) {
    CAPTURE(v);
    Fixture f(setup(v));
    GanModel& m = *f;
    const Data d = data_for(m.config(), 8, 2);
    REQUIRE(m.train_step(d.x.data(), d.labels.data(), nullptr).is_ok());  // non-zero moments
    const std::vector<float> d0 = group_state(m, kDiscriminator, true, true);
    const std::vector<float> g0 = group_state(m, kGenerator, true, true);
    const int64_t d_steps = m.d_optimizer().steps();
    float g_loss = 0;
    REQUIRE(m.g_step(&g_loss).is_ok());
    CHECK(bits_equal(group_state(m, kDiscriminator, true, true), d0));
    CHECK(m.d_optimizer().steps() == d_steps);
    CHECK(!bits_equal(group_state(m, kGenerator, true, true), g0));
    const std::vector<float> g1 = group_state(m, kGenerator, true, true);
    GanStepLoss l;
    REQUIRE(m.d_step(d.x.data(), d.labels.data(), &l).is_ok());
    CHECK(bits_equal(group_state(m, kGenerator, true, true), g1));
    CHECK(!bits_equal(group_state(m, kDiscriminator, true, true), d0));
  }
}

TEST_CASE("gan: unrolling restores D exactly; only G sees the look-ahead") {
  // Same seed, unroll=2 vs 0: the D update and its noise are the same, then the unrolled
  // model's extra D steps must vanish, leaving D (weights, moments, step count) identical.
  // The mlp has no BatchNorm, so every D array is compared; the dcgan compares the
  // trained ones (its D statistics are refreshed by the G step only without unrolling).
  for (const char* v : {"kind=mlp data=points z_dim=4 widths=16,16", "kind=dcgan z_dim=8 channels=4,8"}) {
    CAPTURE(v);
    const std::string unrolled = std::string(v) + " unroll=2";
    Fixture a(setup(unrolled.c_str())), b(setup(v));
    const Data d = data_for(a->config(), 3 * 8, 4);
    REQUIRE(a->real_rows() == 24);
    REQUIRE(a->train_step(d.x.data(), d.labels.data(), nullptr).is_ok());
    REQUIRE(b->train_step(d.x.data(), d.labels.data(), nullptr).is_ok());
    const bool all = a->config().kind == GanKind::mlp;
    CHECK(bits_equal(group_state(*a, kDiscriminator, !all, true), group_state(*b, kDiscriminator, !all, true)));
    CHECK(a->d_optimizer().steps() == 1);
    CHECK(a->g_optimizer().steps() == 1);
    CHECK(!bits_equal(group_state(*a, kGenerator, true, false), group_state(*b, kGenerator, true, false)));
  }
}

TEST_CASE("gan: g_steps=2 is one D update then two G updates") {
  // Same seed: a step with g_steps=2 must equal a g_steps=1 step followed by one more G
  // update (the noise is drawn in the same order), bit for bit, averages included.
  for (const char* v : {"kind=mlp data=points z_dim=4 widths=16 ema=0.9", "kind=dcgan z_dim=8 channels=4,8"}) {
    CAPTURE(v);
    const std::string twice = std::string(v) + " g_steps=2";
    Fixture a(setup(twice.c_str())), b(setup(v));
    const Data d = data_for(a->config(), 8, 5);
    REQUIRE(a->real_rows() == 8);
    GanStepLoss la, lb;
    float extra = 0;
    REQUIRE(a->train_step(d.x.data(), d.labels.data(), &la).is_ok());
    REQUIRE(b->train_step(d.x.data(), d.labels.data(), &lb).is_ok());
    REQUIRE(b->g_step(&extra).is_ok());
    CHECK(a->g_optimizer().steps() == 2);
    CHECK(a->d_optimizer().steps() == 1);
    CHECK(bits_equal(group_state(*a, kGenerator, true, true), group_state(*b, kGenerator, true, true)));
    CHECK(bits_equal(group_state(*a, kDiscriminator, true, true), group_state(*b, kDiscriminator, true, true)));
    CHECK(la.g_loss == doctest::Approx(0.5 * (lb.g_loss + extra)).epsilon(1e-6));
    CHECK(la.d_loss == lb.d_loss);
  }
}

TEST_CASE("gan: top-k mask keeps the k highest logits, ties to the lower row") {
  const float logits[] = {0.5f, -1.0f, 2.0f, 0.5f, 3.0f, -2.0f, 0.5f};
  float mask[7];
  top_rows_mask(logits, 7, 3, mask);
  CHECK(std::vector<float>(mask, mask + 7) == std::vector<float>{1, 0, 1, 0, 1, 0, 0});
  top_rows_mask(logits, 7, 1, mask);
  CHECK(std::vector<float>(mask, mask + 7) == std::vector<float>{0, 0, 0, 0, 1, 0, 0});
  top_rows_mask(logits, 7, 7, mask);
  CHECK(std::vector<float>(mask, mask + 7) == std::vector<float>(7, 1.0f));
}

TEST_CASE("gan: top-k G updates: share 1 is the plain update, a smaller share another") {
  for (const char* v : {"kind=mlp data=points z_dim=4 widths=16", "kind=dcgan z_dim=8 channels=4,8"}) {
    CAPTURE(v);
    const std::string half = std::string(v) + " topk=0.5";
    Fixture a(setup(half.c_str())), b(setup(v)), c(setup(half.c_str()));
    CHECK(a->topk_rows() == 4);  // batch 8: until told otherwise, the floor share
    a->set_topk_share(0.1f);
    CHECK(a->topk_rows() == 4);  // never below the configured share
    a->set_topk_share(0.99f * 0.99f);
    CHECK(a->topk_rows() == 8);  // ceil(0.98 * 8)
    b->set_topk_share(0.5f);
    CHECK(b->topk_rows() == 8);  // top-k off: every row
    a->set_topk_share(1.0f);
    const Data d = data_for(a->config(), 8, 6);
    for (int k = 0; k < 2; ++k) {
      REQUIRE(a->train_step(d.x.data(), d.labels.data(), nullptr).is_ok());
      REQUIRE(b->train_step(d.x.data(), d.labels.data(), nullptr).is_ok());
      REQUIRE(c->train_step(d.x.data(), d.labels.data(), nullptr).is_ok());
    }
    CHECK(bits_equal(group_state(*a, kGenerator, true, true), group_state(*b, kGenerator, true, true)));
    CHECK(bits_equal(group_state(*a, kDiscriminator, true, true), group_state(*b, kDiscriminator, true, true)));
    const std::vector<float> g_half = group_state(*c, kGenerator, true, false);
    CHECK(!bits_equal(g_half, group_state(*b, kGenerator, true, false)));
    for (float x : g_half) REQUIRE(std::isfinite(x));
  }
}
