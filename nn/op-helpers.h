// What the op implementations (nn/op-*.cpp) share besides the convolutions' patch layout
// (that is nn/im2col.h): scratch alignment, the parallel loop, the conv bias gradient.
#pragma once
#include <cstddef>

#include "platform/context.h"

namespace ember::nn::detail {

// Floats rounded up to whole 64-byte lines, so buffers placed after each other in the
// scratch stay aligned.
inline size_t round_line(size_t floats) { return (floats + 15) / 16 * 16; }

// Runs f(task) for task in [0, tasks) on the context's workers. Every caller makes each task
// write its own disjoint output, so the result never depends on which worker ran what.
template <class F>
void parallel_for(Context& ctx, int tasks, F& f) {
  ctx.parallel().for_each([](void* c, int task, int) { (*static_cast<F*>(c))(task); }, &f, tasks);
}

// The same with f(task, worker): worker is the index of the thread running the task, for
// per-worker scratch (Context::gemm_alone: a GEMM per image, each on one thread).
template <class F>
void parallel_for_workers(Context& ctx, int tasks, F& f) {
  ctx.parallel().for_each([](void* c, int task, int worker) { (*static_cast<F*>(c))(task, worker); }, &f, tasks);
}

// The images [0, images) cut into one run per worker (fewer when there are fewer images), run
// t being [images t / runs, images (t + 1) / runs): f(i) for each image of a run, in order, in
// one task. The pool's caller claims first, so on two threads run 0 goes to the caller's core
// and run 1 to the worker's, job after job, unless one stalls: passes over the same images (an
// unfold, the GEMM over their rows, a fold) cut this way stay in one core's cache.
inline int image_runs(const Context& ctx, int images) { return ctx.threads() < images ? ctx.threads() : images; }
inline int run_start(int images, int runs, int t) { return images * t / runs; }
template <class F>
void for_image_runs(Context& ctx, int images, const F& f) {
  const int runs = image_runs(ctx, images);
  auto task = [&](int t) {
    for (int i = run_start(images, runs, t); i < run_start(images, runs, t + 1); ++i) f(i);
  };
  parallel_for(ctx, runs, task);
}

// The GEMM `a` once per image, for `images` images whose B and C lie b_step and c_step floats
// after the previous image's, each on its thread alone (Context::gemm_alone; a GEMM too small
// to split would cost a fork-join per image), with before(i) and after(i) in the same task (an
// image's unfold and fold, while its columns are in cache), in runs of images as
// for_image_runs cuts them. a's arguments are checked once: the images' differ only in where
// B and C point.
template <class Before, class After>
Status gemm_each_image(Context& ctx, const GemmArgs& a, int images, size_t b_step, size_t c_step,
                       const Before& before, const After& after) {
  EMBER_TRY(check_gemm_args(a));
  const int runs = image_runs(ctx, images);
  auto task = [&](int t, int worker) {
    for (int i = run_start(images, runs, t); i < run_start(images, runs, t + 1); ++i) {
      before(i);
      GemmArgs ai = a;
      ai.b = a.b + i * b_step, ai.c = a.c + i * c_step;
      (void)ctx.gemm_alone(ai, worker);  // cannot fail: a's arguments were checked
      after(i);
    }
  };
  parallel_for_workers(ctx, runs, task);
  return Status::ok();
}

// The GEMM `a` over `images` images stacked along M, a.m rows each (op(A) not transposed; A's
// and C's rows run on from image to image), with before(i) (an image's unfold) and after(i)
// (its fold). Cut into one run of whole images per worker: each task unfolds its images, runs
// one GEMM over their rows on its thread alone and folds them, so each core reads back what
// it wrote, where a GEMM threaded inside reads rows another core just wrote (several times
// slower to reach than its own cache). With fewer images than workers: the unfolds in
// parallel, one GEMM threaded inside, the folds in parallel. Each row of C is its own sums,
// so neither way changes a result.
template <class Before, class After>
Status gemm_image_runs(Context& ctx, const GemmArgs& a, int images, const Before& before, const After& after) {
  GemmArgs all = a;
  all.m = a.m * images;
  EMBER_TRY(check_gemm_args(all));
  if (images < ctx.threads()) {  // a run per image
    for_image_runs(ctx, images, before);
    EMBER_TRY(ctx.gemm(all));
    for_image_runs(ctx, images, after);
    return Status::ok();
  }
  const int runs = image_runs(ctx, images);
  auto task = [&](int t, int worker) {
    const int i0 = run_start(images, runs, t), i1 = run_start(images, runs, t + 1);
    for (int i = i0; i < i1; ++i) before(i);
    GemmArgs at = a;
    at.m = a.m * (i1 - i0);
    at.a = a.a + static_cast<size_t>(i0) * a.m * a.lda;
    at.c = a.c + static_cast<size_t>(i0) * a.m * a.ldc;
    (void)ctx.gemm_alone(at, worker);  // cannot fail: checked over all the images
    for (int i = i0; i < i1; ++i) after(i);
  };
  parallel_for_workers(ctx, runs, task);
  return Status::ok();
}

// A batch of n images in groups of `group` (fixed by the shape; the last may be shorter) that
// take turns in the same scratch, image n0 + i of the group at n0 in slot i: the slots cut
// into `runs` runs, and task r runs f(r, worker, n0, i0, i1) for its slots [i0, i1) of every
// group, group after group, so a pass over the batch is one fork-join, not one per group (nor
// one wait for the slower run per group). A run's slots are the same in every group (a short
// last group fills the first slots and skips the runs past them), so no two tasks ever share
// a slot.
template <class F>
void for_group_runs(Context& ctx, int n, int group, int runs, const F& f) {
  auto task = [&](int r, int worker) {
    const int s0 = run_start(group, runs, r), s1 = run_start(group, runs, r + 1);  // this run's slots
    for (int n0 = 0; n0 < n; n0 += group) {
      const int images = n - n0 < group ? n - n0 : group;
      const int i0 = s0 < images ? s0 : images, i1 = s1 < images ? s1 : images;
      if (i0 < i1) f(r, worker, n0, i0, i1);
    }
  };
  parallel_for_workers(ctx, runs, task);
}

// gemm_image_runs over a batch in groups (for_group_runs): before(image, slot) unfolds image
// into the rows of `slot`, after(image, slot) folds them; each task's GEMM covers its run's
// slots. Groups of fewer images than workers go through gemm_image_runs in turn.
template <class Before, class After>
Status gemm_group_runs(Context& ctx, const GemmArgs& a, int n, int group, const Before& before, const After& after) {
  if (group < ctx.threads() || n <= group) {
    for (int n0 = 0; n0 < n; n0 += group) {
      auto b = [&](int i) { before(n0 + i, i); };
      auto f = [&](int i) { after(n0 + i, i); };
      EMBER_TRY(gemm_image_runs(ctx, a, n - n0 < group ? n - n0 : group, b, f));
    }
    return Status::ok();
  }
  GemmArgs all = a;
  all.m = a.m * group;
  EMBER_TRY(check_gemm_args(all));
  for_group_runs(ctx, n, group, image_runs(ctx, group), [&](int, int worker, int n0, int i0, int i1) {
    for (int i = i0; i < i1; ++i) before(n0 + i, i);
    GemmArgs at = a;
    at.m = a.m * (i1 - i0);
    at.a = a.a + static_cast<size_t>(i0) * a.m * a.lda;
    at.c = a.c + static_cast<size_t>(i0) * a.m * a.ldc;
    (void)ctx.gemm_alone(at, worker);  // cannot fail: checked over a whole group
    for (int i = i0; i < i1; ++i) after(n0 + i, i);
  });
  return Status::ok();
}

// f(lo, hi) over [0, n) for element-wise passes over large tensors (activations of a batch
// of images), which would otherwise run on one thread while the others wait for the next
// GEMM: one span per worker, span t = [n t / T, n (t + 1) / T) in whole lines, so on T
// threads the first images' values go to the caller's core, as image runs cut a batch
// (for_image_runs): each core reads what it wrote, where chunks handed out in turn read about
// half from the other core (slow to reach where two cores share no cache). Each element's
// result depends only on its own inputs: bit-identical for any split. Below
// 2 kParallelChunk floats it runs on the caller.
constexpr size_t kParallelChunk = size_t(1) << 16;
template <class F>
void parallel_chunks(Context& ctx, size_t n, F& f) {
  const size_t most = n / kParallelChunk, threads = static_cast<size_t>(ctx.threads());
  const int spans = static_cast<int>(most < threads ? (most ? most : 1) : threads);
  auto span = [&](int t) {
    const size_t lo = n * t / spans / 16 * 16, hi = t + 1 == spans ? n : n * (t + 1) / spans / 16 * 16;
    if (lo < hi) f(lo, hi);
  };
  parallel_for(ctx, spans, span);
}

// parallel_for for a job that touches `floats` floats in all: below kParallelChunk of them a
// fork-join costs more than the work (a batch-1 sample's batch norm), so the caller runs the
// tasks alone. The tasks are the same either way.
template <class F>
void parallel_for(Context& ctx, int tasks, size_t floats, F& f) {
  if (floats >= kParallelChunk) return parallel_for(ctx, tasks, f);
  for (int t = 0; t < tasks; ++t) f(t);
}
// The same for for_image_runs.
template <class F>
void for_image_runs(Context& ctx, int images, size_t floats, const F& f) {
  if (floats >= kParallelChunk) return for_image_runs(ctx, images, f);
  for (int i = 0; i < images; ++i) f(i);
}

// db[o] += sum of dy[N, O, P] over n and p. Per channel in a fixed order (kernel sums per
// image, added in image order in double): independent of threads.
void bias_grad_add(Context& ctx, const float* dy, int n, int o, size_t pixels, float* db);

// A convolution's dW in parts: a group's images are cut into at most kWeightGradRuns runs
// (fixed by the shape, never by the thread count), and each run's task sums its images'
// share of dW into its own part, on its own core, right after unfolding them (their columns
// still in its cache), where one GEMM threaded inside would read columns the other core
// unfolded. add_parts adds the parts in order at the end: the same bits for any thread count.
// A dW larger than kMaxPartFloats (a DCGAN's 64 -> 128 conv: 128 x 1024) is one GEMM threaded
// inside instead: its parts and a run's columns would not share a core's L2 (measured slower
// at 2 threads). A constant, not the machine's L2 size: the choice sets the sum order.
constexpr int kWeightGradRuns = 4;
constexpr size_t kMaxPartFloats = size_t(1) << 16;
inline int weight_grad_runs(int images) { return images < kWeightGradRuns ? images : kWeightGradRuns; }
// Zeroes the kWeightGradRuns parts, `part` floats each (whole lines), laid end to end.
void clear_parts(float* parts, size_t part);
// dw[n] += part 0 + part 1 + ... (the first part summed into).
void add_parts(const Kernels& k, float* parts, size_t part, size_t n, float* dw);

// The channel-major paths' dW, one GEMM per image: for run r of the images, unfold(i) then
// part r += da with A and B moved to image i (a_step, b_step floats per image), image after
// image on the run's thread. da: beta 1, C the first part, checked by the caller.
template <class Unfold>
void weight_grad_in_parts(Context& ctx, const GemmArgs& da, int images, size_t a_step, size_t b_step, float* parts,
                          size_t part, const Unfold& unfold) {
  const int runs = weight_grad_runs(images);
  auto run = [&](int r, int worker) {
    for (int i = run_start(images, runs, r); i < run_start(images, runs, r + 1); ++i) {
      unfold(i);
      GemmArgs a = da;
      a.a = da.a + i * a_step, a.b = da.b + i * b_step, a.c = parts + r * part;
      (void)ctx.gemm_alone(a, worker);  // cannot fail: da was checked
    }
  };
  parallel_for_workers(ctx, runs, run);
}

}  // namespace ember::nn::detail
