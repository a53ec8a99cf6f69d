// The kernel interface: one table of function pointers per instruction set.
//
// core/ declares the table; platform/ fills it once per ISA (platform/scalar is the
// reference and is always built; platform/x86 adds AVX2+FMA and AVX-512; platform/arm adds
// NEON). Callers never name an ISA: they get a table from select_kernels() and call
// through it. Kernels trust their arguments; checked entry points live in platform/context.h.
//
// The op list, one line each (x, y: input/output arrays of n floats):
//   sgemm          C = act(alpha * op(A) op(B) + beta * C + bias)        row-major
//   act_forward    y = f(x)                      f in Act
//   act_backward   dx = dy * f'(x)               reads x or y, whichever f' needs
//   exp            y = e^x
//   axpy           y += a * x
//   scale          x *= a
//   add / mul      out = a + b / out = a * b
//   sum / dot / max / sumsq   reductions (n = 0 gives 0, 0, -inf, 0; NaN propagates)
//   adam           bias-corrected Adam, optional L2 or decoupled weight decay
//   sgd_momentum   v = mu v + g (+ wd p); p -= lr v   (PyTorch's convention)
//   widen_i8       y = s * float(q)              int8 weights to float (nn/quantize.h), exact
//   dot_i8         sum q[i] x[i]                 an int8 weight row times floats (batch-1 layers)
#pragma once
#include <cstddef>
#include <cstdint>

namespace ember {

enum class Isa : uint8_t { scalar = 0, avx2, avx512, neon, simd128 };
constexpr int kIsaCount = 5;
const char* isa_name(Isa isa);
bool parse_isa(const char* name, Isa* out);  // "scalar" | "avx2" | "avx512" | "neon" | "simd128"

enum class Act : uint8_t {
  identity = 0,
  relu,        // max(x, 0)
  leaky_relu,  // x > 0 ? x : slope * x
  sigmoid,     // 1 / (1 + e^-x)
  tanh,        // tanh(x)
  softplus,    // log(1 + e^x), computed stably
};

// Applied to each element of C after alpha * AB + beta * C:  c = act(c + bias).
struct Epilogue {
  const float* bias = nullptr;  // length n (one per column) or m (one per row); may be null
  bool bias_per_row = false;
  Act act = Act::identity;
  float slope = 0.0f;  // LeakyReLU's negative slope
};

// C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C, all row-major.
// op(A) = A (stored m x k, lda >= k) or A^T (stored k x m, lda >= m); likewise B.
// beta == 0 means C is write-only: whatever it held (even NaN) is ignored, as in BLAS.
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  int lda = 0;
  const float* b = nullptr;
  int ldb = 0;
  float beta = 0.0f;
  float* c = nullptr;
  int ldc = 0;
  Epilogue ep;
  // Cache blocks along M and N; 0: the ones the ISA chose for this CPU's caches
  // (Kernels::sgemm_blocks). Results never depend on them (tests sweep them); K's chunks are
  // fixed per ISA, as they set the order of each element's sum.
  int mc = 0, nc = 0;
  // Pack A and B even where the ISA's micro-kernel reads them in place (x86). Results never
  // depend on it (tests compare the two).
  bool pack_a = false;
};

// The cache blocks an sgemm uses: K in chunks of kc, M in blocks of mc rows, N in blocks of
// nc columns (all 0 for the scalar reference, which does not block).
struct GemmBlocks {
  int kc = 0, mc = 0, nc = 0;
};

// A way to run `tasks` independent pieces of work on up to `workers` threads. fn gets the
// task index and the worker index (0 <= worker < workers, each worker runs one task at a
// time), so per-worker scratch can be indexed without locks. run() returns when all tasks
// are done. A null `run` means: run everything on the calling thread as worker 0.
struct Parallel {
  using Fn = void (*)(void* ctx, int task, int worker);
  void (*run)(void* self, Fn fn, void* ctx, int tasks) = nullptr;
  void* self = nullptr;
  int workers = 1;

  void for_each(Fn fn, void* ctx, int tasks) const {
    if (run && workers > 1 && tasks > 1) {
      run(self, fn, ctx, tasks);
    } else {
      for (int t = 0; t < tasks; ++t) fn(ctx, t, 0);
    }
  }
};

