#include "core/context.h"

namespace ember {

size_t Context::scratch_bytes(const Kernels& k, int threads) {
  return k.sgemm_scratch_floats(threads) * sizeof(float);
}

Status Context::init(Arena* arena, const Options& options) {
  const Kernels* k = nullptr;
  if (options.isa) {
    Isa isa;
    if (!parse_isa(options.isa, &isa))
      return Status::error(Code::invalid_argument,
                           "isa '%s': expected scalar, avx2, avx512 or neon", options.isa);
    k = kernels_for(isa);
    if (!k)
      return Status::error(Code::unsupported, "isa '%s' is not available in this build or on this CPU",
                           options.isa);
  } else {
    const char* why = nullptr;
    k = select_kernels(&why);
    if (!k) return Status::error(Code::unsupported, "%s", why);
  }
  EMBER_TRY(pool_.start(options.threads));
  void* scratch = nullptr;
  const Status s = arena->alloc(scratch_bytes(*k, pool_.threads()), &scratch);
  if (!s.is_ok()) {
    pool_.stop();
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

Status Context::gemm(const GemmArgs& g) {
  if (!k_) return Status::error(Code::invalid_argument, "gemm: context not initialised");
  EMBER_TRY(check_gemm_args(g));
  if (g.m == 0 || g.n == 0) return Status::ok();
  k_->sgemm(g, pool_.parallel(), gemm_scratch_);
  return Status::ok();
}

}  // namespace ember
