// The classifier's training step, inference and checkpoints; see classifier-model.h.
#include "models/classifier-model.h"

#include <cmath>
#include <cstring>

#include "data/batcher.h"
#include "models/model-common.h"

namespace ember::models {

using nn::Graph;
using nn::T;

namespace {

constexpr const char* kClassifierWhat = "a classifier";  // in errors about a file that is not one


void copy_floats(float* dst, const float* src, int rows, int cols) {
  std::memcpy(dst, src, static_cast<size_t>(rows) * static_cast<size_t>(cols) * sizeof(float));
}

// Index of the largest logit (first on ties).
int argmax(const float* row, int n) {
  int best = 0;
  for (int c = 1; c < n; ++c)
    if (row[c] > row[best]) best = c;
  return best;
}

// softmax of logits[n] into out[n], shifted by the maximum so exp never overflows.
void softmax_row(const float* logits, int n, float* out) {
  const float top = logits[argmax(logits, n)];
  float sum = 0.0f;
  for (int c = 0; c < n; ++c) sum += out[c] = std::exp(logits[c] - top);
  const float inv = 1.0f / sum;
  for (int c = 0; c < n; ++c) out[c] *= inv;
}

// -log softmax(logits)[label] in double.
double cross_entropy(const float* logits, int n, int label) {
  const double top = logits[argmax(logits, n)];
  double sum = 0.0;
  for (int c = 0; c < n; ++c) sum += std::exp(logits[c] - top);
  return std::log(sum) + top - logits[label];
}

}  // namespace

Status ClassifierModel::configure(const Setup& setup) {
  if (ready_)
    return Status::error(Code::invalid_argument, "classifier: already initialised (configure comes before init)");
  EMBER_TRY(setup.config.validate());
  if (setup.batch < 1 || setup.batch > kMaxBatch || setup.eval_batch < 1 || setup.eval_batch > kMaxBatch)
    return Status::error(Code::invalid_argument, "classifier: batch %d / eval batch %d out of range 1..%d",
                         setup.batch, setup.eval_batch, kMaxBatch);
  if (setup.training && !(setup.lr > 0.0f && std::isfinite(setup.lr)))
    return Status::error(Code::invalid_argument, "classifier: learning rate must be > 0");
  setup_ = setup;
  release();  // the state a new setup starts from (Adam from its rate)
  configured_ = true;
  return Status::ok();
}

void ClassifierModel::release() {
  unbuild();
  opt_ = nn::Optimizer(nn::OptimizerConfig::adam(setup_.lr), 0);
  ctx_ = nullptr, setup_bytes_ = 0, ready_ = false;
}

// The graphs and the parameter table, in arena.
Status ClassifierModel::build(Arena* arena) {
  unbuild();
  params_.reset(arena);
  const ClassifierConfig& c = setup_.config;
  if (setup_.training) {
    train_x_ = train_.input("x", Shape(setup_.batch, c.pixels()));
    train_labels_ = train_.labels("labels", setup_.batch);
    train_logits_ = build_classifier(train_, c, train_x_, nullptr);
    train_.minimize(train_.softmax_ce(train_logits_, train_labels_, nn::Reduction::mean));
    train_.mark_output(train_logits_);
    EMBER_TRY(train_.status());
  }
  eval_x_ = eval_.input("x", Shape(setup_.eval_batch, c.pixels()));
  eval_logits_ = build_classifier(eval_, c, eval_x_, &eval_features_);
  eval_.mark_output(eval_logits_);
  eval_.mark_output(eval_features_);
  EMBER_TRY(eval_.status());
  for (int i = 0; i < params_.count(); ++i) {  // He initialisation of every weight matrix / kernel
    nn::Param& p = params_[i];
    if (p.trainable && p.shape.rank >= 2) p.init.kind = nn::Init::kaiming_normal;
  }
  return Status::ok();
}

void ClassifierModel::unbuild() {
  train_.reset(), eval_.reset();
  params_.reset(nullptr);
  train_x_ = train_labels_ = train_logits_ = eval_x_ = eval_logits_ = eval_features_ = T();
  eval_labels_ = nullptr;
}

// What init takes after the build: parameters, plans, the label buffer.
Status ClassifierModel::compile_bytes(int workers, size_t* bytes) {
  size_t total = params_.bytes(param_mode(setup_.training)).total();
  if (setup_.training) EMBER_TRY(add_graph_bytes(train_, nn::CompileOptions{}, workers, &total));
  EMBER_TRY(add_graph_bytes(eval_, inference_options(), workers, &total));
  total += Arena::rounded(sizeof(int32_t) * static_cast<size_t>(setup_.eval_batch));
  *bytes = total;
  return Status::ok();
}

Status ClassifierModel::bytes_needed(int threads, Arena* scratch, size_t* bytes) {
  return model_bytes_needed(this, "classifier", threads, scratch, bytes);
}

Status ClassifierModel::init(Arena* arena, Context* ctx) {
  if (!configured_) return Status::error(Code::invalid_argument, "classifier: configure() first");
  if (ready_) return Status::error(Code::invalid_argument, "classifier: already initialised");
  const size_t mark = arena->mark();
  EMBER_TRY(all_or_nothing(arena, [&] { return take(arena, ctx); }, [&] { release(); }));
  setup_bytes_ = arena->mark() - mark;
  ctx_ = ctx;
  ready_ = true;
  return Status::ok();
}

// init's pieces in order; any may run out of memory (init then undoes them all).
Status ClassifierModel::take(Arena* arena, Context* ctx) {
  EMBER_TRY(build(arena));
  EMBER_TRY(params_.allocate(arena, param_mode(setup_.training)));
  Rng init_rng(setup_.seed);
  params_.initialise(&init_rng);
  if (setup_.training) EMBER_TRY(train_.compile(arena, ctx, nn::CompileOptions{}));
  EMBER_TRY(eval_.compile(arena, ctx, inference_options()));
  return arena->alloc_array(static_cast<size_t>(setup_.eval_batch), &eval_labels_);
}

size_t ClassifierModel::param_count() const { return params_.numel(0, true); }

Status ClassifierModel::train_step(const float* x, const int32_t* labels, float* loss, int* correct) {
  if (!ready_ || !setup_.training)
    return Status::error(Code::invalid_argument, "classifier: not set up for training");
  const int b = setup_.batch, classes = setup_.config.classes;
  for (int i = 0; i < b; ++i)
    if (labels[i] < 0 || labels[i] >= classes)
      return Status::error(Code::invalid_argument, "classifier: label %d of row %d outside 0..%d",
                           static_cast<int>(labels[i]), i, classes - 1);
  copy_floats(train_.data(train_x_), x, b, setup_.config.pixels());
  std::memcpy(train_.label_data(train_labels_), labels, static_cast<size_t>(b) * sizeof(int32_t));
  EMBER_TRY(train_.forward());
  const float l = train_.loss();
  if (!std::isfinite(l))
    return Status::error(Code::not_finite, "classifier: the loss is not finite (lower the learning rate?)");
  if (correct) {
    const float* logits = train_.data(train_logits_);
    int right = 0;
    for (int i = 0; i < b; ++i) right += argmax(logits + static_cast<size_t>(i) * classes, classes) == labels[i];
    *correct = right;
  }
  EMBER_TRY(train_.backward());
  EMBER_TRY(opt_.step(*ctx_, params_));
  if (loss) *loss = l;
  return Status::ok();
}

Status ClassifierModel::infer(int rows, float* probs, float* features) {
  EMBER_TRY(eval_.forward());
  const int classes = setup_.config.classes, f = feature_dim();
  if (probs) {
    const float* logits = eval_.data(eval_logits_);
    for (int i = 0; i < rows; ++i)
      softmax_row(logits + static_cast<size_t>(i) * classes, classes, probs + static_cast<size_t>(i) * classes);
  }
  if (features) copy_floats(features, eval_.data(eval_features_), rows, f);
  return Status::ok();
}

Status ClassifierModel::predict(const float* x, int n, float* probs, float* features) {
  if (!ready_) return Status::error(Code::invalid_argument, "classifier: init() first");
  if (n < 0 || (n > 0 && !x)) return Status::error(Code::invalid_argument, "classifier: predict %d rows", n);
  const int e = setup_.eval_batch, d = setup_.config.pixels(), classes = setup_.config.classes, f = feature_dim();
  for (int at = 0; at < n; at += e) {
    const int rows = n - at < e ? n - at : e;
    float* in = eval_.data(eval_x_);
    copy_floats(in, x + static_cast<size_t>(at) * d, rows, d);
    std::memset(in + static_cast<size_t>(rows) * d, 0, static_cast<size_t>(e - rows) * d * sizeof(float));
    EMBER_TRY(infer(rows, probs ? probs + static_cast<size_t>(at) * classes : nullptr,
                    features ? features + static_cast<size_t>(at) * f : nullptr));
  }
  return Status::ok();
}

Status ClassifierModel::check_data(const data::Dataset& data, int first, int n) const {
  if (!ready_) return Status::error(Code::invalid_argument, "classifier: init() first");
  if (data.rows != setup_.config.rows || data.cols != setup_.config.cols)
    return Status::error(Code::shape_mismatch, "classifier: data has %dx%d images, the classifier %dx%d", data.rows,
                         data.cols, setup_.config.rows, setup_.config.cols);
  if (first < 0 || n < 0 || first > data.count || n > data.count - first)
    return Status::error(Code::invalid_argument, "classifier: images [%d, %d + %d) outside the set of %d", first,
                         first, n, data.count);
  return Status::ok();
}

Status ClassifierModel::predict(const data::Dataset& data, int first, int n, float* probs, float* features) {
  EMBER_TRY(check_data(data, first, n));
  const int e = setup_.eval_batch, classes = setup_.config.classes, f = feature_dim();
  for (int at = 0; at < n; at += e) {
    const int rows = n - at < e ? n - at : e;
    fill_range(data, first + at, e, eval_.data(eval_x_), nullptr);
    EMBER_TRY(infer(rows, probs ? probs + static_cast<size_t>(at) * classes : nullptr,
                    features ? features + static_cast<size_t>(at) * f : nullptr));
  }
  return Status::ok();
}

Status ClassifierModel::evaluate(const data::Dataset& data, int n, ClassifierScore* out) {
  if (n <= 0 || n > data.count) n = data.count;
  EMBER_TRY(check_data(data, 0, n));
  if (!data.labels) return Status::error(Code::invalid_argument, "classifier: the data set has no labels");
  if (data.classes > setup_.config.classes)
    return Status::error(Code::shape_mismatch, "classifier: the data has %d classes, the classifier %d", data.classes,
                         setup_.config.classes);
  if (n < 1) return Status::error(Code::invalid_argument, "classifier: no images to evaluate");
  const int e = setup_.eval_batch, classes = setup_.config.classes;
  int correct = 0;
  double loss = 0.0;
  for (int at = 0; at < n; at += e) {
    const int rows = n - at < e ? n - at : e;
    fill_range(data, at, e, eval_.data(eval_x_), eval_labels_);
    EMBER_TRY(eval_.forward());
    const float* logits = eval_.data(eval_logits_);
    for (int i = 0; i < rows; ++i) {
      const float* row = logits + static_cast<size_t>(i) * classes;
      correct += argmax(row, classes) == eval_labels_[i];
      loss += cross_entropy(row, classes, eval_labels_[i]);
    }
  }
  out->count = n, out->correct = correct;
  out->accuracy = static_cast<double>(correct) / n;
  out->loss = loss / n;
  return Status::ok();
}

Status ClassifierModel::save(const char* path, uint64_t step, const char* run) const {
  if (!ready_) return Status::error(Code::invalid_argument, "classifier: init() first");
  nn::CheckpointState st;
  const bool training = setup_.training;
  st.opts = training ? const_cast<nn::Optimizer*>(&opt_) : nullptr, st.n_opts = training ? 1 : 0;
  st.step = &step;
  return save_with_config(path, setup_.config, params_, st, run);
}

Status ClassifierModel::load(const char* path, uint64_t* step) {
  if (!ready_) return Status::error(Code::invalid_argument, "classifier: init() first");
  nn::CheckpointState st;
  const bool training = setup_.training;  // an inference model skips the Adam state
  st.opts = training ? &opt_ : nullptr, st.n_opts = training ? 1 : 0;
  st.step = step;
  return load_with_config(nn::CheckpointRef::file(path), setup_.config, kClassifierWhat, &params_, st);
}

Status ClassifierModel::read_config(const char* path, ClassifierConfig* config) {
  return read_checkpoint_config(path, kClassifierWhat, config);
}

}  // namespace ember::models
