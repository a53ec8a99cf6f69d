// ThreadPool and Context: every task runs exactly once, worker indices stay in range, jobs
// can follow each other back to back, and Context picks/validates kernels and scratch.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <chrono>
#include <initializer_list>
#include <thread>
#include <string>
#include <vector>

#include "platform/context.h"
#include "core/rng.h"
#include "platform/thread-pool.h"

using namespace ember;

namespace {

struct Job {
  std::vector<std::atomic<int>>* runs;
  std::atomic<int>* bad_worker;
  int workers;
};

void count_task(void* ctx, int task, int worker) {
  Job* job = static_cast<Job*>(ctx);
  (*job->runs)[task].fetch_add(1);
  if (worker < 0 || worker >= job->workers) job->bad_worker->fetch_add(1);
}

}  // namespace

TEST_CASE("thread pool: each task runs once on a valid worker, many jobs in a row") {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool;
    REQUIRE(pool.start(threads).is_ok());
#ifdef EMBER_NO_THREADS
    CHECK(pool.threads() == 1);
#else
    CHECK(pool.threads() == threads);
#endif
    for (int tasks : {0, 1, 2, 3, 7, 64, 1000}) {
      for (int repeat = 0; repeat < 20; ++repeat) {
        std::vector<std::atomic<int>> runs(static_cast<size_t>(tasks));
        std::atomic<int> bad{0};
        Job job{&runs, &bad, pool.threads()};
        pool.parallel().for_each(count_task, &job, tasks);
        int wrong = 0;
        for (auto& r : runs) wrong += r.load() != 1;
        CHECK(wrong == 0);
        CHECK(bad.load() == 0);
      }
    }
  }
}

TEST_CASE("thread pool: restart, stop twice, and an idle pool that wakes up again") {
  ThreadPool pool;
  REQUIRE(pool.start(2).is_ok());
  REQUIRE(pool.start(3).is_ok());  // restarting stops the old workers first
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let workers fall asleep
  std::vector<std::atomic<int>> runs(16);
  std::atomic<int> bad{0};
  Job job{&runs, &bad, pool.threads()};
  pool.run(count_task, &job, 16);
  for (auto& r : runs) CHECK(r.load() == 1);
  pool.stop();
  pool.stop();
  CHECK(pool.threads() == 1);
  CHECK(pool.start(ThreadPool::kMaxThreads + 1).code() == Code::invalid_argument);
  CHECK(ThreadPool::hardware_threads() >= 1);
}

#ifndef EMBER_NO_THREADS
// Tasks that sleep: caller_ms on the caller (worker 0), worker_ms on a worker (a worker that
// lost its core, or woke slowly), counting the tasks the workers took.
struct Sleeps {
  int caller_ms, worker_ms;
  std::atomic<int> on_workers{0};
};
void sleep_task(void* ctx, int, int worker) {
  Sleeps& s = *static_cast<Sleeps*>(ctx);
  if (worker != 0) s.on_workers.fetch_add(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(worker == 0 ? s.caller_ms : s.worker_ms));
}

