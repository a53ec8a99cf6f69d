// The op implementations' shared helpers (see op-helpers.h).
#include "nn/op-helpers.h"

#include <cstring>

namespace ember::nn::detail {

void bias_grad_add(Context& ctx, const float* dy, int n, int o, size_t pixels, float* db) {
  const Kernels& k = ctx.k();
  auto channel = [&](int c) {
    double s = 0.0;
    for (int i = 0; i < n; ++i) s += k.sum(dy + (static_cast<size_t>(i) * o + c) * pixels, pixels);
    db[c] += static_cast<float>(s);
  };
  parallel_for(ctx, o, static_cast<size_t>(n) * o * pixels, channel);
}

void clear_parts(float* parts, size_t part) { std::memset(parts, 0, kWeightGradRuns * part * sizeof(float)); }

void add_parts(const Kernels& k, float* parts, size_t part, size_t n, float* dw) {
  for (int r = 1; r < kWeightGradRuns; ++r) k.add(n, parts, parts + r * part, parts);
  k.add(n, dw, parts, dw);
}

}  // namespace ember::nn::detail
