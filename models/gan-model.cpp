#include "models/gan-model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "models/model-common.h"
#include "nn/quantize.h"

namespace ember::models {

namespace {


size_t floats(int rows, int cols) { return static_cast<size_t>(rows) * static_cast<size_t>(cols); }

// Row i of onehot[n, classes] = e_{labels[i]}.
void one_hot(const int32_t* labels, int n, int classes, float* onehot) {
  std::memset(onehot, 0, floats(n, classes) * sizeof(float));
  for (int i = 0; i < n; ++i) onehot[floats(i, classes) + static_cast<size_t>(labels[i])] = 1.0f;
}

// Mean of sigmoid(logit) over n logits: the discriminator's average belief "real".
float mean_belief(const float* logits, int n) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += 1.0 / (1.0 + std::exp(-static_cast<double>(logits[i])));
  return static_cast<float>(s / n);
}

// info: row i of codes[n, k] holds k Gaussians; it becomes the one-hot of the code they pick
// and code[i] (if given) that code. Without a prior (log_prior null: uniform) the code is
// their argmax (the first on a tie), uniform over 0..k-1. With one it is the Gumbel-max draw
// argmax_j log_prior[j] + G_j, G_j = -log(-log Phi(z_j)) a standard Gumbel variable (Phi the
// normal CDF), which is Categorical(prior) and still a function of z alone.
int pick_code(const float* row, int k, const double* log_prior) {
  int best = 0;
  if (!log_prior) {
    for (int j = 1; j < k; ++j) best = row[j] > row[best] ? j : best;
    return best;
  }
  double top = -HUGE_VAL;
  for (int j = 0; j < k; ++j) {
    const double phi = 0.5 * std::erfc(-static_cast<double>(row[j]) / std::sqrt(2.0));
    const double v = log_prior[j] - std::log(-std::log(phi));  // +inf at phi = 1, -inf at 0
    if (j == 0 || v > top) best = j, top = v;
  }
  return best;
}
void codes_from_noise(float* codes, int n, int k, const double* log_prior, int32_t* code) {
  for (int i = 0; i < n; ++i) {
    float* row = codes + floats(i, k);
    const int best = pick_code(row, k, log_prior);
    for (int j = 0; j < k; ++j) row[j] = j == best ? 1.0f : 0.0f;
    if (code) code[i] = best;
  }
}

// info_std: G's plain noise entries, the first z_dim - info - info_cont of each of n rows of
// G's noise input z[n, z_dim - info], times info_std (nothing to do at 1).
void scale_noise(const GanConfig& c, float* z, int n) {
  if (c.info_std == 1.0f) return;
  const int width = c.z_dim - c.info, plain = width - c.info_cont;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < plain; ++j) z[floats(i, width) + static_cast<size_t>(j)] *= c.info_std;
}

Status not_finite(const char* what) {
  return Status::error(Code::not_finite, "gan: the %s loss is not finite (lower the learning rate?)", what);
}

}  // namespace

Status GanModel::configure(const Setup& setup) {
  if (ready_) return Status::error(Code::invalid_argument, "gan: already initialised (configure comes before init)");
  EMBER_TRY(setup.config.validate());
  if (setup.batch < 1 || setup.batch > kMaxBatch || setup.eval_batch < 1 || setup.eval_batch > kMaxBatch)
    return Status::error(Code::invalid_argument, "gan: batch %d / eval batch %d out of range 1..%d", setup.batch,
                         setup.eval_batch, kMaxBatch);
  if (setup.training && !(setup.lr > 0.0f && std::isfinite(setup.lr)))
    return Status::error(Code::invalid_argument, "gan: learning rate must be > 0");
  if (setup.training && !(setup.beta1 >= 0.0f && setup.beta1 < 1.0f && setup.beta2 >= 0.0f && setup.beta2 < 1.0f))
    return Status::error(Code::invalid_argument, "gan: Adam betas must lie in [0, 1)");
  if (setup.training && setup.generator_only)
    return Status::error(Code::invalid_argument, "gan: a generator-only model cannot train");
  if (setup.config.weights == nn::Storage::int8 && !setup.generator_only)
    return Status::error(Code::invalid_argument, "gan: int8 weights are a sampler's: a generator-only model");
  setup_ = setup;
  release();  // the state a new setup starts from (Adam from its rates, no noise drawn)
  configured_ = true;
  return Status::ok();
}

