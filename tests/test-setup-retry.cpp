// A set-up that fails can be tried again. For every model kind and for the trainer: init() in
// an arena short by one byte, by half the model's share, or by the Context's share fails
// with out_of_memory naming the shortfall and leaves the arena where it was; the same
// object, given enough memory, then initialises and trains or samples to the same bits as
// one set up right the first time. configure() may be called again until init() succeeds.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "core/arena.h"
#include "metrics/semisup.h"
#include "models/ae-model.h"
#include "models/classifier-model.h"
#include "models/gan-model.h"
#include "platform/context.h"
#include "tests/model-fixture.h"
#include "tests/temp-dir.h"
#include "train/ae-trainee.h"
#include "train/classifier-trainee.h"
#include "train/gan-trainee.h"
#include "train/trainer.h"

using namespace ember;
using namespace ember::models;
using ember::testing::small_ae;
using ember::testing::small_gan;

namespace {

Context::Options one_thread() {
  Context::Options o;
  o.threads = 1;
  return o;
}

size_t context_bytes() {
  size_t bytes = 0;
  REQUIRE(Context::bytes_needed(one_thread(), &bytes).is_ok());
  return bytes;
}

bool says_short_by(const Status& s) {
  return s.code() == Code::out_of_memory && std::strstr(s.message(), "short by") != nullptr;
}

// `bytes` bytes starting `offset` bytes past a 64-byte boundary.
struct Block {
  std::vector<uint8_t> mem;
  uint8_t* at = nullptr;
  size_t bytes = 0;
  Block(size_t n, size_t offset) : mem(n + 2 * Arena::kAlign), bytes(n) {
    const uintptr_t p = reinterpret_cast<uintptr_t>(mem.data());
    at = mem.data() + (Arena::kAlign - p % Arena::kAlign) % Arena::kAlign + offset;
  }
};

// What a model computes, as bits: a training step's losses and outputs, or samples.
using Bits = std::vector<uint32_t>;
void add_bits(Bits* out, const float* v, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t b = 0;
    std::memcpy(&b, &v[i], sizeof b);
    out->push_back(b);
  }
}

// Inputs in [0, 1] that are the same every run.
std::vector<float> pattern(size_t n, int salt) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 37 + size_t(salt) * 11) % 101) / 100.0f;
  return x;
}

template <class Model>
void add_params(Bits* out, Model& m) {
  for (int i = 0; i < m.params().count(); ++i) add_bits(out, m.params()[i].value, m.params()[i].numel());
}

Bits run_ae(AeModel& m) {
  Bits out;
  const AeModel::Setup& s = m.setup();
  const int l = s.config.latent, d = s.config.pixels();
  if (s.training) {
    StepLoss loss;
    const std::vector<float> x = pattern(size_t(s.batch) * d, 1);
    for (int k = 0; k < 2; ++k) {
      REQUIRE(m.train_step(x.data(), &loss).is_ok());
      add_bits(&out, &loss.loss, 1);
    }
  }
  const std::vector<float> z = pattern(size_t(7) * l, 2);
  std::vector<float> images(size_t(7) * d);
  REQUIRE(m.decode(z.data(), 7, images.data()).is_ok());
  add_bits(&out, images.data(), images.size());
  add_params(&out, m);
  return out;
}

Bits run_gan(GanModel& m) {
  Bits out;
  const GanModel::Setup& s = m.setup();
  const int dims = m.dims(), zd = s.config.z_dim;
  if (s.training) {
    std::vector<float> real = pattern(size_t(m.real_rows()) * dims, 3);
    for (float& v : real) v = 2.0f * v - 1.0f;
    GanStepLoss loss;
    REQUIRE(m.train_step(real.data(), nullptr, &loss).is_ok());
    add_bits(&out, &loss.d_loss, 1);
    add_bits(&out, &loss.g_loss, 1);
  }
  std::vector<float> z = pattern(size_t(5) * zd, 4), images(size_t(5) * dims);
  for (float& v : z) v = 2.0f * v - 1.0f;
  REQUIRE(m.generate(z.data(), nullptr, 5, images.data()).is_ok());
  add_bits(&out, images.data(), images.size());
  add_params(&out, m);
  return out;
}

