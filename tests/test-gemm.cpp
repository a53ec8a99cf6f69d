// SGEMM: every SIMD path against the scalar reference (sizes around tile and cache-block
// edges, all transposes, leading dimensions, alpha/beta, epilogues), thread-count
// independence, writes confined to C's window, and the reference against double precision.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "platform/gemm-driver.h"
#include "platform/thread-pool.h"
#include "tests/testing.h"

using namespace ember;
using ember::testing::available_kernels;
using ember::testing::random_vector;
using ember::testing::simd_kernels;

namespace {

// One problem: op(A), op(B) stored with padded leading dimensions, C inside a guarded
// buffer (pad rows above and below, ldc > n).
struct Problem {
  GemmArgs g;
  std::vector<float> a, b, c0;
  int pad = 0;  // guard rows before and after C

  Problem(int m, int n, int k, bool ta, bool tb, int extra_ld, uint64_t seed) {
    g.m = m, g.n = n, g.k = k;
    g.trans_a = ta, g.trans_b = tb;
    g.lda = (ta ? m : k) + extra_ld;
    g.ldb = (tb ? k : n) + extra_ld;
    g.ldc = n + extra_ld;
    if (g.lda < 1) g.lda = 1;
    if (g.ldb < 1) g.ldb = 1;
    if (g.ldc < 1) g.ldc = 1;
    a = random_vector(size_t(ta ? k : m) * g.lda + 1, seed);
    b = random_vector(size_t(tb ? n : k) * g.ldb + 1, seed + 1);
    pad = 1;
    c0 = random_vector(size_t(m + 2 * pad) * g.ldc, seed + 2);
    g.a = a.data();
    g.b = b.data();
  }

  // Runs `k` on a copy of the initial C; returns the whole guarded buffer.
  std::vector<float> run(const Kernels& k, const Parallel& par, const Epilogue& ep, float alpha,
                         float beta, bool nan_c = false) const {
    std::vector<float> c = c0;
    if (nan_c)
      for (int i = 0; i < g.m; ++i)
        for (int j = 0; j < g.n; ++j)
          c[size_t(i + pad) * g.ldc + j] = std::numeric_limits<float>::quiet_NaN();
    const testing::Scratch s(k.sgemm_scratch_floats(par.workers));  // 64-byte aligned
    GemmArgs h = g;
    h.alpha = alpha, h.beta = beta, h.ep = ep;
    h.c = c.data() + size_t(pad) * g.ldc;
    k.sgemm(h, par, s.p);
    return c;
  }
};

const Kernels& scalar_kernels() { return *kernels_for(Isa::scalar); }

// Compares the m x n window and checks everything outside it is untouched.
void check_same(const Problem& pr, const std::vector<float>& got, const std::vector<float>& want,
                const char* what) {
  const GemmArgs& g = pr.g;
  const float atol = 2e-6f * float(g.k + 1), rtol = 1e-4f;
  int bad = 0;
  for (size_t idx = 0; idx < got.size(); ++idx) {
    const long row = long(idx / g.ldc) - pr.pad, col = long(idx % g.ldc);
    const bool inside = row >= 0 && row < g.m && col < g.n;
    const bool ok = inside ? testing::close(got[idx], want[idx], rtol, atol)
                           : std::memcmp(&got[idx], &pr.c0[idx], sizeof(float)) == 0;
    if (!ok && bad++ < 3)
      FAIL_CHECK(what << " m=" << g.m << " n=" << g.n << " k=" << g.k << " ta=" << g.trans_a
                      << " tb=" << g.trans_b << " lda=" << g.lda << " ldb=" << g.ldb
                      << " ldc=" << g.ldc << (inside ? " at" : " outside C at") << " (" << row
                      << ", " << col << "): got " << got[idx] << " want " << want[idx]);
  }
  CHECK(bad == 0);
}

void check_against_scalar(const Problem& pr, const Epilogue& ep, float alpha, float beta,
                          bool nan_c = false) {
  const Parallel serial;
  const std::vector<float> want = pr.run(scalar_kernels(), serial, ep, alpha, beta, nan_c);
  for (const Kernels* k : simd_kernels()) {
    const std::vector<float> got = pr.run(*k, serial, ep, alpha, beta, nan_c);
    check_same(pr, got, want, k->name);
  }
}

// act (leaky slope 0.1) after a bias: none (mode 0), per column (1) or per row (2).
Epilogue epilogue(Act act, int mode, const std::vector<float>& bias) {
  Epilogue ep;
  ep.act = act;
  ep.slope = 0.1f;
  ep.bias = mode ? bias.data() : nullptr;
  ep.bias_per_row = mode == 2;
  return ep;
}

const int kSizes[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17,
                      19, 23, 29, 31, 32, 33, 37, 41, 47, 48, 49, 53, 59, 61, 64, 65, 67};
constexpr int kNumSizes = sizeof kSizes / sizeof kSizes[0];

}  // namespace

