// ThreadPool: worker threads started once, then handed small jobs with no allocation.
//
// start(n) creates n - 1 std::threads (the caller is worker 0), which is the only moment
// the pool touches the heap. run() publishes a job by bumping a generation counter; tasks
// are taken from an atomic counter, so the split is dynamic, but each task writes only its
// own output, which keeps results independent of which worker ran it. Idle workers spin
// briefly (jobs in a training step come back-to-back) and then sleep on a condition
// variable, so an idle pool costs no CPU.
//
// Built with EMBER_NO_THREADS (microcontrollers), the pool is a shell: one worker, run()
// executes on the caller, and <thread> is never included.
#pragma once
#include "core/kernels.h"
#include "core/status.h"

#ifndef EMBER_NO_THREADS
#include <atomic>
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

  // Runs fn(ctx, task, worker) for task in [0, tasks); returns when all are done.
  void run(Parallel::Fn fn, void* ctx, int tasks);
  Parallel parallel();

 private:
  int threads_ = 1;
#ifndef EMBER_NO_THREADS
  void worker_main(int index);

  std::thread workers_[kMaxThreads];
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<int> busy_{0};  // workers (other than the caller) still in the current job
  std::atomic<int> next_task_{0};
  std::atomic<bool> stopping_{false};
  Parallel::Fn fn_ = nullptr;
  void* ctx_ = nullptr;
  int tasks_ = 0;
#endif
};

}  // namespace ember
