// Element-wise ops: activations, concat, reparameterisation.
//
// Everything streams through a small stack buffer (kPointwiseChunk floats) so the vector kernels of
// ctx.k() do the arithmetic without any scratch from the graph and without allocating.
#include <cstring>

#include "nn/op-helpers.h"
#include "nn/ops.h"

namespace ember::nn {

namespace {
// Floats per stack chunk: 1 KiB, a few vectors of every width, fits L1 beside its operands.
constexpr size_t kPointwiseChunk = 256;
}  // namespace

// ---- activation backward -----------------------------------------------------------------
// dx += dy * f'(x): the kernel's act_backward overwrites, so it writes a chunk on the stack
// which is then added into dx. Written (GradWrites dx), the kernel writes dx itself.
void act_backward(Context& ctx, Act act, float slope, const float* x, const float* y, const float* dy,
                  float* dx, size_t n, GradWrites writes) {
  const Kernels& k = ctx.k();
  // x or y may be null when f' does not read it (the kernel's contract): never offset null.
  auto write = [&](size_t lo, size_t hi) {
    k.act_backward(act, slope, x ? x + lo : nullptr, y ? y + lo : nullptr, dy + lo, dx + lo, hi - lo);
  };
  if (writes.dx) return detail::parallel_chunks(ctx, n, write);
  auto range = [&](size_t lo, size_t hi) {
    alignas(64) float buf[kPointwiseChunk];
    for (size_t i = lo; i < hi; i += kPointwiseChunk) {
      const size_t m = hi - i < kPointwiseChunk ? hi - i : kPointwiseChunk;
      k.act_backward(act, slope, x ? x + i : nullptr, y ? y + i : nullptr, dy + i, buf, m);
      k.add(m, dx + i, buf, dx + i);
    }
  };
  detail::parallel_chunks(ctx, n, range);
}

// ---- activation forward ------------------------------------------------------------------
void act_forward(Context& ctx, Act act, float slope, const float* x, float* y, size_t n) {
  const Kernels& k = ctx.k();
  auto range = [&](size_t lo, size_t hi) { k.act_forward(act, slope, x + lo, y + lo, hi - lo); };
  detail::parallel_chunks(ctx, n, range);
}

// ---- concat --------------------------------------------------------------------------------
// y[r] = [a[r] (ca*s floats), b[r] (cb*s floats)] for each of the n rows (images).
void concat_forward(const float* a, const float* b, float* y, int n, int ca, int cb, int s) {
  const size_t la = static_cast<size_t>(ca) * s, lb = static_cast<size_t>(cb) * s;
  for (int r = 0; r < n; ++r) {
    float* yr = y + static_cast<size_t>(r) * (la + lb);
    std::memcpy(yr, a + static_cast<size_t>(r) * la, la * sizeof(float));
    std::memcpy(yr + la, b + static_cast<size_t>(r) * lb, lb * sizeof(float));
  }
}

// da[r] += dy[r][0, ca*s);  db[r] += dy[r][ca*s, (ca+cb)*s); a null side is skipped.
void concat_backward(const float* dy, float* da, float* db, int n, int ca, int cb, int s) {
  const size_t la = static_cast<size_t>(ca) * s, lb = static_cast<size_t>(cb) * s;
  for (int r = 0; r < n; ++r) {
    const float* g = dy + static_cast<size_t>(r) * (la + lb);
    if (da) {
      float* d = da + static_cast<size_t>(r) * la;
      for (size_t i = 0; i < la; ++i) d[i] += g[i];
    }
    if (db) {
      float* d = db + static_cast<size_t>(r) * lb;
      for (size_t i = 0; i < lb; ++i) d[i] += g[la + i];
    }
  }
}

// ---- reparameterisation ----------------------------------------------------------------------
namespace {
// sigma = exp(0.5 logvar) for one chunk, into out (m <= kPointwiseChunk).
void half_exp(const Kernels& k, const float* logvar, float* out, size_t m) {
  for (size_t i = 0; i < m; ++i) out[i] = 0.5f * logvar[i];
  k.exp(out, out, m);
}
}  // namespace

// z = mu + sigma * eps, sigma = exp(0.5 logvar), eps ~ N(0, 1) drawn first (whole array) so
// the stream does not depend on the chunking.
void reparam_forward(Context& ctx, Rng& rng, const float* mu, const float* logvar, float* eps, float* z,
                     size_t n) {
  const Kernels& k = ctx.k();
  rng.fill_normal(eps, n, 0.0f, 1.0f);
  alignas(64) float sigma[kPointwiseChunk];
  for (size_t i = 0; i < n; i += kPointwiseChunk) {
    const size_t m = n - i < kPointwiseChunk ? n - i : kPointwiseChunk;
    half_exp(k, logvar + i, sigma, m);
    k.mul(m, sigma, eps + i, sigma);
    k.add(m, mu + i, sigma, z + i);
  }
}

// dmu += dz;  dlogvar += dz * eps * 0.5 sigma (sigma recomputed: one exp per element is
// cheaper than a buffer the graph would have to keep alive until backward).
void reparam_backward(Context& ctx, const float* logvar, const float* eps, const float* dz, float* dmu,
                      float* dlogvar, size_t n) {
  const Kernels& k = ctx.k();
  if (dmu) k.add(n, dmu, dz, dmu);
  if (!dlogvar) return;
  alignas(64) float g[kPointwiseChunk];
  for (size_t i = 0; i < n; i += kPointwiseChunk) {
    const size_t m = n - i < kPointwiseChunk ? n - i : kPointwiseChunk;
    half_exp(k, logvar + i, g, m);
    k.mul(m, g, eps + i, g);
    k.mul(m, g, dz + i, g);
    k.axpy(m, 0.5f, g, dlogvar + i);
  }
}

}  // namespace ember::nn
