// Context: the kernels, threads and GEMM scratch one model runs with.
//
// Made once at set-up: it picks the kernel table (best ISA for this CPU, or EMBER_ISA, or
// what Options asks), starts the worker threads and takes the GEMM packing scratch from
// the arena. After init() nothing it does allocates. Its entry points check their
// arguments and return a Status; the raw table (k()) trusts them.
#pragma once
#include "core/arena.h"
#include "core/kernels.h"
#include "core/status.h"
#include "platform/thread-pool.h"

namespace ember {

class Context {
 public:
  struct Options {
    int threads = 0;            // <= 0: one per hardware core (1 when built without threads)
    const char* isa = nullptr;  // "scalar", "avx2", ...; nullptr: EMBER_ISA, else the best
  };

  Context() = default;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // On failure (a bad option, an arena too small) the arena and the Context are as they were.
  Status init(Arena* arena, const Options& options);
  // Same, with the default options.
  Status init(Arena* arena) { return init(arena, Options()); }

  const Kernels& k() const { return *k_; }
  Isa isa() const { return k_->isa; }
  int threads() const { return pool_.threads(); }
  Parallel parallel() { return pool_.parallel(); }
  ThreadPool::Stats pool_stats() const { return pool_.stats(); }

  // Checked SGEMM (see GemmArgs): sizes, leading dimensions and pointers are validated.
  Status gemm(const GemmArgs& g);
  // The same GEMM on the calling thread alone, in the scratch of worker `worker` (0 <= worker
  // < threads()): for a task of a parallel job that runs a small GEMM of its own (one per
  // image), where splitting each GEMM over the workers would cost more than it saves. The
  // bits are gemm()'s: splits never change a sum.
  Status gemm_alone(const GemmArgs& g, int worker);

  // Bytes init() takes from the arena for this ISA and thread count (a dry run).
  static size_t scratch_bytes(const Kernels& k, int threads);
  // The kernel table and thread count init() would pick for `options`, with the same errors.
  static Status resolve(const Options& options, const Kernels** kernels, int* threads);
  // Bytes init() would take from the arena for `options` (a dry run, rounded as the arena does).
  static Status bytes_needed(const Options& options, size_t* bytes);

 private:
  // gemm() and gemm_alone() after their own checks: on `par`'s workers, packing into `scratch`.
  Status run_gemm(const GemmArgs& g, const Parallel& par, float* scratch);

  const Kernels* k_ = nullptr;
  ThreadPool pool_;
  float* gemm_scratch_ = nullptr;
};

// The argument checks Context::gemm makes, for callers that hold a raw table.
Status check_gemm_args(const GemmArgs& g);

}  // namespace ember
