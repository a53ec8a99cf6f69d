// The C interface (capi/ember-c.h) over the sampler side of the C++ API: the same steps as
// examples/api/sample-on-device.cpp, with the handle itself placed in the caller's buffer.
//
//   buffer: [pad to 64][ember_sampler: both model objects, arena, context][arena: plan, weights]
//
// open() configures the model the file's config text asks for, measures its set-up with a
// dry run in the arena part of the buffer (which it leaves as it was), then builds and loads.
#include "capi/ember-c.h"

#include <cstdio>
#include <cstring>
#include <new>
#include <type_traits>

#include "core/arena.h"
#include "core/rng.h"
#include "core/version.h"
#include "models/ae-model.h"
#include "models/gan-model.h"
#include "nn/checkpoint.h"
#include "platform/context.h"

using ember::Arena;
using ember::Code;
using ember::Status;
namespace models = ember::models;

struct ember_sampler {
  ember_sampler(uint8_t* arena_start, size_t arena_bytes) : arena(arena_start, arena_bytes) {}
  models::AeModel vae;  // one of the two is used (each a few KB: the graphs live in the arena)
  models::GanModel gan;
  Arena arena;
  ember::Context ctx;
  ember_info info = {};
  int eval_batch = 0;
};

namespace {

constexpr size_t kMeasureBytes = 64u << 10;  // the dry run's room for the graphs' tables
constexpr int kEvalBatch = 1;  // one sample per generator call: the smallest plan, and the same
                                // bits as example-sample-on-device and the firmware (examples/mcu/)

int code_of(Code c) {
  switch (c) {
    case Code::ok: return EMBER_OK;
    case Code::invalid_argument: return EMBER_INVALID_ARGUMENT;
    case Code::out_of_memory: return EMBER_OUT_OF_MEMORY;
    case Code::shape_mismatch: return EMBER_SHAPE_MISMATCH;
    case Code::io_error: return EMBER_IO_ERROR;
    case Code::corrupt_data: return EMBER_CORRUPT_DATA;
    case Code::unsupported: return EMBER_UNSUPPORTED;
    case Code::not_finite: return EMBER_NOT_FINITE;
  }
  return EMBER_INTERNAL;
}

int finish(const Status& s, ember_error* err) {
  const int code = code_of(s.code());
  if (err) {
    err->code = code;
    std::snprintf(err->message, sizeof err->message, "%s", s.is_ok() ? "" : s.message());
  }
  return code;
}

// Configures `model` for sampling as `config` says, its set-up measured in `scratch`.
template <class Model, class Config>
Status configure(Model* model, const Config& config, int threads, Arena* scratch, size_t* bytes) {
  typename Model::Setup setup;
  setup.config = config, setup.training = false, setup.eval_batch = kEvalBatch;
  if constexpr (std::is_same_v<Model, models::GanModel>) setup.generator_only = true;
  else setup.decoder_only = true;
  EMBER_TRY(model->configure(setup));
  return model->bytes_needed(threads, scratch, bytes);
}

// Reads the file's config and configures the model it holds; *bytes: the arena it needs.
Status configure_from(ember_sampler* s, const ember::nn::CheckpointRef& ref, int threads, size_t* bytes) {
  models::AeConfig vae;
  models::GanConfig gan;
  const Status as_vae = models::AeModel::read_config(ref, &vae);
  if (as_vae.is_ok()) {
    if (vae.kind != models::ModelKind::vae)
      return Status::error(Code::invalid_argument, "a plain autoencoder has no prior to sample from");
    s->info = {EMBER_VAE, vae.latent, 1, vae.rows, vae.cols, 0};
    return configure(&s->vae, vae, threads, &s->arena, bytes);
  }
  if (as_vae.code() != Code::invalid_argument || !models::GanModel::read_config(ref, &gan).is_ok()) return as_vae;
  if (gan.data != models::GanData::images)
    return Status::error(Code::unsupported, "a GAN on 2-D points has no images to draw");
  s->info = {EMBER_GAN, gan.z_dim, 1, gan.rows, gan.cols, gan.cond ? gan.classes : 0};
  return configure(&s->gan, gan, threads, &s->arena, bytes);
}

Status check_call(const ember_sampler* s, const float* z, const int32_t* labels, int n, const float* images) {
  if (!s) return Status::error(Code::invalid_argument, "the sampler is NULL");
  if (n < 1) return Status::error(Code::invalid_argument, "n must be >= 1, got %d", n);
  if (!z || !images) return Status::error(Code::invalid_argument, "z and images must not be NULL");
  if (s->info.classes > 0 && !labels)
    return Status::error(Code::invalid_argument, "a conditional GAN needs one label per sample");
  for (int i = 0; s->info.classes > 0 && i < n; ++i)
    if (labels[i] < 0 || labels[i] >= s->info.classes)
      return Status::error(Code::invalid_argument, "labels[%d] is %d; the classes are 0..%d", i, int(labels[i]),
                           s->info.classes - 1);
  return Status::ok();
}

Status decode(ember_sampler* s, const float* z, const int32_t* labels, int n, float* images) {
  EMBER_TRY(check_call(s, z, labels, n, images));
  if (s->info.kind == EMBER_VAE) return s->vae.decode(z, n, images);
  EMBER_TRY(s->gan.generate(z, s->info.classes > 0 ? labels : nullptr, n, images));
  models::to_unit_pixels(images, size_t(n) * size_t(s->info.rows) * size_t(s->info.cols));
  return Status::ok();
}

}  // namespace

