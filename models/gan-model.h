// GanModel: a GAN (models/gan-network.h) ready to train and to sample, in one arena.
//
// It holds the parameters of G and D and three graphs over them:
//   d step   real, z -> D(real) -> 1, D(G(z)) -> 0; trains D only        (training only)
//   g step   z -> G -> D -> the generator objective; trains G only, D frozen (training only)
//   sampler  z[E, z_dim] -> G (BatchNorm in evaluation mode), E = eval batch
// plus two Adam optimizers (lr 2e-4, betas 0.5, 0.999 by default: DCGAN's) and one noise
// Rng (seed, stream kGanNoiseStream) that draws every z and every fake class label.
//
// One train_step (Goodfellow et al. 2014, Algorithm 1, with fresh noise for every update):
//   repeat d_steps times: one D update on the next real batch and a fresh fake batch
//   [unroll = K > 0: set D aside, K more D updates, see below]
//   repeat g_steps times: one G update on a fresh fake batch through the current, frozen D
//   [topk: the gradient only from the topk_rows() fakes D scores highest]
//   [unroll: put D back]
// (g_steps = 2 is DCGAN-tensorflow's remedy for a discriminator that wins too fast: G gets
// two updates against each D.)
// (WORKLOADS D's dcgan_step reuses the D step's fakes for the G step, as PyTorch's example
// does; here every update draws its own z, which d_steps > 1 and unrolling need anyway. The
// D-step graph runs G forward itself, so a step costs one G forward more than that loop.)
// So `real` holds real_rows() = batch * (d_steps + unroll) samples, batch after batch (and
// `labels` as many classes for a conditional model; ignored otherwise, may be null).
// Real data must be in the generator's range: points as they are, images in [-1, 1]
// (models/gan-network.h: to_signed_pixels turns [0, 1] pixels into that). The caller scales.
//
// Unrolled GAN (Metz et al. 2017), FIRST-ORDER variant: before the G update, D's parameters,
// BatchNorm statistics, Adam moments and Adam step count are copied aside into an arena
// buffer; D takes K extra updates on fresh batches (D_K, a look-ahead at how D would answer
// the current G); G takes its update against D_K; then D is restored exactly, so the
// unrolled updates leave no trace in D. Metz et al. also differentiate through the K
// updates (the G gradient includes dL/dD_K * dD_K/dG, which lets G anticipate D's answer);
// we do NOT: the G gradient treats D_K as a constant (the first-order approximation, which
// needs no second derivatives and no memory for K graphs). It still penalises G for
// drifting onto a mode D is about to abandon, but weaker than the full method.
//
// Weight averaging (config.ema = decay > 0): after every G update, for each trainable G
// parameter w, ema.w = decay * ema.w + (1 - decay) * w (starting at the initial weights).
// generate() samples with the averages (it swaps them in and back), so the sampler sees a
// generator smoothed over the last ~1 / (1 - decay) updates, which removes much of the
// step-to-step oscillation of the adversarial game (Yazici et al. 2019, "The unusual
// effectiveness of averaging in GAN training"). Training itself never sees the averages.
// They are state parameters ("ema.g.fc.weight", ...), saved in checkpoints, so an inference
// model loaded from a file samples with them. The sampler normalises with BatchNorm running
// statistics, and the training generator's do not fit the averaged weights, so G's
// statistics have averaged-model copies too
// ("ema.g.bn1.running_mean", ...), which refresh_ema_stats() recomputes ("standing
// statistics"): with the averaged weights in place, G's training-mode forward on
// kEmaStatBatches fixed batches of z, whose batch statistics the running buffers take up;
// then every other buffer it touched (G's training statistics, D's) is put back. The trainer
// calls it before each picture and checkpoint; without it generate() uses stale copies.
// (What averaging gave on the MNIST DCGAN: docs/lab-notes.md.)
//
// Deterministic: the same seed and data give the same bits (any thread count). Nothing
// allocates after init(); in particular the unroll buffer is taken in init.
//
// Side effects to know: BatchNorm running statistics are state, not trained parameters:
// G's are updated by every forward in training mode (also when the D step computes its
// fakes), D's also by the G step's forward through D (as in PyTorch's loop). A "frozen" D
// keeps its weights, biases and Adam state; with unroll its statistics are restored too.
//
// A generator_only model (Setup) holds G's weights and the sampler plan and nothing else: for
// an --info 50 MNIST DCGAN 3.1 MB of weights instead of 11 MB (G, D and G's averages). Saved,
// it makes a 3.1 MB sampler file (a training checkpoint, with Adam's moments, is 18 MB).
//
// Checkpoints hold the parameters, both Adam states, the noise Rng, a step counter and the
// config text; load() accepts a file whose networks match (gan_loss, d_steps, g_steps, unroll,
// topk and the ema decay may differ: they are the model's own training schedule).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "platform/context.h"
#include "core/rng.h"
#include "models/gan-network.h"
#include "models/model-common.h"
#include "nn/graph.h"
#include "nn/optimizer.h"
#include "nn/params.h"

