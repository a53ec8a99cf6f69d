// The static graph end to end: gradients of whole graphs against finite differences, the
// dry-run figure against the bytes compile takes, frozen groups (GAN), determinism, and
// build errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "models/workloads.h"
#include "nn/checkpoint.h"
#include "nn/flops.h"
#include "nn/graph.h"
#include "nn/optimizer.h"
#include "tests/gradcheck.h"
#include "tests/graph-testing.h"
#include "tests/testing.h"

using namespace ember;
using namespace ember::nn;
using ember::testing::Bench;
using ember::testing::check_graph_gradients;
using ember::testing::fill;
using ember::testing::GradTolerance;
using ember::testing::Tables;

namespace {

// The MLP VAE of WORKLOADS V at `batch`, planned for training or inference, with a Bench
// sized by that plan (tables first, then the arena: compile takes exactly the planned bytes).
struct PlannedVae {
  Tables t;
  Params p{&t.arena};
  Graph g{&p};
  CompileOptions opt;
  GraphBytes planned;
  ParamBytes pb;
  std::unique_ptr<Bench> b;
  PlannedVae(int batch, bool training) {
    models::build_mlp_vae(g, batch);
    opt.training = training;
    REQUIRE(g.plan(opt, 1, &planned).is_ok());
    pb = p.bytes(training ? ParamMode::train_adam : ParamMode::inference);
    b = std::make_unique<Bench>(Context::scratch_bytes(*select_kernels(nullptr), 1) + planned.total() + pb.total() +
                                (1 << 16));
  }
};

// A small MLP VAE (8 x 64 inputs, 32 hidden, latent 4) compiled for Adam training, its
// weights from seed 11 and its noise from `noise`.
struct SmallVae {
  Bench b;
  Params p{&b.arena};
  Graph g{&p};
  models::MlpVae v;
  explicit SmallVae(int threads, Rng* noise) : b(32 << 20, threads) {
    v = models::build_mlp_vae(g, 8, 64, 32, 4);
    REQUIRE(p.allocate(&b.arena, ParamMode::train_adam).is_ok());
    Rng init(11);
    p.initialise(&init);
    REQUIRE(g.compile(&b.arena, &b.ctx, CompileOptions(), noise).is_ok());
  }
};

}  // namespace

TEST_CASE("graph: gradients of a graph using every op match finite differences") {
  Bench b(16 << 20);
  Params p(&b.arena);
  Graph g(&p);
  const int B = 4;
  T x = g.input("x", Shape(B, 6));
  T t = g.input("t", Shape(B, 3));
  T y = g.labels("y", B);
  T img = g.input("img", Shape(B, 2, 5, 5));
  T h = g.tanh(g.batchnorm(g.linear(x, 5, "fc1"), "bn1"));
  T h2 = g.leaky_relu(g.linear(x, 3, "fc2"), 0.1f);
  T cat = g.concat(h, h2);                                                  // [B, 8]
  T mu = g.linear(cat, 3, "mu"), lv = g.scale(g.linear(cat, 3, "lv"), 0.5f);
  T z = g.reparam(mu, lv);
  T c = g.softplus(g.batchnorm(g.conv2d(img, 3, 3, 2, 1, "conv"), "bn2"));  // [B, 3, 3, 3]
  T d = g.sigmoid(g.conv_t2d(c, 2, 3, 1, 0, "deconv"));                    // [B, 2, 5, 5]
  T d_flat = g.linear(g.flatten(d), 3, "fc3");
  T mixed = g.add(g.mul(z, d_flat), g.softplus(mu));
  T loss = g.add(g.mse(mixed, t, Reduction::mean), g.kl_std_normal(mu, lv, Reduction::sum));
  loss = g.add(loss, g.softmax_ce(g.linear(mixed, 4, "cls"), y, Reduction::mean));
  loss = g.add(loss, g.bce_logits(d_flat, t, Reduction::sum));
  loss = g.add(loss, g.gauss_nll(t, mu, lv, Reduction::mean));
  g.minimize(loss);
  REQUIRE(g.status().is_ok());
  REQUIRE(p.allocate(&b.arena, ParamMode::train_adam).is_ok());
  Rng init(1), noise(2);
  p.initialise(&init);
  REQUIRE(g.compile(&b.arena, &b.ctx, CompileOptions(), &noise).is_ok());
  REQUIRE(g.check_plan().is_ok());
  fill(g.data(x), B * 6, 3);
  fill(g.data(t), B * 3, 4, 0.0f, 1.0f);
  fill(g.data(img), B * 50, 5);
  for (int i = 0; i < B; ++i) g.label_data(y)[i] = i % 4;
  GradTolerance tol;
  tol.h = 5e-3f;
  tol.rtol = 3e-2;
  tol.atol = 3e-3;
  check_graph_gradients(g, p, &noise, tol);
}