void GanModel::release() {
  unbuild();
  const nn::OptimizerConfig adam = nn::OptimizerConfig::adam(setup_.lr, setup_.beta1, setup_.beta2);
  opt_[kGenerator] = nn::Optimizer(adam, kGenerator);
  opt_[kDiscriminator] = nn::Optimizer(adam, kDiscriminator);
  noise_ = Rng(), d_copy_steps_ = 0, topk_rows_ = 0;
  ctx_ = nullptr, setup_bytes_ = 0, ready_ = false;
}

// The graphs and the parameter table, in arena.
Status GanModel::build(Arena* arena) {
  unbuild();
  params_.reset(arena);
  const GanConfig& c = setup_.config;
  // The step graphs declare every parameter of G and D, so they are built even for an
  // inference model (which compiles only the sampler): a checkpoint must match them all.
  // A generator-only model declares only the sampler's (G's) and loads by name mapping.
  if (!setup_.generator_only) EMBER_TRY(build_gan(d_, g_, c, setup_.batch, &nodes_));
  sample_z_ = sampler_.input("z", Shape(setup_.eval_batch, c.z_dim - c.info));
  if (c.onehot_dim() > 0) sample_onehot_ = sampler_.input("onehot", Shape(setup_.eval_batch, c.onehot_dim()));
  sample_out_ = sampler_.flatten(gan_generator(sampler_, c, sample_z_, sample_onehot_));
  sampler_.mark_output(sample_out_);
  EMBER_TRY(sampler_.status());
  if (c.weights == nn::Storage::int8) EMBER_TRY(nn::mark_int8_weights(sampler_, &params_));
  params_.set_int8_in_place(setup_.int8_in_place);
  if (c.info > 0) {  // the codes' prior: weights, uniform until set_code_prior
    params_.set_group(kCodePriorGroup);
    nn::InitSpec ones;
    ones.kind = nn::Init::ones;
    EMBER_TRY(params_.get_or_add("code.prior", Shape(c.info), ones, false, &prior_id_));
    EMBER_TRY(arena->alloc_array(static_cast<size_t>(c.info), &log_prior_));
  }
  if (c.ema > 0.0f && !setup_.generator_only) EMBER_TRY(add_ema_params(arena));
  return Status::ok();
}

void GanModel::unbuild() {
  d_.reset(), g_.reset(), sampler_.reset();
  params_.reset(nullptr);
  nodes_ = GanNodes();
  sample_z_ = sample_onehot_ = sample_out_ = nn::T();
  ema_pairs_ = nullptr;
  ema_count_ = ema_stat_count_ = 0;
  prior_id_ = -1;
  log_prior_ = nullptr;
  d_copy_ = d_stats_copy_ = nullptr;
}

// One state parameter "ema.<name>" per parameter of G, in group kGenerator: first the
// trainable ones, then the state buffers (BatchNorm statistics). The pairs' table comes
// from the arena.
Status GanModel::add_ema_params(Arena* arena) {
  const int n = params_.count();
  int pairs = 0;
  for (int i = 0; i < n; ++i) pairs += params_[i].group == kGenerator;
  EMBER_TRY(arena->alloc_array(2 * static_cast<size_t>(pairs), &ema_pairs_));
  params_.set_group(kGenerator);
  nn::InitSpec zeros;
  zeros.kind = nn::Init::zeros;  // init() copies the initial values in
  for (int pass = 0; pass < 2; ++pass) {
    const bool trainable = pass == 0;
    for (int i = 0; i < n; ++i) {
      if (params_[i].group != kGenerator || params_[i].trainable != trainable) continue;
      const Shape shape = params_[i].shape;
      char name[nn::Param::kMaxName];
      const int len = std::snprintf(name, sizeof name, "ema.%s", params_[i].name);
      if (len < 0 || len >= static_cast<int>(sizeof name))
        return Status::error(Code::invalid_argument, "gan: parameter name ema.%s is too long", params_[i].name);
      int id = -1;
      EMBER_TRY(params_.get_or_add(name, shape, zeros, false, &id));
      const int k = ema_count_ + ema_stat_count_;
      ema_pairs_[2 * k] = i, ema_pairs_[2 * k + 1] = id;
      ++(trainable ? ema_count_ : ema_stat_count_);
    }
  }
  return Status::ok();
}

