#include "platform/thread-pool.h"

namespace ember {

namespace {

void run_thunk(void* self, Parallel::Fn fn, void* ctx, int tasks) {
  static_cast<ThreadPool*>(self)->run(fn, ctx, tasks);
}

#ifndef EMBER_NO_THREADS
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#endif
}

// Spins before a worker sleeps: long enough to bridge the gap between the GEMMs of a
// training step, short enough (~tens of microseconds) not to burn a core when idle.
constexpr int kSpinsBeforeSleep = 20000;
// Spins of the caller waiting for a job's last task before it starts yielding its core.
constexpr int kSpinsBeforeYield = 4000;
#endif

}  // namespace

Parallel ThreadPool::parallel() {
  Parallel p;
  p.workers = threads_;
  if (threads_ > 1) {
    p.run = run_thunk;
    p.self = this;
  }
  return p;
}

#ifdef EMBER_NO_THREADS

int ThreadPool::hardware_threads() { return 1; }
int ThreadPool::threads_for(int /*asked*/) { return 1; }
Status ThreadPool::start(int threads) {
  if (threads > kMaxThreads)
    return Status::error(Code::invalid_argument, "thread pool: %d threads asked, at most %d", threads, kMaxThreads);
  threads_ = 1;  // built without threads: everything runs on the caller
  return Status::ok();
}
void ThreadPool::stop() {}
void ThreadPool::run(Parallel::Fn fn, void* ctx, int tasks) {
  for (int t = 0; t < tasks; ++t) fn(ctx, t, 0);
}

#else

int ThreadPool::hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : (n > kMaxThreads ? kMaxThreads : static_cast<int>(n));
}

int ThreadPool::threads_for(int asked) { return asked <= 0 ? hardware_threads() : asked; }

Status ThreadPool::start(int threads) {
  stop();
  threads = threads_for(threads);
  if (threads > kMaxThreads)
    return Status::error(Code::invalid_argument, "thread pool: %d threads asked, at most %d",
                         threads, kMaxThreads);
  stopping_.store(false);
  threads_ = threads;
  for (int i = 1; i < threads_; ++i) workers_[i] = std::thread(&ThreadPool::worker_main, this, i);
  return Status::ok();
}

void ThreadPool::stop() {
  if (threads_ <= 1) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (int i = 1; i < threads_; ++i) workers_[i].join();
  threads_ = 1;
}

void ThreadPool::worker_main(int index) {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && spins < kSpinsBeforeSleep) {
      cpu_relax();
      ++spins;
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      sleepers_.fetch_sub(1);
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stopping_.load()) return;
    for (int t; (t = next_task_.fetch_add(1, std::memory_order_relaxed)) < tasks_;) fn_(ctx_, t, index);
    busy_.fetch_sub(1, std::memory_order_release);
  }
}

void ThreadPool::run(Parallel::Fn fn, void* ctx, int tasks) {
  if (threads_ <= 1 || tasks <= 1) {
    for (int t = 0; t < tasks; ++t) fn(ctx, t, 0);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  tasks_ = tasks;
  next_task_.store(0, std::memory_order_relaxed);
  busy_.store(threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1);  // seq_cst: pairs with the sleepers_ check below
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    wake_.notify_all();
  }
  for (int t; (t = next_task_.fetch_add(1, std::memory_order_relaxed)) < tasks;) fn(ctx, t, 0);
  // Wait for the others. On a loaded machine a worker may have lost its core, possibly to
  // us: after a short spin, give the core away instead of burning its time slice.
  for (int spins = 0; busy_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < kSpinsBeforeYield) cpu_relax();
    else std::this_thread::yield();
  }
}

#endif

}  // namespace ember
