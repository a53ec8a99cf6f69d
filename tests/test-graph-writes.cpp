// Gradients written, not zeroed and added: a loss over its logits, a layer that is its
// weights' only user, a node that is its input's only gradient contributor, a conv doing the
// backward of the activation before it (nn/graph-compile.cpp). Arenas start as NaN bytes so
// a gradient left unwritten, or added to instead of written, shows.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "models/workloads.h"
#include "nn/graph.h"
#include "tests/graph-testing.h"

using namespace ember;
using namespace ember::nn;
using ember::testing::Bench;
using ember::testing::check_graph_gradients;
using ember::testing::fill;
using ember::testing::GradTolerance;
using ember::testing::Tables;

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

namespace {

// A small image net trained toward 3 targets on an arena that starts as `byte` (0xff: NaN
// floats). The test builds its layers from img to an output, then finish() adds the mse loss,
// Adam parameters from seed `seed`, the training compile and the inputs (seeds + 1, + 2).
struct ImageNet {
  Bench b;
  Params p;
  Graph g;
  T img, t;
  ImageNet(unsigned char byte, int batch) : b(16 << 20, 1, byte), p(&b.arena), g(&p) {
    img = g.input("img", Shape(batch, 1, 8, 8));
    t = g.input("t", Shape(batch, 3));
  }
  void finish(T out, uint64_t seed) {
    g.minimize(g.mse(out, t, Reduction::mean));
    REQUIRE(p.allocate(&b.arena, ParamMode::train_adam).is_ok());
    Rng init(seed);
    p.initialise(&init);
    REQUIRE(g.compile(&b.arena, &b.ctx, CompileOptions()).is_ok());
    fill(g.data(img), g.shape(img).numel(), seed + 1, 0.0f, 1.0f);
    fill(g.data(t), g.shape(t).numel(), seed + 2, -1.0f, 1.0f);
  }
};

// One step of each; the same loss and the same parameter gradients, bit for bit (a NaN left
// in one of nan_net's gradients equals nothing).
void check_same_step(ImageNet& nan_net, ImageNet& zero_net) {
  for (ImageNet* net : {&nan_net, &zero_net}) {
    REQUIRE(net->g.forward().is_ok());
    REQUIRE(net->g.backward().is_ok());
  }
  CHECK(nan_net.g.loss() == zero_net.g.loss());
  for (int i = 0; i < nan_net.p.count(); ++i) {
    CAPTURE(nan_net.p[i].name);
    if (!nan_net.p[i].grad) continue;
    CHECK(std::vector<float>(nan_net.p[i].grad, nan_net.p[i].grad + nan_net.p[i].numel()) ==
          std::vector<float>(zero_net.p[i].grad, zero_net.p[i].grad + zero_net.p[i].numel()));
  }
}

}  // namespace

TEST_CASE("graph: a node that is its input's only gradient contributor writes that gradient") {
  // img -> conv (channel-major) -> softplus -> conv (pixel rows) -> bn -> tanh -> convT (rows)
  // -> tanh -> convT (channel-major) -> flatten -> linear -> bn (features) -> sigmoid = h,
  // then h read by two linears whose sum meets an mse. Every node up to h is the one
  // contributor to its input's gradient and writes it (GradWrites); h's gradient has two
  // and is zeroed and summed. The arena starts as NaN bytes: a written gradient that was
  // added to instead, or a summed one not zeroed first, turns the parameters' gradients NaN.
  struct Net : ImageNet {
    T first_conv, second_conv, bn2, deconv1, deconv2, fc, bn1, h, o1, o2;
    explicit Net(unsigned char byte) : ImageNet(byte, 3) {
      first_conv = g.conv2d(img, 8, 3, 1, 1, "c1");                       // [B, 8, 8, 8], K 9
      second_conv = g.conv2d(g.softplus(first_conv), 6, 4, 2, 1, "c2");  // [B, 6, 4, 4], K 128
      bn2 = g.batchnorm(second_conv, "bn2");
      deconv1 = g.conv_t2d(g.tanh(bn2), 8, 4, 2, 1, "t1");               // [B, 8, 8, 8]
      deconv2 = g.conv_t2d(g.tanh(deconv1), 2, 3, 1, 1, "t2");           // [B, 2, 8, 8]
      fc = g.linear(g.flatten(deconv2), 10, "fc");
      bn1 = g.batchnorm(fc, "bn1");
      h = g.sigmoid(bn1);
      o1 = g.linear(h, 3, "o1");
      o2 = g.linear(h, 3, "o2");
      finish(g.add(o1, o2), 9);
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
  check_same_step(nan_net, zero_net);
  check_graph_gradients(nan_net.g, nan_net.p, nullptr);
}

TEST_CASE("graph: a conv after ReLU or LeakyReLU does the activation's backward in its own") {
  // img -> conv (cm) -> relu -> conv (rows) -> leaky -> conv (cm) -> flatten -> linear, and
  // a relu read by two convs, whose gradient has two contributors: not folded. The arena
  // starts as NaN bytes, so a gradient the fold left unwritten turns the parameters' NaN.
  struct Net : ImageNet {
    T r1, c2, l2, c3, r4, c5, c6;
    explicit Net(unsigned char byte) : ImageNet(byte, 2) {
      r1 = g.relu(g.conv2d(img, 8, 3, 1, 1, "c1"));  // [B, 8, 8, 8]
      c2 = g.conv2d(r1, 4, 4, 2, 1, "c2");           // [B, 4, 4, 4], K 128
      l2 = g.leaky_relu(c2, 0.2f);
      c3 = g.conv2d(l2, 4, 3, 1, 1, "c3");           // K 36
      r4 = g.relu(g.conv2d(c3, 4, 3, 1, 1, "c4"));
      c5 = g.conv2d(r4, 2, 3, 1, 1, "c5"), c6 = g.conv2d(r4, 2, 3, 1, 1, "c6");
      finish(g.linear(g.flatten(g.add(c5, c6)), 3, "fc"), 12);
    }
  };
  Net nan_net(0xff), zero_net(0);
  const Graph& g = nan_net.g;
  CHECK(g.node(nan_net.c2).folds_input_act == nan_net.r1.id);
  CHECK(g.node(nan_net.r1).act_in_consumer);
  CHECK(g.node(nan_net.c3).folds_input_act == nan_net.l2.id);
  for (T c : {nan_net.c5, nan_net.c6}) CHECK(g.node(c).folds_input_act == -1);
  CHECK_FALSE(g.node(nan_net.r4).act_in_consumer);
  check_same_step(nan_net, zero_net);
  GradTolerance tol;  // ReLU kinks: a step that crosses one changes the slope (see the GAN case)
  tol.h = 5e-4f, tol.rtol = 5e-2, tol.atol = 5e-3;
  check_graph_gradients(nan_net.g, nan_net.p, nullptr, tol);
}