Status GanModel::set_code_prior(const double* weights) {
  if (!ready_) return Status::error(Code::invalid_argument, "gan: init() first");
  const int k = setup_.config.info;
  if (k == 0) return Status::error(Code::invalid_argument, "gan: the model has no code (info = 0)");
  for (int j = 0; j < k; ++j)
    if (!(weights[j] > 0.0 && std::isfinite(weights[j])))
      return Status::error(Code::invalid_argument, "gan: code prior weight %d must be > 0 and finite", j);
  float* w = params_[prior_id_].value;
  for (int j = 0; j < k; ++j) w[j] = static_cast<float>(weights[j]);
  return Status::ok();
}

const double* GanModel::log_prior() {
  const int k = setup_.config.info;
  const float* w = params_[prior_id_].value;
  bool uniform = true;
  double total = 0.0;
  for (int j = 0; j < k; ++j) uniform = uniform && w[j] == w[0], total += w[j];
  if (uniform) return nullptr;  // the plain argmax: the same codes, fewer logs
  for (int j = 0; j < k; ++j) log_prior_[j] = std::log(w[j] / total);
  return log_prior_;
}

int GanModel::code_of(const float* z_row) {
  const GanConfig& c = setup_.config;
  if (c.info == 0 || !ready_) return -1;
  return pick_code(z_row + (c.z_dim - c.info), c.info, log_prior());
}

// ema = decay * ema + (1 - decay) * weight, after every G update.
void GanModel::update_ema() {
  const float d = setup_.config.ema, w = 1.0f - d;
  for (int k = 0; k < ema_count_; ++k) {
    const nn::Param& p = params_[ema_pairs_[2 * k]];
    float* e = params_[ema_pairs_[2 * k + 1]].value;
    for (size_t i = 0; i < p.numel(); ++i) e[i] = d * e[i] + w * p.value[i];
  }
}

// Exchanges G's weights and statistics with the averaged model's (twice: back to training).
void GanModel::swap_ema() {
  for (int k = 0; k < ema_count_ + ema_stat_count_; ++k) {
    const nn::Param& p = params_[ema_pairs_[2 * k]];
    float* e = params_[ema_pairs_[2 * k + 1]].value;
    for (size_t i = 0; i < p.numel(); ++i) {
      const float t = e[i];
      e[i] = p.value[i], p.value[i] = t;
    }
  }
}

namespace {
nn::CompileOptions training_for(uint8_t group) {
  nn::CompileOptions o;
  o.train_groups = 1u << group;
  return o;
}
nn::CompileOptions inference() {
  nn::CompileOptions o;
  o.training = false;
  return o;
}
}  // namespace

// Unroll copy: every D parameter's values (state buffers included) and its Adam moments.
size_t GanModel::d_state_floats() const {
  if (!setup_.training || setup_.config.unroll == 0) return 0;
  size_t n = 0;
  for (int i = 0; i < params_.count(); ++i) {
    const nn::Param& p = params_[i];
    if (p.group == kDiscriminator) n += p.numel() * (p.trainable ? 3 : 1);
  }
  return n;
}

