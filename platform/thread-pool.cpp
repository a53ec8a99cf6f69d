#include "platform/thread-pool.h"

#ifndef EMBER_NO_THREADS
#include <chrono>
#endif

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
// training step, short enough not to burn a core when idle (a `pause` takes tens of cycles
// on recent x86, so this is about half a millisecond; docs/lab-notes.md).
constexpr int kSpinsBeforeSleep = 20000;
// Spins of the caller waiting for a job's last task before it starts yielding its core.
constexpr int kSpinsBeforeYield = 4000;
// A stall: the caller, done with its own tasks, waits longer for the others' than it took
// for its own, and longer than a sleeping worker takes to wake (tens of microseconds). On a
// balanced split that means a worker lost its core mid-task to another process: the next
// jobs then run on the caller alone, as with one thread, and the workers are tried again
// after them. Results do not change: the tasks are the same, only who runs them.
// While stalls repeat (another process keeps the core: a worker that tries again soon stalls
// again, each time for up to a scheduler time slice), every further stall doubles the solo
// jobs, up to 2^kMaxStallDoublings times; kSoloJobsAfterStall jobs in a row that ran on the
// workers without one bring it back down. The solo run also ends after kSoloTimeAfterStall
// (doubled the same way): on a VM whose other virtual core the host slows for a few
// milliseconds at a time, jobs of a millisecond (a DCGAN's convolutions) made 64 << 7 jobs
// seconds on one thread, where the slow spell was long over.
constexpr auto kStallAtLeast = std::chrono::microseconds(250);
constexpr int kSoloJobsAfterStall = 64;
constexpr auto kSoloTimeAfterStall = std::chrono::milliseconds(16);
constexpr int kMaxStallDoublings = 7;
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
  solo_jobs_ = stall_streak_ = clean_jobs_ = 0;
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
    run_claimed(index);
  }
}

void ThreadPool::run_claimed(int worker) {
  constexpr uint64_t kField = (1u << 20) - 1;
  uint64_t c = claim_.load(std::memory_order_acquire);
  for (;;) {
    const uint64_t next = c & kField, tasks = (c >> 20) & kField;
    if (next >= tasks) return;
    // A success means the job is still the one c names, and this thread holds task `next`:
    // run() cannot return, nor fn_ and ctx_ change, before the task is counted done.
    if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      continue;
    fn_(ctx_, static_cast<int>(next), worker);
    done_.fetch_add(1, std::memory_order_release);
    c = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::run(Parallel::Fn fn, void* ctx, int tasks) {
  using Clock = std::chrono::steady_clock;
  if (solo_jobs_ > 0 && tasks > 1 && Clock::now() >= solo_until_) solo_jobs_ = 0;  // the solo time is up
  const bool solo = solo_jobs_ > 0 && tasks > 1;  // after a stall (only with workers)
  if (threads_ > 1 && tasks > 1) ++stats_.jobs;
  if (threads_ <= 1 || tasks <= 1 || tasks > kMaxTasks || solo) {
    if (solo) --solo_jobs_, ++stats_.solo;
    for (int t = 0; t < tasks; ++t) fn(ctx, t, 0);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  done_.store(0, std::memory_order_relaxed);
  const uint64_t job = (claim_.load(std::memory_order_relaxed) >> 40) + 1;
  claim_.store(job << 40 | static_cast<uint64_t>(tasks) << 20, std::memory_order_release);
  generation_.fetch_add(1);  // seq_cst: pairs with the sleepers_ check below
  // A worker asleep (the pool sat idle past its spin) is slow to come back: on a VM whose idle
  // virtual core the host has parked, up to a millisecond. That wait is the wake-up, not a
  // worker preempted mid-task, so it does not count as a stall below: counted, it sent the
  // next 64+ jobs to the caller alone, the worker fell asleep again meanwhile, and the next
  // wake-up "stalled" again (a DCGAN step ran 65% of its jobs on one thread this way).
  const bool woke = sleepers_.load() > 0;
  if (woke) {
    ++stats_.woke;
    std::lock_guard<std::mutex> lock(mu_);
    wake_.notify_all();
  }
  const Clock::time_point start = Clock::now();
  run_claimed(0);
  if (done_.load(std::memory_order_acquire) == tasks) return;
  // Wait for the tasks others claimed. On a loaded machine a worker may have lost its core,
  // possibly to us: after a short spin, give the core away instead of burning its time slice.
  const Clock::time_point mine = Clock::now();
  for (int spins = 0; done_.load(std::memory_order_acquire) != tasks; ++spins) {
    if (spins < kSpinsBeforeYield) cpu_relax();
    else std::this_thread::yield();
  }
  const Clock::duration waited = Clock::now() - mine;
  if (woke) return;
  if (waited > kStallAtLeast && waited > mine - start) {
    solo_jobs_ = kSoloJobsAfterStall << stall_streak_;
    solo_until_ = Clock::now() + kSoloTimeAfterStall * (1 << stall_streak_);
    ++stats_.stalls;
    if (stall_streak_ < kMaxStallDoublings) ++stall_streak_;
    clean_jobs_ = 0;
  } else if (stall_streak_ > 0 && ++clean_jobs_ >= kSoloJobsAfterStall) {
    stall_streak_ = 0;
  }
}

#endif

}  // namespace ember
