#include "models/ae-model.h"

#include <cmath>
#include <cstring>

#include "models/model-common.h"
#include "nn/quantize.h"

namespace ember::models {

namespace {
constexpr uint64_t kNoiseStream = 7;  // the reparameterisation noise's PCG stream (weights use 0)
constexpr const char* kWhat = "an autoencoder model";  // in errors about a file that is not one

void copy_rows(float* dst, const float* src, int rows, int cols) {
  std::memcpy(dst, src, static_cast<size_t>(rows) * static_cast<size_t>(cols) * sizeof(float));
}
}  // namespace

Status AeModel::configure(const Setup& setup) {
  if (ready_) return Status::error(Code::invalid_argument, "model: already initialised (configure comes before init)");
  EMBER_TRY(setup.config.validate());
  if (setup.batch < 1 || setup.batch > kMaxBatch || setup.eval_batch < 1 || setup.eval_batch > kMaxBatch)
    return Status::error(Code::invalid_argument, "model: batch %d / eval batch %d out of range 1..%d", setup.batch,
                         setup.eval_batch, kMaxBatch);
  if (setup.training && !(setup.lr > 0.0f && std::isfinite(setup.lr)))
    return Status::error(Code::invalid_argument, "model: learning rate must be > 0");
  if (setup.training && !(setup.weight_decay >= 0.0f && std::isfinite(setup.weight_decay)))
    return Status::error(Code::invalid_argument, "model: weight decay must be >= 0");
  if (setup.training && setup.decoder_only)
    return Status::error(Code::invalid_argument, "model: a decoder-only model cannot train");
  if (setup.config.weights == nn::Storage::int8 && !setup.decoder_only)
    return Status::error(Code::invalid_argument, "model: int8 weights are a sampler's: a decoder-only model, not %s",
                         setup.training ? "training" : "an encoder");
  setup_ = setup;
  release();  // the state a new setup starts from (Adam from its rate, no noise drawn)
  configured_ = true;
  return Status::ok();
}

void AeModel::release() {
  unbuild();
  nn::OptimizerConfig oc = nn::OptimizerConfig::adam(setup_.lr);
  oc.weight_decay = setup_.weight_decay, oc.decoupled_weight_decay = true;
  opt_ = nn::Optimizer(oc, 0);
  noise_ = Rng();
  ctx_ = nullptr, setup_bytes_ = 0, ready_ = false;
}

nn::CompileOptions AeModel::train_options() const { return nn::CompileOptions{}; }

// The graphs and the parameter table, in arena: training, encoder, decoder, in that order
// (the order parameters are declared in, and so drawn from the seed in).
Status AeModel::build(Arena* arena) {
  unbuild();
  params_.reset(arena);
  const AeConfig& c = setup_.config;
  if (setup_.training) EMBER_TRY(build_ae(train_, c, setup_.batch, &nodes_));
  if (!setup_.decoder_only) {
    enc_x_ = enc_.input("x", Shape(setup_.eval_batch, c.pixels()));
    enc_mu_ = build_encoder(enc_, c, enc_x_, &enc_logvar_);
    enc_.mark_output(enc_mu_);
    if (enc_logvar_.ok()) enc_.mark_output(enc_logvar_);
  }
  dec_z_ = dec_.input("z", Shape(setup_.eval_batch, c.latent));
  dec_out_ = build_decoder(dec_, c, dec_z_, &dec_logvar_);
  dec_.mark_output(dec_out_);
  if (dec_logvar_.ok()) dec_.mark_output(dec_logvar_);
  EMBER_TRY(enc_.status());
  EMBER_TRY(dec_.status());
  if (c.weights == nn::Storage::int8) EMBER_TRY(nn::mark_int8_weights(dec_, &params_));
  params_.set_int8_in_place(setup_.int8_in_place);
  return Status::ok();
}

void AeModel::unbuild() {
  train_.reset(), enc_.reset(), dec_.reset();
  params_.reset(nullptr);
  nodes_ = AeNodes();
  enc_x_ = enc_mu_ = enc_logvar_ = dec_z_ = dec_out_ = dec_logvar_ = nn::T();
}

Status AeModel::compile_bytes(int workers, size_t* bytes) {
  size_t total = params_.bytes(param_mode(setup_.training)).total();
  if (setup_.training) EMBER_TRY(add_graph_bytes(train_, train_options(), workers, &total));
  if (!setup_.decoder_only) EMBER_TRY(add_graph_bytes(enc_, inference_options(), workers, &total));
  EMBER_TRY(add_graph_bytes(dec_, inference_options(), workers, &total));
  *bytes = total;
  return Status::ok();
}

Status AeModel::bytes_needed(int threads, Arena* scratch, size_t* bytes) {
  return model_bytes_needed(this, "model", threads, scratch, bytes);
}

Status AeModel::init(Arena* arena, Context* ctx) {
  if (!configured_) return Status::error(Code::invalid_argument, "model: configure() first");
  if (ready_) return Status::error(Code::invalid_argument, "model: already initialised");
  const size_t mark = arena->mark();
  EMBER_TRY(all_or_nothing(arena, [&] { return take(arena, ctx); }, [&] { release(); }));
  setup_bytes_ = arena->mark() - mark;
  if (nodes_.fixed_logvar.ok()) {
    const float lv = 2.0f * std::log(setup_.config.sigma);
    float* p = train_.data(nodes_.fixed_logvar);
    for (int64_t i = 0; i < train_.shape(nodes_.fixed_logvar).numel(); ++i) p[i] = lv;
  }
  ctx_ = ctx;
  ready_ = true;
  return Status::ok();
}

// init's pieces in order; any may run out of memory (init then undoes them all).
Status AeModel::take(Arena* arena, Context* ctx) {
  EMBER_TRY(build(arena));
  EMBER_TRY(params_.allocate(arena, param_mode(setup_.training)));
  Rng init_rng(setup_.seed);
  params_.initialise(&init_rng);
  noise_.seed_with(setup_.seed, kNoiseStream);
  if (setup_.training) EMBER_TRY(train_.compile(arena, ctx, train_options(), &noise_));
  if (!setup_.decoder_only) EMBER_TRY(enc_.compile(arena, ctx, inference_options()));
  return dec_.compile(arena, ctx, inference_options());
}

size_t AeModel::param_count() const { return params_.numel(0, true); }

Status AeModel::run_train(const float* x, bool update, StepLoss* out) {
  if (!ready_ || !setup_.training) return Status::error(Code::invalid_argument, "model: not set up for training");
  copy_rows(train_.data(nodes_.x), x, setup_.batch, setup_.config.pixels());
  EMBER_TRY(train_.forward());
  const float loss = train_.loss();
  if (!std::isfinite(loss))
    return Status::error(Code::not_finite, "model: the loss is not finite (lower the learning rate?)");
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
  if (setup_.decoder_only) return Status::error(Code::invalid_argument, "model: a decoder-only model has no encoder");
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

Status AeModel::save(const char* path, uint64_t step, const char* run) const {
  if (!ready_) return Status::error(Code::invalid_argument, "model: init() first");
  // A decoder-only model writes a sampler file (the decoder alone) that only such a model loads.
  nn::CheckpointState st;
  const bool training = setup_.training;
  st.opts = training ? const_cast<nn::Optimizer*>(&opt_) : nullptr, st.n_opts = training ? 1 : 0;
  st.rngs = const_cast<Rng*>(&noise_), st.n_rngs = 1;
  st.step = &step;
  return save_with_config(path, setup_.config, params_, st, run);
}

Status AeModel::load(const nn::CheckpointRef& path, uint64_t* step) {
  if (!ready_) return Status::error(Code::invalid_argument, "model: init() first");
  nn::CheckpointState st;
  // A training checkpoint restores Adam and the noise; an inference model skips both.
  const bool training = setup_.training;
  st.opts = training ? &opt_ : nullptr, st.n_opts = training ? 1 : 0;
  st.rngs = training ? &noise_ : nullptr, st.n_rngs = training ? 1 : 0;
  st.step = step;
  if (setup_.decoder_only) st.rename = load_present_only, st.rename_user = &params_;  // the encoder's are skipped
  return load_with_config(path, setup_.config, kWhat, &params_, st);
}

Status AeModel::read_config(const nn::CheckpointRef& path, AeConfig* config) {
  return read_checkpoint_config(path, kWhat, config);
}

}  // namespace ember::models
