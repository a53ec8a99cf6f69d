// bytes_needed is exact: for every model kind, in training and in sampling set-ups, a buffer of
// exactly bytes_needed bytes holds the Context and the model wherever it starts (aligned to
// 64, 16 as from malloc, 8, or 1 byte: the arena's start slack is counted) and is then full,
// and one byte less is refused with the shortfall where the start loses the most (63 bytes).
// The model objects are small: their graphs and parameter tables live in the arena.
#include <doctest/doctest.h>

#include <cstdint>
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

using namespace ember;
using namespace ember::models;
using ember::testing::small_ae;
using ember::testing::small_gan;

namespace {

// Before graphs moved into the arena (fixed arrays of 192 nodes, 768 buffers, 160
// parameters): AeModel 240680 bytes, GanModel 274920, ClassifierModel 168160, CodeHead
// 168152 (x86-64). After: 1280, 1488, 896 and 888.
static_assert(sizeof(AeModel) < 4096, "AeModel fits a small stack");
static_assert(sizeof(GanModel) < 4096, "GanModel fits a small stack");
static_assert(sizeof(ClassifierModel) < 4096, "ClassifierModel fits a small stack");
static_assert(sizeof(metrics::CodeHead) < 4096, "CodeHead fits a small stack");

// Sets up the Context and a configured model in an arena on a buffer of `bytes` bytes that
// starts `offset` bytes past a 64-byte boundary. *free: what the arena has left.
template <class Model>
Status set_up(const typename Model::Setup& setup, size_t bytes, size_t offset, std::vector<uint8_t>* block,
              size_t* used, size_t* free) {
  block->assign(bytes + 2 * Arena::kAlign, 0);
  const uintptr_t at = reinterpret_cast<uintptr_t>(block->data());
  uint8_t* start = block->data() + ((Arena::kAlign - at % Arena::kAlign) % Arena::kAlign) + offset;
  Arena arena(start, bytes);
  Context ctx;
  Context::Options o;
  o.threads = 1;
  Model model;
  EMBER_TRY(model.configure(setup));
  EMBER_TRY(ctx.init(&arena, o));
  EMBER_TRY(model.init(&arena, &ctx));
  *used = arena.used();
  *free = arena.free_bytes();
  return Status::ok();
}

template <class Model>
void check_exact(const char* what, const typename Model::Setup& setup) {
  CAPTURE(what);
  Model model;
  REQUIRE(model.configure(setup).is_ok());
  size_t need = 0;
  const Status s = testing::setup_bytes(&model, 1, &need);
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  REQUIRE(need % Arena::kAlign == Arena::kStartSlack);
  std::vector<uint8_t> block;
  for (const size_t offset : {size_t(0), size_t(1), size_t(8), size_t(16), size_t(48), Arena::kStartSlack}) {
    CAPTURE(offset);
    size_t used = 0, free = 1;
    const Status fits = set_up<Model>(setup, need, offset, &block, &used, &free);
    REQUIRE_MESSAGE(fits.is_ok(), fits.message());
    CHECK(used == need - Arena::kStartSlack);
    CHECK(free == 0);
  }
  size_t used = 0, free = 0;
  const Status short_one = set_up<Model>(setup, need - 1, 1, &block, &used, &free);
  CHECK(short_one.code() == Code::out_of_memory);
  CHECK(std::string(short_one.message()).find("short by") != std::string::npos);
}

}  // namespace

TEST_CASE("bytes_needed: autoencoders and VAEs, training and sampling, hold exactly") {
  check_exact<AeModel>("ae mlp, training", small_ae(ModelKind::ae, Arch::mlp, true));
  check_exact<AeModel>("ae linear, training", small_ae(ModelKind::ae, Arch::linear, true));
  check_exact<AeModel>("ae conv, training", small_ae(ModelKind::ae, Arch::conv, true));
  check_exact<AeModel>("vae mlp, training", small_ae(ModelKind::vae, Arch::mlp, true));
  check_exact<AeModel>("vae conv, training", small_ae(ModelKind::vae, Arch::conv, true));
  check_exact<AeModel>("vae mlp, inference", small_ae(ModelKind::vae, Arch::mlp, false));
  check_exact<AeModel>("vae mlp, decoder only", small_ae(ModelKind::vae, Arch::mlp, false, true));
  check_exact<AeModel>("vae conv, decoder only", small_ae(ModelKind::vae, Arch::conv, false, true));
  AeModel::Setup learned = small_ae(ModelKind::vae, Arch::mlp, true);
  learned.config.likelihood = Likelihood::gaussian_learned;
  check_exact<AeModel>("vae, learned variance", learned);
}