Bits run_classifier(ClassifierModel& m) {
  Bits out;
  const ClassifierModel::Setup& s = m.setup();
  const int d = s.config.pixels(), classes = m.classes();
  if (s.training) {
    const std::vector<float> x = pattern(size_t(s.batch) * d, 5);
    std::vector<int32_t> labels(size_t(s.batch));
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = int32_t(i % size_t(classes));
    float loss = 0.0f;
    REQUIRE(m.train_step(x.data(), labels.data(), &loss).is_ok());
    add_bits(&out, &loss, 1);
  }
  const std::vector<float> x = pattern(size_t(6) * d, 6);
  std::vector<float> probs(size_t(6) * classes);
  REQUIRE(m.predict(x.data(), 6, probs.data(), nullptr).is_ok());
  add_bits(&out, probs.data(), probs.size());
  add_params(&out, m);
  return out;
}

Bits run_head(metrics::CodeHead& h) {
  Bits out;
  const int n = 20, inputs = h.setup().inputs;
  const std::vector<float> x = pattern(size_t(n) * inputs, 7);
  std::vector<int32_t> labels(n), pred(n);
  for (int i = 0; i < n; ++i) labels[i] = i % h.setup().classes;
  float loss = 0.0f;
  REQUIRE(h.fit(x.data(), labels.data(), n, nullptr, n, 3, &loss).is_ok());
  add_bits(&out, &loss, 1);
  std::vector<float> confidence(n);
  REQUIRE(h.classify(x.data(), n, pred.data(), confidence.data()).is_ok());
  add_bits(&out, confidence.data(), confidence.size());
  for (int32_t p : pred) out.push_back(uint32_t(p));
  return out;
}

// ctx->init then target->init (a model or the trainer) in an arena on a buffer of `bytes`
// bytes starting `offset` past a 64-byte boundary: one of them must fail naming the shortfall
// (the Context when short by more than the target's share) and leave the arena as it was.
template <class Target>
void check_fails_short(Target* target, Context* ctx, size_t bytes, size_t offset) {
  Block block(bytes, offset);
  Arena arena(block.at, bytes);
  size_t head = arena.mark(), tail = arena.tail_mark();
  Status s = ctx->init(&arena, one_thread());
  if (s.is_ok()) {
    head = arena.mark(), tail = arena.tail_mark();
    s = target->init(&arena, ctx);
  }
  CHECK_MESSAGE(says_short_by(s), std::string(s.message()));
  CHECK(arena.mark() == head);
  CHECK(arena.tail_mark() == tail);
}

// A Context and then `model` in an arena of `bytes` bytes at `offset` past a 64-byte boundary.
template <class Model>
Status set_up(Model* model, Context* ctx, size_t bytes, size_t offset, std::unique_ptr<Block>* block,
              std::unique_ptr<Arena>* arena) {
  block->reset(new Block(bytes, offset));
  arena->reset(new Arena((*block)->at, bytes));
  EMBER_TRY(ctx->init(arena->get(), one_thread()));
  return model->init(arena->get(), ctx);
}

template <class Model>
void check_retry(const char* what, const typename Model::Setup& setup, Bits (*run)(Model&)) {
  const std::string name = what;
  CAPTURE(name);
  Model first;
  REQUIRE(first.configure(setup).is_ok());
  size_t need = 0;
  REQUIRE(testing::setup_bytes(&first, 1, &need).is_ok());
  std::unique_ptr<Block> block;
  std::unique_ptr<Arena> arena;
  Context ctx;
  const Status fits = set_up(&first, &ctx, need, 0, &block, &arena);
  REQUIRE_MESSAGE(fits.is_ok(), fits.message());
  const Bits want = run(first);

  const size_t ctx_bytes = context_bytes();
  REQUIRE(need > ctx_bytes);
  const size_t shortfalls[] = {1, (need - ctx_bytes) / 2, ctx_bytes};
  for (const size_t short_by : shortfalls) {
    if (short_by == 0) continue;  // the scalar kernels' Context takes no packing scratch
    CAPTURE(short_by);
    Model m;
    REQUIRE(m.configure(setup).is_ok());
    Context small_ctx;
    check_fails_short(&m, &small_ctx, need - short_by, 1);  // the start that loses the most
    // Again, the same model and Context, with enough memory: as if the first try never was.
    const Status again = set_up(&m, &small_ctx, need, 16, &block, &arena);  // as malloc aligns
    REQUIRE_MESSAGE(again.is_ok(), again.message());
    CHECK(arena->free_bytes() == 0);
    CHECK(run(m) == want);
  }

  // configure() again after a failed init replaces the setup; after a good init it is refused.
  Model m;
  typename Model::Setup other = setup;
  other.seed = setup.seed + 1, other.batch = setup.batch + 3;
  REQUIRE(m.configure(other).is_ok());
  Block tiny_block(ctx_bytes + 1024, 0);
  Arena tiny(tiny_block.at, ctx_bytes + 1024);
  Context tiny_ctx;
  REQUIRE(tiny_ctx.init(&tiny, one_thread()).is_ok());
  CHECK(says_short_by(m.init(&tiny, &tiny_ctx)));
  const Status again = m.configure(setup);
  REQUIRE_MESSAGE(again.is_ok(), again.message());
  size_t need_again = 0;
  REQUIRE(testing::setup_bytes(&m, 1, &need_again).is_ok());
  CHECK(need_again == need);
  const Status ok = set_up(&m, &tiny_ctx, need, 0, &block, &arena);
  REQUIRE_MESSAGE(ok.is_ok(), ok.message());
  CHECK(run(m) == want);
  CHECK(m.configure(setup).code() == Code::invalid_argument);
}

}  // namespace