TEST_CASE("thread pool: a worker that loses its core mid-task makes the next jobs run on the caller") {
  // A task on a worker that sleeps 40 ms stands for a worker another process preempted: the
  // caller, done with its own share at once, waits far longer than its share took. The
  // caller's tasks take 1 ms each (time for the worker to wake and claim one).
  ThreadPool pool;
  REQUIRE(pool.start(2).is_ok());
  Sleeps stall{1, 40};
  // Until a job stalls: a worker takes a task, and was not asleep when the job came (that
  // wait is a wake-up, not counted; the next test).
  auto stall_once = [&] {
    const uint64_t before = pool.stats().stalls;
    for (int tries = 0; tries < 300 && pool.stats().stalls == before; ++tries) pool.run(sleep_task, &stall, 8);
    REQUIRE(pool.stats().stalls > before);
  };
  // The next `jobs` jobs: every task on the caller (worker 0), and all of them run once.
  auto all_on_caller = [&](int jobs) {
    int on_workers = 0;
    for (int job = 0; job < jobs; ++job) {
      std::vector<std::atomic<int>> runs(32);
      std::atomic<int> bad{0};
      Job count{&runs, &bad, 1};  // any worker but 0 counts as bad
      pool.run(count_task, &count, 32);
      for (auto& r : runs) CHECK(r.load() == 1);
      on_workers += bad.load() > 0;
    }
    return on_workers;
  };
  const ThreadPool::Stats start = pool.stats();
  stall_once();
  REQUIRE(stall.on_workers.load() > 0);  // a worker did take a task
  CHECK(all_on_caller(64) == 0);
  // The stats count the stall and the 64 jobs it sent to the caller alone.
  const ThreadPool::Stats one = pool.stats();
  CHECK(one.stalls == start.stalls + 1);
  CHECK(one.solo == start.solo + 64);
  CHECK(one.jobs >= start.jobs + 65);
  // A second stall right after (another process still has the core): twice as many jobs run
  // on the caller alone before the workers are tried again.
  stall_once();
  CHECK(all_on_caller(128) == 0);
  CHECK(pool.stats().stalls == one.stalls + 1);
  CHECK(pool.stats().solo == one.solo + 128);
}

TEST_CASE("thread pool: the caller runs alone for a limited time after a stall, not only a number of jobs") {
  // Jobs of a millisecond or more (a DCGAN's convolutions) made 64 solo jobs a long spell on
  // one thread; after kSoloTimeAfterStall (16 ms for a first stall) the workers are tried again.
  ThreadPool pool;
  REQUIRE(pool.start(2).is_ok());
  Sleeps stall{1, 40};
  for (int tries = 0; tries < 300 && pool.stats().stalls == 0; ++tries) pool.run(sleep_task, &stall, 8);
  REQUIRE(pool.stats().stalls == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the solo time passes
  const uint64_t solo = pool.stats().solo;
  std::vector<std::atomic<int>> runs(4);
  std::atomic<int> bad{0};
  Job job{&runs, &bad, pool.threads()};
  pool.run(count_task, &job, 4);
  for (auto& r : runs) CHECK(r.load() == 1);
  CHECK(pool.stats().solo == solo);  // 63 of the 64 solo jobs were left: the time ended them
}

TEST_CASE("thread pool: the wait for a worker woken from sleep is not a stall") {
  // The workers fall asleep while the pool is idle; the next job wakes them. Its worker's task
  // takes longer than the caller's (20 against 60 ms: a slow wake-up), which on a worker that
  // was awake would count as a stall and send the next jobs to the caller alone.
  ThreadPool pool;
  REQUIRE(pool.start(2).is_ok());
  Sleeps slow{20, 60};
  for (int tries = 0; tries < 20 && slow.on_workers.load() == 0; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // spin over: the worker sleeps
    pool.run(sleep_task, &slow, 2);
  }
  REQUIRE(slow.on_workers.load() > 0);  // the woken worker took its task and the caller waited for it
  CHECK(pool.stats().stalls == 0);
  CHECK(pool.stats().solo == 0);
  CHECK(pool.stats().woke >= 1);
}
#endif

TEST_CASE("context: picks a table, takes scratch from the arena, validates GEMM arguments") {
  alignas(64) static unsigned char buffer[8 << 20];
  Arena arena(buffer, sizeof buffer);
  Context ctx;
  Context::Options opt;
  opt.threads = 2;
  opt.isa = "scalar";
  REQUIRE(ctx.init(&arena, opt).is_ok());
  CHECK(ctx.isa() == Isa::scalar);
  CHECK(arena.used() == Arena::rounded(Context::scratch_bytes(ctx.k(), ctx.threads())));
  size_t dry = 0;
  REQUIRE(Context::bytes_needed(opt, &dry).is_ok());
  CHECK(dry == arena.used());  // the dry run decides exactly as init() does
  for (int threads : {0, 1, 3}) {
    Context::Options best;
    best.threads = threads;
    Arena fresh(buffer + arena.used(), sizeof buffer - arena.used());
    Context other;
    REQUIRE(Context::bytes_needed(best, &dry).is_ok());
    REQUIRE(other.init(&fresh, best).is_ok());
    CHECK(dry == fresh.used());
  }
  Context::Options unknown;
  unknown.isa = "sse9";
  CHECK(Context::bytes_needed(unknown, &dry).code() == Code::invalid_argument);

  float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1}, c[4];
  GemmArgs g;
  g.m = 2, g.n = 2, g.k = 3, g.a = a, g.lda = 3, g.b = b, g.ldb = 2, g.c = c, g.ldc = 2;
  REQUIRE(ctx.gemm(g).is_ok());
  CHECK(c[0] == 4.0f);  // [1 2 3] . [1 0 1]
  CHECK(c[1] == 5.0f);  // [1 2 3] . [0 1 1]
  CHECK(c[2] == 10.0f);
  CHECK(c[3] == 11.0f);

  GemmArgs bad = g;
  bad.lda = 2;
  Status s = ctx.gemm(bad);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(std::string(s.message()).find("lda=2") != std::string::npos);
  bad = g, bad.m = -1;
  CHECK(ctx.gemm(bad).code() == Code::invalid_argument);
  bad = g, bad.c = nullptr;
  CHECK(ctx.gemm(bad).code() == Code::invalid_argument);
  bad = g, bad.trans_b = true;  // B^T is n x k = 2 x 3: ldb 2 < 3
  CHECK(ctx.gemm(bad).code() == Code::invalid_argument);

  Context other;
  opt.isa = "sse9";
  CHECK(other.init(&arena, opt).code() == Code::invalid_argument);
  Context uninitialised;
  CHECK(uninitialised.gemm(g).code() == Code::invalid_argument);
}

