// ember-bench vae | ae | dcgan | classifier | sample: the training and sampling workloads V,
// A, D, C and s1..s3 of ../shared/bench/WORKLOADS.md, timed the way peers/torch_ref.py times PyTorch
// (synthetic inputs cycling over 8 batches, 20 warm-up steps, then the median of the timed
// steps), so the JSON files of the two divide key by key. Each run takes one memory block
// sized by the graphs' dry-run plans and reports it next to the process's peak RSS.
// --profile adds each op's time, FLOPs and GFLOP/s per step (or per sample call),
// forward and backward (nn::Graph::Observer around every op of the timed steps).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "examples/bench/bench.h"
#include "models/classifier-network.h"
#include "models/workloads.h"
#include "nn/flops.h"
#include "nn/quantize.h"

namespace ember::bench {
namespace {

using nn::CompileOptions;
using nn::Graph;
using nn::Params;
using nn::ParamMode;
using nn::T;

constexpr int kWarmup = 20, kBatches = 8;

struct Options {
  int threads = 1, steps = 200, calls = 1000;
  const char* isa = nullptr;
  const char* json = nullptr;
  bool profile = false;
  bool int8 = false;  // sample: int8 weights (nn/quantize.h)
};

int usage(FILE* out, const char* cmd) {
  std::fprintf(out,
               "usage: ember-bench %s [--threads N] [--isa X] [--steps N] [--calls N] [--json FILE] [--profile]\n"
               "       [--weights int8]\n"
               "  --threads N  worker threads (default 1; 0 = one per core)\n"
               "  --isa X      scalar | avx2 | avx512 | neon (default: EMBER_ISA, else the best)\n"
               "  --steps N    timed training steps, or s3 batches, after %d warm-up (default 200)\n"
               "  --calls N    timed s1/s2 single-sample calls (default 1000)\n"
               "  --json FILE  also write the figures as JSON (keys as in WORKLOADS.md)\n"
               "  --profile    time, FLOPs and GFLOP/s per op, forward and backward\n"
               "  --weights int8  sample: the generators with int8 weights (keys s1_int8, s2_int8, s3_int8)\n",
               cmd, kWarmup);
  return out == stdout ? 0 : 2;
}

// 0 on success, else the exit code (usage printed).
int parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const bool v = i + 1 < argc;
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) return usage(stdout, argv[0]) - 1;
    if (!std::strcmp(argv[i], "--threads") && v) o->threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--isa") && v) o->isa = argv[++i];
    else if (!std::strcmp(argv[i], "--steps") && v) o->steps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--calls") && v) o->calls = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--json") && v) o->json = argv[++i];
    else if (!std::strcmp(argv[i], "--profile")) o->profile = true;
    else if (!std::strcmp(argv[i], "--weights") && v && !std::strcmp(argv[i + 1], "int8")) o->int8 = true, ++i;
    else {
      std::fprintf(stderr, "ember-bench %s: unexpected argument '%s'\n", argv[0], argv[i]);
      return usage(stderr, argv[0]);
    }
  }
  if (o->steps < 1 || o->calls < 1) {
    std::fprintf(stderr, "ember-bench %s: --steps and --calls must be positive\n", argv[0]);
    return 2;
  }
  return 0;
}

double peak_rss_mib() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

struct Timing {
  double median = 0, spread = 0;  // seconds; (p90 - p10) / median
};