TEST_CASE("bytes_needed: GANs (mlp, DCGAN, conditional, InfoGAN, unroll, averages) hold exactly") {
  check_exact<GanModel>("gan mlp, training", small_gan(GanKind::mlp, true));
  check_exact<GanModel>("dcgan, training", small_gan(GanKind::dcgan, true));
  check_exact<GanModel>("dcgan, sampling", small_gan(GanKind::dcgan, false));
  check_exact<GanModel>("dcgan, generator only", small_gan(GanKind::dcgan, false, true));
  GanModel::Setup cond = small_gan(GanKind::dcgan, true);
  cond.config.cond = true, cond.config.classes = 3;
  check_exact<GanModel>("conditional dcgan, training", cond);
  cond.training = false, cond.generator_only = true;
  check_exact<GanModel>("conditional dcgan, generator only", cond);
  GanModel::Setup info = small_gan(GanKind::dcgan, true);
  info.config.info = 3, info.config.info_cont = 1, info.config.ema = 0.99f, info.config.unroll = 2;
  check_exact<GanModel>("infogan dcgan with averages and unroll, training", info);
  info.training = false;
  check_exact<GanModel>("infogan dcgan with averages, sampling", info);
  info.generator_only = true;
  check_exact<GanModel>("infogan dcgan, generator only", info);
  GanModel::Setup rings = small_gan(GanKind::mlp, true);
  rings.config.data = GanData::points, rings.config.mbstd = true;
  check_exact<GanModel>("gan on points with minibatch stddev, training", rings);
}

TEST_CASE("bytes_needed: classifier and code head hold exactly") {
  ClassifierModel::Setup c;
  c.config.rows = c.config.cols = 16, c.config.classes = 4;
  c.config.channels[0] = 4, c.config.channels[1] = 4, c.config.channels[2] = 8, c.config.features = 16;
  c.batch = 8, c.eval_batch = 5;
  check_exact<ClassifierModel>("classifier conv, training", c);
  c.config.batchnorm = true;
  check_exact<ClassifierModel>("classifier conv bn, training", c);
  c.training = false;
  check_exact<ClassifierModel>("classifier conv bn, inference", c);
  c.config.arch = ClassifierArch::mlp;
  check_exact<ClassifierModel>("classifier mlp, inference", c);

  metrics::CodeHead::Setup h;
  h.inputs = 6, h.classes = 3, h.hidden = 8, h.batch = 4, h.eval_batch = 7, h.max_rows = 50;
  check_exact<metrics::CodeHead>("code head", h);
}

TEST_CASE("bytes_needed: the dry run leaves its scratch as it was, and says when it is too small") {
  AeModel model;
  REQUIRE(model.configure(small_ae(ModelKind::vae, Arch::conv, true)).is_ok());
  std::vector<uint8_t> block(1 << 20);
  Arena scratch(block.data(), block.size());
  void* p = nullptr;
  REQUIRE(scratch.alloc(100, &p).is_ok());
  const size_t used = scratch.used();
  size_t a = 0, b = 0;
  REQUIRE(model.bytes_needed(1, &scratch, &a).is_ok());
  CHECK(scratch.used() == used);
  REQUIRE(model.bytes_needed(1, &scratch, &b).is_ok());  // again: the same figure
  CHECK(a == b);
  Arena tiny(block.data(), 512);
  const Status s = model.bytes_needed(1, &tiny, &a);
  CHECK(s.code() == Code::out_of_memory);
  CHECK(std::string(s.message()).find("short by") != std::string::npos);
  CHECK(a == 0);
  CHECK(model.bytes_needed(1, nullptr, &a).code() == Code::invalid_argument);
}