TEST_CASE("context: an arena too small for the GEMM scratch is a clear error") {
  const Kernels* best = kernels_for(best_isa());
  REQUIRE(best != nullptr);
  if (Context::scratch_bytes(*best, 1) == 0) return;  // this ISA packs nothing
  alignas(64) static unsigned char tiny[256];
  Arena arena(tiny, sizeof tiny);
  Context ctx;
  Context::Options opt;
  opt.threads = 1;
  opt.isa = isa_name(best_isa());
  Status s = ctx.init(&arena, opt);
  CHECK(s.code() == Code::out_of_memory);
  CHECK(std::string(s.message()).find("asked for") != std::string::npos);
  CHECK(arena.used() == 0);
}

TEST_CASE("dispatch: names round-trip, scalar always there, EMBER_ISA is honoured") {
  for (int i = 0; i < kIsaCount; ++i) {
    Isa parsed;
    REQUIRE(parse_isa(isa_name(static_cast<Isa>(i)), &parsed));
    CHECK(parsed == static_cast<Isa>(i));
  }
  Isa x;
  CHECK(!parse_isa("avx3", &x));
  CHECK(!parse_isa(nullptr, &x));
  REQUIRE(kernels_for(Isa::scalar) != nullptr);
  CHECK(kernels_for(best_isa()) != nullptr);
  MESSAGE("best ISA here: " << std::string(isa_name(best_isa())));
#if defined(__x86_64__)
  CHECK(kernels_for(Isa::neon) == nullptr);
  CHECK(kernels_for(Isa::simd128) == nullptr);
#endif
  const char* why = nullptr;
  setenv("EMBER_ISA", "scalar", 1);
  CHECK(select_kernels(&why) == kernels_for(Isa::scalar));
  setenv("EMBER_ISA", "bogus", 1);
  CHECK(select_kernels(&why) == nullptr);
  CHECK(std::string(why).find("EMBER_ISA must be one of") != std::string::npos);
  unsetenv("EMBER_ISA");
  CHECK(select_kernels(&why) == kernels_for(best_isa()));
}