namespace ember::models {

constexpr uint64_t kGanNoiseStream = 11;  // PCG stream of the noise Rng (weights use 0)
constexpr uint64_t kEmaStatStream = 12;   // PCG stream of refresh_ema_stats' z (the same each call)
// Batches refresh_ema_stats runs: with BatchNorm momentum 0.1 what is left of the old
// statistics is 0.9^64 < 0.2%.
constexpr int kEmaStatBatches = 64;
constexpr uint8_t kCodePriorGroup = 2;  // info: the codes' prior, in neither G's nor D's group

// mask[i] = 1 for the k highest of logits[0, n), else 0; ties go to the lower row (top-k).
void top_rows_mask(const float* logits, int n, int k, float* mask);

struct GanStepLoss {
  float d_loss = 0.0f;  // BCE(D(x), 1) + BCE(D(G(z)), 0), batch means, averaged over the d_steps
                        // (info: without the code loss, which is info_loss)
  float g_loss = 0.0f;  // the G objective: ns BCE(D(G(z)), 1); minimax -BCE(D(G(z)), 0); averaged
                        // over the g_steps (info: plus kInfoWeight * the code loss)
  float d_real = 0.0f;  // mean D(x) = sigmoid(logit) on the real batches of the D updates
  float d_fake = 0.0f;  // mean D(G(z)) on their fake batches (before each update)
  float info_loss = 0.0f;  // info: CE(Q(G(z)), code) on the D updates' fakes (log(info): Q is
                           // guessing; 0: every code read back), + the continuous codes' loss
  float info_real_loss = 0.0f;  // info_real: CE(Q(x), label) on the real batches
};

class GanModel {
 public:
  struct Setup {
    GanConfig config;
    int batch = 64;        // training batch (real and fake)
    int eval_batch = 64;   // rows per sampler call inside generate()
    bool training = true;  // false: sampler only (no gradients, no Adam; D's weights are
                           // still held, values only, so checkpoints match)
    // config.weights = int8: read the int8 weights in place when loading from memory (a
    // board's flash, nn::CheckpointRef::memory), which must then outlive the model.
    bool int8_in_place = false;
    bool generator_only = false;  // with training = false: hold G alone, for a device that
                                  // only samples. load() then takes G's averaged weights (or
                                  // G's own without ema) and skips D; save() writes a sampler
                                  // file (G alone, ema=0) that only such a model loads.
    float lr = 2e-4f, beta1 = 0.5f, beta2 = 0.999f;  // Adam, for G and D alike
    uint64_t seed = 1;     // initial weights and the noise stream
  };

  GanModel() = default;
  GanModel(const GanModel&) = delete;
  GanModel& operator=(const GanModel&) = delete;

  // Validates the setup; takes no memory. May be called again until init() succeeds (the new
  // setup replaces the old; a bad one is refused and the old one kept).
  Status configure(const Setup& setup);
  // The arena bytes a set-up takes: ctx.init(&arena, {threads}) (0: one per core) then
  // init(&arena, &ctx) -- the Context, graph tables, parameters, Adam moments, plans, the
  // unroll copy of D. A dry run (models/model-common.h): builds the graphs in `scratch`, any
  // arena with room for their tables, and leaves it as it was. After init(): what it took.
  Status bytes_needed(int threads, Arena* scratch, size_t* bytes);
  // Builds the graphs in the arena, takes the memory, initialises the weights from the seed
  // and compiles the plans. On failure (e.g. the arena too small) the arena and the model are
  // as they were: init() may be called again, with a bigger arena, and gives the same bits.
  Status init(Arena* arena, Context* ctx);
  // Undoes init(): the model is as after configure() again (the memory init took stays with
  // the arena, to be rewound by its owner), e.g. when a trainee's own set-up fails after it.
  void release();

  // Samples train_step reads: batch * (d_steps + unroll).
  int real_rows() const;
  // One training step (above). real[real_rows(), dims]; labels[real_rows()] in 0..classes-1
  // for a conditional model, in 0..info-1 for info_real (the real images' pseudo-labels).
  // Bad labels are refused before anything changes.
  Status train_step(const float* real, const int32_t* labels, GanStepLoss* out);
  // The parts of a step, for tests and custom schedules. d_step: one D update on real[batch,
  // dims] (fills d_loss, d_real, d_fake). g_step: one G update through the frozen D.
  Status d_step(const float* real, const int32_t* labels, GanStepLoss* out);
  Status g_step(float* g_loss);
  // topk only: the share of each batch G's updates learn from, clamped to [config.topk, 1]
  // (until called: config.topk). The kept rows are ceil(share * batch), at least 1; without
  // topk every row, whatever the share.
  void set_topk_share(float share);
  int topk_rows() const { return topk_rows_; }
  // info only: the prior of the code values (weights[info] > 0, normalised here), e.g. the
  // sizes of the clusters the codes are tied to; kept in checkpoints ("code.prior"). Until
  // set, uniform. Training and sampling draw codes from it: a z row picks code
  // argmax_j log p_j + Gumbel(z_j) (with a uniform prior simply argmax_j z_j), so callers still
  // draw z ~ N(0, I). code_of(z_row) is the code the sampler reads from a z row (-1: no code).
  Status set_code_prior(const double* weights);
  int code_of(const float* z_row);
  // ema only (else a no-op): recompute the averaged generator's BatchNorm statistics (above).
  // Training models only; changes nothing else, and never the training trajectory.
  Status refresh_ema_stats();

