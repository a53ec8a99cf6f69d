// Shared by the graph tests: an arena and context for one test, seeded fills, and every
// trainable parameter's gradient checked against finite differences of the graph's loss.
#pragma once
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "core/arena.h"
#include "core/rng.h"
#include "nn/graph.h"
#include "platform/context.h"
#include "tests/gradcheck.h"
#include "tests/testing.h"

namespace ember::testing {

// An arena over a heap buffer, plus a 1-thread context, for one test (bytes first).
struct Bench : ThreadedContext {
  explicit Bench(size_t bytes, int threads = 1, unsigned char fill = 0) : ThreadedContext(threads, bytes, fill) {}
};

// An arena for graph and parameter tables built before a Bench exists (dry runs).
struct Tables {
  std::vector<unsigned char> memory;
  Arena arena;
  explicit Tables(size_t bytes = 1 << 20) : memory(bytes), arena(memory.data(), bytes) {}
};

inline void fill(float* x, size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Rng r(seed);
  r.fill_uniform(x, n, lo, hi);
}

// Checks every trainable parameter's gradient after g.backward() against central differences
// of g.forward()'s loss. rng (if any) is rewound before each forward so noise is fixed.
inline void check_graph_gradients(nn::Graph& g, nn::Params& p, Rng* rng, const GradTolerance& tol = GradTolerance(),
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
    check_gradient(p[i].name, p[i].value, analytic.data(), p[i].numel(), loss, tol);
  }
}

}  // namespace ember::testing
