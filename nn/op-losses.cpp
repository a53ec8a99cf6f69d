// Losses: forward returns the scalar, backward adds dloss * d(loss)/d(input).
//
// All of them run over the batch * per_row values as one flat array, in chunks of kChunk
// floats on the stack, with the transcendentals (softplus, sigmoid, exp) in the vector
// kernels of ctx.k(). Forward sums each chunk in float (the kernel's sum: a chunk is short
// and its terms share a sign or are small) and the chunks in double, always in the same
// order: the same inputs and kernel table give the same bits. Reduction::mean divides by
// the batch only (a per-image loss), never by every element. The per-element losses of a
// whole image batch (BCE, MSE) spread their chunks over the workers (each chunk's sum is
// kept, and the sums are added in chunk order on the caller: the same bits for any thread
// count); the others, over a latent vector or class scores, stay on the caller.
#include <cmath>
#include <cstring>
#include <limits>

#include "nn/op-helpers.h"
#include "nn/ops.h"

namespace ember::nn {

namespace {

constexpr size_t kChunk = 256;  // floats per stack buffer (1 KiB)
constexpr double kLog2Pi = 1.8378770664093454836;

size_t total(int batch, int per_row) {
  return static_cast<size_t>(batch) * static_cast<size_t>(per_row);
}
size_t chunk(size_t n, size_t i) { return n - i < kChunk ? n - i : kChunk; }

// The factor a sum is multiplied by: 1 or 1/batch.
double reduce_factor(int batch, Reduction r) {
  return r == Reduction::mean && batch > 0 ? 1.0 / batch : 1.0;
}
// dloss * reduce_factor, the scale every backward applies to its per-element derivative.
float grad_scale(float dloss, int batch, Reduction r) {
  return static_cast<float>(dloss * reduce_factor(batch, r));
}

// out = a - b for one chunk: a copy and one axpy (a - b exactly as one subtraction rounds).
void sub(const Kernels& k, const float* a, const float* b, float* out, size_t m) {
  std::memcpy(out, a, m * sizeof(float));
  k.axpy(m, -1.0f, b, out);
}

// f(i, m) for the chunk at i (m floats) of [0, n), in one span of whole chunks per worker.
template <class F>
void for_chunks(Context& ctx, size_t n, const F& f) {
  const size_t chunks = (n + kChunk - 1) / kChunk;
  const int spans = ctx.threads();
  auto span = [&](int t) {
    for (size_t c = chunks * t / spans; c < chunks * (t + 1) / spans; ++c) f(c * kChunk, chunk(n, c * kChunk));
  };
  detail::parallel_for(ctx, spans, n, span);
}

// The sum over the chunks of [0, n), in chunk order in double, of f(i, m): a float per chunk,
// computed kRound chunks at a time on the workers.
template <class F>
double sum_chunks(Context& ctx, size_t n, const F& f) {
  constexpr size_t kRound = 512;
  float sums[kRound];
  double acc = 0.0;
  for (size_t r = 0; r < n; r += kRound * kChunk) {
    const size_t m = n - r < kRound * kChunk ? n - r : kRound * kChunk;
    for_chunks(ctx, m, [&](size_t i, size_t len) { sums[i / kChunk] = f(r + i, len); });
    for (size_t c = 0; c < (m + kChunk - 1) / kChunk; ++c) acc += sums[c];
  }
  return acc;
}

}  // namespace

// ---- BCE with logits ----------------------------------------------------------------------
// l(x, t) = max(x,0) - x t + log1p(e^-|x|) = softplus(x) - x t;   dl/dx = sigmoid(x) - t.
float bce_logits_forward(Context& ctx, const float* x, const float* t, int batch, int per_row,
                         Reduction r) {
  const Kernels& k = ctx.k();
  const double acc = sum_chunks(ctx, total(batch, per_row), [&](size_t i, size_t m) {
    alignas(64) float sp[kChunk], xt[kChunk];
    k.act_forward(Act::softplus, 0.0f, x + i, sp, m);
    k.mul(m, x + i, t + i, xt);
    k.axpy(m, -1.0f, xt, sp);  // each term >= 0 for t in [0, 1]: the chunk sum cannot cancel
    return k.sum(sp, m);
  });
  return static_cast<float>(acc * reduce_factor(batch, r));
}

void bce_logits_backward(Context& ctx, const float* x, const float* t, float dloss, float* dx,
                         int batch, int per_row, Reduction r) {
  if (!dx) return;
  const Kernels& k = ctx.k();
  const float c = grad_scale(dloss, batch, r);
  for_chunks(ctx, total(batch, per_row), [&](size_t i, size_t m) {
    alignas(64) float g[kChunk];
    k.act_forward(Act::sigmoid, 0.0f, x + i, g, m);
    k.axpy(m, -1.0f, t + i, g);
    if (dx == x) std::memset(dx + i, 0, m * sizeof(float));  // in place: this chunk of x is read
    k.axpy(m, c, g, dx + i);
  });
}

// ---- MSE (sum of squares) -------------------------------------------------------------------
// l(x, t) = (x - t)^2;   dl/dx = 2 (x - t).
float mse_forward(Context& ctx, const float* x, const float* t, int batch, int per_row, Reduction r) {
  const Kernels& k = ctx.k();
  const double acc = sum_chunks(ctx, total(batch, per_row), [&](size_t i, size_t m) {
    alignas(64) float d[kChunk];
    sub(k, x + i, t + i, d, m);
    return k.sumsq(d, m);
  });
  return static_cast<float>(acc * reduce_factor(batch, r));
}

void mse_backward(Context& ctx, const float* x, const float* t, float dloss, float* dx, int batch,
                  int per_row, Reduction r) {
  if (!dx) return;
  const Kernels& k = ctx.k();
  const float c2 = 2.0f * grad_scale(dloss, batch, r);
  for_chunks(ctx, total(batch, per_row), [&](size_t i, size_t m) {
    alignas(64) float d[kChunk];
    sub(k, x + i, t + i, d, m);
    if (dx == x) std::memset(dx + i, 0, m * sizeof(float));  // in place: this chunk of x is read
    k.axpy(m, c2, d, dx + i);
  });
}

// ---- Gaussian negative log-likelihood -----------------------------------------------------
// l = 0.5 (log 2pi + lv + (x - mu)^2 e^-lv);  dl/dmu = (mu - x) e^-lv;
// dl/dlv = 0.5 (1 - (x - mu)^2 e^-lv).  x is data: no gradient.
namespace {
// One chunk: d = x - mu, w = (x - mu) e^-lv (the shared factor of both gradients).
void gauss_chunk(const Kernels& k, const float* x, const float* mu, const float* lv, float* d, float* w,
                 size_t m) {
  for (size_t j = 0; j < m; ++j) w[j] = -lv[j];
  k.exp(w, w, m);
  sub(k, x, mu, d, m);
  k.mul(m, d, w, w);
}
}  // namespace

float gauss_nll_forward(Context& ctx, const float* x, const float* mu, const float* logvar, int batch,
                        int per_row, Reduction r) {
  const Kernels& k = ctx.k();
  const size_t n = total(batch, per_row);
  alignas(64) float d[kChunk], w[kChunk];
  double acc = 0.0;
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = chunk(n, i);
    gauss_chunk(k, x + i, mu + i, logvar + i, d, w, m);
    acc += static_cast<double>(k.sum(logvar + i, m)) + k.dot(d, w, m);
  }
  return static_cast<float>(0.5 * (kLog2Pi * static_cast<double>(n) + acc) * reduce_factor(batch, r));
}