template <class Fn>
Timing time_calls(int warmup, int n, Fn fn) {
  for (int i = 0; i < warmup; ++i) fn(i);
  std::vector<double> s(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn(warmup + i);
    s[static_cast<size_t>(i)] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(s.begin(), s.end());
  Timing t;
  t.median = s[s.size() / 2];
  t.spread = (s[(s.size() - 1) * 9 / 10] - s[(s.size() - 1) / 10]) / t.median;
  return t;
}

Context::Options context_options(const Options& o) {
  Context::Options co;
  co.threads = o.threads;
  co.isa = o.isa;
  return co;
}

// The one memory block of a run: sized from the dry-run figures, then carved by an Arena.
struct Memory {
  std::unique_ptr<unsigned char[]> block;
  Arena arena;
  Context ctx;
  explicit Memory(size_t bytes)
      : block(new unsigned char[bytes + Arena::kAlign]), arena(block.get(), bytes + Arena::kAlign) {}
  Status init(const Options& o) { return ctx.init(&arena, context_options(o)); }
};

// The graphs' and parameters' tables, built before the run's arena is sized from their plans;
// they stay here (a few KB), outside the arena_* figures.
Arena* table_arena() {
  static std::unique_ptr<unsigned char[]> block(new unsigned char[4 << 20]);
  static Arena arena(block.get(), 4 << 20);
  return &arena;
}

// What the Context of this run will take from the arena and how many threads it will run,
// decided by the same code as Context::init.
Status context_plan(const Options& o, size_t* bytes, int* threads) {
  const Kernels* k = nullptr;
  EMBER_TRY(Context::resolve(context_options(o), &k, threads));
  *bytes = Arena::rounded(Context::scratch_bytes(*k, *threads));
  return Status::ok();
}

// Prints and records one figure.
struct Report {
  FILE* js = nullptr;
  bool first = true;
  void open(const Options& o, const Context& ctx) {
    std::printf("# ember %s, %d thread%s\n", isa_name(ctx.isa()), ctx.threads(), ctx.threads() == 1 ? "" : "s");
    if (o.json && !(js = std::fopen(o.json, "w"))) std::fprintf(stderr, "ember-bench: cannot write %s\n", o.json);
    if (js) std::fprintf(js, "{\"isa\": \"%s\", \"threads\": %d", isa_name(ctx.isa()), ctx.threads());
  }
  void add(const char* key, double value, const char* unit, double spread = -1) {
    if (spread >= 0) std::printf("%-14s %12.2f %-8s spread %.0f%%\n", key, value, unit, 100 * spread);
    else std::printf("%-14s %12.2f %-8s\n", key, value, unit);
    if (js) std::fprintf(js, ", \"%s\": %.4f", key, value);
  }
  ~Report() {
    if (js) std::fprintf(js, "}\n"), std::fclose(js);
  }
};

int fail(const char* cmd, const Status& s) {
  std::fprintf(stderr, "ember-bench %s: %s\n", cmd, s.message());
  return 1;
}

// FLOPs per step counted from the graphs (nn/flops.h) and the rate they were done at:
// ID_gflop and ID_gflops.
void add_flops(Report* r, const char* id, const nn::Flops& f, double seconds) {
  char key[32];
  std::snprintf(key, sizeof key, "%s_gflop", id);
  r->add(key, double(f.total()) * 1e-9, "GFLOP");
  std::snprintf(key, sizeof key, "%s_gflops", id);
  r->add(key, double(f.total()) * 1e-9 / seconds, "GFLOP/s");
}

// With workers: the thread pool's jobs over the run (warm-up included), the share of them the
// caller ran alone after a worker stalled (lost its core), the stalls, and the jobs that woke a
// sleeping worker. Where two threads did not scale, these say whether the pool fell back to
// one (platform/thread-pool.cpp).
void add_pool(Report* r, const Context& ctx) {
  if (ctx.threads() <= 1) return;
  const ThreadPool::Stats s = ctx.pool_stats();
  r->add("pool_jobs", double(s.jobs), "jobs");
  r->add("pool_solo_share", s.jobs ? double(s.solo) / double(s.jobs) : 0.0, "of jobs");
  r->add("pool_stalls", double(s.stalls), "stalls");
  r->add("pool_woke", double(s.woke), "jobs");
}

// --profile: seconds per op over the timed steps (on), forward and backward, by node.
struct Profile {
  struct Row {
    double forward = 0, backward = 0;
  };
  std::vector<Row> rows;
  std::chrono::steady_clock::time_point start;
  bool on = false;
  nn::Graph::Observer observer;

  void attach(Graph& g) {
    rows.assign(static_cast<size_t>(g.count()), Row());
    observer.user = this;
    observer.before = [](void* u, int, bool) { static_cast<Profile*>(u)->start = std::chrono::steady_clock::now(); };
    observer.after = [](void* u, int node, bool backward) {
      Profile& p = *static_cast<Profile*>(u);
      if (!p.on) return;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - p.start).count();
      (backward ? p.rows[size_t(node)].backward : p.rows[size_t(node)].forward) += s;
    };
    g.set_observer(&observer);
  }
  // Per op: ms per step (or sample call) forward and backward, its share of it, GFLOP and the
  // rate; the rest (a step's optimizer, inputs and zeroing; a call's bookkeeping) last.
  void print(const char* title, const Graph& g, const Params& params, int steps, double step_seconds,
             const char* unit = "step") const {
    std::printf("\nprofile %s: ms per %s (median %s %.3f ms)\n", title, unit, unit, step_seconds * 1e3);
    std::printf("%4s %-13s %-18s %9s %9s %6s %8s %8s %8s\n", "node", "op", "output", "fwd ms", "bwd ms", "share",
                "GFLOP", "fwd GF/s", "bwd GF/s");
    double total = 0;
    for (int i = 0; i < g.count(); ++i) {
      const Row& r = rows[size_t(i)];
      if (r.forward + r.backward == 0) continue;
      const double f = r.forward / steps, b = r.backward / steps;
      total += f + b;
      const nn::Flops fl = nn::node_flops(g, params, i);
      char shape[64];
      g.node(T{i}).shape.str(shape, sizeof shape);
      char rate_f[16] = "", rate_b[16] = "";
      if (fl.forward && f > 0) std::snprintf(rate_f, sizeof rate_f, "%.1f", fl.forward * 1e-9 / f);
      if (fl.backward && b > 0) std::snprintf(rate_b, sizeof rate_b, "%.1f", fl.backward * 1e-9 / b);
      std::printf("%4d %-13s %-18s %9.3f %9.3f %5.1f%% %8.3f %8s %8s\n", i, nn::op_name(g.node(T{i}).op), shape, f * 1e3,
                  b * 1e3, 100 * (f + b) / step_seconds, fl.total() * 1e-9, rate_f, rate_b);
    }
    std::printf("     ops %.3f ms; rest of the %s %.3f ms\n", total * 1e3, unit, (step_seconds - total) * 1e3);
  }
};