// What init takes after the build: parameters, plans, the unroll and statistics copies.
Status GanModel::compile_bytes(int workers, size_t* bytes) {
  size_t total = params_.bytes(param_mode(setup_.training)).total() + Arena::rounded(d_state_floats() * sizeof(float)) +
                 Arena::rounded(d_stats_floats() * sizeof(float));
  if (setup_.training) {
    EMBER_TRY(add_graph_bytes(d_, training_for(kDiscriminator), workers, &total));
    EMBER_TRY(add_graph_bytes(g_, training_for(kGenerator), workers, &total));
  }
  EMBER_TRY(add_graph_bytes(sampler_, inference(), workers, &total));
  *bytes = total;
  return Status::ok();
}

Status GanModel::bytes_needed(int threads, Arena* scratch, size_t* bytes) {
  return model_bytes_needed(this, "gan", threads, scratch, bytes);
}

Status GanModel::init(Arena* arena, Context* ctx) {
  if (!configured_) return Status::error(Code::invalid_argument, "gan: configure() first");
  if (ready_) return Status::error(Code::invalid_argument, "gan: already initialised");
  const size_t mark = arena->mark();
  EMBER_TRY(all_or_nothing(arena, [&] { return take(arena, ctx); }, [&] { release(); }));
  setup_bytes_ = arena->mark() - mark;
  if (setup_.training) fill_gan_targets(d_, g_, setup_.config, nodes_);
  set_topk_share(setup_.config.topk);
  ctx_ = ctx;
  ready_ = true;
  return Status::ok();
}

// init's pieces in order; any may run out of memory (init then undoes them all).
Status GanModel::take(Arena* arena, Context* ctx) {
  EMBER_TRY(build(arena));
  EMBER_TRY(params_.allocate(arena, param_mode(setup_.training)));
  Rng init_rng(setup_.seed);
  params_.initialise(&init_rng);
  for (int k = 0; k < ema_count_ + ema_stat_count_; ++k)  // the average starts at the initial values
    std::memcpy(params_[ema_pairs_[2 * k + 1]].value, params_[ema_pairs_[2 * k]].value,
                params_[ema_pairs_[2 * k]].numel() * sizeof(float));
  noise_.seed_with(setup_.seed, kGanNoiseStream);
  if (setup_.training) EMBER_TRY(d_.compile(arena, ctx, training_for(kDiscriminator)));
  if (setup_.training) EMBER_TRY(g_.compile(arena, ctx, training_for(kGenerator)));
  EMBER_TRY(sampler_.compile(arena, ctx, inference()));
  if (d_state_floats() > 0) EMBER_TRY(arena->alloc_array(d_state_floats(), &d_copy_));
  if (d_stats_floats() > 0) EMBER_TRY(arena->alloc_array(d_stats_floats(), &d_stats_copy_));
  return Status::ok();
}

int GanModel::real_rows() const { return setup_.batch * (setup_.config.d_steps + setup_.config.unroll); }

// Labels of real rows (real: cond classes, or info_real codes) or of samples (cond only).
Status GanModel::check_labels(const int32_t* labels, int n, bool real) const {
  const GanConfig& c = setup_.config;
  if (!c.cond && !(real && c.info_real)) return Status::ok();
  const char* what = c.cond ? "class labels" : "a code (pseudo-label) per real image";
  if (!labels) return Status::error(Code::invalid_argument, "gan: this model needs %s", what);
  const int bound = c.cond ? c.classes : c.info;
  for (int i = 0; i < n; ++i)
    if (labels[i] < 0 || labels[i] >= bound)
      return Status::error(Code::invalid_argument, "gan: label %d at row %d is outside 0..%d", static_cast<int>(labels[i]),
                           i, bound - 1);
  return Status::ok();
}