void gauss_nll_backward(Context& ctx, const float* x, const float* mu, const float* logvar, float dloss,
                        float* dmu, float* dlogvar, int batch, int per_row, Reduction r) {
  if (!dmu && !dlogvar) return;
  const Kernels& k = ctx.k();
  const size_t n = total(batch, per_row);
  const float c = grad_scale(dloss, batch, r);
  const float half_c = 0.5f * c;
  alignas(64) float d[kChunk], w[kChunk];
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = chunk(n, i);
    gauss_chunk(k, x + i, mu + i, logvar + i, d, w, m);
    if (dmu) k.axpy(m, -c, w, dmu + i);
    if (dlogvar) {
      float* g = dlogvar + i;
      for (size_t j = 0; j < m; ++j) g[j] += half_c * (1.0f - d[j] * w[j]);
    }
  }
}

// ---- KL(N(mu, e^lv) || N(0, 1)) -------------------------------------------------------------
// l = -0.5 (1 + lv - mu^2 - e^lv);  dl/dmu = mu;  dl/dlv = 0.5 (e^lv - 1).
float kl_std_normal_forward(Context& ctx, const float* mu, const float* logvar, int batch, int per_row,
                            Reduction r) {
  const Kernels& k = ctx.k();
  const size_t n = total(batch, per_row);
  alignas(64) float e[kChunk];
  double acc = 0.0;
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = chunk(n, i);
    k.exp(logvar + i, e, m);
    // Per element in double: 1 + lv - e^lv nearly cancels when lv is near 0 (the usual case).
    for (size_t j = 0; j < m; ++j) {
      const double u = mu[i + j], lv = logvar[i + j];
      acc += (1.0 + lv - static_cast<double>(e[j])) - u * u;
    }
  }
  return static_cast<float>(-0.5 * acc * reduce_factor(batch, r));
}