TEST_CASE("gemm: SIMD paths match the scalar reference over sizes 1..67 and all transposes") {
  // Every (m, n) pair from the sweep, with k cycling through it too, the transposes and a
  // padded leading dimension on every third problem.
  for (int im = 0; im < kNumSizes; ++im)
    for (int in = 0; in < kNumSizes; ++in) {
      const int k = kSizes[(im * 7 + in * 3) % kNumSizes];
      const int t = (im + in) % 4, extra = (im + 2 * in) % 3 == 0 ? 3 : 0;
      const Problem pr(kSizes[im], kSizes[in], k, t & 1, t & 2, extra, 100 + im * 131 + in);
      check_against_scalar(pr, Epilogue(), 1.0f, 0.0f);
    }
}

TEST_CASE("gemm: cache-block edges in K, N and M, all transposes") {
  struct Dims {
    int m, n, k;
  };
  // The blocks today: AVX-512 KC = 384, MC = 256, NC = 1024; AVX2 KC = 320, MC = 256,
  // NC = 960 (platform/x86/gemm-avx*.cpp). Each +-1, and 2 KC + 1 (three K chunks).
  const Dims dims[] = {{7, 33, 319},  {9, 17, 320},  {5, 31, 321},   {6, 16, 383},  {8, 32, 384},
                       {3, 47, 385},  {2, 5, 641},   {2, 5, 769},    {255, 9, 5},   {256, 7, 3},
                       {257, 5, 4},   {513, 3, 2},   {2, 959, 3},    {3, 960, 4},   {2, 961, 3},
                       {3, 1023, 2},  {2, 1024, 3},  {3, 1025, 4},   {1, 2049, 2},  {97, 35, 3},
                       {33, 520, 20}, {1, 1, 100000}};
  for (const Dims& d : dims)
    for (int t = 0; t < 4; ++t) {
      const Problem pr(d.m, d.n, d.k, t & 1, t & 2, t == 3 ? 1 : 0, 7 + d.m * d.n + t);
      check_against_scalar(pr, Epilogue(), 1.0f, 0.5f);
    }
}

TEST_CASE("gemm: alpha and beta; beta = 0 ignores NaN in C") {
  for (int t = 0; t < 4; ++t) {
    const Problem pr(13, 37, 19, t & 1, t & 2, 2, 55 + t);
    check_against_scalar(pr, Epilogue(), 1.0f, 0.0f, /*nan_c=*/true);
    check_against_scalar(pr, Epilogue(), -0.5f, 0.0f, /*nan_c=*/true);
    check_against_scalar(pr, Epilogue(), 1.0f, 1.0f);
    check_against_scalar(pr, Epilogue(), -0.5f, 0.25f);
    check_against_scalar(pr, Epilogue(), 2.0f, -1.0f);
  }
  // NaN in C with beta = 0 must not leak into any path's result.
  const Problem pr(9, 35, 600, false, false, 0, 3);  // two K chunks
  for (const Kernels* k : available_kernels()) {
    const std::vector<float> c = pr.run(*k, Parallel(), Epilogue(), 1.0f, 0.0f, true);
    for (float x : c) REQUIRE(!std::isnan(x));
  }
}