extern "C" {

const char* ember_version(void) { return ember::kVersion; }

const char* ember_code_name(int code) {
  static const char* const kNames[] = {"EMBER_OK",           "EMBER_INVALID_ARGUMENT", "EMBER_OUT_OF_MEMORY",
                                       "EMBER_CORRUPT_DATA", "EMBER_SHAPE_MISMATCH",   "EMBER_NOT_FINITE",
                                       "EMBER_IO_ERROR",     "EMBER_UNSUPPORTED",      "EMBER_INTERNAL"};
  return code >= 0 && code <= EMBER_INTERNAL ? kNames[code] : "EMBER_UNKNOWN_CODE";
}

int ember_sampler_open(const void* file, size_t file_bytes, int threads, void* buffer, size_t buffer_bytes,
                       ember_sampler** out, size_t* need, ember_error* err) {
  if (out) *out = nullptr;
  if (need) *need = 0;
  if (!file || !buffer || !out) return finish(Status::error(Code::invalid_argument, "file, buffer and out must not be NULL"), err);
  if (threads < 0) return finish(Status::error(Code::invalid_argument, "threads must be >= 0, got %d", threads), err);
  // The handle at the first 64-byte boundary, the arena after it.
  const uintptr_t start = reinterpret_cast<uintptr_t>(buffer);
  const size_t pad = size_t((Arena::kAlign - start % Arena::kAlign) % Arena::kAlign);
  const size_t head = pad + Arena::rounded(sizeof(ember_sampler));
  if (buffer_bytes < head + kMeasureBytes) {
    if (need) *need = Arena::kAlign - 1 + Arena::rounded(sizeof(ember_sampler)) + kMeasureBytes;
    return finish(Status::error(Code::out_of_memory, "the buffer of %zu bytes is too small to measure the sampler: "
                                "give at least %zu", buffer_bytes, head + kMeasureBytes), err);
  }
  uint8_t* base = static_cast<uint8_t*>(buffer);
  ember_sampler* s = new (base + pad) ember_sampler(base + head, buffer_bytes - head);
  const auto ref = ember::nn::CheckpointRef::memory(static_cast<const uint8_t*>(file), file_bytes);
  size_t bytes = 0;
  Status st = configure_from(s, ref, threads, &bytes);
  if (st.is_ok() && bytes > buffer_bytes - head) {
    // Enough wherever the next buffer starts: the handle's padding at its worst.
    const size_t any = Arena::kAlign - 1 + Arena::rounded(sizeof(ember_sampler)) + bytes;
    if (need) *need = any;
    st = Status::error(Code::out_of_memory, "the buffer is %zu bytes; this sampler needs %zu (%zu short)", buffer_bytes,
                       any, any - buffer_bytes);
  }
  ember::Context::Options o;
  o.threads = threads;
  if (st.is_ok()) st = s->ctx.init(&s->arena, o);
  if (st.is_ok()) st = s->info.kind == EMBER_VAE ? s->vae.init(&s->arena, &s->ctx) : s->gan.init(&s->arena, &s->ctx);
  uint64_t step = 0;
  if (st.is_ok()) st = s->info.kind == EMBER_VAE ? s->vae.load(ref, &step) : s->gan.load(ref, &step);
  if (!st.is_ok()) {
    s->~ember_sampler();
    return finish(st, err);
  }
  *out = s;
  return finish(st, err);
}

int ember_sampler_info(const ember_sampler* s, ember_info* out, ember_error* err) {
  if (!s || !out) return finish(Status::error(Code::invalid_argument, "the sampler and out must not be NULL"), err);
  *out = s->info;
  return finish(Status::ok(), err);
}

int ember_sampler_decode(ember_sampler* s, const float* z, const int32_t* labels, int n, float* images,
                         ember_error* err) {
  return finish(decode(s, z, labels, n, images), err);
}

int ember_sampler_draw(ember_sampler* s, uint64_t seed, const int32_t* labels, int n, float* z, float* images,
                       ember_error* err) {
  Status st = check_call(s, z, labels, n, images);
  if (st.is_ok()) {
    ember::Rng rng(seed);
    rng.fill_normal(z, size_t(n) * size_t(s->info.latent), 0.0f, 1.0f);
    st = decode(s, z, labels, n, images);
  }
  return finish(st, err);
}

void ember_sampler_close(ember_sampler* s) {
  if (s) s->~ember_sampler();
}

}  // extern "C"
