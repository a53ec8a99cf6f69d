// ember-bench gemm: the GEMM shapes g1..g5 of ../shared/bench/WORKLOADS.md, measured the
// way peers/gemm_openblas.c measures OpenBLAS (20 warm-up calls, then the median of the
// timed calls, beta = 0, uniform inputs in [-0.5, 0.5), g3 with A stored transposed), so
// the two JSON files divide key by key.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/arena.h"
#include "platform/context.h"
#include "core/rng.h"
#include "examples/bench/bench.h"

namespace ember::bench {
namespace {

struct Shape {
  const char* id;
  int m, n, k;
  bool trans_a;
};

const Shape kShapes[] = {
    {"g1", 128, 400, 784, false}, {"g2", 128, 784, 400, false}, {"g3", 784, 400, 128, true},
    {"g4", 64, 1024, 1024, false}, {"g5", 1024, 1024, 1024, false},
};
constexpr int kWarmup = 20;

int usage(FILE* out) {
  std::fprintf(out,
               "usage: ember-bench gemm [--threads N] [--isa X] [--json FILE] [--calls N]\n"
               "  --threads N  worker threads, one count per run (default 1; 0 = one per core)\n"
               "  --isa X      scalar | avx2 | avx512 | neon (default: EMBER_ISA, else the best)\n"
               "  --json FILE  also write {\"isa\": .., \"threads\": N, \"g1\": GFLOP/s, ...}\n"
               "  --calls N    timed calls per shape after %d warm-up calls (default 100, >= 50)\n",
               kWarmup);
  return out == stdout ? 0 : 2;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int gemm_main(int argc, char** argv) {
  int threads = 1, calls = 100;
  const char* isa = nullptr;
  const char* json = nullptr;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) return usage(stdout);
    if (!std::strcmp(argv[i], "--threads") && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--isa") && has_value) {
      isa = argv[++i];
    } else if (!std::strcmp(argv[i], "--json") && has_value) {
      json = argv[++i];
    } else if (!std::strcmp(argv[i], "--calls") && has_value) {
      calls = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "ember-bench gemm: unexpected argument '%s'\n", argv[i]);
      return usage(stderr);
    }
  }
  if (calls < 50) {
    std::fprintf(stderr, "ember-bench gemm: --calls must be >= 50\n");
    return 2;
  }

  // One buffer for everything: the largest shape's A, B, C plus the GEMM scratch.
  size_t floats = 0;
  for (const Shape& s : kShapes)
    floats = std::max(floats, size_t(s.m) * s.k + size_t(s.k) * s.n + size_t(s.m) * s.n);
  Context::Options opt;
  opt.threads = threads;
  opt.isa = isa;
  size_t scratch = 0;
  Status st = Context::bytes_needed(opt, &scratch);
  if (!st.is_ok()) {
    std::fprintf(stderr, "ember-bench gemm: %s\n", st.message());
    return 1;
  }
  const size_t bytes = floats * sizeof(float) + scratch + 8 * Arena::kAlign;
  std::vector<unsigned char> buffer(bytes);
  Arena arena(buffer.data(), buffer.size());

  Context ctx;
  st = ctx.init(&arena, opt);
  if (!st.is_ok()) {
    std::fprintf(stderr, "ember-bench gemm: %s\n", st.message());
    return 1;
  }
  const size_t mark = arena.mark();

  FILE* js = nullptr;
  if (json && !(js = std::fopen(json, "w"))) {
    std::fprintf(stderr, "ember-bench gemm: cannot write %s\n", json);
    return 1;
  }
  const GemmBlocks& blocks = ctx.k().sgemm_blocks;  // chosen from this CPU's caches
  std::printf("# ember %s, %d thread%s, %d calls, blocks kc=%d mc=%d nc=%d\n", isa_name(ctx.isa()),
              ctx.threads(), ctx.threads() == 1 ? "" : "s", calls, blocks.kc, blocks.mc, blocks.nc);
  std::printf("%-4s %5s %5s %5s %7s %10s %10s %8s\n", "id", "M", "N", "K", "threads", "GFLOP/s",
              "best", "spread");
  if (js)
    std::fprintf(js, "{\"isa\": \"%s\", \"threads\": %d, \"kc\": %d, \"mc\": %d, \"nc\": %d", isa_name(ctx.isa()),
                 ctx.threads(), blocks.kc, blocks.mc, blocks.nc);

  std::vector<double> sec(calls);
  Rng rng(42);
  for (const Shape& s : kShapes) {
    arena.rewind(mark);
    float *a = nullptr, *b = nullptr, *c = nullptr;
    const size_t na = size_t(s.m) * s.k, nb = size_t(s.k) * s.n, nc = size_t(s.m) * s.n;
    st = arena.alloc_array(na, &a);
    if (st.is_ok()) st = arena.alloc_array(nb, &b);
    if (st.is_ok()) st = arena.alloc_array(nc, &c);
    if (!st.is_ok()) {
      std::fprintf(stderr, "ember-bench gemm: %s\n", st.message());
      return 1;
    }
    rng.fill_uniform(a, na, -0.5f, 0.5f);
    rng.fill_uniform(b, nb, -0.5f, 0.5f);
    rng.fill_uniform(c, nc, -0.5f, 0.5f);

    GemmArgs g;
    g.trans_a = s.trans_a;
    g.m = s.m, g.n = s.n, g.k = s.k;
    g.a = a, g.lda = s.trans_a ? s.m : s.k;
    g.b = b, g.ldb = s.n;
    g.c = c, g.ldc = s.n;
    g.alpha = 1.0f, g.beta = 0.0f;
    for (int i = 0; i < kWarmup + calls; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      st = ctx.gemm(g);
      if (i >= kWarmup) sec[i - kWarmup] = seconds_since(t0);
      if (!st.is_ok()) {
        std::fprintf(stderr, "ember-bench gemm: %s\n", st.message());
        return 1;
      }
    }
    std::sort(sec.begin(), sec.end());
    const double flop = 2.0 * s.m * s.n * s.k, med = sec[calls / 2];
    const double spread = (sec[calls * 9 / 10] - sec[calls / 10]) / med;  // (p90 - p10) / median
    std::printf("%-4s %5d %5d %5d %7d %10.1f %10.1f %7.0f%%\n", s.id, s.m, s.n, s.k, ctx.threads(),
                flop / med / 1e9, flop / sec[0] / 1e9, 100 * spread);
    std::fflush(stdout);
    if (js) std::fprintf(js, ", \"%s\": %.2f", s.id, flop / med / 1e9);
  }
  if (js) {
    std::fprintf(js, "}\n");
    std::fclose(js);
  }
  return 0;
}

}  // namespace ember::bench