// What a single-graph workload reads each step: images, and for a classifier their labels.
struct Inputs {
  T x;
  T labels;  // invalid for the autoencoders
  int classes = 0;
};

// Trains one single-graph workload (V, A or C) on synthetic batches in [0, 1]. The batches are
// kept as bytes, the way image datasets are stored (MNIST is 8-bit), and scaled by 1/255
// into the input as each step begins; the conversion is inside the timed step. A classifier's
// labels are drawn uniformly, one set per batch.
template <class Build>
int train_single(int argc, char** argv, const char* id, Build build) {
  Options o;
  if (const int rc = parse(argc, argv, &o)) return rc < 0 ? 0 : rc;
  auto params = std::make_unique<Params>(table_arena());
  auto g = std::make_unique<Graph>(params.get());
  const Inputs in = build(*g);
  const T x = in.x;
  if (!g->status().is_ok()) return fail(argv[0], g->status());
  nn::GraphBytes gb;
  size_t ctx_bytes = 0;
  int threads = 1;
  if (const Status cs = context_plan(o, &ctx_bytes, &threads); !cs.is_ok()) return fail(argv[0], cs);
  Status s = g->plan(CompileOptions(), threads, &gb);
  if (!s.is_ok()) return fail(argv[0], s);
  const size_t batch_floats = static_cast<size_t>(g->shape(x).numel());
  const size_t batch = static_cast<size_t>(g->shape(x)[0]);
  const size_t bytes = ctx_bytes + params->bytes(ParamMode::train_adam).total() + gb.total() +
                       Arena::rounded(kBatches * batch_floats) + Arena::rounded(kBatches * batch * sizeof(int32_t));
  Memory m(bytes);
  if (!(s = m.init(o)).is_ok()) return fail(argv[0], s);
  uint8_t* data = nullptr;
  int32_t* labels = nullptr;
  Rng init(0), noise(1), synth(2);
  if (!(s = params->allocate(&m.arena, ParamMode::train_adam)).is_ok() ||
      !(s = g->compile(&m.arena, &m.ctx, CompileOptions(), &noise)).is_ok() ||
      !(s = m.arena.alloc_array(kBatches * batch_floats, &data)).is_ok() ||
      !(s = m.arena.alloc_array(kBatches * batch, &labels)).is_ok())
    return fail(argv[0], s);
  params->initialise(&init);
  for (size_t i = 0; i < kBatches * batch_floats; ++i) data[i] = static_cast<uint8_t>(synth.below(256));
  for (size_t i = 0; i < kBatches * batch && in.classes; ++i) labels[i] = static_cast<int32_t>(synth.below(uint32_t(in.classes)));
  nn::Optimizer adam(nn::OptimizerConfig::adam(1e-3f), 0);
  Profile prof;
  if (o.profile) prof.attach(*g);
  const Timing t = time_calls(kWarmup, o.steps, [&](int step) {
    prof.on = step >= kWarmup;
    const uint8_t* bytes = data + (step % kBatches) * batch_floats;
    float* input = g->data(x);
    for (size_t i = 0; i < batch_floats; ++i) input[i] = bytes[i] * (1.0f / 255.0f);
    if (in.labels.ok()) std::memcpy(g->label_data(in.labels), labels + (step % kBatches) * batch, batch * sizeof(int32_t));
    (void)g->forward();
    (void)g->backward();
    (void)adam.step(m.ctx, *params);
  });
  Report r;
  r.open(o, m.ctx);
  char key[32];
  r.add(id, t.median * 1e3, "ms", t.spread);
  std::snprintf(key, sizeof key, "%s_steps_per_s", id);
  r.add(key, 1.0 / t.median, "steps/s");
  add_flops(&r, id, nn::graph_flops(*g, *params), t.median);
  std::snprintf(key, sizeof key, "rss_%s", id);
  r.add(key, peak_rss_mib(), "MiB");
  std::snprintf(key, sizeof key, "arena_%s", id);
  r.add(key, static_cast<double>(m.arena.used()), "bytes");
  add_pool(&r, m.ctx);
  std::printf("loss after %d steps: %.4f (params %zu, activations %zu, scratch %zu bytes)\n", kWarmup + o.steps,
              g->loss(), params->bytes(ParamMode::train_adam).total(), gb.activations, gb.scratch);
  if (o.profile) prof.print(id, *g, *params, o.steps, t.median);
  return 0;
}

}  // namespace