TEST_CASE("gemm: fused epilogue, bias per row and per column, every activation") {
  const Act acts[] = {Act::identity, Act::relu, Act::leaky_relu, Act::sigmoid, Act::tanh, Act::softplus};
  const std::vector<float> bias = random_vector(80, 9, -2.0f, 2.0f);
  for (Act act : acts)
    for (int mode = 0; mode < 3; ++mode) {
      const Epilogue ep = epilogue(act, mode, bias);
      const Problem pr(19, 41, 23, mode == 1, false, 1, 40 + int(act) * 3 + mode);
      check_against_scalar(pr, ep, 1.5f, 0.0f);
      check_against_scalar(pr, ep, 1.0f, 0.5f);
      const Problem deep(11, 70, 530, false, mode == 2, 0, 41 + int(act));  // epilogue after 2 chunks
      check_against_scalar(deep, ep, 1.0f, 1.0f);
    }
}

// Context::gemm sends a few rows times a transposed B (a Linear layer fed one sample) to the
// dot-product path (dot_rows, its own epilogue), not to the tiles: on every ISA it must agree
// with the reference, across its 64-column tasks, and leave everything outside C alone; with
// 2 threads it must give the bits of 1.
TEST_CASE("gemm: the few-row path (m <= 2, B transposed) matches the reference, epilogue included") {
  const Act acts[] = {Act::identity, Act::relu, Act::leaky_relu, Act::sigmoid, Act::tanh};
  const std::vector<float> bias = random_vector(200, 19, -2.0f, 2.0f);
  testing::ThreadedContext two(2);
  Context* one = nullptr;  // the 1-thread context of two's ISA
  for (Context* ctx : testing::isa_contexts())
    if (ctx->isa() == two.ctx.isa()) one = ctx;
  REQUIRE(one != nullptr);
  std::vector<Context*> contexts = testing::isa_contexts();
  contexts.push_back(&two.ctx);
  for (Context* ctx : contexts)
    for (int m : {1, 2})
      for (int n : {1, 5, 64, 65, 130})
        for (int k : {1, 7, 100, 400})
          for (Act act : acts)
            for (int mode = 0; mode < 3; ++mode) {
              const Epilogue ep = epilogue(act, mode, bias);
              const Problem pr(m, n, k, false, true, mode, 70 + n + k + mode);
              for (const bool overwrite : {true, false}) {
                const float alpha = overwrite ? 1.0f : -0.5f, beta = overwrite ? 0.0f : 0.25f;
                auto run = [&](Context* c) {
                  std::vector<float> got = pr.c0;
                  if (overwrite)
                    for (int i = 0; i < m; ++i)
                      for (int j = 0; j < n; ++j) got[size_t(i + pr.pad) * pr.g.ldc + j] = std::numeric_limits<float>::quiet_NaN();
                  GemmArgs h = pr.g;
                  h.alpha = alpha, h.beta = beta, h.ep = ep;
                  h.c = got.data() + size_t(pr.pad) * pr.g.ldc;
                  REQUIRE(c->gemm(h).is_ok());
                  return got;
                };
                const std::vector<float> want = pr.run(scalar_kernels(), Parallel(), ep, alpha, beta, overwrite);
                const std::vector<float> got = run(ctx);
                check_same(pr, got, want, isa_name(ctx->isa()));
                if (ctx == &two.ctx) {
                  const std::vector<float> serial = run(one);
                  CHECK(std::memcmp(got.data(), serial.data(), got.size() * sizeof(float)) == 0);
                }
              }
            }
}

TEST_CASE("gemm: k = 0 gives beta * C, then the epilogue") {
  const std::vector<float> bias = random_vector(40, 5);
  for (float beta : {0.0f, 1.0f, -2.0f})
    for (int mode = 0; mode < 2; ++mode) {
      Epilogue ep;
      ep.bias = mode ? bias.data() : nullptr;
      ep.act = mode ? Act::sigmoid : Act::identity;
      const Problem pr(7, 21, 0, false, false, 2, 77);
      check_against_scalar(pr, ep, 1.0f, beta, beta == 0.0f);
    }
}

