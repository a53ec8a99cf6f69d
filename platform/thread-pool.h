// ThreadPool: worker threads started once, then handed small jobs with no allocation.
//
// start(n) creates n - 1 std::threads (the caller is worker 0), which is the only moment
// the pool touches the heap. run() publishes a job as one atomic word, (job number, tasks,
// next task), and wakes the workers by bumping a generation counter. Every thread, the
// caller too, claims tasks by compare-and-swap on that word, so the split is dynamic, but
// each task writes only its own output, which keeps results independent of which worker ran
// it. run() returns once every task has finished, without waiting for workers that took
// none: on a loaded machine a worker that lost its core does not stall the job (the caller
// does its share), and a late worker's claim fails because the word has moved to another job.
// Idle workers spin briefly (jobs in a training step come back-to-back) and then sleep on a
// condition variable, so an idle pool costs no CPU.
//
// Built with EMBER_NO_THREADS (microcontrollers), the pool is a shell: one worker, run()
// executes on the caller, and <thread> is never included.
#pragma once
#include "core/kernels.h"
#include "core/status.h"

#include <cstdint>

#ifndef EMBER_NO_THREADS
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#endif

namespace ember {

class ThreadPool {
 public:
  static constexpr int kMaxThreads = 64;

  ThreadPool() = default;
  ~ThreadPool() { stop(); }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // threads <= 0: one per hardware core. Stops a previously started pool first.
  Status start(int threads);
  void stop();
  int threads() const { return threads_; }
  static int hardware_threads();
  // The thread count start(asked) gives: one per core for asked <= 0, 1 when built without
  // threads. (start() refuses more than kMaxThreads.)
  static int threads_for(int asked);

  // Runs fn(ctx, task, worker) for task in [0, tasks); returns when all are done. More
  // than kMaxTasks tasks run on the caller alone.
  void run(Parallel::Fn fn, void* ctx, int tasks);
  static constexpr int kMaxTasks = (1 << 20) - 1;
  Parallel parallel();

  // What the pool did with the jobs handed to its workers so far (run() with more than one
  // task on more than one thread), for a benchmark to say why two threads did not scale:
  // stalls seen, jobs that ran on the caller alone because of them, and jobs that had to wake
  // a sleeping worker (thread-pool.cpp).
  struct Stats {
    uint64_t jobs = 0, solo = 0, stalls = 0, woke = 0;
  };
  Stats stats() const { return stats_; }

 private:
  int threads_ = 1;
  Stats stats_;  // counted by run(), which only the caller calls
#ifndef EMBER_NO_THREADS
  void worker_main(int index);
  // Claims and runs the current job's tasks until none is left.
  void run_claimed(int worker);

  std::thread workers_[kMaxThreads];
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleepers_{0};
  // The job: number (bits 40-63), tasks (20-39), next task to claim (0-19).
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> done_{0};  // tasks of the current job finished
  std::atomic<bool> stopping_{false};
  int solo_jobs_ = 0;     // jobs the caller runs alone after a stall (see thread-pool.cpp)
  std::chrono::steady_clock::time_point solo_until_;  // ... and until when at most
  int stall_streak_ = 0;  // stalls in a row: each doubles the next solo run
  int clean_jobs_ = 0;    // jobs on the workers without a stall since the last one
  // Written by run() before it publishes claim_, read only by a thread holding a claim.
  Parallel::Fn fn_ = nullptr;
  void* ctx_ = nullptr;
#endif
};

}  // namespace ember