int vae_main(int argc, char** argv) {
  return train_single(argc, argv, "V", [](Graph& g) { return Inputs{models::build_mlp_vae(g, 128).x, T(), 0}; });
}

int ae_main(int argc, char** argv) {
  return train_single(argc, argv, "A",
                      [](Graph& g) { return Inputs{models::build_deep_autoencoder(g, 128).x, T(), 0}; });
}

// C: ember's default `--model classifier` network (models/classifier-network.h, the same
// builder `ember train` uses), batch 64, mean softmax cross-entropy, Adam 1e-3.
int classifier_main(int argc, char** argv) {
  return train_single(argc, argv, "C", [](Graph& g) {
    constexpr int kBatch = 64;
    const models::ClassifierConfig c;
    Inputs in{g.input("x", Shape(kBatch, c.pixels())), g.labels("labels", kBatch), c.classes};
    g.minimize(g.softmax_ce(models::build_classifier(g, c, in.x, nullptr), in.labels, nn::Reduction::mean));
    return in;
  });
}

int dcgan_main(int argc, char** argv) {
  Options o;
  if (const int rc = parse(argc, argv, &o)) return rc < 0 ? 0 : rc;
  constexpr int kBatch = 64;
  auto params = std::make_unique<Params>(table_arena());
  auto dg = std::make_unique<Graph>(params.get());
  auto gg = std::make_unique<Graph>(params.get());
  const models::DcganStep st = models::build_dcgan(*dg, *gg, kBatch);
  CompileOptions d_opt, g_opt;
  d_opt.train_groups = 1u << models::kDiscriminator;
  g_opt.train_groups = 1u << models::kGenerator;
  size_t ctx_bytes = 0;
  int threads = 1;
  if (const Status cs = context_plan(o, &ctx_bytes, &threads); !cs.is_ok()) return fail(argv[0], cs);
  nn::GraphBytes db, gb;
  Status s = dg->plan(d_opt, threads, &db);
  if (s.is_ok()) s = gg->plan(g_opt, threads, &gb);
  if (!s.is_ok()) return fail(argv[0], s);
  const size_t image = 784;
  const size_t bytes = ctx_bytes + params->bytes(ParamMode::train_adam).total() + db.total() + gb.total() +
                       Arena::rounded(kBatches * kBatch * image * sizeof(float));
  Memory m(bytes);
  if (!(s = m.init(o)).is_ok()) return fail(argv[0], s);
  float* real = nullptr;
  if (!(s = params->allocate(&m.arena, ParamMode::train_adam)).is_ok() ||
      !(s = dg->compile(&m.arena, &m.ctx, d_opt)).is_ok() || !(s = gg->compile(&m.arena, &m.ctx, g_opt)).is_ok() ||
      !(s = m.arena.alloc_array(kBatches * kBatch * image, &real)).is_ok())
    return fail(argv[0], s);
  Rng init(0), synth(2);
  params->initialise(&init);
  synth.fill_uniform(real, kBatches * kBatch * image, -1.0f, 1.0f);
  models::fill_dcgan_targets(*dg, *gg, st);
  nn::Optimizer d_adam(nn::OptimizerConfig::adam(2e-4f, 0.5f), models::kDiscriminator);
  nn::Optimizer g_adam(nn::OptimizerConfig::adam(2e-4f, 0.5f), models::kGenerator);
  Profile d_prof, g_prof;
  if (o.profile) d_prof.attach(*dg), g_prof.attach(*gg);
  const Timing t = time_calls(kWarmup, o.steps, [&](int step) {
    d_prof.on = g_prof.on = step >= kWarmup;
    std::memcpy(dg->data(st.real), real + (step % kBatches) * kBatch * image, kBatch * image * sizeof(float));
    synth.fill_normal(gg->data(st.z), kBatch * 100, 0.0f, 1.0f);
    (void)models::dcgan_step(m.ctx, *dg, *gg, st, d_adam, g_adam);
  });
  Report r;
  r.open(o, m.ctx);
  r.add("D", t.median * 1e3, "ms", t.spread);
  const nn::Flops fd = nn::graph_flops(*dg, *params), fg = nn::graph_flops(*gg, *params);
  add_flops(&r, "D", nn::Flops{fd.forward + fg.forward, fd.backward + fg.backward}, t.median);
  r.add("rss_D", peak_rss_mib(), "MiB");
  r.add("arena_D", static_cast<double>(m.arena.used()), "bytes");
  add_pool(&r, m.ctx);
  std::printf("losses after %d steps: D %.4f, G %.4f\n", kWarmup + o.steps, dg->loss(), gg->loss());
  if (o.profile) {  // both graphs within the one step (the rest lines overlap: each names the whole step)
    d_prof.print("DCGAN step, D graph", *dg, *params, o.steps, t.median);
    g_prof.print("DCGAN step, G graph", *gg, *params, o.steps, t.median);
  }
  return 0;
}

