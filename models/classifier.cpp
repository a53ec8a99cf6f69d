// The classifier's config text, networks, training step and inference; see classifier.h.
#include "models/classifier.h"

#include <cmath>
#include <cstring>

#include "data/batcher.h"
#include "models/config-text.h"
#include "models/model-common.h"

namespace ember::models {

using nn::Graph;
using nn::T;

namespace {

constexpr int kMaxBatch = 1 << 16;
constexpr int kMaxSide = 4096;
constexpr int kMaxWidth = 1 << 16;
constexpr const char* kKind = "classifier";
constexpr const char* kWhat = "a classifier";  // in errors about a file that is not one
// The conv stack: a 3x3 stride-1 layer keeps the size, then two 4x4 stride-2 layers halve it.
constexpr int kFirstKernel = 3, kFirstStride = 1, kFirstPad = 1;
constexpr int kDownKernel = 4, kDownStride = 2, kDownPad = 1;
constexpr int kDownsample = kDownStride * kDownStride;  // sides must divide by this
constexpr const char* kConvNames[ClassifierConfig::kConvLayers] = {"clf.conv1", "clf.conv2", "clf.conv3"};
constexpr const char* kBnNames[ClassifierConfig::kConvLayers] = {"clf.bn1", "clf.bn2", "clf.bn3"};
constexpr const char* kHiddenNames[ClassifierConfig::kMaxDepth] = {"clf.fc1", "clf.fc2", "clf.fc3", "clf.fc4"};

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

// conv (+ BatchNorm) + ReLU.
T conv_block(Graph& g, const ClassifierConfig& c, T x, int layer) {
  const bool first = layer == 0;
  const int k = first ? kFirstKernel : kDownKernel, s = first ? kFirstStride : kDownStride;
  const int p = first ? kFirstPad : kDownPad;
  T h = g.conv2d(x, c.channels[layer], k, s, p, kConvNames[layer], !c.batchnorm);
  if (c.batchnorm) h = g.batchnorm(h, kBnNames[layer]);
  return g.relu(h);
}

}  // namespace

const char* classifier_arch_name(ClassifierArch a) { return a == ClassifierArch::conv ? "conv" : "mlp"; }

Status ClassifierConfig::validate() const {
  if (rows < 1 || cols < 1 || rows > kMaxSide || cols > kMaxSide)
    return Status::error(Code::invalid_argument, "classifier: image size %dx%d out of range 1..%d", rows, cols,
                         kMaxSide);
  if (classes < 2 || classes > kMaxClasses)
    return Status::error(Code::invalid_argument, "classifier: %d classes (2..%d)", classes, kMaxClasses);
  if (arch == ClassifierArch::conv) {
    if (rows % kDownsample || cols % kDownsample)
      return Status::error(Code::invalid_argument, "classifier: conv arch needs sides divisible by %d, got %dx%d",
                           kDownsample, rows, cols);
    for (int ch : channels)
      if (ch < 1 || ch > kMaxWidth)
        return Status::error(Code::invalid_argument, "classifier: conv channels %d out of range 1..%d", ch, kMaxWidth);
    if (features < 1 || features > kMaxWidth)
      return Status::error(Code::invalid_argument, "classifier: features %d out of range 1..%d", features, kMaxWidth);
  } else {
    if (depth < 1 || depth > kMaxDepth)
      return Status::error(Code::invalid_argument, "classifier: mlp needs 1..%d hidden widths, got %d", kMaxDepth,
                           depth);
    for (int i = 0; i < depth; ++i)
      if (widths[i] < 1 || widths[i] > kMaxWidth)
        return Status::error(Code::invalid_argument, "classifier: width %d out of range 1..%d", widths[i], kMaxWidth);
  }
  return Status::ok();
}

Status ClassifierConfig::set(const char* key, const char* value) {
  if (!std::strcmp(key, "kind")) {
    if (std::strcmp(value, kKind) != 0)
      return Status::error(Code::invalid_argument, "kind: '%s' is not a classifier", value);
    return Status::ok();
  }
  if (!std::strcmp(key, "arch")) {
    if (!std::strcmp(value, "conv")) return (arch = ClassifierArch::conv, Status::ok());
    if (!std::strcmp(value, "mlp")) return (arch = ClassifierArch::mlp, Status::ok());
    return Status::error(Code::invalid_argument, "arch: unknown value '%s' (one of: conv mlp)", value);
  }
  if (!std::strcmp(key, "rows")) return parse_int(key, value, 1, kMaxSide, &rows);
  if (!std::strcmp(key, "cols")) return parse_int(key, value, 1, kMaxSide, &cols);
  if (!std::strcmp(key, "classes")) return parse_int(key, value, 2, kMaxClasses, &classes);
  if (!std::strcmp(key, "features")) return parse_int(key, value, 1, kMaxWidth, &features);
  if (!std::strcmp(key, "widths")) return parse_int_list(key, value, 1, kMaxWidth, widths, kMaxDepth, &depth);
  if (!std::strcmp(key, "channels")) {
    int n = 0, got[kConvLayers];
    EMBER_TRY(parse_int_list(key, value, 1, kMaxWidth, got, kConvLayers, &n));
    if (n != kConvLayers) return Status::error(Code::invalid_argument, "channels: give three values, e.g. 32,32,64");
    for (int i = 0; i < kConvLayers; ++i) channels[i] = got[i];
    return Status::ok();
  }
  if (!std::strcmp(key, "bn")) {
    int on = 0;
    EMBER_TRY(parse_int(key, value, 0, 1, &on));
    batchnorm = on != 0;
    return Status::ok();
  }
  return Status::error(Code::invalid_argument, "classifier: unknown key '%s'", key);
}

Status ClassifierConfig::to_text(char* buf, size_t cap) const {
  TextWriter w(buf, cap);
  w.put("kind=").put(kKind).put(" arch=").put(classifier_arch_name(arch));
  w.put(" rows=").put_int(rows).put(" cols=").put_int(cols).put(" classes=").put_int(classes).put(" channels=");
  for (int i = 0; i < kConvLayers; ++i) (i ? w.put(",") : w).put_int(channels[i]);
  w.put(" features=").put_int(features).put(" widths=");
  for (int i = 0; i < depth; ++i) (i ? w.put(",") : w).put_int(widths[i]);
  w.put(" bn=").put_int(batchnorm ? 1 : 0);
  return w.status("classifier config");
}

Status ClassifierConfig::from_text(const char* text) {
  ClassifierConfig c;
  bool kind = false;
  EMBER_TRY(for_each_pair(text, [&c, &kind](const char* k, const char* v) {
    kind |= !std::strcmp(k, "kind");
    return c.set(k, v);
  }));
  if (!kind) return Status::error(Code::invalid_argument, "classifier: the text has no kind=classifier");
  EMBER_TRY(c.validate());
  *this = c;
  return Status::ok();
}

T build_classifier(Graph& g, const ClassifierConfig& c, T x, T* features) {
  const int batch = static_cast<int>(g.shape(x)[0]);
  T h = x;
  if (c.arch == ClassifierArch::conv) {
    h = g.reshape(h, Shape(batch, 1, c.rows, c.cols));
    for (int i = 0; i < ClassifierConfig::kConvLayers; ++i) h = conv_block(g, c, h, i);
    h = g.linear(g.flatten(h), c.features, "clf.fc", !c.batchnorm);
    if (c.batchnorm) h = g.batchnorm(h, "clf.bn.fc");
    h = g.relu(h);
  } else {
    for (int i = 0; i < c.depth; ++i) h = g.relu(g.linear(h, c.widths[i], kHiddenNames[i]));
  }
  if (features) *features = h;
  return g.linear(h, c.classes, "clf.out");
}

Status ClassifierModel::configure(const Setup& setup) {
  if (configured_) return Status::error(Code::invalid_argument, "classifier: already configured");
  EMBER_TRY(setup.config.validate());
  if (setup.batch < 1 || setup.batch > kMaxBatch || setup.eval_batch < 1 || setup.eval_batch > kMaxBatch)
    return Status::error(Code::invalid_argument, "classifier: batch %d / eval batch %d out of range 1..%d",
                         setup.batch, setup.eval_batch, kMaxBatch);
  if (setup.training && !(setup.lr > 0.0f && std::isfinite(setup.lr)))
    return Status::error(Code::invalid_argument, "classifier: learning rate must be > 0");
  setup_ = setup;
  opt_ = nn::Optimizer(nn::OptimizerConfig::adam(setup.lr), 0);
  configured_ = true;
  return Status::ok();
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
  *bytes = 0;
  if (!configured_) return Status::error(Code::invalid_argument, "classifier: configure() first");
  if (ready_) return added_to_context(threads, setup_bytes_, bytes);
  return dry_run(this, threads, scratch, bytes);
}

Status ClassifierModel::init(Arena* arena, Context* ctx) {
  if (!configured_) return Status::error(Code::invalid_argument, "classifier: configure() first");
  if (ready_) return Status::error(Code::invalid_argument, "classifier: already initialised");
  const size_t mark = arena->mark();
  Status s = build(arena);
  if (s.is_ok()) s = params_.allocate(arena, param_mode(setup_.training));
  if (s.is_ok()) {
    Rng init_rng(setup_.seed);
    params_.initialise(&init_rng);
  }
  if (s.is_ok() && setup_.training) s = train_.compile(arena, ctx, nn::CompileOptions{});
  if (s.is_ok()) s = eval_.compile(arena, ctx, inference_options());
  if (s.is_ok()) s = arena->alloc_array(static_cast<size_t>(setup_.eval_batch), &eval_labels_);
  if (!s.is_ok()) {
    unbuild();
    arena->rewind(mark);
    return s;
  }
  setup_bytes_ = arena->mark() - mark;
  ctx_ = ctx;
  ready_ = true;
  return Status::ok();
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
    return Status::error(Code::invalid_argument, "classifier: the loss is not finite (lower the learning rate?)");
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

Status ClassifierModel::check_data(const Dataset& data, int first, int n) const {
  if (!ready_) return Status::error(Code::invalid_argument, "classifier: init() first");
  if (data.rows != setup_.config.rows || data.cols != setup_.config.cols)
    return Status::error(Code::shape_mismatch, "classifier: data has %dx%d images, the classifier %dx%d", data.rows,
                         data.cols, setup_.config.rows, setup_.config.cols);
  if (first < 0 || n < 0 || first > data.count || n > data.count - first)
    return Status::error(Code::invalid_argument, "classifier: images [%d, %d + %d) outside the set of %d", first,
                         first, n, data.count);
  return Status::ok();
}

Status ClassifierModel::predict(const Dataset& data, int first, int n, float* probs, float* features) {
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

Status ClassifierModel::evaluate(const Dataset& data, int n, ClassifierScore* out) {
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

Status ClassifierModel::save(const char* path, uint64_t step) const {
  if (!ready_) return Status::error(Code::invalid_argument, "classifier: init() first");
  nn::CheckpointState st;
  const bool training = setup_.training;
  st.opts = training ? const_cast<nn::Optimizer*>(&opt_) : nullptr, st.n_opts = training ? 1 : 0;
  st.step = &step;
  return save_with_config(path, setup_.config, params_, st);
}

Status ClassifierModel::load(const char* path, uint64_t* step) {
  if (!ready_) return Status::error(Code::invalid_argument, "classifier: init() first");
  nn::CheckpointState st;
  const bool training = setup_.training;  // an inference model skips the Adam state
  st.opts = training ? &opt_ : nullptr, st.n_opts = training ? 1 : 0;
  st.step = step;
  return load_with_config(path, setup_.config, kWhat, &params_, st);
}

Status ClassifierModel::read_config(const char* path, ClassifierConfig* config) {
  return read_checkpoint_config(path, kWhat, config);
}

}  // namespace ember::models
