// The promise: after set-up, training steps and samples allocate nothing. Every global
// allocation is counted (tests/alloc-counter.cpp) across 100 training steps of the V and
// D workloads of WORKLOADS.md, with 1 and 2 threads, and across inference-only sampling.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <vector>

#include "models/workloads.h"
#include "tests/alloc-counter.h"
#include "tests/testing.h"

using namespace ember;
using namespace ember::nn;
namespace counter = ember::testing::alloc_counter;

namespace {

// The VAE at its workload batch; the DCGAN at a smaller batch to keep the suite quick (the
// code paths and their allocations do not depend on the batch). On slow kernels (emulated
// ARM in CI, or the scalar ones) smaller batches and 10 steps: the native SIMD run is the
// one that proves 100.
struct Sizes {
  int vae_batch = 128, gan_batch = 8, steps = 100;
  explicit Sizes(const Context& ctx) {
    if (ember::testing::slow_kernels(ctx)) vae_batch = 16, gan_batch = 2, steps = 10;
  }
};

struct Setup {
  std::unique_ptr<unsigned char[]> memory;
  Arena arena;
  Context ctx;
  Setup(size_t bytes, int threads) : memory(new unsigned char[bytes]), arena(memory.get(), bytes) {
    Context::Options o;
    o.threads = threads;
    REQUIRE(ctx.init(&arena, o).is_ok());
  }
};

}  // namespace

TEST_CASE("no allocation: 100 training steps of the MLP VAE (V), 1 and 2 threads (10 on slow kernels)") {
  if (!counter::available()) return;
  for (int threads : {1, 2}) {
    Setup s(64 << 20, threads);
    const Sizes sizes(s.ctx);
    const int batch = sizes.vae_batch, steps = sizes.steps;
    auto params = std::make_unique<Params>(&s.arena);
    auto g = std::make_unique<Graph>(params.get());
    const models::MlpVae v = models::build_mlp_vae(*g, batch);
    REQUIRE(params->allocate(&s.arena, ParamMode::train_adam).is_ok());
    Rng init(1), noise(2), data(3);
    params->initialise(&init);
    REQUIRE(g->compile(&s.arena, &s.ctx, CompileOptions(), &noise).is_ok());
    Optimizer adam(OptimizerConfig::adam(1e-3f), 0);
    counter::start();
    for (int step = 0; step < steps; ++step) {
      data.fill_uniform(g->data(v.x), static_cast<size_t>(batch) * 784, 0.0f, 1.0f);
      REQUIRE(g->forward().is_ok());
      REQUIRE(g->backward().is_ok());
      REQUIRE(adam.step(s.ctx, *params).is_ok());
    }
    const size_t allocations = counter::stop();
    CHECK(allocations == 0);
    CHECK(std::isfinite(g->loss()));
  }
}

TEST_CASE("no allocation: 100 DCGAN steps (D) and inference-only sampling (10 on slow kernels)") {
  if (!counter::available()) return;
  for (int threads : {1, 2}) {
    Setup s(128 << 20, threads);
    const Sizes sizes(s.ctx);
    const int batch = sizes.gan_batch, steps = sizes.steps;
    auto params = std::make_unique<Params>(&s.arena);
    auto dg = std::make_unique<Graph>(params.get());
    auto gg = std::make_unique<Graph>(params.get());
    const models::DcganStep st = models::build_dcgan(*dg, *gg, batch);
    REQUIRE(params->allocate(&s.arena, ParamMode::train_adam).is_ok());
    Rng init(1), data(3);
    params->initialise(&init);
    CompileOptions d_opt, g_opt;
    d_opt.train_groups = 1u << models::kDiscriminator;
    g_opt.train_groups = 1u << models::kGenerator;
    REQUIRE(dg->compile(&s.arena, &s.ctx, d_opt).is_ok());
    REQUIRE(gg->compile(&s.arena, &s.ctx, g_opt).is_ok());
    models::fill_dcgan_targets(*dg, *gg, st);
    Optimizer d_adam(OptimizerConfig::adam(2e-4f, 0.5f), models::kDiscriminator);
    Optimizer g_adam(OptimizerConfig::adam(2e-4f, 0.5f), models::kGenerator);
    counter::start();
    for (int step = 0; step < steps; ++step) {
      data.fill_uniform(dg->data(st.real), static_cast<size_t>(batch) * 784, -1.0f, 1.0f);
      data.fill_normal(gg->data(st.z), static_cast<size_t>(batch) * 100, 0.0f, 1.0f);
      REQUIRE(models::dcgan_step(s.ctx, *dg, *gg, st, d_adam, g_adam).is_ok());
    }
    const size_t allocations = counter::stop();
    CHECK(allocations == 0);
    CHECK(std::isfinite(dg->loss()));
    CHECK(std::isfinite(gg->loss()));

    // Sampling with an inference-only graph over the same parameters.
    auto sampler = std::make_unique<Graph>(params.get());
    const T z = sampler->input("z", Shape(1, 100));
    const T img = models::dcgan_generator(*sampler, z);
    sampler->mark_output(img);
    CompileOptions inf;
    inf.training = false;
    REQUIRE(sampler->compile(&s.arena, &s.ctx, inf).is_ok());
    counter::start();
    for (int i = 0; i < steps; ++i) {
      data.fill_normal(sampler->data(z), 100, 0.0f, 1.0f);
      REQUIRE(sampler->forward().is_ok());
    }
    CHECK(counter::stop() == 0);
    const float* px = sampler->data(img);
    for (int i = 0; i < 784; ++i) REQUIRE((px[i] >= -1.0f && px[i] <= 1.0f));
  }
}

void* volatile g_sink;  // keeps the compiler from eliding the allocations below

TEST_CASE("no allocation: the counter itself counts") {
  if (!counter::available()) return;
  counter::start();
  int* a = new int[4];
  g_sink = a;
  void* m = std::malloc(10);
  g_sink = m;
  std::vector<int> v(100);
  g_sink = v.data();
  const size_t n = counter::stop();
  std::free(m);
  delete[] a;
  CHECK(n == 3);
}
