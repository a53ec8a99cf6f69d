#include "models/ae_model.h"

#include <cmath>
#include <cstring>

#include "models/model_file.h"

namespace ember::models {

namespace {
constexpr int kMaxBatch = 1 << 16;
constexpr uint64_t kNoiseStream = 7;  // the reparameterisation noise's PCG stream (weights use 0)

void copy_rows(float* dst, const float* src, int rows, int cols) {
  std::memcpy(dst, src, static_cast<size_t>(rows) * static_cast<size_t>(cols) * sizeof(float));
}
}  // namespace

Status AeModel::configure(const Setup& setup) {
  if (configured_) return Status::error(Code::invalid_argument, "model: already configured");
  EMBER_TRY(setup.config.validate());
  if (setup.batch < 1 || setup.batch > kMaxBatch || setup.eval_batch < 1 || setup.eval_batch > kMaxBatch)
    return Status::error(Code::invalid_argument, "model: batch %d / eval batch %d out of range 1..%d", setup.batch,
                         setup.eval_batch, kMaxBatch);
  if (setup.training && !(setup.lr > 0.0f && std::isfinite(setup.lr)))
    return Status::error(Code::invalid_argument, "model: learning rate must be > 0");
  setup_ = setup;
  const AeConfig& c = setup.config;
  if (setup.training) EMBER_TRY(build_ae(train_, c, setup.batch, &nodes_));
  enc_x_ = enc_.input("x", Shape(setup.eval_batch, c.pixels()));
  enc_mu_ = build_encoder(enc_, c, enc_x_, &enc_logvar_);
  enc_.mark_output(enc_mu_);
  if (enc_logvar_.ok()) enc_.mark_output(enc_logvar_);
  dec_z_ = dec_.input("z", Shape(setup.eval_batch, c.latent));
  dec_out_ = build_decoder(dec_, c, dec_z_, &dec_logvar_);
  dec_.mark_output(dec_out_);
  if (dec_logvar_.ok()) dec_.mark_output(dec_logvar_);
  EMBER_TRY(enc_.status());
  EMBER_TRY(dec_.status());
  opt_ = nn::Optimizer(nn::OptimizerConfig::adam(setup.lr), 0);
  configured_ = true;
  return Status::ok();
}

nn::CompileOptions AeModel::train_options() const { return nn::CompileOptions{}; }

Status AeModel::bytes_needed(int threads, size_t* bytes) {
  if (!configured_) return Status::error(Code::invalid_argument, "model: configure() first");
  const nn::ParamMode mode = setup_.training ? nn::ParamMode::train_adam : nn::ParamMode::inference;
  size_t total = params_.bytes(mode).total();
  nn::CompileOptions inference;
  inference.training = false;
  nn::GraphBytes b;
  if (setup_.training) {
    EMBER_TRY(train_.plan(train_options(), threads, &b));
    total += Arena::rounded(b.activations) + Arena::rounded(b.scratch);
  }
  EMBER_TRY(enc_.plan(inference, threads, &b));
  total += Arena::rounded(b.activations) + Arena::rounded(b.scratch);
  EMBER_TRY(dec_.plan(inference, threads, &b));
  total += Arena::rounded(b.activations) + Arena::rounded(b.scratch);
  *bytes = total;
  return Status::ok();
}

Status AeModel::init(Arena* arena, Context* ctx) {
  if (!configured_) return Status::error(Code::invalid_argument, "model: configure() first");
  if (ready_) return Status::error(Code::invalid_argument, "model: already initialised");
  const size_t mark = arena->mark();
  const nn::ParamMode mode = setup_.training ? nn::ParamMode::train_adam : nn::ParamMode::inference;
  Status s = params_.allocate(arena, mode);
  if (!s.is_ok()) return s;
  Rng init_rng(setup_.seed);
  params_.initialise(&init_rng);
  noise_.seed_with(setup_.seed, kNoiseStream);
  nn::CompileOptions inference;
  inference.training = false;
  if (setup_.training) s = train_.compile(arena, ctx, train_options(), &noise_);
  if (s.is_ok()) s = enc_.compile(arena, ctx, inference);
  if (s.is_ok()) s = dec_.compile(arena, ctx, inference);
  if (!s.is_ok()) {
    arena->rewind(mark);
    return s;
  }
  if (nodes_.fixed_logvar.ok()) {
    const float lv = 2.0f * std::log(setup_.config.sigma);
    float* p = train_.data(nodes_.fixed_logvar);
    for (int64_t i = 0; i < train_.shape(nodes_.fixed_logvar).numel(); ++i) p[i] = lv;
  }
  ctx_ = ctx;
  ready_ = true;
  return Status::ok();
}

size_t AeModel::param_count() const {
  size_t n = 0;
  for (int i = 0; i < params_.count(); ++i)
    if (params_[i].trainable) n += params_[i].numel();
  return n;
}

Status AeModel::run_train(const float* x, bool update, StepLoss* out) {
  if (!ready_ || !setup_.training) return Status::error(Code::invalid_argument, "model: not set up for training");
  copy_rows(train_.data(nodes_.x), x, setup_.batch, setup_.config.pixels());
  EMBER_TRY(train_.forward());
  const float loss = train_.loss();
  if (!std::isfinite(loss))
    return Status::error(Code::invalid_argument, "model: the loss is not finite (lower the learning rate?)");
  if (update) {
    EMBER_TRY(train_.backward());
    EMBER_TRY(opt_.step(*ctx_, params_));
  }
  if (out) {
    out->loss = loss;
    out->recon = train_.node(nodes_.recon).loss;
    out->kl = nodes_.kl.ok() ? train_.node(nodes_.kl).loss : 0.0f;
  }
  return Status::ok();
}

Status AeModel::train_step(const float* x, StepLoss* out) { return run_train(x, true, out); }
Status AeModel::eval_loss(const float* x, StepLoss* out) { return run_train(x, false, out); }

Status AeModel::encode(const float* x, int n, float* mu, float* logvar) {
  if (!ready_) return Status::error(Code::invalid_argument, "model: init() first");
  const int e = setup_.eval_batch, d = setup_.config.pixels(), l = setup_.config.latent;
  for (int at = 0; at < n; at += e) {
    const int rows = n - at < e ? n - at : e;
    float* in = enc_.data(enc_x_);
    copy_rows(in, x + static_cast<size_t>(at) * d, rows, d);
    std::memset(in + static_cast<size_t>(rows) * d, 0, static_cast<size_t>(e - rows) * d * sizeof(float));
    EMBER_TRY(enc_.forward());
    copy_rows(mu + static_cast<size_t>(at) * l, enc_.data(enc_mu_), rows, l);
    if (logvar && enc_logvar_.ok()) copy_rows(logvar + static_cast<size_t>(at) * l, enc_.data(enc_logvar_), rows, l);
  }
  return Status::ok();
}

Status AeModel::decode(const float* z, int n, float* images, float* logits, float* out_logvar) {
  if (!ready_) return Status::error(Code::invalid_argument, "model: init() first");
  const int e = setup_.eval_batch, d = setup_.config.pixels(), l = setup_.config.latent;
  const bool bernoulli = setup_.config.likelihood == Likelihood::bernoulli;
  for (int at = 0; at < n; at += e) {
    const int rows = n - at < e ? n - at : e;
    float* in = dec_.data(dec_z_);
    copy_rows(in, z + static_cast<size_t>(at) * l, rows, l);
    std::memset(in + static_cast<size_t>(rows) * l, 0, static_cast<size_t>(e - rows) * l * sizeof(float));
    EMBER_TRY(dec_.forward());
    const float* out = dec_.data(dec_out_);
    const size_t off = static_cast<size_t>(at) * d, count = static_cast<size_t>(rows) * d;
    if (logits) copy_rows(logits + off, out, rows, d);
    if (out_logvar && dec_logvar_.ok()) copy_rows(out_logvar + off, dec_.data(dec_logvar_), rows, d);
    if (images) {
      if (bernoulli) ctx_->k().act_forward(Act::sigmoid, 0.0f, out, images + off, count);
      else copy_rows(images + off, out, rows, d);
    }
  }
  return Status::ok();
}

Status AeModel::reconstruct(const float* x, int n, float* images, float* scratch_latent) {
  const int e = setup_.eval_batch, d = setup_.config.pixels();
  for (int at = 0; at < n; at += e) {
    const int rows = n - at < e ? n - at : e;
    EMBER_TRY(encode(x + static_cast<size_t>(at) * d, rows, scratch_latent, nullptr));
    EMBER_TRY(decode(scratch_latent, rows, images + static_cast<size_t>(at) * d));
  }
  return Status::ok();
}

Status AeModel::save(const char* path, uint64_t step) const {
  if (!ready_) return Status::error(Code::invalid_argument, "model: init() first");
  return save_model(path, setup_.config, params_, setup_.training, &opt_, 1, noise_, step);
}

Status AeModel::load(const char* path, uint64_t* step) {
  if (!ready_) return Status::error(Code::invalid_argument, "model: init() first");
  AeConfig file_config;
  EMBER_TRY(read_config(path, &file_config));
  char mine[kModelConfigText], theirs[kModelConfigText];
  EMBER_TRY(setup_.config.to_text(mine, sizeof mine));
  EMBER_TRY(file_config.to_text(theirs, sizeof theirs));
  if (std::strcmp(mine, theirs) != 0)
    return Status::error(Code::shape_mismatch, "model: checkpoint is '%s', model is '%s'", theirs, mine);
  // A training checkpoint restores Adam and the noise; an inference model skips both.
  return load_model(path, &params_, setup_.training, &opt_, 1, &noise_, step);
}

Status AeModel::read_config(const char* path, AeConfig* config) {
  return read_model_config(path, "an autoencoder", config);
}

}  // namespace ember::models
