// AeModel: an autoencoder or VAE ready to train and to use, in one arena.
//
// It holds the parameters and up to three graphs over them:
//   train    x -> loss (the AeConfig's objective), Adam            (training only)
//   encoder  x[E, pixels] -> mu, logvar   (inference plan, E = eval batch)
//   decoder  z[E, latent] -> logits / mean
// All share the parameters by name, so a step of training is seen at once by encode and
// decode. Every call after init() runs on fixed buffers: no allocation.
//
//   AeModel m;                        // a few KB: the graphs live in the arena
//   AeModel::Setup s; s.config = ...; s.batch = 128;
//   m.configure(s);                   // checks the setup (no memory yet)
//   m.bytes_needed(threads, &scratch, &bytes);  // dry run: the arena's exact size, Context included
//   ctx.init(&arena, {threads}); m.init(&arena, &ctx);  // graphs, parameters, Adam, plans
//   loop: m.train_step(x, &loss);
//   m.decode(z, n, images);                     // probabilities (bernoulli) or means
//
// A checkpoint holds the parameters, Adam state, the noise RNG, a step counter and the
// config text, so `load` can rebuild the model from the file alone (read_config first).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "platform/context.h"
#include "core/rng.h"
#include "models/ae-network.h"
#include "models/model-common.h"
#include "nn/graph.h"
#include "nn/optimizer.h"
#include "nn/params.h"

namespace ember::models {

struct StepLoss {
  float loss = 0.0f;   // per image: recon + kl
  float recon = 0.0f;  // -log p(x|z) per image (squared error for a gaussian ae)
  float kl = 0.0f;     // vae only
};

class AeModel {
 public:
  struct Setup {
    AeConfig config;
    int batch = 128;        // training batch
    int eval_batch = 100;   // rows per encode/decode call inside the model
    bool training = true;   // false: inference only (values, no gradients, no Adam)
    // config.weights = int8: read the int8 weights in place when loading from memory (a
    // board's flash, nn::CheckpointRef::memory), which must then outlive the model.
    bool int8_in_place = false;
    bool decoder_only = false;  // with training = false: hold the decoder alone, for a device
                                // that only samples (encode is refused; save writes a sampler
                                // file, the decoder alone, that only such a model loads)
    float lr = 1e-3f;
    float weight_decay = 0.0f;  // decoupled (AdamW): w -= lr * weight_decay * w each step
    uint64_t seed = 1;      // initial weights and the reparameterisation noise
  };

  AeModel() = default;
  AeModel(const AeModel&) = delete;
  AeModel& operator=(const AeModel&) = delete;

  // Validates the setup; takes no memory. May be called again until init() succeeds (the new
  // setup replaces the old; a bad one is refused and the old one kept).
  Status configure(const Setup& setup);
  // The arena bytes a set-up takes: ctx.init(&arena, {threads}) (0: one per core) then
  // init(&arena, &ctx) -- the Context, graph tables, parameters, optimizer state and plans.
  // A dry run (models/model-common.h): builds the graphs in `scratch`, any arena with room
  // for their tables, and leaves it as it was. After init(): the figure init took.
  Status bytes_needed(int threads, Arena* scratch, size_t* bytes);
  // Builds the graphs in the arena, takes the memory, initialises the weights from the seed
  // and compiles the plans. On failure (e.g. the arena too small) the arena and the model are
  // as they were: init() may be called again, with a bigger arena, and gives the same bits.
  Status init(Arena* arena, Context* ctx);
  // Undoes init(): the model is as after configure() again (the memory init took stays with
  // the arena, to be rewound by its owner). For a caller whose own set-up fails after this
  // model's init, e.g. a trainee loading its data.
  void release();

  // One Adam step on x[batch, pixels] (values in [0, 1]).
  Status train_step(const float* x, StepLoss* out);
  // The loss on x[batch, pixels] without updating (training graph, same noise stream).
  Status eval_loss(const float* x, StepLoss* out);

  // n rows, any n: run in chunks of eval_batch. logvar may be null (or for an ae, ignored).
  Status encode(const float* x, int n, float* mu, float* logvar);
  // images: sigmoid(logits) for bernoulli, the mean otherwise; logits (may be null):
  // the raw decoder output; out_logvar (may be null): learned log-variance.
  Status decode(const float* z, int n, float* images, float* logits = nullptr, float* out_logvar = nullptr);
  // decode(encode(x).mu): the deterministic reconstruction.
  Status reconstruct(const float* x, int n, float* images, float* scratch_latent);

  // Checkpoints (see nn/checkpoint.h; the config goes in the file's meta text).
  // run: the trainer's text for resuming (models/model-common.h), or null.
  Status save(const char* path, uint64_t step, const char* run = nullptr) const;
  // A file, or a checkpoint in memory (nn::CheckpointRef::memory: a board's flash).
  Status load(const nn::CheckpointRef& file, uint64_t* step);
  Status load(const char* path, uint64_t* step) { return load(nn::CheckpointRef::file(path), step); }
  // The config a checkpoint was written with, without building anything.
  static Status read_config(const nn::CheckpointRef& file, AeConfig* config);
  static Status read_config(const char* path, AeConfig* config) { return read_config(nn::CheckpointRef::file(path), config); }

  const AeConfig& config() const { return setup_.config; }
  const Setup& setup() const { return setup_; }
  nn::Params& params() { return params_; }
  nn::Graph& train_graph() { return train_; }
  nn::Graph& encoder_graph() { return enc_; }
  nn::Graph& decoder_graph() { return dec_; }
  const AeNodes& nodes() const { return nodes_; }
  nn::Optimizer& optimizer() { return opt_; }
  Rng& noise() { return noise_; }
  Context* context() const { return ctx_; }
  size_t param_count() const;

 private:
  template <class Model>
  friend Status model_bytes_needed(Model* model, const char* who, int threads, Arena* scratch, size_t* bytes);
  nn::CompileOptions train_options() const;
  Status build(Arena* arena);
  void unbuild();
  Status take(Arena* arena, Context* ctx);
  Status compile_bytes(int workers, size_t* bytes);
  Status run_train(const float* x, bool update, StepLoss* out);

  Setup setup_;
  nn::Params params_;
  nn::Graph train_{&params_}, enc_{&params_}, dec_{&params_};
  AeNodes nodes_;
  nn::T enc_x_, enc_mu_, enc_logvar_, dec_z_, dec_out_, dec_logvar_;
  nn::Optimizer opt_;
  Context* ctx_ = nullptr;
  Rng noise_;
  size_t setup_bytes_ = 0;  // what init took from the arena
  bool configured_ = false, ready_ = false;
};

}  // namespace ember::models