TEST_CASE("gemm: 1, 2 and 3 threads give bit-identical results") {
  struct Dims {
    int m, n, k;
    bool ta;
  };
  // Splits along M, along N, both (3 threads), several MC / NC blocks per task, K chunks.
  const Dims dims[] = {{100, 300, 70, false}, {64, 520, 40, false},  {300, 50, 20, true},
                       {37, 29, 800, false},  {8, 16, 5, false},     {130, 130, 130, true},
                       {530, 40, 9, false},   {20, 2100, 7, false}};
  Epilogue ep;
  const std::vector<float> bias = random_vector(2200, 11);  // >= the widest n below
  ep.bias = bias.data();
  ep.act = Act::relu;
  for (const Kernels* k : available_kernels())
    for (const Dims& d : dims) {
      const Problem pr(d.m, d.n, d.k, d.ta, false, 1, 500 + d.m);
      const std::vector<float> one = pr.run(*k, Parallel(), ep, 0.5f, 0.25f);
      for (int threads : {2, 3}) {
        ThreadPool pool;
        REQUIRE(pool.start(threads).is_ok());
        for (int rep = 0; rep < 2; ++rep) {
          const std::vector<float> many = pr.run(*k, pool.parallel(), ep, 0.5f, 0.25f);
          CHECK_MESSAGE(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0,
                        k->name << " " << d.m << "x" << d.n << "x" << d.k << " threads=" << threads);
        }
      }
    }
}

TEST_CASE("gemm: a wide B^T runs swapped (C^T = B A^T, then transposed) with the same bits") {
  // B [N, K] transposed, A [M, K], beta 0 and N K > M K + M N: the driver computes C^T into
  // its scratch and transposes it (gemm-driver.h, swap_pays); pack_a keeps the plain order.
  // The same bits both ways, bias per column or per row, a fused and a late activation, 1-3
  // threads; near the scalar reference; nothing written outside C's window.
  struct Dims {
    int m, n, k;
  };
  const Dims dims[] = {{16, 67, 67}, {24, 300, 129}, {64, 128, 700}, {17, 1000, 50}, {128, 784, 400}};
  const std::vector<float> bias = random_vector(1000, 13);
  ThreadPool pool2, pool3;
  REQUIRE(pool2.start(2).is_ok());
  REQUIRE(pool3.start(3).is_ok());
  for (const Kernels* k : simd_kernels())
    for (const Dims& d : dims)
      for (int mode : {1, 2})
        for (Act act : {Act::relu, Act::sigmoid}) {
          Problem pr(d.m, d.n, d.k, false, true, 3, 700 + d.n + mode);
          const Epilogue ep = epilogue(act, mode, bias);
          pr.g.pack_a = true;
          const std::vector<float> plain = pr.run(*k, Parallel(), ep, 1.5f, 0.0f);
          pr.g.pack_a = false;
          for (int threads : {1, 2, 3}) {
            const Parallel par = threads == 1 ? Parallel() : threads == 2 ? pool2.parallel() : pool3.parallel();
            const std::vector<float> swapped = pr.run(*k, par, ep, 1.5f, 0.0f);
            CHECK_MESSAGE(std::memcmp(plain.data(), swapped.data(), plain.size() * sizeof(float)) == 0,
                          k->name << " " << d.m << "x" << d.n << "x" << d.k << " bias mode " << mode
                                  << " threads=" << threads);
          }
          check_same(pr, plain, pr.run(scalar_kernels(), Parallel(), ep, 1.5f, 0.0f), k->name);
        }
}

TEST_CASE("gemm: the scalar reference agrees with double precision") {
  for (int t = 0; t < 4; ++t) {
    const Problem pr(23, 31, 47, t & 1, t & 2, 1, 900 + t);
    const GemmArgs& g = pr.g;
    const std::vector<float> got = pr.run(scalar_kernels(), Parallel(), Epilogue(), -0.5f, 0.75f);
    for (int i = 0; i < g.m; ++i)
      for (int j = 0; j < g.n; ++j) {
        double s = 0.0;
        for (int p = 0; p < g.k; ++p) {
          const double a = g.trans_a ? g.a[size_t(p) * g.lda + i] : g.a[size_t(i) * g.lda + p];
          const double b = g.trans_b ? g.b[size_t(j) * g.ldb + p] : g.b[size_t(p) * g.ldb + j];
          s += a * b;
        }
        const size_t idx = size_t(i + pr.pad) * g.ldc + j;
        const double want = -0.5 * s + 0.75 * double(pr.c0[idx]);
        REQUIRE(std::fabs(got[idx] - want) <= 1e-5 * (1.0 + std::fabs(want)) + 1e-6 * g.k);
      }
  }
}