TEST_CASE("setup retry: autoencoders and VAEs, training and sampling") {
  check_retry<AeModel>("vae mlp, training", small_ae(ModelKind::vae, Arch::mlp, true), run_ae);
  check_retry<AeModel>("ae conv, training", small_ae(ModelKind::ae, Arch::conv, true), run_ae);
  check_retry<AeModel>("vae conv, decoder only", small_ae(ModelKind::vae, Arch::conv, false, true), run_ae);
}

TEST_CASE("setup retry: GANs, training and sampling") {
  check_retry<GanModel>("dcgan, training", small_gan(GanKind::dcgan, true), run_gan);
  GanModel::Setup info = small_gan(GanKind::dcgan, true);
  info.config.info = 3, info.config.ema = 0.99f, info.config.unroll = 1;
  check_retry<GanModel>("infogan dcgan with averages and unroll, training", info, run_gan);
  check_retry<GanModel>("gan mlp, generator only", small_gan(GanKind::mlp, false, true), run_gan);
}

TEST_CASE("setup retry: classifier and code head") {
  ClassifierModel::Setup c;
  c.config.rows = c.config.cols = 16, c.config.classes = 4, c.config.batchnorm = true;
  c.config.channels[0] = 4, c.config.channels[1] = 4, c.config.channels[2] = 8, c.config.features = 16;
  c.batch = 8, c.eval_batch = 5;
  check_retry<ClassifierModel>("classifier conv bn, training", c, run_classifier);
  c.training = false;
  check_retry<ClassifierModel>("classifier conv bn, inference", c, run_classifier);

  metrics::CodeHead::Setup h;
  h.inputs = 6, h.classes = 3, h.hidden = 8, h.batch = 4, h.eval_batch = 7, h.max_rows = 50;
  check_retry<metrics::CodeHead>("code head", h, run_head);
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

train::TrainOptions one_epoch(const std::string& out) {
  train::TrainOptions o;
  o.epochs = 1, o.out = out.c_str();
  return o;
}

// The trainer's set-up in an arena of `bytes` bytes (the Context first), then a run.
struct TrainRun {
  std::unique_ptr<Block> block;
  std::unique_ptr<Arena> arena;
  Context ctx;
  Status init(train::Trainer* t, size_t bytes, size_t offset) {
    block.reset(new Block(bytes, offset));
    arena.reset(new Arena(block->at, bytes));
    EMBER_TRY(ctx.init(arena.get(), one_thread()));
    return t->init(arena.get(), &ctx);
  }
};

size_t trainer_bytes(const train::Trainer& t) {
  std::vector<uint8_t> scratch_block(4u << 20);
  Arena scratch(scratch_block.data(), scratch_block.size());
  size_t bytes = 0;
  REQUIRE(t.bytes_needed(1, &scratch, &bytes).is_ok());
  return bytes;
}

template <class Trainee>
void check_trainer_retry(const char* what, const typename Trainee::Setup& setup) {
  const std::string name = what;
  CAPTURE(name);
  testing::TempDir dir("setup-retry");
  const std::string first_path = dir.file("first.ember"), again_path = dir.file("again.ember");
  auto first = std::make_unique<Trainee>();
  REQUIRE(first->configure(setup).is_ok());
  train::Trainer trainer;
  REQUIRE(trainer.configure(first.get(), one_epoch(first_path)).is_ok());
  const size_t enough = trainer_bytes(trainer);
  TrainRun good;
  const Status fits = good.init(&trainer, enough, 0);
  REQUIRE_MESSAGE(fits.is_ok(), fits.message());
  // The trainees' figures for data and evaluation are upper bounds: the shortfalls are
  // counted from what the set-up took.
  const size_t need = good.arena->used();
  REQUIRE(trainer.run().is_ok());
  const std::string want = slurp(first_path);
  REQUIRE(want.size() > 100);

  const size_t ctx_bytes = context_bytes();
  const size_t shortfalls[] = {1, (need - ctx_bytes) / 2, ctx_bytes};
  for (const size_t short_by : shortfalls) {
    if (short_by == 0) continue;  // the scalar kernels' Context takes no packing scratch
    CAPTURE(short_by);
    std::remove(again_path.c_str());  // the trainer replaces a checkpoint only when asked
    auto t = std::make_unique<Trainee>();
    REQUIRE(t->configure(setup).is_ok());
    train::Trainer again;
    REQUIRE(again.configure(t.get(), one_epoch(again_path)).is_ok());
    Context ctx;
    check_fails_short(&again, &ctx, need - short_by, 0);
    // Configured again (the trainer hands the setup to the model once more), then enough memory.
    REQUIRE(again.configure(t.get(), one_epoch(again_path)).is_ok());
    TrainRun run;
    const Status ok = run.init(&again, enough, 16);  // as malloc aligns
    REQUIRE_MESSAGE(ok.is_ok(), ok.message());
    REQUIRE(again.run().is_ok());
    CHECK(slurp(again_path) == want);
  }
}

}  // namespace

