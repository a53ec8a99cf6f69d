// ClassifierModel: a small image classifier, trained here and used to judge generators.
//
// GAN samples have no likelihood to report, so ember scores them the way the literature
// does, with a classifier trained on the real data (metrics/gan-eval.h): the inception
// score over its class probabilities, the Fréchet distance over its feature layer, and
// for conditional samples whether it recognises the class that was asked for. Any MNIST-
// sized set with labels (MNIST, the built-in sprites) can train one in a few minutes.
//
// The networks and their config: models/classifier-network.h.
//
//
//   ClassifierModel m;                 // small: the graphs live in the arena
//   ClassifierModel::Setup s; s.config.classes = 10;
//   m.configure(s); m.bytes_needed(threads, &scratch, &bytes);  // Context included
//   ctx.init(&arena, {threads}); m.init(&arena, &ctx);
//   loop: m.train_step(x, labels, &loss);
//   m.predict(x, n, probs, features);  // softmax [n, classes], features [n, feature_dim()]
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "core/status.h"
#include "data/dataset.h"
#include "models/classifier-network.h"
#include "models/model-common.h"
#include "nn/graph.h"
#include "nn/optimizer.h"
#include "nn/params.h"
#include "platform/context.h"

namespace ember::models {

// Test-set figures from ClassifierModel::evaluate.
struct ClassifierScore {
  int count = 0, correct = 0;
  double accuracy = 0.0;  // correct / count
  double loss = 0.0;      // mean cross-entropy, nats
};

class ClassifierModel {
 public:
  struct Setup {
    ClassifierConfig config;
    int batch = 64;         // training batch
    int eval_batch = 100;   // rows per inference call inside the model
    bool training = true;   // false: inference only (no gradients, no Adam state)
    float lr = 1e-3f;
    uint64_t seed = 1;      // initial weights
  };

  ClassifierModel() = default;
  ClassifierModel(const ClassifierModel&) = delete;
  ClassifierModel& operator=(const ClassifierModel&) = delete;

  // Validates the setup; takes no memory. May be called again until init() succeeds (the new
  // setup replaces the old; a bad one is refused and the old one kept).
  Status configure(const Setup& setup);
  // The arena bytes a set-up takes: ctx.init(&arena, {threads}) (0: one per core) then
  // init(&arena, &ctx) -- the Context, graph tables, parameters, Adam state, plans, a label
  // buffer. A dry run in `scratch` (models/model-common.h); after init(): what it took.
  Status bytes_needed(int threads, Arena* scratch, size_t* bytes);
  // Builds the graphs in the arena and takes the memory. On failure (e.g. the arena too small)
  // the arena and the model are as they were: init() may be tried again with more memory.
  Status init(Arena* arena, Context* ctx);
  // Undoes init(): the model is as after configure() again (the memory init took stays with
  // the arena, to be rewound by its owner), e.g. when a trainee's own set-up fails after it.
  void release();

  // One Adam step on x[batch, pixels] in [0, 1] with labels[batch] in [0, classes). loss
  // (may be null): the batch's mean cross-entropy; correct (may be null): how many rows
  // the logits got right (before the update). A label out of range changes nothing.
  Status train_step(const float* x, const int32_t* labels, float* loss, int* correct = nullptr);

  // n rows of x[n, pixels], any n (chunks of eval_batch). probs[n, classes] gets the
  // softmax, features[n, feature_dim()] the feature layer; either may be null.
  Status predict(const float* x, int n, float* probs, float* features);
  // The same for images [first, first + n) of a dataset (pixels / 255).
  Status predict(const data::Dataset& data, int first, int n, float* probs, float* features);
  // Accuracy and mean cross-entropy on the first n labelled images of data (n <= 0: all).
  Status evaluate(const data::Dataset& data, int n, ClassifierScore* out);

  // run: the trainer's text for resuming (models/model-common.h), or null.
  Status save(const char* path, uint64_t step, const char* run = nullptr) const;
  Status load(const char* path, uint64_t* step);
  static Status read_config(const char* path, ClassifierConfig* config);

  const ClassifierConfig& config() const { return setup_.config; }
  const Setup& setup() const { return setup_; }
  int feature_dim() const { return setup_.config.feature_dim(); }
  int classes() const { return setup_.config.classes; }
  nn::Optimizer& optimizer() { return opt_; }
  nn::Params& params() { return params_; }
  Context* context() const { return ctx_; }
  size_t param_count() const;

 private:
  template <class Model>
  friend Status model_bytes_needed(Model* model, const char* who, int threads, Arena* scratch, size_t* bytes);
  Status build(Arena* arena);
  void unbuild();
  Status take(Arena* arena, Context* ctx);
  Status compile_bytes(int workers, size_t* bytes);
  // Runs the inference graph on its filled input; copies the first `rows` outputs.
  Status infer(int rows, float* probs, float* features);
  Status check_data(const data::Dataset& data, int first, int n) const;

  Setup setup_;
  nn::Params params_;
  nn::Graph train_{&params_}, eval_{&params_};
  nn::T train_x_, train_labels_, train_logits_, eval_x_, eval_logits_, eval_features_;
  nn::Optimizer opt_;
  Context* ctx_ = nullptr;
  int32_t* eval_labels_ = nullptr;  // [eval_batch], for evaluate()
  size_t setup_bytes_ = 0;          // what init took from the arena
  bool configured_ = false, ready_ = false;
};

}  // namespace ember::models