// A batch of G's inputs from rng: z[batch, z_dim - info] ~ N(0, I), then for cond classes
// drawn uniformly into onehot, for info the code from info more Gaussians (code[batch]) and
// a copy of the continuous codes (cont[batch, info_cont], Q's targets).
void GanModel::draw_fakes(Rng& rng, float* z, float* onehot, int32_t* code, float* cont) {
  const GanConfig& c = setup_.config;
  const int batch = setup_.batch, noise = c.z_dim - c.info;
  rng.fill_normal(z, floats(batch, noise), 0.0f, 1.0f);
  scale_noise(c, z, batch);
  for (int i = 0; i < batch && c.info_cont > 0; ++i)  // the continuous codes: z's last entries before the code
    std::memcpy(cont + floats(i, c.info_cont), z + floats(i, noise) + noise - c.info_cont, floats(1, c.info_cont) * sizeof(float));
  if (c.info > 0) {
    rng.fill_normal(onehot, floats(batch, c.info), 0.0f, 1.0f);
    codes_from_noise(onehot, batch, c.info, log_prior(), code);
  }
  if (!c.cond) return;
  std::memset(onehot, 0, floats(batch, c.classes) * sizeof(float));
  for (int i = 0; i < batch; ++i) onehot[floats(i, c.classes) + rng.below(static_cast<uint32_t>(c.classes))] = 1.0f;
}

Status GanModel::train_d(const float* real, const int32_t* labels, GanStepLoss* out) {
  const int batch = setup_.batch;
  std::memcpy(d_.data(nodes_.real), real, floats(batch, dims()) * sizeof(float));
  const GanConfig& c = setup_.config;
  draw_fakes(noise_, d_.data(nodes_.d_z), c.onehot_dim() ? d_.data(nodes_.d_fake_onehot) : nullptr,
             c.info ? d_.label_data(nodes_.d_code) : nullptr, c.info_cont ? d_.data(nodes_.d_cont) : nullptr);
  if (c.cond) one_hot(labels, batch, c.classes, d_.data(nodes_.real_onehot));
  if (c.info_real) std::memcpy(d_.label_data(nodes_.real_code), labels, static_cast<size_t>(batch) * sizeof(int32_t));
  EMBER_TRY(d_.forward());
  const float loss = d_.loss();
  if (!std::isfinite(loss)) return not_finite("discriminator");
  EMBER_TRY(d_.backward());
  EMBER_TRY(d_optimizer().step(*ctx_, params_));
  out->info_loss = c.info > 0 ? d_.data(nodes_.d_info)[0] : 0.0f;
  out->info_real_loss = c.info_real ? d_.data(nodes_.real_info)[0] : 0.0f;
  out->d_loss = loss - kInfoWeight * (out->info_loss + out->info_real_loss);
  out->d_real = mean_belief(d_.data(nodes_.real_logit), batch);
  out->d_fake = mean_belief(d_.data(nodes_.fake_logit), batch);
  return Status::ok();
}

// mask[i] = 1 for the k highest of logits[0, n), else 0; ties go to the lower row. O(n^2)
// comparisons (n is a batch) and no memory: row i is kept when fewer than k rows beat it.
void top_rows_mask(const float* logits, int n, int k, float* mask) {
  for (int i = 0; i < n; ++i) {
    int above = 0;
    for (int j = 0; j < n; ++j) above += logits[j] > logits[i] || (logits[j] == logits[i] && j < i);
    mask[i] = above < k ? 1.0f : 0.0f;
  }
}

void GanModel::set_topk_share(float share) {
  if (setup_.config.topk <= 0.0f) {  // top-k off: every row
    topk_rows_ = setup_.batch;
    return;
  }
  const float lo = setup_.config.topk, s = share < lo ? lo : share > 1.0f ? 1.0f : share;
  const int rows = static_cast<int>(std::ceil(static_cast<double>(s) * setup_.batch));
  topk_rows_ = rows < 1 ? 1 : rows > setup_.batch ? setup_.batch : rows;
}

