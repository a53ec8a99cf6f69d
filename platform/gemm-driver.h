// The portable SGEMM driver (Goto/BLIS layout) that every SIMD micro-kernel plugs into.
//
// An ISA provides a traits type K with
//   MR, NR       the micro-tile (rows of C x columns of C); NR a multiple of W
//   W            floats per vector (packed B panels are zero-padded to a multiple of W)
//   KC, MC, NC   cache blocks (see below; MC a multiple of MR, NC of NR). KC is used as it
//                is; MC and NC are the largest blocks, which size the scratch: the driver
//                shrinks them to the CPU's caches (blocks_for below).
//   ukernel(kc, a, b, c, ldc, rows, cols, params)
//                C[rows x cols] (rows <= MR, cols <= NR) = epilogue(packed A panel x packed
//                B panel); it must accumulate each element in one chain, p = 0, 1, ...,
//                whatever rows/cols are, so that results do not depend on the tiling.
//   pack_t(dst, src, ld, rows, kc, width)
//                dst[p * width + i] = src[i * ld + p] for i < rows, p < kc: the transposing
//                pack (op(A) not transposed, or op(B) transposed).
//   pack_n(dst, src, ld, cols, padded, kc, width)
//                dst[p * width + j] = src[p * ld + j] for j < cols, 0 for cols <= j < padded:
//                the copying pack (op(A) transposed, op(B) not transposed).
//   ukernel_rows(kc, a, lda, b, c, ldc, rows, cols, params)    (optional)
//   ukernel_cols(kc, a, lda, b, c, ldc, rows, cols, params)    (optional)
//                the same tile with A read in place: rows a[r * lda + p] (op(A) not
//                transposed), columns a[p * lda + r] (transposed). With them A is never
//                packed. Same products in the same order as from a packed panel.
//   ukernel_rows_b, ukernel_cols_b(kc, a, lda, b, ldb, c, ldc, rows, cols, params) (optional)
//                the same with op(B) (not transposed) read in place too, b[p * ldb + j],
//                when its rows spread over the L1 sets (b_rows_spread below). Reading in
//                place saves writing and re-reading a packed copy; it measured faster than
//                packing for A on every shape tried, for B where its rows spread
//                (docs/lab-notes.md).
// (pack_transpose_portable / pack_copy_portable below serve an ISA without faster ones.)
// and instantiates Driver<K>. Everything here is a template on K, so two ISAs' copies
// (compiled with different -m flags) never share a symbol the linker could mix up.
//
// Blocks from the caches: KC never changes with the machine, as it sets the order of each
// C element's sums (same ISA, same results); the A block (mc x KC) is kept within half the
// L2, the B block (KC x nc) within this core's share of the L3, and neither goes above the
// ISA's MC and NC. So the blocks tuned on a 1 MB-L2 core hold there and shrink on a core
// with a 256 KB L2 or a small L3, and the scratch is the same size on every machine.
//
// Loops (one task = one block of C), BLIS's order:
//   jc over the task's columns in NC blocks
//     pc over K in KC chunks (the same chunks for every task: the sum order of a C element
//        never depends on the split)
//       pack B[pc, jc] (KC x NC, NR-column panels) into this worker's scratch     -> L3
//       ic over the task's rows in MC blocks
//         pack A[ic, pc] (MC x KC, MR-row panels; skipped when A is read in place) -> L2
//         jr over the NC block in NR panels
//           ir over the MC block in MR panels: ukernel     (B panel reused from L1/L2)
// Each packed B panel is used by all MC / MR A panels before the next one is touched; the
// A block is swept once per B panel from L2. When the task's rows are one MC block (a batch
// of 64..256), B is packed panel by panel just before its A panels instead, into one slot
// that is still in L1 / L2 when read. Tiles of a C too large to stay in L2 between K chunks
// ask for their lines before the k loop (TileParams::prefetch_c).
//
// Threads: C is cut into a grid of tm x tn tasks (along M and N, never K). Each task packs
// what it needs in its own worker's scratch: no barriers (a fork-join is a sizeable share of
// a small GEMM's time), at the price of packing A again for each column slab
// and B again for each row slab; the split is chosen to keep that redundant packing small
// (small M: split N, so B is packed once; small N: split M).
#pragma once
#include <cstddef>
#include <type_traits>

