// Semi-supervised classification with few labels: an autoencoder or VAE learns codes from
// every training image without labels; a small classifier (the "head") then learns the
// classes from a handful of labelled codes. The comparison that says whether the codes
// help is the same head trained from scratch on the same few labelled images' pixels.
//
// The pieces, each usable alone:
//
//   draw_per_class   the labelled subset: k examples of every class (stratified), drawn
//                    from a seed, so "5 draws of 100 labels" is a reproducible experiment.
//                    One pass of reservoir sampling (Vitter's algorithm R) per class with
//                    one Rng: every k-subset of a class is equally likely, and the same
//                    (data, k, seed) always gives the same indices.
//   input_moments    per-dimension mean and 1 / std over all (unlabelled) rows, and
//   standardise      x <- (x - mean) * inv_std. VAE codes have a few dimensions of large
//                    spread and many of nearly none (inactive units); the head trains with
//                    one learning rate for all of them, so it learns faster and more evenly
//                    on standardised inputs. min_std bounds the gain: a dimension with
//                    (almost) no spread stays (almost) constant instead of being blown up
//                    into pure noise.
//   CodeHead         softmax regression (hidden = 0) or one ReLU hidden layer, trained
//                    with Adam and L2 weight decay on shuffled minibatches; classify() gives
//                    the argmax class and its probability. Built on the graph API; every
//                    call after init() runs on fixed buffers: no allocation.
//   self_train       pseudo-labelling (self-training, Yarowsky 1995; Lee 2013): the head
//                    labels the unlabelled rows, the most confident of each predicted
//                    class join the labelled ones, the head is trained again from fresh
//                    weights, and so on for a few rounds, the share of pseudo-labelled rows
//                    growing linearly to `fraction` in the last round. Taking the same
//                    number from every class (the most confident first) keeps one class
//                    from swallowing the rest; it assumes roughly balanced classes, as in
//                    MNIST. It is transductive only over the training set: the test set is
//                    never looked at.
//
//   draw_per_class(train, 10, seed, idx, cap);          // 10 per class
//   CodeHead head; head.configure(s); head.bytes_needed(threads, &scratch, &b);  // Context included
//   ctx.init(&arena, {threads}); head.init(&arena, &ctx);
//   head.fit(codes, labels, n, idx, 100, epochs, &loss);  // rows idx of codes[n, D]
//   self_train(&head, codes, n, idx, labels, 100, st, &scratch_arena);
//   head.error_rate(test_codes, test_labels, n_test, &err);
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "platform/context.h"
#include "core/rng.h"
#include "core/status.h"
#include "data/dataset.h"
#include "models/model-common.h"
#include "nn/graph.h"
#include "nn/optimizer.h"
#include "nn/params.h"

namespace ember::metrics {

constexpr int kMaxDrawClasses = 256;  // labels are bytes

// indices[0 .. classes * per_class) = per_class training rows of every class, grouped by
// class (class 0 first) and ascending within a class. Errors (nothing written): no labels,
// classes outside 1..kMaxDrawClasses, a label >= classes, per_class < 1, a class with fewer
// than per_class rows (named, with its count), capacity too small (by how much).
Status draw_per_class(const data::Dataset& data, int per_class, uint64_t seed, int32_t* indices, int capacity);

// mean[dims] and inv_std[dims] = 1 / max(std, min_std) (population std) of x[n, dims];
// scratch: 2 * dims doubles, released before returning. Errors: n < 1, dims < 1, a value
// that is not finite (row and column named), min_std <= 0; outputs untouched on error.
Status input_moments(const float* x, int n, int dims, float min_std, Arena* scratch, float* mean, float* inv_std);
// x[n, dims] <- (x - mean) * inv_std, row by row.
void standardise(float* x, int n, int dims, const float* mean, const float* inv_std);

class CodeHead {
 public:
  static constexpr int kMaxClasses = 256;
  struct Setup {
    int inputs = 0;           // dimensions of a row (the code size, or pixels for scratch)
    int classes = 0;
    int hidden = 0;           // 0: softmax regression; > 0: one ReLU layer this wide
    int batch = 100;          // rows per Adam step
    int eval_batch = 500;     // rows per classify() chunk
    int max_rows = 0;         // the most rows one fit() trains on (its shuffle buffer)
    float lr = 1e-2f;
    float weight_decay = 0.0f;  // L2 on every parameter, added to the gradient
    uint64_t seed = 1;          // weights and shuffling
  };