Status GanModel::train_g(float* g_loss) {
  const int batch = setup_.batch;
  const bool topk = setup_.config.topk > 0.0f;
  draw_fakes(noise_, g_.data(nodes_.z), g_fake_onehot(), g_code(), g_cont());
  if (topk) std::fill_n(g_.data(nodes_.g_mask), batch, 1.0f);
  EMBER_TRY(g_.forward());
  const float loss = g_.loss();  // over the whole batch, also with topk
  if (!std::isfinite(loss)) return not_finite("generator");
  if (topk) top_rows_mask(g_.data(nodes_.g_logit), batch, topk_rows_, g_.data(nodes_.g_mask));
  EMBER_TRY(g_.backward());
  EMBER_TRY(g_optimizer().step(*ctx_, params_));
  update_ema();
  if (g_loss) *g_loss = loss;
  return Status::ok();
}

// D's state buffers (BatchNorm statistics), set aside while refresh_ema_stats runs G's
// training forward through D.
size_t GanModel::d_stats_floats() const {
  if (!setup_.training || ema_stat_count_ == 0) return 0;
  size_t n = 0;
  for (int i = 0; i < params_.count(); ++i)
    if (params_[i].group == kDiscriminator && !params_[i].trainable) n += params_[i].numel();
  return n;
}

Status GanModel::refresh_ema_stats() {
  if (!ready_) return Status::error(Code::invalid_argument, "gan: init() first");
  if (ema_stat_count_ == 0) return Status::ok();
  if (!setup_.training) return Status::error(Code::invalid_argument, "gan: an inference model cannot refresh statistics");
  auto stash = [&](bool restore) {
    float* at = d_stats_copy_;
    for (int i = 0; i < params_.count(); ++i) {
      nn::Param& p = params_[i];
      if (p.group != kDiscriminator || p.trainable) continue;
      if (restore) std::memcpy(p.value, at, p.numel() * sizeof(float));
      else std::memcpy(at, p.value, p.numel() * sizeof(float));
      at += p.numel();
    }
  };
  stash(false);
  swap_ema();  // the averaged weights and statistics in; the training ones aside
  // Start from the training statistics (close, and the same each call, so a refresh depends
  // only on the weights: calling it twice gives the same bits).
  for (int k = ema_count_; k < ema_count_ + ema_stat_count_; ++k)
    std::memcpy(params_[ema_pairs_[2 * k]].value, params_[ema_pairs_[2 * k + 1]].value,
                params_[ema_pairs_[2 * k + 1]].numel() * sizeof(float));
  Rng z_rng(setup_.seed, kEmaStatStream);
  const int classes = setup_.config.classes;
  Status s = Status::ok();
  for (int b = 0; b < kEmaStatBatches && s.is_ok(); ++b) {
    draw_fakes(z_rng, g_.data(nodes_.z), g_fake_onehot(), g_code(), g_cont());
    if (setup_.config.cond) {  // every class equally often
      float* onehot = g_.data(nodes_.fake_onehot);
      std::memset(onehot, 0, floats(setup_.batch, classes) * sizeof(float));
      for (int i = 0; i < setup_.batch; ++i) onehot[floats(i, classes) + (b * setup_.batch + i) % classes] = 1.0f;
    }
    s = g_.forward();  // training mode: G's statistics move towards the averaged model's
  }
  swap_ema();  // the refreshed statistics go to the ema copies, the training ones come back
  stash(true);
  return s;
}

// Copies D's values and moments into d_copy_ (restore = false) or back (restore = true).
void GanModel::stash_d(bool restore) {
  float* at = d_copy_;
  auto move = [&](float* p, size_t n) {
    if (restore) std::memcpy(p, at, n * sizeof(float));
    else std::memcpy(at, p, n * sizeof(float));
    at += n;
  };
  for (int i = 0; i < params_.count(); ++i) {
    nn::Param& p = params_[i];
    if (p.group != kDiscriminator) continue;
    move(p.value, p.numel());
    if (p.trainable) move(p.m, p.numel()), move(p.v, p.numel());
  }
  if (restore) d_optimizer().set_steps(d_copy_steps_);
  else d_copy_steps_ = d_optimizer().steps();
}