#include "core/kernels.h"
#include "platform/dispatch.h"
#include "platform/scalar/scalar.h"

namespace ember::gemm {

// `want` rounded down to whole units, at least one unit and at most `most` (a multiple of
// unit): a block of micro-tiles.
inline int whole_units(size_t want, int unit, int most) {
  const size_t units = want / static_cast<size_t>(unit);
  return units < 1 ? unit : units * unit < static_cast<size_t>(most) ? static_cast<int>(units) * unit : most;
}

// mc and nc for caches `c` (see above); a size of 0 (unknown) keeps mc_max / nc_max.
inline GemmBlocks blocks_for(const platform::CacheSizes& c, int kc, int mr, int mc_max, int nr,
                             int nc_max) {
  const size_t panel_bytes = static_cast<size_t>(kc) * sizeof(float);  // one row or column of a block
  GemmBlocks b;
  b.kc = kc;
  b.mc = c.l2 ? whole_units(c.l2 / 2 / panel_bytes, mr, mc_max) : mc_max;
  b.nc = c.l3 ? whole_units(c.l3 / panel_bytes, nr, nc_max) : nc_max;
  return b;
}

// What the micro-kernel applies when it writes a tile:
//   C = act(alpha * AB + beta * C + bias), C read only when beta != 0.
// bias is already offset to the tile (bias[j] per column, bias[i] per row) or null; act is
// identity, relu or leaky_relu (the driver applies the costly ones afterwards).
struct TileParams {
  float alpha = 1.0f;
  float beta = 0.0f;
  const float* bias = nullptr;
  bool bias_per_row = false;
  Act act = Act::identity;
  float slope = 0.0f;
  // C's tile has left the L2 since the last K chunk wrote it: the tile asks for its lines
  // before the k loop (read after it, beta != 0), so they arrive while the loop runs.
  bool prefetch_c = false;
};

// The transposing pack in plain C++ (8 x 8 blocks keep both sides' cache lines in use);
// templated on K so each ISA compiles its own copy.
template <class K>
void pack_transpose_portable(float* dst, const float* src, size_t ld, int rows, int kc, int width) {
  for (int p0 = 0; p0 < kc; p0 += 8) {
    const int pe = p0 + 8 < kc ? p0 + 8 : kc;
    for (int i = 0; i < rows; ++i) {
      const float* s = src + static_cast<size_t>(i) * ld;
      for (int p = p0; p < pe; ++p) dst[static_cast<size_t>(p) * width + i] = s[p];
    }
  }
}

template <class K>
void pack_copy_portable(float* dst, const float* src, size_t ld, int cols, int padded, int kc, int width) {
  for (int p = 0; p < kc; ++p) {
    float* d = dst + static_cast<size_t>(p) * width;
    const float* s = src + static_cast<size_t>(p) * ld;
    for (int j = 0; j < cols; ++j) d[j] = s[j];
    for (int j = cols; j < padded; ++j) d[j] = 0.0f;
  }
}

// Whether traits K have the optional ukernel_rows / ukernel_cols.
template <class K, class = void>
struct HasRowsKernel : std::false_type {};
template <class K>
struct HasRowsKernel<K, std::void_t<decltype(&K::ukernel_rows)>> : std::true_type {};
template <class K, class = void>
struct HasColsKernel : std::false_type {};
template <class K>
struct HasColsKernel<K, std::void_t<decltype(&K::ukernel_cols)>> : std::true_type {};
template <class K, class = void>
struct HasBRowsKernel : std::false_type {};
template <class K>
struct HasBRowsKernel<K, std::void_t<decltype(&K::ukernel_rows_b), decltype(&K::ukernel_cols_b)>> : std::true_type {};

template <class K>
class Driver {
 public:
  static constexpr int MR = K::MR, NR = K::NR, W = K::W, KC = K::KC, MC = K::MC, NC = K::NC;
  static_assert(NR % W == 0 && NC % NR == 0 && MC % MR == 0 && (KC * NR) % 16 == 0,
                "blocks must keep 64-byte alignment");