  // G(z) for n rows, any n (run in chunks of eval_batch): z[n, z_dim], labels[n] (cond; may
  // be null otherwise) -> out[n, dims] in G's range (images [-1, 1]: see to_unit_pixels).
  Status generate(const float* z, const int32_t* labels, int n, float* out);

  // Checkpoints (nn/checkpoint.h; the config goes in the file's meta text).
  // run: the trainer's text for resuming (models/model-common.h), or null.
  Status save(const char* path, uint64_t step, const char* run = nullptr) const;
  // A file, or a checkpoint in memory (nn::CheckpointRef::memory: a board's flash).
  Status load(const nn::CheckpointRef& file, uint64_t* step);
  Status load(const char* path, uint64_t* step) { return load(nn::CheckpointRef::file(path), step); }
  // The config a checkpoint was written with, without building anything.
  static Status read_config(const nn::CheckpointRef& file, GanConfig* config);
  static Status read_config(const char* path, GanConfig* config) { return read_config(nn::CheckpointRef::file(path), config); }

  const GanConfig& config() const { return setup_.config; }
  const Setup& setup() const { return setup_; }
  int dims() const { return setup_.config.dims(); }
  nn::Params& params() { return params_; }
  nn::Graph& d_graph() { return d_; }
  nn::Graph& g_graph() { return g_; }
  nn::Graph& sampler_graph() { return sampler_; }
  const GanNodes& nodes() const { return nodes_; }
  nn::Optimizer& g_optimizer() { return opt_[kGenerator]; }
  nn::Optimizer& d_optimizer() { return opt_[kDiscriminator]; }
  Rng& noise() { return noise_; }
  Context* context() const { return ctx_; }
  // Trainable parameters of a group (kGenerator or kDiscriminator).
  size_t param_count(uint8_t group) const { return params_.numel(group, true); }

 private:
  template <class Model>
  friend Status model_bytes_needed(Model* model, const char* who, int threads, Arena* scratch, size_t* bytes);
  Status build(Arena* arena);
  void unbuild();
  Status take(Arena* arena, Context* ctx);
  Status compile_bytes(int workers, size_t* bytes);
  Status check_labels(const int32_t* labels, int n, bool real) const;
  Status train_d(const float* real, const int32_t* labels, GanStepLoss* out);
  Status train_g(float* g_loss);
  void draw_fakes(Rng& rng, float* z, float* onehot, int32_t* code, float* cont);
  float* g_fake_onehot() { return setup_.config.onehot_dim() ? g_.data(nodes_.fake_onehot) : nullptr; }
  int32_t* g_code() { return setup_.config.info ? g_.label_data(nodes_.g_code) : nullptr; }
  const double* log_prior();  // info: log p_j of the codes, or null when uniform
  float* g_cont() { return setup_.config.info_cont ? g_.data(nodes_.g_cont) : nullptr; }
  size_t d_state_floats() const;
  size_t d_stats_floats() const;
  void stash_d(bool restore);
  Status add_ema_params(Arena* arena);
  void update_ema();
  void swap_ema();

  Setup setup_;
  nn::Params params_;
  nn::Graph d_{&params_}, g_{&params_}, sampler_{&params_};
  GanNodes nodes_;
  nn::T sample_z_, sample_onehot_, sample_out_;
  nn::Optimizer opt_[2];  // indexed by group
  Context* ctx_ = nullptr;
  Rng noise_;
  float* d_copy_ = nullptr;  // unroll: D set aside (values, moments)
  int64_t d_copy_steps_ = 0;
  // Param ids, in the arena: pairs (a G parameter, its averaged-model copy). The first
  // ema_count_ pairs are the trainable weights (averaged each step); the next
  // ema_stat_count_ G's BatchNorm statistics.
  int32_t* ema_pairs_ = nullptr;
  int ema_count_ = 0, ema_stat_count_ = 0;
  int topk_rows_ = 0;  // topk: rows of each G batch kept
  int prior_id_ = -1;  // info: the "code.prior" parameter
  double* log_prior_ = nullptr;  // info: [info] in the arena, log_prior()'s answer
  float* d_stats_copy_ = nullptr;  // refresh_ema_stats: D's state buffers set aside
  size_t setup_bytes_ = 0;         // what init took from the arena
  bool configured_ = false, ready_ = false;
};

}  // namespace ember::models