TEST_CASE("gemm: blocks from the cache sizes, never above the ISA's largest") {
  using platform::CacheSizes;
  // AVX-512's blocks: KC = 384, MR = 8, MC = 256, NR = 32, NC = 1024.
  const auto blocks = [](size_t l2, size_t l3) {
    CacheSizes c;
    c.l2 = l2, c.l3 = l3;
    return gemm::blocks_for(c, 384, 8, 256, 32, 1024);
  };
  const GemmBlocks zen4 = blocks(1 << 20, 4 << 20);  // 1 MB L2, 32 MB L3 over 8 cores
  CHECK(zen4.kc == 384);
  CHECK(zen4.mc == 256);
  CHECK(zen4.nc == 1024);
  const GemmBlocks small = blocks(256 << 10, 1 << 20);  // 256 KB L2, 1 MB of L3 per core
  CHECK(small.mc == 80);    // 128 KB / (384 * 4 B) = 85 rows, down to a multiple of 8
  CHECK(small.nc == 672);   // 1 MB / (384 * 4 B) = 682 columns, down to a multiple of 32
  const GemmBlocks tiny = blocks(4 << 10, 1 << 10);  // below one micro-tile: one tile
  CHECK(tiny.mc == 8);
  CHECK(tiny.nc == 32);
  const GemmBlocks unknown = blocks(0, 0);
  CHECK(unknown.mc == 256);
  CHECK(unknown.nc == 1024);
  for (const Kernels* k : simd_kernels()) {  // what this CPU got: within the ISA's largest
    CHECK(k->sgemm_blocks.kc > 0);
    CHECK(k->sgemm_blocks.mc > 0);
    CHECK(k->sgemm_blocks.nc > 0);
    CHECK(k->sgemm_blocks.mc <= 256);
    CHECK(k->sgemm_blocks.nc <= 1024);
  }
}

TEST_CASE("gemm: results do not depend on the M and N blocks, nor on A packed or read in place") {
  struct Dims {
    int m, n, k;
    bool ta, tb;
  };
  // Several blocks each way at the smallest blocks; K over one chunk in the last two. The
  // last: a whole KC chunk of B wider than the B block a packed A leaves on x86 (the A block
  // sits at its end there), so packing A must narrow B's blocks.
  const Dims dims[] = {{61, 97, 33, false, false}, {300, 70, 20, true, false},
                       {45, 530, 9, false, true},  {70, 90, 800, true, true},
                       {40, 1000, 384, false, false}};
  const int blocks[][2] = {{1, 1}, {17, 40}, {100, 300}, {1 << 20, 1 << 20}};
  Epilogue ep;
  const std::vector<float> bias = random_vector(600, 3);
  ep.bias = bias.data();
  ep.act = Act::leaky_relu, ep.slope = 0.1f;
  ThreadPool pool;
  REQUIRE(pool.start(2).is_ok());
  for (const Kernels* k : simd_kernels())
    for (const Dims& d : dims) {
      Problem pr(d.m, d.n, d.k, d.ta, d.tb, 2, 900 + d.n);
      const std::vector<float> want = pr.run(*k, Parallel(), ep, 1.5f, 0.5f);
      for (const auto& b : blocks)
        for (int threads : {1, 2})
          for (bool pack_a : {false, true}) {
            pr.g.mc = b[0], pr.g.nc = b[1], pr.g.pack_a = pack_a;
            const std::vector<float> got = pr.run(*k, threads == 1 ? Parallel() : pool.parallel(), ep, 1.5f, 0.5f);
            CHECK_MESSAGE(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0,
                          k->name << " " << d.m << "x" << d.n << "x" << d.k << " mc=" << b[0] << " nc=" << b[1]
                                  << " threads=" << threads << " pack_a=" << pack_a);
          }
    }
}