  // Per worker: one B block (KC x NC) and one A block (MC x KC), both 64-byte aligned. An ISA
  // whose tiles read A in place in both layouts packs A only under GemmArgs::pack_a; its
  // workers have no A block of their own, and a packed A then takes the end of the B block,
  // the B block's width capped to what is left (kPackedANc; results do not depend on nc).
  static constexpr bool kAInPlace = HasRowsKernel<K>::value && HasColsKernel<K>::value;
  static constexpr size_t kBlockFloats = static_cast<size_t>(KC) * NC;
  static constexpr size_t kPanelFloats = (static_cast<size_t>(MC) * KC + 15) / 16 * 16;
  static constexpr size_t kWorkerFloats = kBlockFloats + (kAInPlace ? 0 : kPanelFloats);
  static constexpr int kPackedANc = kAInPlace ? static_cast<int>((kBlockFloats - kPanelFloats) / KC) / NR * NR : NC;
  static_assert(kPackedANc >= NR, "a packed A must leave the B block room for one panel");

  static size_t scratch_floats(int workers) {
    return kWorkerFloats * static_cast<size_t>(workers < 1 ? 1 : workers);
  }

  // Puts this ISA's GEMM into a kernel table (what every fill_gemm_<isa> does), with blocks
  // for `caches` (unknown sizes keep MC and NC). Called once, when the table is made.
  static void fill(Kernels* k, const platform::CacheSizes& caches = platform::CacheSizes()) {
    blocks_ = blocks_for(caches, KC, MR, MC, NR, NC);
    l2_bytes_ = caches.l2;
    k->sgemm_scratch_floats = scratch_floats;
    k->sgemm = sgemm;
    k->sgemm_blocks = blocks_;
  }

  static void sgemm(const GemmArgs& g, const Parallel& par, float* scratch) {
    if (g.m <= 0 || g.n <= 0) return;
    if (g.k <= 0) return scale_only(g);
    if (swap_pays(g)) return sgemm_swapped(g, par, scratch);
    run(g, par, scratch);
  }

 private:
  static inline GemmBlocks blocks_ = {KC, MC, NC};
  static inline size_t l2_bytes_ = 0;  // 0: unknown

  static void run(const GemmArgs& g, const Parallel& par, float* scratch) {
    Job job;
    job.g = &g;
    job.scratch = scratch;
    // Balanced chunks: K = 784 runs as 3 x 262 rather than 2 x 384 + 16.
    job.kchunks = ceil_div(g.k, KC);
    job.kc = ceil_div(g.k, job.kchunks);
    job.late_act = g.ep.act == Act::sigmoid || g.ep.act == Act::tanh || g.ep.act == Act::softplus;
    // The caller's blocks (rounded down to whole micro-tiles, at most MC / NC) or this CPU's.
    job.mc = g.mc > 0 ? whole_units(static_cast<size_t>(g.mc), MR, MC) : blocks_.mc;
    job.nc = g.nc > 0 ? whole_units(static_cast<size_t>(g.nc), NR, NC) : blocks_.nc;
    if (kAInPlace && !a_read_in_place(g)) job.nc = min_int(job.nc, kPackedANc);
    split(g, par.workers, &job.tm, &job.tn);
    par.for_each(run_task, &job, job.tm * job.tn);
  }

  // C = op(A) B^T, B [N, K] wider than A [M, K] (a Linear layer's forward: the weight against
  // the batch): packing B^T moves N K floats, where C^T = B A^T packs A^T (M K) and its
  // transpose into C moves M N. So when N K > M K + M N, the GEMM runs swapped into the end
  // of worker 0's B block (the swapped B, A^T, fills at most KC x M of it) and is transposed
  // into C. Every C element is the same chain of products over the same K chunks (an FMA's
  // two factors commute), the bias moves from columns to rows: the same bits either way.
  static size_t swapped_c_offset(const GemmArgs& g) {
    return static_cast<size_t>(KC) * static_cast<size_t>(ceil_div(g.m, NR) * NR);
  }
  static bool swap_pays(const GemmArgs& g) {
    if (!g.trans_b || g.trans_a || g.beta != 0.0f || g.pack_a || g.m < 2 * MR) return false;
    const double m = g.m, n = g.n, k = g.k;
    if (n * k <= m * k + m * n) return false;
    const size_t c_floats = static_cast<size_t>(g.m) * static_cast<size_t>(g.n);
    return swapped_c_offset(g) + c_floats <= kBlockFloats;
  }