int sample_main(int argc, char** argv) {
  Options o;
  if (const int rc = parse(argc, argv, &o)) return rc < 0 ? 0 : rc;
  // Inference-only graphs: values only, BatchNorm on running statistics (PyTorch's eval()).
  auto vae_params = std::make_unique<Params>(table_arena());
  auto gan_params = std::make_unique<Params>(table_arena());
  auto s1 = std::make_unique<Graph>(vae_params.get());
  auto s2 = std::make_unique<Graph>(gan_params.get());
  auto s3 = std::make_unique<Graph>(gan_params.get());
  const T z1 = s1->input("z", Shape(1, 20));
  const T img1 = s1->sigmoid(models::build_vae_decoder(*s1, z1));
  const T z2 = s2->input("z", Shape(1, 100));
  const T img2 = models::dcgan_generator(*s2, z2);
  const T z3 = s3->input("z", Shape(64, 100));
  const T img3 = models::dcgan_generator(*s3, z3);
  s1->mark_output(img1), s2->mark_output(img2), s3->mark_output(img3);
  if (o.int8) {  // s2 and s3 share G's weights
    Status q = nn::mark_int8_weights(*s1, vae_params.get());
    if (q.is_ok()) q = nn::mark_int8_weights(*s2, gan_params.get());
    if (!q.is_ok()) return fail(argv[0], q);
  }
  CompileOptions inf;
  inf.training = false;
  size_t ctx_bytes = 0;
  int threads = 1;
  if (const Status cs = context_plan(o, &ctx_bytes, &threads); !cs.is_ok()) return fail(argv[0], cs);
  nn::GraphBytes b1, b2, b3;
  Status s = s1->plan(inf, threads, &b1);
  if (s.is_ok()) s = s2->plan(inf, threads, &b2);
  if (s.is_ok()) s = s3->plan(inf, threads, &b3);
  if (!s.is_ok()) return fail(argv[0], s);
  const size_t bytes = ctx_bytes + vae_params->bytes(ParamMode::inference).total() +
                       gan_params->bytes(ParamMode::inference).total() + b1.total() + b2.total() + b3.total();
  Memory m(bytes);
  if (!(s = m.init(o)).is_ok()) return fail(argv[0], s);
  if (!(s = vae_params->allocate(&m.arena, ParamMode::inference)).is_ok() ||
      !(s = gan_params->allocate(&m.arena, ParamMode::inference)).is_ok() ||
      !(s = s1->compile(&m.arena, &m.ctx, inf)).is_ok() || !(s = s2->compile(&m.arena, &m.ctx, inf)).is_ok() ||
      !(s = s3->compile(&m.arena, &m.ctx, inf)).is_ok())
    return fail(argv[0], s);
  Rng init(0), synth(2);
  vae_params->initialise(&init);
  gan_params->initialise(&init);
  for (Params* p : {vae_params.get(), gan_params.get()})  // int8: random values, small scales
    for (int i = 0; i < p->count(); ++i) {
      nn::Param& w = (*p)[i];
      if (w.storage != nn::Storage::int8) continue;
      for (size_t k = 0; k < w.numel(); ++k) const_cast<int8_t*>(w.q)[k] = static_cast<int8_t>(int(synth.below(255)) - 127);
      for (int64_t c = 0; c < w.channels(); ++c) w.scale[c] = 0.001f;
    }
  synth.fill_normal(s1->data(z1), 20, 0.0f, 1.0f);
  synth.fill_normal(s2->data(z2), 100, 0.0f, 1.0f);
  synth.fill_normal(s3->data(z3), 6400, 0.0f, 1.0f);
  Profile p1, p2, p3;
  if (o.profile) p1.attach(*s1), p2.attach(*s2), p3.attach(*s3);
  const Timing t1 = time_calls(kWarmup, o.calls, [&](int i) { p1.on = i >= kWarmup, (void)s1->forward(); });
  const Timing t2 = time_calls(kWarmup, o.calls, [&](int i) { p2.on = i >= kWarmup, (void)s2->forward(); });
  const Timing t3 = time_calls(kWarmup, o.steps, [&](int i) { p3.on = i >= kWarmup, (void)s3->forward(); });
  Report r;
  r.open(o, m.ctx);
  r.add(o.int8 ? "s1_int8" : "s1", t1.median * 1e6, "us", t1.spread);
  r.add(o.int8 ? "s2_int8" : "s2", t2.median * 1e6, "us", t2.spread);
  r.add(o.int8 ? "s3_int8" : "s3", 64.0 / t3.median, "img/s", t3.spread);
  r.add("rss_S", peak_rss_mib(), "MiB");
  r.add("arena_s1", static_cast<double>(Arena::rounded(vae_params->bytes(ParamMode::inference).total()) + b1.total()),
        "bytes");
  r.add("arena_s2", static_cast<double>(gan_params->bytes(ParamMode::inference).total() + b2.total()), "bytes");
  add_pool(&r, m.ctx);
  if (o.profile) {
    p1.print("s1", *s1, *vae_params, o.calls, t1.median, "call");
    p2.print("s2", *s2, *gan_params, o.calls, t2.median, "call");
    p3.print("s3", *s3, *gan_params, o.steps, t3.median, "call");
  }
  return 0;
}

}  // namespace ember::bench
