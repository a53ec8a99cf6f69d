// ClassifierModel: a small image classifier, trained here and used to judge generators.
//
// GAN samples have no likelihood to report, so ember scores them the way the literature
// does, with a classifier trained on the real data (metrics/gan-eval.h): the inception
// score over its class probabilities, the Fréchet distance over its feature layer, and
// for conditional samples whether it recognises the class that was asked for. Any MNIST-
// sized set with labels (MNIST, the built-in sprites) can train one in a few minutes.
//
// Architectures (ClassifierConfig::arch):
//   conv  x[B, 1, H, W] -> conv c1 3x3 s1 p1 -> relu        (H x W)
//                       -> conv c2 4x4 s2 p1 -> relu        (H/2 x W/2)
//                       -> conv c3 4x4 s2 p1 -> relu        (H/4 x W/4)
//                       -> flatten -> linear F -> relu      the FEATURE layer [B, F]
//                       -> linear classes                    logits
//         With bn=1 every conv and the feature linear is followed by BatchNorm (before the
//         ReLU); the layer before it then has no bias (BatchNorm's beta takes its place).
//         Default 32,32,64 channels and F = 128: about 450k parameters (its MNIST accuracy:
//         docs/lab-notes.md).
//   mlp   x[B, H*W] -> (linear w_i -> relu) for each width -> linear classes; the last
//         hidden layer is the feature layer. For tiny inputs and fast tests.
// Weights of the convolutions and linear layers start from He initialisation
// (N(0, 2 / fan_in), right for ReLU nets; Kaiming He et al. 2015): the graph's default
// U(+-1/sqrt(fan_in)) shrinks the signal at every layer (docs/lab-notes.md). Training
// minimises the mean softmax cross-entropy with Adam. Parameter names are fixed
// ("clf.conv1.weight", "clf.fc.bias", "clf.out.weight", ...), shared by the training graph
// and the inference graph, and the config text ("kind=classifier arch=conv ...") goes in
// the checkpoint, so a file knows what it is.
//
//   ClassifierModel m;                 // small: the graphs live in the arena
//   ClassifierModel::Setup s; s.config.classes = 10;
//   m.configure(s); m.bytes_needed(threads, &scratch, &bytes);  // Context included
//   ctx.init(&arena, {threads}); m.init(&arena, &ctx);
//   loop: m.train_step(x, labels, &loss);
//   m.predict(x, n, probs, features);  // softmax [n, classes], features [n, feature_dim()]
// Every call after init() runs on fixed buffers: no allocation.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "platform/context.h"
#include "core/status.h"
#include "data/dataset.h"
#include "models/model-common.h"
#include "nn/graph.h"
#include "nn/optimizer.h"
#include "nn/params.h"

namespace ember::models {

enum class ClassifierArch : uint8_t { conv, mlp };
const char* classifier_arch_name(ClassifierArch a);

struct ClassifierConfig {
  static constexpr int kMaxDepth = 4;
  static constexpr int kConvLayers = 3;
  static constexpr int kMaxClasses = 100;
  ClassifierArch arch = ClassifierArch::conv;
  int rows = 28, cols = 28;
  int classes = 10;
  int channels[kConvLayers] = {32, 32, 64};  // conv: channels of the three convolutions
  int features = 128;                        // conv: width of the feature layer
  int widths[kMaxDepth] = {256, 0, 0, 0};    // mlp: hidden widths (the last = features)
  int depth = 1;                             // mlp: how many widths are used
  bool batchnorm = false;                    // conv: BatchNorm before every ReLU

  int pixels() const { return rows * cols; }
  int feature_dim() const { return arch == ClassifierArch::conv ? features : widths[depth - 1]; }
  Status validate() const;
  // "kind=classifier arch=conv rows=28 cols=28 classes=10 channels=32,32,64 features=128
  // widths=256 bn=0": kept in checkpoints.
  Status to_text(char* buf, size_t cap) const;
  Status from_text(const char* text);
  // One "key=value" of the text form (kind accepts only "classifier").
  Status set(const char* key, const char* value);
};

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

  // Validates the setup; once per model. Takes no memory.
  Status configure(const Setup& setup);
  // The arena bytes a set-up takes: ctx.init(&arena, {threads}) (0: one per core) then
  // init(&arena, &ctx) -- the Context, graph tables, parameters, Adam state, plans, a label
  // buffer. A dry run in `scratch` (models/model-common.h); after init(): what it took.
  Status bytes_needed(int threads, Arena* scratch, size_t* bytes);
  // Builds the graphs in the arena and takes the memory; on failure the arena is as it was.
  Status init(Arena* arena, Context* ctx);

  // One Adam step on x[batch, pixels] in [0, 1] with labels[batch] in [0, classes). loss
  // (may be null): the batch's mean cross-entropy; correct (may be null): how many rows
  // the logits got right (before the update). A label out of range changes nothing.
  Status train_step(const float* x, const int32_t* labels, float* loss, int* correct = nullptr);

  // n rows of x[n, pixels], any n (chunks of eval_batch). probs[n, classes] gets the
  // softmax, features[n, feature_dim()] the feature layer; either may be null.
  Status predict(const float* x, int n, float* probs, float* features);
  // The same for images [first, first + n) of a dataset (pixels / 255).
  Status predict(const Dataset& data, int first, int n, float* probs, float* features);
  // Accuracy and mean cross-entropy on the first n labelled images of data (n <= 0: all).
  Status evaluate(const Dataset& data, int n, ClassifierScore* out);

  Status save(const char* path, uint64_t step) const;
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
  friend Status dry_run(Model* model, int threads, Arena* scratch, size_t* bytes);
  Status build(Arena* arena);
  void unbuild();
  Status compile_bytes(int workers, size_t* bytes);
  // Runs the inference graph on its filled input; copies the first `rows` outputs.
  Status infer(int rows, float* probs, float* features);
  Status check_data(const Dataset& data, int first, int n) const;

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

// Builds x -> logits on g (x: [B, pixels]); *features gets the feature-layer node.
nn::T build_classifier(nn::Graph& g, const ClassifierConfig& c, nn::T x, nn::T* features);

}  // namespace ember::models