TEST_CASE("graph: the dry-run plan equals the bytes compile takes; too small an arena is a clear error") {
  for (bool training : {true, false}) {
    PlannedVae v(16, training);
    Params& p = v.p;
    Bench& b = *v.b;
    const GraphBytes& planned = v.planned;
    const ParamBytes& pb = v.pb;
    const size_t before = b.arena.used();
    REQUIRE(p.allocate(&b.arena, training ? ParamMode::train_adam : ParamMode::inference).is_ok());
    CHECK(b.arena.used() - before == pb.total());
    Rng rng(1);
    const size_t mid = b.arena.used();
    REQUIRE(v.g.compile(&b.arena, &b.ctx, v.opt, &rng).is_ok());
    CHECK(b.arena.used() - mid == planned.total());
    MESSAGE(std::string(training ? "train" : "inference") << ": params " << pb.total() << " activations " << planned.activations
                                               << " scratch " << planned.scratch);
    if (!training) CHECK(pb.grads == 0);
  }
  // Inference (values only, no saved tensors or gradients) needs far less than training.
  Tables t1, t2;
  Params p1(&t1.arena), p2(&t2.arena);
  Graph g1(&p1), g2(&p2);
  models::build_mlp_vae(g1, 128);
  models::build_mlp_vae(g2, 128);
  GraphBytes train, infer;
  CompileOptions inf;
  inf.training = false;
  REQUIRE(g1.plan(CompileOptions(), 1, &train).is_ok());
  REQUIRE(g2.plan(inf, 1, &infer).is_ok());
  CHECK(infer.total() < train.total());
  const ParamBytes pi = p2.bytes(ParamMode::inference), pt = p1.bytes(ParamMode::train_adam);
  CHECK(pi.values * 4 == pt.values + pt.grads + pt.optimizer);
  CHECK(pi.table == pt.table);
  CHECK((infer.total() + p2.bytes(ParamMode::inference).total()) * 3 <
        train.total() + p1.bytes(ParamMode::train_adam).total());

  Tables t;
  Params p(&t.arena);
  Graph g(&p);
  models::build_mlp_vae(g, 128);
  const Kernels* k = select_kernels(nullptr);
  Bench b(Context::scratch_bytes(*k, 1) + p.bytes(ParamMode::train_adam).total() + (1 << 16));
  REQUIRE(p.allocate(&b.arena, ParamMode::train_adam).is_ok());
  Rng rng(1);
  const size_t used = b.arena.used();
  const Status s = g.compile(&b.arena, &b.ctx, CompileOptions(), &rng);
  CHECK(s.code() == Code::out_of_memory);
  CHECK(std::string(s.message()).find("short by") != std::string::npos);
  CHECK(b.arena.used() == used);
}

TEST_CASE("graph: a frozen group passes gradients through but its parameters get none (GAN)") {
  const int kBatch = 4;
  Bench b(32 << 20);
  Params p(&b.arena);
  Graph d_graph(&p), g_graph(&p);
  const models::DcganStep s = models::build_dcgan(d_graph, g_graph, kBatch);
  REQUIRE(d_graph.status().is_ok());
  REQUIRE(g_graph.status().is_ok());
  REQUIRE(p.allocate(&b.arena, ParamMode::train_adam).is_ok());
  Rng init(7);
  p.initialise(&init);
  CompileOptions d_opt, g_opt;
  d_opt.train_groups = 1u << models::kDiscriminator;
  g_opt.train_groups = 1u << models::kGenerator;
  REQUIRE(d_graph.compile(&b.arena, &b.ctx, d_opt).is_ok());
  REQUIRE(g_graph.compile(&b.arena, &b.ctx, g_opt).is_ok());
  models::fill_dcgan_targets(d_graph, g_graph, s);
  fill(g_graph.data(s.z), kBatch * 100, 8);
  fill(d_graph.data(s.real), kBatch * 784, 9);

  // Sentinels in every gradient; each step must touch only its own group's.
  for (int i = 0; i < p.count(); ++i)
    if (p[i].grad) std::fill(p[i].grad, p[i].grad + p[i].numel(), 123.0f);
  REQUIRE(g_graph.forward().is_ok());
  REQUIRE(g_graph.backward().is_ok());
  int g_changed = 0, d_kept = 0, d_total = 0;
  for (int i = 0; i < p.count(); ++i) {
    if (!p[i].grad) continue;
    if (p[i].group == models::kGenerator) g_changed += p[i].grad[0] != 123.0f;
    if (p[i].group == models::kDiscriminator) d_total++, d_kept += p[i].grad[0] == 123.0f;
  }
  CHECK(g_changed == 10);  // weight and bias of fc, bn0, deconv1, bn1, deconv2
  CHECK(d_kept == d_total);

  // The D step: G's nodes are not in this graph at all; D's gradients change.
  std::memcpy(d_graph.data(s.fake_in), g_graph.data(s.fake), kBatch * 784 * sizeof(float));
  REQUIRE(d_graph.forward().is_ok());
  REQUIRE(d_graph.backward().is_ok());
  int d_changed = 0;
  for (int i = 0; i < p.count(); ++i)
    if (p[i].grad && p[i].group == models::kDiscriminator) d_changed += p[i].grad[0] != 123.0f;
  CHECK(d_changed == d_total);

  // The G step's gradient through the frozen D matches finite differences.
  GradTolerance tol;
  // ReLU and LeakyReLU kinks inside G and D: a step that crosses one changes the slope,
  // so a few entries carry an absolute error of order h; the tolerance allows that.
  tol.h = 2e-3f, tol.rtol = 5e-2, tol.atol = 5e-3, tol.max_checks = ember::testing::slow_kernels(b.ctx) ? 2 : 12;
  check_graph_gradients(g_graph, p, nullptr, tol, 1u << models::kGenerator);
}