  struct Transpose {
    const float* ct;  // C^T [N, M]
    float* c;
    int m, n, ldc, tasks;
  };
  static void transpose_task(void* ctx, int task, int /*worker*/) {
    const Transpose& t = *static_cast<const Transpose*>(ctx);
    int m0, m1;
    slab(t.m, 1, t.tasks, task, &m0, &m1);  // C's rows [m0, m1): columns of C^T
    if (m0 < m1) K::pack_t(t.c + static_cast<size_t>(m0) * t.ldc, t.ct + m0, t.m, t.n, m1 - m0, t.ldc);
  }

  static void sgemm_swapped(const GemmArgs& g, const Parallel& par, float* scratch) {
    float* ct = scratch + swapped_c_offset(g);  // in worker 0's B block, past what its packing uses
    GemmArgs t = g;
    t.m = g.n, t.n = g.m;
    t.a = g.b, t.lda = g.ldb;  // B [N, K] as A, read in place
    t.b = g.a, t.ldb = g.lda;  // A [M, K] as B^T
    t.c = ct, t.ldc = g.m;
    t.ep.bias_per_row = !g.ep.bias_per_row;
    t.mc = g.nc, t.nc = g.mc;
    run(t, par, scratch);
    Transpose tr{ct, g.c, g.m, g.n, g.ldc, par.workers < g.m / MR ? par.workers : 1};
    par.for_each(transpose_task, &tr, tr.tasks);
  }

  struct Job {
    const GemmArgs* g;
    float* scratch;
    int kchunks, kc, mc, nc;
    bool late_act;
    int tm, tn;
  };

  static int min_int(int a, int b) { return a < b ? a : b; }
  // ceil(a / b) without overflow for any int a >= 0 (sizes go up to INT_MAX).
  static int ceil_div(int a, int b) { return a / b + (a % b != 0); }

  // k == 0: C = beta * C, then the epilogue.
  static void scale_only(const GemmArgs& g) {
    for (int i = 0; i < g.m; ++i) {
      float* c = g.c + static_cast<size_t>(i) * g.ldc;
      for (int j = 0; j < g.n; ++j) c[j] = g.beta == 0.0f ? 0.0f : g.beta * c[j];
    }
    scalar::apply_epilogue(g.ep, g.m, g.n, g.c, g.ldc);
  }

  // Picks tm x tn tasks for `workers`. Cutting N into tn slabs packs A tn times; cutting M
  // into tm slabs packs B tm times. Choose the factorisation with the least extra packing
  // plus the idle time of the uneven slabs (one FMA ~ 1/5 of a packed element), every task
  // getting work. Ties go to cutting N: each worker then packs a narrower B block rather
  // than all of B (docs/lab-notes.md).
  static void split(const GemmArgs& g, int workers, int* tm, int* tn) {
    *tm = *tn = 1;
    if (workers <= 1) return;
    const int mu = ceil_div(g.m, MR), nu = ceil_div(g.n, W);  // units a split may cut
    const double kk = g.k;
    double best = -1.0;
    for (int a = 1; a <= workers; ++a) {
      if (workers % a) continue;
      const int b = workers / a;
      if (a > mu || b > nu) continue;
      // Extra packing, plus the imbalance of cutting whole units. (An A read in place is not
      // packed, but its term stays: without it a narrow N is cut into slabs narrower than a
      // tile, which run at half width; docs/lab-notes.md.)
      const double extra = (b - 1) * kk * g.m + (a - 1) * kk * g.n;
      const double worst = static_cast<double>((mu + a - 1) / a) * ((nu + b - 1) / b);
      const double imbalance = (worst * a * b / (static_cast<double>(mu) * nu) - 1.0) * g.m * g.n * kk / 5.0;
      const double cost = extra + imbalance;
      if (best < 0 || cost < best) best = cost, *tm = a, *tn = b;
    }
  }

  // [lo, hi) of slab s of `parts`, cutting `units` units of `unit` elements, clipped to n.
  static void slab(int n, int unit, int parts, int s, int* lo, int* hi) {
    const long long units = ceil_div(n, unit);
    const long long u0 = units * s / parts * unit, u1 = units * (s + 1) / parts * unit;
    *lo = static_cast<int>(u0 < n ? u0 : n);
    *hi = static_cast<int>(u1 < n ? u1 : n);
  }

  // An ISA with the tile for op(A)'s layout reads A where it lies.
  static bool a_read_in_place(const GemmArgs& g) {
    return !g.pack_a && (g.trans_a ? HasColsKernel<K>::value : HasRowsKernel<K>::value);
  }