void kl_std_normal_backward(Context& ctx, const float* mu, const float* logvar, float dloss, float* dmu,
                            float* dlogvar, int batch, int per_row, Reduction r) {
  const Kernels& k = ctx.k();
  const size_t n = total(batch, per_row);
  const float c = grad_scale(dloss, batch, r);
  if (dmu) k.axpy(n, c, mu, dmu);
  if (!dlogvar) return;
  const float half_c = 0.5f * c;
  alignas(64) float e[kChunk];
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = chunk(n, i);
    k.exp(logvar + i, e, m);
    float* g = dlogvar + i;
    for (size_t j = 0; j < m; ++j) g[j] += half_c * (e[j] - 1.0f);
  }
}

// ---- softmax cross-entropy ----------------------------------------------------------------
// l = lse(x) - x[label], lse(x) = max + log sum e^(x - max);  dl/dx = softmax(x) - onehot.
namespace {
struct RowLse {
  float max;   // the row's largest logit (NaN when the row holds NaN)
  double sum;  // sum of e^(x - max), in [1, classes] for a finite row
};

RowLse row_lse(const Kernels& k, const float* x, int classes, float* buf) {
  const size_t n = static_cast<size_t>(classes);
  RowLse s{k.max(x, n), 0.0};
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = chunk(n, i);
    for (size_t j = 0; j < m; ++j) buf[j] = x[i + j] - s.max;
    k.exp(buf, buf, m);
    s.sum += k.sum(buf, m);
  }
  return s;
}

bool label_ok(int32_t label, int classes) { return label >= 0 && label < classes; }
}  // namespace

float softmax_ce_forward(Context& ctx, const float* x, const int32_t* labels, int batch, int classes,
                         Reduction r) {
  const Kernels& k = ctx.k();
  alignas(64) float buf[kChunk];
  double acc = 0.0;
  for (int b = 0; b < batch; ++b) {
    const float* row = x + static_cast<size_t>(b) * classes;
    if (!label_ok(labels[b], classes)) {
      acc += std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const RowLse s = row_lse(k, row, classes, buf);
    // lse - x[label] = log(sum) - (x[label] - max): both small, no cancellation at 1e4.
    acc += std::log(s.sum) - static_cast<double>(row[labels[b]] - s.max);
  }
  return static_cast<float>(acc * reduce_factor(batch, r));
}

void softmax_ce_backward(Context& ctx, const float* x, const int32_t* labels, float dloss, float* dx,
                         int batch, int classes, Reduction r) {
  if (!dx) return;
  const Kernels& k = ctx.k();
  const float c = grad_scale(dloss, batch, r);
  const size_t n = static_cast<size_t>(classes);
  alignas(64) float buf[kChunk];
  for (int b = 0; b < batch; ++b) {
    const float* row = x + static_cast<size_t>(b) * n;
    float* g = dx + static_cast<size_t>(b) * n;
    if (!label_ok(labels[b], classes)) {
      for (size_t j = 0; j < n; ++j) g[j] = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    const RowLse s = row_lse(k, row, classes, buf);
    const float cp = static_cast<float>(c / s.sum);  // softmax = e^(x - max) / sum
    for (size_t i = 0; i < n; i += kChunk) {
      const size_t m = chunk(n, i);
      if (n > kChunk) {  // one chunk: buf still holds e^(x - max) from row_lse
        for (size_t j = 0; j < m; ++j) buf[j] = row[i + j] - s.max;
        k.exp(buf, buf, m);
      }
      k.axpy(m, cp, buf, g + i);
    }
    g[labels[b]] -= c;
  }
}

}  // namespace ember::nn
