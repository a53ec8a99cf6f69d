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
#include "tests/testing.h"

using namespace ember;
using namespace ember::nn;
using ember::testing::GradTolerance;

namespace {

// An arena over a heap buffer, plus a 1-thread context, for one test.
struct Bench {
  std::vector<unsigned char> memory;
  Arena arena;
  Context ctx;
  explicit Bench(size_t bytes, int threads = 1, unsigned char fill = 0)
      : memory(bytes, fill), arena(memory.data(), bytes) {
    Context::Options o;
    o.threads = threads;
    REQUIRE(ctx.init(&arena, o).is_ok());
  }
};

// An arena for graph and parameter tables built before a Bench exists (dry runs).
struct Tables {
  std::vector<unsigned char> memory;
  Arena arena;
  explicit Tables(size_t bytes = 1 << 20) : memory(bytes), arena(memory.data(), bytes) {}
};

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

void fill(float* x, size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Rng r(seed);
  r.fill_uniform(x, n, lo, hi);
}

// Checks every trainable parameter's gradient after g.backward() against central differences
// of g.forward()'s loss. rng (if any) is rewound before each forward so noise is fixed.
void check_graph_gradients(Graph& g, Params& p, Rng* rng, const GradTolerance& tol = GradTolerance(),
                           uint32_t groups = ~0u) {
  const Rng::State start = rng ? rng->save() : Rng::State();
  auto loss = [&]() {
    if (rng) rng->restore(start);
    REQUIRE(g.forward().is_ok());
    return static_cast<double>(g.loss());
  };
  loss();
  REQUIRE(g.backward().is_ok());
  for (int i = 0; i < p.count(); ++i) {
    if (!p[i].trainable || !p[i].grad || !((groups >> p[i].group) & 1u)) continue;
    std::vector<float> analytic(p[i].grad, p[i].grad + p[i].numel());
    testing::check_gradient(p[i].name, p[i].value, analytic.data(), p[i].numel(), loss, tol);
  }
}

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

TEST_CASE("graph: a loss writes its logits' gradient over them when nothing else reads them") {
  // x -> fc1 -> relu -> fc2 -> logits -> loss(logits, x): the logits die at the loss's
  // backward step, so their gradient takes their buffer. The same net with the logits marked
  // as an output (kept to the end) plans them apart; both must give the same bits.
  for (const bool bce : {true, false}) {
    CAPTURE(bce);
    const int B = 5, D = 37;
    struct Net {
      Bench b{8 << 20};
      Params p{&b.arena};
      Graph g{&p};
      T x, logits;
      Net(bool bce, bool keep) {
        x = g.input("x", Shape(B, D));
        logits = g.linear(g.relu(g.linear(x, 11, "fc1")), D, "fc2");
        if (keep) g.mark_output(logits);
        g.minimize(bce ? g.bce_logits(logits, x, Reduction::mean) : g.mse(logits, x, Reduction::mean));
        REQUIRE(p.allocate(&b.arena, ParamMode::train_adam).is_ok());
        Rng init(3);
        p.initialise(&init);
        REQUIRE(g.compile(&b.arena, &b.ctx, CompileOptions()).is_ok());
        REQUIRE(g.check_plan().is_ok());
        fill(g.data(x), size_t(B) * D, 4, 0.0f, 1.0f);
        REQUIRE(g.forward().is_ok());
        REQUIRE(g.backward().is_ok());
      }
    };
    Net in_place(bce, false), apart(bce, true);
    CHECK(in_place.g.grad(in_place.logits) == in_place.g.data(in_place.logits));
    CHECK(apart.g.grad(apart.logits) != apart.g.data(apart.logits));
    CHECK(in_place.g.loss() == apart.g.loss());
    for (int i = 0; i < in_place.p.count(); ++i) {
      CAPTURE(in_place.p[i].name);
      CHECK(std::memcmp(in_place.p[i].grad, apart.p[i].grad, in_place.p[i].numel() * sizeof(float)) == 0);
    }
    check_graph_gradients(in_place.g, in_place.p, nullptr);
  }
  // At the VAE's workload batch the logits are 784 x 128 floats: the plan holds one such
  // buffer fewer at its peak than the two it needed.
  Tables t;
  Params p(&t.arena);
  Graph g(&p);
  models::build_mlp_vae(g, 128);
  GraphBytes planned;
  REQUIRE(g.plan(CompileOptions(), 1, &planned).is_ok());
  CHECK(planned.activations <= 1675520 - 128 * 400 * sizeof(float));
}

TEST_CASE("graph: a layer that is its weights' only user writes their gradients; a shared layer adds") {
  // x -> solo -> tanh -> tied -> tanh -> tied -> out -> mse(x): "tied" is one layer applied
  // twice, so its gradients are summed over both uses from zero; the others are written whole
  // by their one backward, with no zeroing first. NaN left in every gradient from before
  // must not reach the new ones, and the results are those of a first step.
  const int B = 6, D = 13, H = 9;
  Bench b(8 << 20);
  Params p(&b.arena);
  Graph g(&p);
  const T x = g.input("x", Shape(B, D));
  const T solo = g.linear(x, H, "solo");
  const T tied1 = g.linear(g.tanh(solo), H, "tied");
  const T tied2 = g.linear(g.tanh(tied1), H, "tied");
  const T out = g.linear(tied2, D, "out");
  g.minimize(g.mse(out, x, Reduction::mean));
  REQUIRE(p.allocate(&b.arena, ParamMode::train_adam).is_ok());
  Rng init(5);
  p.initialise(&init);
  REQUIRE(g.compile(&b.arena, &b.ctx, CompileOptions()).is_ok());
  CHECK(g.node(solo).writes_param_grads);
  CHECK(g.node(out).writes_param_grads);
  CHECK_FALSE(g.node(tied1).writes_param_grads);
  CHECK_FALSE(g.node(tied2).writes_param_grads);
  fill(g.data(x), size_t(B) * D, 6);
  REQUIRE(g.forward().is_ok());
  REQUIRE(g.backward().is_ok());
  std::vector<std::vector<float>> first;
  for (int i = 0; i < p.count(); ++i) first.emplace_back(p[i].grad, p[i].grad + p[i].numel());
  for (int i = 0; i < p.count(); ++i)
    for (size_t k = 0; k < p[i].numel(); ++k) p[i].grad[k] = std::numeric_limits<float>::quiet_NaN();
  REQUIRE(g.forward().is_ok());
  REQUIRE(g.backward().is_ok());
  for (int i = 0; i < p.count(); ++i) {
    CAPTURE(p[i].name);
    CHECK(std::memcmp(p[i].grad, first[size_t(i)].data(), p[i].numel() * sizeof(float)) == 0);
  }
  check_graph_gradients(g, p, nullptr);
}

TEST_CASE("graph: a node that is its input's only gradient contributor writes that gradient") {
  // img -> conv (channel-major) -> softplus -> conv (pixel rows) -> bn -> tanh -> convT (rows)
  // -> tanh -> convT (channel-major) -> flatten -> linear -> bn (features) -> sigmoid = h,
  // then h read by two linears whose sum meets an mse. Every node up to h is the one
  // contributor to its input's gradient and writes it (GradWrites); h's gradient has two
  // and is zeroed and summed. The arena starts as NaN bytes: a written gradient that was
  // added to instead, or a summed one not zeroed first, turns the parameters' gradients NaN.
  const int B = 3;
  struct Net {
    Bench b;
    Params p;
    Graph g;
    T img, t, first_conv, second_conv, bn2, deconv1, deconv2, fc, bn1, h, o1, o2;
    explicit Net(unsigned char byte) : b(16 << 20, 1, byte), p(&b.arena), g(&p) {
      img = g.input("img", Shape(B, 1, 8, 8));
      t = g.input("t", Shape(B, 3));
      first_conv = g.conv2d(img, 8, 3, 1, 1, "c1");                           // [B, 8, 8, 8], K 9
      second_conv = g.conv2d(g.softplus(first_conv), 6, 4, 2, 1, "c2");      // [B, 6, 4, 4], K 128
      bn2 = g.batchnorm(second_conv, "bn2");
      deconv1 = g.conv_t2d(g.tanh(bn2), 8, 4, 2, 1, "t1");                   // [B, 8, 8, 8]
      deconv2 = g.conv_t2d(g.tanh(deconv1), 2, 3, 1, 1, "t2");               // [B, 2, 8, 8]
      fc = g.linear(g.flatten(deconv2), 10, "fc");
      bn1 = g.batchnorm(fc, "bn1");
      h = g.sigmoid(bn1);
      o1 = g.linear(h, 3, "o1");
      o2 = g.linear(h, 3, "o2");
      g.minimize(g.mse(g.add(o1, o2), t, Reduction::mean));
      REQUIRE(p.allocate(&b.arena, ParamMode::train_adam).is_ok());
      Rng init(9);
      p.initialise(&init);
      REQUIRE(g.compile(&b.arena, &b.ctx, CompileOptions()).is_ok());
      fill(g.data(img), size_t(B) * 64, 10, 0.0f, 1.0f);
      fill(g.data(t), size_t(B) * 3, 11, -1.0f, 1.0f);
    }
  };
  Net nan_net(0xff), zero_net(0);
  const Graph& g = nan_net.g;
  CHECK_FALSE(g.node(nan_net.first_conv).writes_input_grad);  // its input needs no gradient
  for (T n : {nan_net.second_conv, nan_net.bn2, nan_net.deconv1, nan_net.deconv2, nan_net.fc, nan_net.bn1,
              nan_net.h})
    CHECK(g.node(n).writes_input_grad);
  CHECK_FALSE(g.node(nan_net.o1).writes_input_grad);
  CHECK_FALSE(g.node(nan_net.o2).writes_input_grad);
  for (Net* net : {&nan_net, &zero_net}) {
    REQUIRE(net->g.forward().is_ok());
    REQUIRE(net->g.backward().is_ok());
  }
  CHECK(nan_net.g.loss() == zero_net.g.loss());
  for (int i = 0; i < nan_net.p.count(); ++i) {
    CAPTURE(nan_net.p[i].name);
    if (!nan_net.p[i].grad) continue;
    const std::vector<float> got(nan_net.p[i].grad, nan_net.p[i].grad + nan_net.p[i].numel());
    const std::vector<float> want(zero_net.p[i].grad, zero_net.p[i].grad + zero_net.p[i].numel());
    CHECK(got == want);  // NaN equals nothing
  }
  check_graph_gradients(nan_net.g, nan_net.p, nullptr);
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