  CodeHead() = default;
  CodeHead(const CodeHead&) = delete;
  CodeHead& operator=(const CodeHead&) = delete;

  Status configure(const Setup& setup);          // validates; takes no memory; again until init()
  // The arena bytes ctx.init(&arena, {threads}) and init take together: a dry run in
  // `scratch` (models/model-common.h); after init(): what it took.
  Status bytes_needed(int threads, Arena* scratch, size_t* bytes);
  // Graphs, memory, weights from the seed, plans. On failure the arena and the head are as
  // they were (init may be tried again with more memory).
  Status init(Arena* arena, Context* ctx);
  // Undoes init(): as after configure() (the memory stays with the arena, for its owner to rewind).
  void release();
  // Fresh weights, Adam state and shuffle stream from `seed` (a new draw, a new round).
  void reset(uint64_t seed);

  // Trains on rows[0 .. n_rows) of x[n, inputs] (rows may repeat; null: rows 0..n_rows-1,
  // n_rows <= n) whose classes are labels[row] (labels has n entries; only the trained
  // rows are read). ceil(epochs * n_rows / batch) Adam steps, each on the next `batch`
  // positions of a shuffled order of the rows, reshuffled when used up (so n_rows may be
  // smaller than batch). *loss (may be null): mean cross-entropy of the last
  // ceil(n_rows / batch) steps. Errors: a row or label out of range, n_rows > max_rows,
  // a non-finite loss.
  Status fit(const float* x, const int32_t* labels, int n, const int32_t* rows, int n_rows, int epochs, float* loss);
  // pred[n] = argmax class of each row of x[n, inputs]; confidence[n] (may be null) its
  // softmax probability.
  Status classify(const float* x, int n, int32_t* pred, float* confidence);
  // Share of rows whose argmax is not labels[i].
  Status error_rate(const float* x, const int32_t* labels, int n, double* error);

  const Setup& setup() const { return setup_; }
  uint64_t seed() const { return seed_; }  // of the last reset (init: setup.seed)
  size_t param_count() const { return params_.numel(0, true); }

 private:
  template <class Model>
  friend Status models::model_bytes_needed(Model* model, const char* who, int threads, Arena* scratch, size_t* bytes);
  Status build(Arena* arena);
  void unbuild();
  Status take(Arena* arena, Context* ctx);
  Status compile_bytes(int workers, size_t* bytes);
  Status check_ready() const;
  void next_batch(const float* x, const int32_t* labels, const int32_t* rows, int n_rows);

  Setup setup_;
  nn::Params params_;
  nn::Graph train_{&params_}, eval_{&params_};
  nn::T train_x_, train_labels_, eval_x_, eval_logits_;
  nn::Optimizer opt_;
  Context* ctx_ = nullptr;
  Rng shuffle_;
  int32_t* order_ = nullptr;  // [max_rows] positions into the caller's rows
  int cursor_ = 0;
  uint64_t seed_ = 0;
  size_t setup_bytes_ = 0;  // what init took from the arena
  bool configured_ = false, ready_ = false;
};

struct SelfTraining {
  int rounds = 0;          // 0: no self-training
  float fraction = 1.0f;   // share of the unlabelled rows pseudo-labelled in the last round
  int epochs = 10;         // head epochs per round over labelled + pseudo-labelled rows
};
// Arena bytes self_train needs as scratch for n rows.
size_t self_training_bytes(int n);
// Rounds of pseudo-labelling (see the top of this file) on x[n, inputs], of which rows
// labelled[0 .. n_labelled) have the classes labels[0 .. n_labelled); the head should be
// fitted on those already. The head's max_rows must be >= n. Ends with the head trained on
// the last round's set. Errors found before training (a bad index or label, a row labelled
// twice, more rows than the head's max_rows, scratch too small) leave the head as it was.
Status self_train(CodeHead* head, const float* x, int n, const int32_t* labelled, const int32_t* labels,
                  int n_labelled, const SelfTraining& st, Arena* scratch);

}  // namespace ember::metrics