  // Where op(A)[i0, pc] lies: in row i0 of A, or in column i0 when A is stored transposed.
  static const float* a_at(const GemmArgs& g, int i0, int pc) {
    const size_t lda = static_cast<size_t>(g.lda);
    return g.trans_a ? g.a + pc * lda + i0 : g.a + i0 * lda + pc;
  }

  // The tile for op(A)[i0.., pc..] read in place.
  static void ukernel_in_place(const GemmArgs& g, int i0, int pc, int kc, const float* b, float* c, int rows,
                               int cols, const TileParams& tp) {
    const size_t lda = static_cast<size_t>(g.lda);
    if constexpr (HasColsKernel<K>::value)
      if (g.trans_a) return K::ukernel_cols(kc, a_at(g, i0, pc), lda, b, c, g.ldc, rows, cols, tp);
    if constexpr (HasRowsKernel<K>::value)
      if (!g.trans_a) return K::ukernel_rows(kc, a_at(g, i0, pc), lda, b, c, g.ldc, rows, cols, tp);
  }

  // Whether rows ldb floats apart fall into enough of the 64 sets of a 4 KB-way L1 for a B
  // panel read in place (kc rows of 1-2 lines each, reused by every A panel) to stay there:
  // rows 2 KB or 4 KB apart (ldb = 512, 1024) share 2 or 1 sets and thrash it, where a packed
  // panel is contiguous (docs/lab-notes.md).
  static bool b_rows_spread(int ldb) {
    const size_t bytes = static_cast<size_t>(ldb) * sizeof(float);
    if (bytes % 64) return true;  // rows start at different offsets within their lines
    size_t lines = bytes / 64, common = 1;  // gcd(lines, 64): the rows cycle through 64 / gcd sets
    while (lines % 2 == 0 && common < 64) lines /= 2, common *= 2;
    return 64 / common >= 16;
  }

  static void ukernel_both_in_place(const GemmArgs& g, int i0, int pc, int kc, int j0, float* c, int rows, int cols,
                                    const TileParams& tp) {
    if constexpr (HasBRowsKernel<K>::value) {
      const size_t lda = static_cast<size_t>(g.lda), ldb = static_cast<size_t>(g.ldb);
      const float* b = g.b + pc * ldb + j0;
      if (g.trans_a) return K::ukernel_cols_b(kc, a_at(g, i0, pc), lda, b, ldb, c, g.ldc, rows, cols, tp);
      return K::ukernel_rows_b(kc, a_at(g, i0, pc), lda, b, ldb, c, g.ldc, rows, cols, tp);
    }
  }

  // B[pc.., j0..] as NR-column panels, each kc x NR.
  static void pack_b(const GemmArgs& g, int pc, int kc, int j0, int nc, float* dst) {
    for (int j = 0; j < nc; j += NR) {
      const int cols = min_int(NR, nc - j);
      float* d = dst + static_cast<size_t>(j) * kc;
      if (!g.trans_b) {
        K::pack_n(d, g.b + static_cast<size_t>(pc) * g.ldb + j0 + j, g.ldb, cols, (cols + W - 1) / W * W, kc, NR);
      } else {
        const int padded = (cols + W - 1) / W * W;
        if (padded != cols)
          for (int p = 0; p < kc; ++p)
            for (int jj = cols; jj < padded; ++jj) d[static_cast<size_t>(p) * NR + jj] = 0.0f;
        K::pack_t(d, g.b + static_cast<size_t>(j0 + j) * g.ldb + pc, g.ldb, cols, kc, NR);
      }
    }
  }

  // op(A)[i0.., pc..] as one MR x kc panel (rows beyond `rows` are never read).
  static void pack_a(const GemmArgs& g, int i0, int rows, int pc, int kc, float* dst) {
    if (g.trans_a) {
      K::pack_n(dst, g.a + static_cast<size_t>(pc) * g.lda + i0, g.lda, rows, rows, kc, MR);
    } else {
      K::pack_t(dst, g.a + static_cast<size_t>(i0) * g.lda + pc, g.lda, rows, kc, MR);
    }
  }