Status GanModel::d_step(const float* real, const int32_t* labels, GanStepLoss* out) {
  if (!ready_ || !setup_.training) return Status::error(Code::invalid_argument, "gan: not set up for training");
  EMBER_TRY(check_labels(labels, setup_.batch, true));
  GanStepLoss l;
  EMBER_TRY(train_d(real, labels, &l));
  if (out) {  // the D fields only: out->g_loss is left as it was
    out->d_loss = l.d_loss, out->d_real = l.d_real, out->d_fake = l.d_fake;
    out->info_loss = l.info_loss, out->info_real_loss = l.info_real_loss;
  }
  return Status::ok();
}

Status GanModel::g_step(float* g_loss) {
  if (!ready_ || !setup_.training) return Status::error(Code::invalid_argument, "gan: not set up for training");
  return train_g(g_loss);
}

Status GanModel::train_step(const float* real, const int32_t* labels, GanStepLoss* out) {
  if (!ready_ || !setup_.training) return Status::error(Code::invalid_argument, "gan: not set up for training");
  EMBER_TRY(check_labels(labels, real_rows(), true));
  const GanConfig& c = setup_.config;
  const size_t stride = floats(setup_.batch, dims());
  auto batch_labels = [&](int k) { return c.cond || c.info_real ? labels + static_cast<size_t>(k) * setup_.batch : nullptr; };
  GanStepLoss sum, one;
  for (int k = 0; k < c.d_steps; ++k) {
    EMBER_TRY(train_d(real + k * stride, batch_labels(k), &one));
    sum.d_loss += one.d_loss, sum.d_real += one.d_real, sum.d_fake += one.d_fake, sum.info_loss += one.info_loss;
    sum.info_real_loss += one.info_real_loss;
  }
  Status s;
  if (c.unroll > 0) {
    stash_d(false);
    for (int k = c.d_steps; k < c.d_steps + c.unroll && s.is_ok(); ++k) s = train_d(real + k * stride, batch_labels(k), &one);
  }
  for (int k = 0; k < c.g_steps && s.is_ok(); ++k) {
    s = train_g(&one.g_loss);
    sum.g_loss += one.g_loss;
  }
  if (c.unroll > 0) stash_d(true);  // also after a failure: D is never left unrolled
  EMBER_TRY(s);
  if (out) {
    const float inv = 1.0f / static_cast<float>(c.d_steps);
    out->d_loss = sum.d_loss * inv, out->d_real = sum.d_real * inv, out->d_fake = sum.d_fake * inv;
    out->info_loss = sum.info_loss * inv, out->info_real_loss = sum.info_real_loss * inv;
    out->g_loss = sum.g_loss / static_cast<float>(c.g_steps);
  }
  return Status::ok();
}

Status GanModel::generate(const float* z, const int32_t* labels, int n, float* out) {
  if (!ready_) return Status::error(Code::invalid_argument, "gan: init() first");
  if (n < 0) return Status::error(Code::invalid_argument, "gan: generate %d rows", n);
  EMBER_TRY(check_labels(labels, n, false));
  const GanConfig& c = setup_.config;
  const int e = setup_.eval_batch, d = dims();
  swap_ema();  // sample with the averaged weights (no-op without ema)
  const double* prior = c.info > 0 ? log_prior() : nullptr;  // once, not per chunk
  Status s = Status::ok();
  for (int at = 0; at < n && s.is_ok(); at += e) {
    const int rows = n - at < e ? n - at : e;
    float* in = sampler_.data(sample_z_);
    const int noise = c.z_dim - c.info;  // info: the rest of each z row picks the code
    for (int i = 0; i < rows; ++i) std::memcpy(in + floats(i, noise), z + floats(at + i, c.z_dim), floats(1, noise) * sizeof(float));
    std::memset(in + floats(rows, noise), 0, floats(e - rows, noise) * sizeof(float));
    scale_noise(c, in, rows);
    if (c.info > 0) {
      float* codes = sampler_.data(sample_onehot_);
      for (int i = 0; i < rows; ++i)
        std::memcpy(codes + floats(i, c.info), z + floats(at + i, c.z_dim) + noise, floats(1, c.info) * sizeof(float));
      codes_from_noise(codes, rows, c.info, prior, nullptr);
      std::memset(codes + floats(rows, c.info), 0, floats(e - rows, c.info) * sizeof(float));
    }
    if (c.cond) {
      float* onehot = sampler_.data(sample_onehot_);
      one_hot(labels + at, rows, c.classes, onehot);
      std::memset(onehot + floats(rows, c.classes), 0, floats(e - rows, c.classes) * sizeof(float));
    }
    s = sampler_.forward();
    if (s.is_ok()) std::memcpy(out + floats(at, d), sampler_.data(sample_out_), floats(rows, d) * sizeof(float));
  }
  swap_ema();  // the training weights back, also after a failure
  return s;
}

