#include "platform/context.h"

#include "platform/scalar/scalar.h"

namespace ember {

size_t Context::scratch_bytes(const Kernels& k, int threads) {
  return k.sgemm_scratch_floats(threads) * sizeof(float);
}

Status Context::resolve(const Options& options, const Kernels** kernels, int* threads) {
  *kernels = nullptr;
  *threads = ThreadPool::threads_for(options.threads);
  // What ThreadPool::start would refuse, refused here: init then cannot fail after taking memory.
  if (options.threads > ThreadPool::kMaxThreads)
    return Status::error(Code::invalid_argument, "context: %d threads asked, at most %d", options.threads,
                         ThreadPool::kMaxThreads);
  if (options.isa) {
    Isa isa;
    if (!parse_isa(options.isa, &isa))
      return Status::error(Code::invalid_argument,
                           "isa '%s': expected scalar, avx2, avx512 or neon", options.isa);
    *kernels = kernels_for(isa);
    if (!*kernels)
      return Status::error(Code::unsupported, "isa '%s' is not available in this build or on this CPU",
                           options.isa);
    return Status::ok();
  }
  const char* why = nullptr;
  *kernels = select_kernels(&why);
  if (!*kernels) return Status::error(Code::unsupported, "%s", why);
  return Status::ok();
}

Status Context::bytes_needed(const Options& options, size_t* bytes) {
  *bytes = 0;
  const Kernels* k = nullptr;
  int threads = 1;
  EMBER_TRY(resolve(options, &k, &threads));
  *bytes = Arena::rounded(scratch_bytes(*k, threads));
  return Status::ok();
}

Status Context::init(Arena* arena, const Options& options) {
  const Kernels* k = nullptr;
  int threads = 1;
  EMBER_TRY(resolve(options, &k, &threads));
  // The memory before the threads: an arena too small leaves the Context as it was (still
  // usable if it was initialised before), and the threads are not started for nothing.
  const size_t mark = arena->mark();
  void* scratch = nullptr;
  EMBER_TRY(arena->alloc(scratch_bytes(*k, threads), &scratch));
  const Status s = pool_.start(threads);  // resolve refused what start refuses: cannot fail
  if (!s.is_ok()) {
    arena->rewind(mark);
    k_ = nullptr, gemm_scratch_ = nullptr;
    return s;
  }
  k_ = k;
  gemm_scratch_ = static_cast<float*>(scratch);
  return Status::ok();
}

Status check_gemm_args(const GemmArgs& g) {
  if (g.m < 0 || g.n < 0 || g.k < 0)
    return Status::error(Code::invalid_argument, "gemm: negative size m=%d n=%d k=%d", g.m, g.n, g.k);
  const int a_cols = g.trans_a ? g.m : g.k, b_cols = g.trans_b ? g.k : g.n;
  if (g.lda < (a_cols > 1 ? a_cols : 1))
    return Status::error(Code::invalid_argument, "gemm: lda=%d is less than %d (A is %s)", g.lda,
                         a_cols, g.trans_a ? "k x m, transposed" : "m x k");
  if (g.ldb < (b_cols > 1 ? b_cols : 1))
    return Status::error(Code::invalid_argument, "gemm: ldb=%d is less than %d (B is %s)", g.ldb,
                         b_cols, g.trans_b ? "n x k, transposed" : "k x n");
  if (g.ldc < (g.n > 1 ? g.n : 1))
    return Status::error(Code::invalid_argument, "gemm: ldc=%d is less than n=%d", g.ldc, g.n);
  if (g.m > 0 && g.n > 0 && !g.c) return Status::error(Code::invalid_argument, "gemm: C is null");
  if (g.m > 0 && g.n > 0 && g.k > 0 && (!g.a || !g.b))
    return Status::error(Code::invalid_argument, "gemm: A or B is null with k=%d", g.k);
  return Status::ok();
}

namespace {

// A few rows of A times a B stored transposed (B^T is n x k: a Linear layer's weight): each
// C element is a dot product of two contiguous rows. Packing B would read and write all of
// it for a handful of rows of C; here B streams through once, which is what a batch-1
// sample (a GEMV) needs. Columns are split over the workers; each element is one dot in a
// fixed order, so the split cannot change a bit.
constexpr int kDotRowsMax = 2;     // m up to this takes the dot-product path
constexpr int kDotColumnsPerTask = 64;

struct DotJob {
  const GemmArgs* g;
  const Kernels* k;
};

void dot_columns(void* ctx, int task, int /*worker*/) {
  const DotJob& job = *static_cast<const DotJob*>(ctx);
  const GemmArgs& g = *job.g;
  const int j0 = task * kDotColumnsPerTask;
  const int j1 = j0 + kDotColumnsPerTask < g.n ? j0 + kDotColumnsPerTask : g.n;
  float dots[kDotColumnsPerTask];
  for (int i = 0; i < g.m; ++i) {
    const float* a = g.a + static_cast<size_t>(i) * g.lda;
    float* c = g.c + static_cast<size_t>(i) * g.ldc;
    job.k->dot_rows(a, g.b + static_cast<size_t>(j0) * g.ldb, static_cast<size_t>(g.ldb), static_cast<size_t>(g.k),
                    static_cast<size_t>(j1 - j0), dots);
    // The epilogue's bias in the same expression as the reference's (C, then + b), and an
    // exact activation (the kernels' identity, relu and leaky give the reference's bits)
    // from the table; the others through the reference.
    const float* bias = g.ep.bias ? (g.ep.bias_per_row ? nullptr : g.ep.bias) : nullptr;
    const float row_bias = g.ep.bias && g.ep.bias_per_row ? g.ep.bias[i] : 0.0f;
    for (int j = j0; j < j1; ++j) {
      const float d = g.alpha * dots[j - j0];
      const float v = g.beta == 0.0f ? d : d + g.beta * c[j];
      c[j] = g.ep.bias ? v + (bias ? bias[j] : row_bias) : v;
    }
    const Act act = g.ep.act;
    if (act == Act::identity) continue;
    if (act == Act::relu || act == Act::leaky_relu)
      job.k->act_forward(act, g.ep.slope, c + j0, c + j0, static_cast<size_t>(j1 - j0));
    else
      scalar::apply_epilogue(Epilogue{nullptr, false, act, g.ep.slope}, 1, j1 - j0, c + j0, g.ldc);
  }
}

}  // namespace

Status Context::gemm(const GemmArgs& g) {
  if (!k_) return Status::error(Code::invalid_argument, "gemm: context not initialised");
  return run_gemm(g, pool_.parallel(), gemm_scratch_);
}

Status Context::gemm_alone(const GemmArgs& g, int worker) {
  if (!k_) return Status::error(Code::invalid_argument, "gemm: context not initialised");
  if (worker < 0 || worker >= threads())
    return Status::error(Code::invalid_argument, "gemm: worker %d of %d", worker, threads());
  const Parallel alone;  // no runner: every task on the caller
  return run_gemm(g, alone, gemm_scratch_ + k_->sgemm_scratch_floats(1) * static_cast<size_t>(worker));
}

Status Context::run_gemm(const GemmArgs& g, const Parallel& par, float* scratch) {
  EMBER_TRY(check_gemm_args(g));
  if (g.m == 0 || g.n == 0) return Status::ok();
  if (g.m <= kDotRowsMax && g.trans_b && !g.trans_a && g.k > 0) {
    DotJob job{&g, k_};
    par.for_each(dot_columns, &job, (g.n + kDotColumnsPerTask - 1) / kDotColumnsPerTask);
    return Status::ok();
  }
  k_->sgemm(g, par, scratch);
  return Status::ok();
}

}  // namespace ember