TEST_CASE("optimizer: a gradient that is not finite is refused and changes nothing, clipping or not") {
  for (const float clip : {0.0f, 1.0f}) {
    for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      Rng noise(12), data(13);
      SmallVae net(1, &noise);
      Bench& b = net.b;
      Params& p = net.p;
      Graph& g = net.g;
      OptimizerConfig config = OptimizerConfig::adam(1e-3f);
      config.clip_norm = clip;
      Optimizer adam(config, 0);
      data.fill_uniform(g.data(net.v.x), 8 * 64, 0.0f, 1.0f);
      REQUIRE(g.forward().is_ok());
      REQUIRE(std::isfinite(g.loss()));
      REQUIRE(g.backward().is_ok());
      REQUIRE(adam.step(b.ctx, p).is_ok());  // one good step: the moments are not all zero
      REQUIRE(g.forward().is_ok());
      REQUIRE(g.backward().is_ok());
      std::vector<float> before;
      for (int i = 0; i < p.count(); ++i) {
        before.insert(before.end(), p[i].value, p[i].value + p[i].numel());
        before.insert(before.end(), p[i].m, p[i].m + p[i].numel());
        before.insert(before.end(), p[i].v, p[i].v + p[i].numel());
      }
      p[p.count() - 1].grad[0] = bad;  // the loss stays finite; one gradient entry does not
      const Status s = adam.step(b.ctx, p);
      CHECK(s.code() == Code::not_finite);
      CHECK(std::string(s.message()).find("not finite") != std::string::npos);
      CHECK(adam.steps() == 1);
      std::vector<float> after;
      for (int i = 0; i < p.count(); ++i) {
        after.insert(after.end(), p[i].value, p[i].value + p[i].numel());
        after.insert(after.end(), p[i].m, p[i].m + p[i].numel());
        after.insert(after.end(), p[i].v, p[i].v + p[i].numel());
      }
      REQUIRE(before.size() == after.size());
      CHECK(std::memcmp(before.data(), after.data(), before.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("graph: same seed, same steps, identical bits; build errors are reported") {
  auto train = [](std::vector<float>* out, int threads) {
    Rng noise(12), data(13);
    SmallVae net(threads, &noise);
    Bench& b = net.b;
    Params& p = net.p;
    Graph& g = net.g;
    const models::MlpVae& v = net.v;
    Optimizer adam(OptimizerConfig::adam(1e-3f), 0);
    float first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
      data.fill_uniform(g.data(v.x), 8 * 64, 0.0f, 1.0f);
      REQUIRE(g.forward().is_ok());
      REQUIRE(g.backward().is_ok());
      REQUIRE(adam.step(b.ctx, p).is_ok());
      (step == 0 ? first : last) = g.loss();
    }
    CHECK(std::isfinite(last));
    CHECK(first != last);
    for (int i = 0; i < p.count(); ++i) out->insert(out->end(), p[i].value, p[i].value + p[i].numel());
  };
  std::vector<float> a, b, c;
  train(&a, 1);
  train(&b, 1);
  train(&c, 2);
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  // Work is split along rows and columns, never along a sum: the thread count cannot
  // change a bit either.
  REQUIRE(a.size() == c.size());
  CHECK(std::memcmp(a.data(), c.data(), a.size() * sizeof(float)) == 0);

  Tables t;
  Params p(&t.arena);
  Graph g(&p);
  T x = g.input("x", Shape(4, 3));
  T y = g.input("y", Shape(4, 5));
  g.add(x, y);
  CHECK(g.status().code() == Code::shape_mismatch);
  CHECK(std::string(g.status().message()).find("add") != std::string::npos);
  Params p2(&t.arena);
  Graph g2(&p2);
  T u = g2.input("u", Shape(4, 3));
  g2.linear(u, 2, "same");
  g2.linear(g2.input("v", Shape(4, 7)), 2, "same");  // same name, other shape
  CHECK(g2.status().code() == Code::shape_mismatch);
  CHECK(std::string(g2.status().message()).find("same.weight") != std::string::npos);
}

TEST_CASE("graph: save, load and resume a VAE run continues bit-identically") {
  // Trains 12 steps; a second run saves at step 6, reloads into fresh objects and goes on.
  struct Run {
    Bench b{32 << 20};
    Params p{&b.arena};
    std::unique_ptr<Graph> g = std::make_unique<Graph>(&p);
    models::MlpVae v;
    Rng rngs[2] = {Rng(12), Rng(13)};  // reparam noise, data
    Optimizer adam{OptimizerConfig::adam(1e-3f), 0};
    explicit Run(uint64_t init_seed) {
      v = models::build_mlp_vae(*g, 8, 64, 32, 4);
      REQUIRE(p.allocate(&b.arena, ParamMode::train_adam).is_ok());
      Rng init(init_seed);
      p.initialise(&init);
      REQUIRE(g->compile(&b.arena, &b.ctx, CompileOptions(), &rngs[0]).is_ok());
    }
    void steps(int n) {
      for (int i = 0; i < n; ++i) {
        rngs[1].fill_uniform(g->data(v.x), 8 * 64, 0.0f, 1.0f);
        REQUIRE(g->forward().is_ok());
        REQUIRE(g->backward().is_ok());
        REQUIRE(adam.step(b.ctx, p).is_ok());
      }
    }
    std::vector<float> bits() const {
      std::vector<float> out;
      for (int i = 0; i < p.count(); ++i) {
        out.insert(out.end(), p[i].value, p[i].value + p[i].numel());
        if (p[i].m) out.insert(out.end(), p[i].m, p[i].m + p[i].numel());
      }
      return out;
    }
  };
  Run straight(11);
  straight.steps(12);

  Run first(11);
  first.steps(6);
  const std::string path = "/tmp/ember-test-resume-" + std::to_string(reinterpret_cast<uintptr_t>(&first)) + ".ckpt";
  REQUIRE(save_checkpoint(path.c_str(), first.p, &first.adam, 1, first.rngs, 2, 6).is_ok());
  Run resumed(999);  // other initial weights: the checkpoint must overwrite them all
  uint64_t step = 0;
  REQUIRE(load_checkpoint(path.c_str(), &resumed.p, &resumed.adam, 1, resumed.rngs, 2, &step).is_ok());
  std::remove(path.c_str());
  CHECK(step == 6);
  CHECK(resumed.adam.steps() == 6);
  resumed.steps(6);
  const std::vector<float> a = straight.bits(), b = resumed.bits();
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  CHECK(straight.g->loss() == resumed.g->loss());
}

TEST_CASE("flops: the MLP VAE (V) counts its matrix products by hand; inference has no backward") {
  for (bool training : {true, false}) {
    PlannedVae v(16, training);
    REQUIRE(v.p.allocate(&v.b->arena, training ? ParamMode::train_adam : ParamMode::inference).is_ok());
    Rng rng(1);
    REQUIRE(v.g.compile(&v.b->arena, &v.b->ctx, v.opt, &rng).is_ok());
    // 784 -> 400 -> (mu, logvar) 20 -> 400 -> 784, batch 16: multiply-adds of the forward.
    const uint64_t first = 16ull * 784 * 400, rest = 16ull * (2 * 400 * 20 + 20 * 400 + 400 * 784);
    const nn::Flops f = nn::graph_flops(v.g, v.p);
    CHECK(f.forward == 2 * (first + rest));
    // Backward: every weight's gradient, and every input's but the data's (x needs none).
    CHECK(f.backward == (training ? 2 * (first + rest) + 2 * rest : 0));
  }
}