namespace {
// generator_only loads: the file's record `name` goes to the model parameter of the same name,
// except that with averages (ema) each G parameter comes from "ema.<name>"; records the model
// lacks (D's, and G's training weights when averages replace them) are skipped.
struct GeneratorNames {
  nn::Params* params;
  bool file_has_ema;
};
bool generator_record(void* user, const char* name, char* out, size_t cap) {
  const GeneratorNames& g = *static_cast<const GeneratorNames*>(user);
  constexpr char kEma[] = "ema.";
  const bool averaged = std::strncmp(name, kEma, sizeof kEma - 1) == 0;
  const int id = g.params->find(name);
  if (!averaged && g.file_has_ema && id >= 0 && (*g.params)[id].group == kGenerator) return false;
  return load_present_only(g.params, averaged ? name + sizeof kEma - 1 : name, out, cap);
}
}  // namespace

Status GanModel::save(const char* path, uint64_t step, const char* run) const {
  if (!ready_) return Status::error(Code::invalid_argument, "gan: init() first");
  // An inference model saves its noise Rng but no optimizers (it has none). A generator-only
  // model writes a sampler file: G's weights (the averages it loaded), the codes' prior, and
  // a config without averaging (ema=0), so that it loads back as it is.
  nn::CheckpointState st;
  st.opts = setup_.training ? const_cast<nn::Optimizer*>(opt_) : nullptr, st.n_opts = setup_.training ? 2 : 0;
  st.rngs = const_cast<Rng*>(&noise_), st.n_rngs = 1;
  st.step = &step;
  GanConfig c = setup_.config;
  if (setup_.generator_only) c.ema = 0.0f;
  return save_with_config(path, c, params_, st, run);
}

Status GanModel::load(const nn::CheckpointRef& path, uint64_t* step) {
  if (!ready_) return Status::error(Code::invalid_argument, "gan: init() first");
  GanConfig file_config;
  EMBER_TRY(read_config(path, &file_config));
  if (!setup_.config.same_networks(file_config)) {
    char mine[kModelConfigText], theirs[kModelConfigText];
    EMBER_TRY(setup_.config.to_text(mine, sizeof mine));
    EMBER_TRY(file_config.to_text(theirs, sizeof theirs));
    return Status::error(Code::shape_mismatch, "gan: checkpoint is '%s', model is '%s'", theirs, mine);
  }
  // A training checkpoint restores both Adams and the noise; an inference model skips them.
  // The file may differ in the training schedule (gan_loss, d_steps, g_steps, unroll, topk, the
  // ema decay), so the networks are compared here rather than the whole text (load_with_config).
  nn::CheckpointState st;
  st.opts = setup_.training ? opt_ : nullptr, st.n_opts = setup_.training ? 2 : 0;
  st.rngs = setup_.training ? &noise_ : nullptr, st.n_rngs = setup_.training ? 1 : 0;
  st.step = step;
  GeneratorNames names{&params_, file_config.ema > 0.0f};
  if (setup_.generator_only) st.rename = generator_record, st.rename_user = &names;
  return nn::load_checkpoint(path, &params_, st);
}

Status GanModel::read_config(const nn::CheckpointRef& path, GanConfig* config) {
  return read_checkpoint_config(path, "a GAN", config);
}

}  // namespace ember::models