struct AdamArgs {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.0f;
  bool decoupled = false;  // false: L2 (g += wd p, PyTorch Adam); true: AdamW (p -= lr wd p)
  float bias1 = 1.0f;      // 1 - beta1^t, for the step t being taken (t >= 1)
  float bias2 = 1.0f;      // 1 - beta2^t
};

struct SgdArgs {
  float lr = 1e-2f, momentum = 0.9f, weight_decay = 0.0f;
};

struct Kernels {
  Isa isa;
  const char* name;

  // Floats of scratch sgemm needs for `workers` workers (packed panels). Fixed for an ISA
  // and worker count, so the caller sizes it once and takes it from the arena.
  size_t (*sgemm_scratch_floats)(int workers);
  // scratch: at least sgemm_scratch_floats(par.workers) floats, 64-byte aligned.
  void (*sgemm)(const GemmArgs& g, const Parallel& par, float* scratch);

  void (*act_forward)(Act act, float slope, const float* x, float* y, size_t n);
  void (*act_backward)(Act act, float slope, const float* x, const float* y, const float* dy,
                       float* dx, size_t n);
  void (*exp)(const float* x, float* y, size_t n);

  void (*axpy)(size_t n, float a, const float* x, float* y);
  void (*scale)(size_t n, float a, float* x);
  void (*add)(size_t n, const float* a, const float* b, float* out);
  void (*mul)(size_t n, const float* a, const float* b, float* out);
  // out = a / sqrt(b + eps), a null meaning ones (batch norm's per-channel scale).
  void (*div_sqrt)(size_t n, const float* a, const float* b, float eps, float* out);

  float (*sum)(const float* x, size_t n);
  float (*dot)(const float* x, const float* y, size_t n);
  // out[j] = dot(x, y + j ld, n) for j < count, each with dot's bits: a Linear layer fed
  // one sample (its weight's rows are y).
  void (*dot_rows)(const float* x, const float* y, size_t ld, size_t n, size_t count, float* out);
  float (*max)(const float* x, size_t n);
  float (*sumsq)(const float* x, size_t n);

  void (*adam)(const AdamArgs& a, float* param, const float* grad, float* m, float* v, size_t n);
  void (*sgd_momentum)(const SgdArgs& a, float* param, const float* grad, float* velocity,
                       size_t n);
  // One rounded product per element, so every ISA gives the scalar reference's bits.
  void (*widen_i8)(const int8_t* q, float s, float* y, size_t n);
  // The sum in float, in the ISA's order (lanes, then across them; the scalar one in index
  // order): the int8 rows of a layer fed one sample at a time (nn/op-weights.h).
  float (*dot_i8)(const int8_t* q, const float* x, size_t n);
  // dst[j * ldd + i] = src[i * lds + j] for i < rows, j < cols: images between NCHW and the
  // convolutions' pixel rows (nn/im2col.h). Copies only: every ISA gives the same bits.
  void (*transpose)(const float* src, size_t rows, size_t cols, size_t lds, float* dst, size_t ldd);
  // The convolutions' 4 x 4 patches (nn/im2col.cpp's ring), one output row at a time, from
  // the kernel rows src[0..3], channel c's at src[ki] + c * cs: for x < ow, c < channels,
  //   rows[x * ld + c * 16 + ki * 4 + kj] = src[ki][c * cs + x * stride + kj].
  // Copies only: every ISA gives the same bits.
  void (*patches_k4)(const float* const* src, size_t cs, int channels, int ow, int stride, float* rows, size_t ld);
  // Its adjoint, over the pixels x = first, first + step, ... < ow in that order:
  //   dst[ki][c * cs + x * stride + kj] += rows[x * ld + c * 16 + ki * 4 + kj],
  // one rounded add per entry, pixel after pixel: every ISA gives the same bits.
  void (*patches_k4_add)(const float* rows, size_t ld, int channels, int first, int step, int ow, int stride,
                         float* const* dst, size_t cs);

  // What sgemm chose from the CPU's cache sizes when the table was made (for reports).
  GemmBlocks sgemm_blocks;
};

// Filled by platform/ -------------------------------------------------------------------
// The table for `isa`, or nullptr when this build or this CPU lacks it.
const Kernels* kernels_for(Isa isa);
// The best ISA this CPU runs with this build.
Isa best_isa();
// The table to use: EMBER_ISA from the environment when set (nullptr + *error set when it
// names something unavailable), else best_isa(). `error` may be null.
const Kernels* select_kernels(const char** error);

}  // namespace ember