TEST_CASE("setup retry: the trainer, for each trainee") {
  train::AeTrainee::Setup vae;
  vae.model.config.kind = ModelKind::vae;
  vae.model.config.depth = 1, vae.model.config.widths[0] = 32, vae.model.config.latent = 4;
  vae.model.batch = 50;
  vae.data.source = "sprites", vae.data.sprites_train = 100, vae.data.sprites_test = 50;
  check_trainer_retry<train::AeTrainee>("vae", vae);

  train::GanTrainee::Setup rings;
  rings.model.config.widths[0] = rings.model.config.widths[1] = 16, rings.model.config.z_dim = 4;
  rings.model.batch = 32;
  rings.data.source = "rings", rings.rings_n = 128;
  check_trainer_retry<train::GanTrainee>("gan on rings", rings);

  train::ClassifierTrainee::Setup clf;
  clf.model.config.arch = ClassifierArch::mlp, clf.model.config.widths[0] = 32;
  clf.model.batch = 50;
  clf.data.source = "sprites", clf.data.sprites_train = 100, clf.data.sprites_test = 50;
  check_trainer_retry<train::ClassifierTrainee>("classifier", clf);
}

TEST_CASE("setup retry: a Context whose init fails is as it was") {
  Block block(4u << 20, 0);
  Arena arena(block.at, block.bytes);
  Context ctx;
  Context::Options two;
  two.threads = 2;
  REQUIRE(ctx.init(&arena, two).is_ok());
  const size_t head = arena.mark();
  Block tiny_block(256, 0);
  Arena tiny(tiny_block.at, tiny_block.bytes);
  if (context_bytes() > 0) {  // the scalar kernels' Context takes nothing: it cannot run short
    CHECK(says_short_by(ctx.init(&tiny, one_thread())));
    CHECK(tiny.used() == 0);
  }
  Context::Options too_many;
  too_many.threads = ThreadPool::kMaxThreads + 1;
  CHECK(ctx.init(&arena, too_many).code() == Code::invalid_argument);
  CHECK(arena.mark() == head);
  // Still the Context it was: two threads, its kernels and scratch.
  CHECK(ctx.threads() == ThreadPool::threads_for(2));
  const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
  float c[4] = {0};
  GemmArgs g;
  g.m = g.n = g.k = 2, g.a = a, g.b = b, g.c = c, g.lda = g.ldb = g.ldc = 2;
  REQUIRE(ctx.gemm(g).is_ok());
  CHECK(c[0] == 19.0f);
  CHECK(c[3] == 50.0f);
  size_t bytes = 0;
  CHECK(Context::bytes_needed(too_many, &bytes).code() == Code::invalid_argument);
}