  static void run_task(void* ctx, int task, int worker) {
    const Job& job = *static_cast<const Job*>(ctx);
    const GemmArgs& g = *job.g;
    int m0, m1, n0, n1;
    slab(g.m, MR, job.tm, task / job.tn, &m0, &m1);
    slab(g.n, W, job.tn, task % job.tn, &n0, &n1);
    if (m0 >= m1 || n0 >= n1) return;
    float* bblock = job.scratch + kWorkerFloats * static_cast<size_t>(worker);
    float* ablock = bblock + (kAInPlace ? static_cast<size_t>(KC) * kPackedANc : kBlockFloats);
    const bool a_in_place = a_read_in_place(g);
    // B in place only beside an A in place (so never under pack_a).
    const bool b_in_place = a_in_place && HasBRowsKernel<K>::value && !g.trans_b && b_rows_spread(g.ldb);

    // Even nc blocks over this task's columns, each a multiple of NR but the last; the same
    // for mc blocks over its rows.
    // (ceil(x / blocks) <= nc, and nc is a multiple of NR, so rounding up stays <= nc.)
    const int nblocks = ceil_div(n1 - n0, job.nc), ncb = ceil_div(ceil_div(n1 - n0, nblocks), NR) * NR;
    const int mblocks = ceil_div(m1 - m0, job.mc), mcb = ceil_div(ceil_div(m1 - m0, mblocks), MR) * MR;
    // With one block of rows, each packed B panel is used by one run of A panels and never
    // again: packed just before that run, into one slot, it is still in L1 / L2 when read,
    // where the whole block packed first (KC x NC, past the L2) comes back from L3.
    const bool b_panelwise = !b_in_place && mblocks == 1;
    // A task's C beyond half the L2 (A and B blocks share it) is evicted between K chunks.
    const bool c_leaves_l2 = l2_bytes_ == 0 || static_cast<size_t>(m1 - m0) * (n1 - n0) * sizeof(float) > l2_bytes_ / 2;
    for (int jc = n0, nc; jc < n1; jc += nc) {
      nc = min_int(ncb, n1 - jc);
      for (int chunk = 0; chunk < job.kchunks; ++chunk) {
        const int pc = chunk * job.kc, kc = min_int(job.kc, g.k - pc);
        const bool first = chunk == 0, last = chunk == job.kchunks - 1;
        if (!b_in_place && !b_panelwise) pack_b(g, pc, kc, jc, nc, bblock);
        TileParams tp;
        tp.alpha = g.alpha;
        tp.beta = first ? g.beta : 1.0f;
        tp.prefetch_c = tp.beta != 0.0f && c_leaves_l2;
        const bool fuse = last && !job.late_act;
        if (fuse) tp.act = g.ep.act, tp.slope = g.ep.slope, tp.bias_per_row = g.ep.bias_per_row;
        for (int ic = m0, mc; ic < m1; ic += mc) {
          mc = min_int(mcb, m1 - ic);
          for (int i = 0; i < mc && !a_in_place; i += MR)
            pack_a(g, ic + i, min_int(MR, mc - i), pc, kc, ablock + static_cast<size_t>(i) * kc);
          // The B panel (kc x NR) stays in L1 while the A panels stream from L2.
          for (int j = 0; j < nc; j += NR) {
            const int cols = min_int(NR, nc - j);
            if (b_panelwise) pack_b(g, pc, kc, jc + j, cols, bblock);
            const float* bpanel = b_panelwise ? bblock : bblock + static_cast<size_t>(j) * kc;
            for (int i = 0; i < mc; i += MR) {
              const int rows = min_int(MR, mc - i);
              float* c = g.c + static_cast<size_t>(ic + i) * g.ldc + jc + j;
              if (fuse && g.ep.bias) tp.bias = g.ep.bias + (g.ep.bias_per_row ? ic + i : jc + j);
              if (b_in_place)
                ukernel_both_in_place(g, ic + i, pc, kc, jc + j, c, rows, cols, tp);
              else if (a_in_place)
                ukernel_in_place(g, ic + i, pc, kc, bpanel, c, rows, cols, tp);
              else
                K::ukernel(kc, ablock + static_cast<size_t>(i) * kc, bpanel, c, g.ldc, rows, cols, tp);
              if (last && job.late_act) {
                Epilogue ep = g.ep;
                if (ep.bias) ep.bias += ep.bias_per_row ? ic + i : jc + j;
                scalar::apply_epilogue(ep, rows, cols, c, g.ldc);
              }
            }
          }
        }
      }
    }
  }
};

}  // namespace ember::gemm
