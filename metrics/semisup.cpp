// Stratified label draws, input standardisation, the classifier head and self-training;
// see semisup.h.
#include "metrics/semisup.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "metrics/linalg.h"
#include "models/model-common.h"

namespace ember::metrics {

using nn::T;

namespace {

constexpr int kMaxRows = 1 << 28;      // rows of one call: n * inputs floats stay addressable
constexpr int kMaxInputs = 1 << 20;
constexpr int kMaxBatch = 1 << 16;
constexpr int kMaxHidden = 1 << 16;
constexpr uint64_t kShuffleStream = 0x5e1f;  // the head's shuffle stream, apart from its weights
constexpr int kErrorChunk = 256;             // predictions error_rate holds on the stack
constexpr const char* kOutWeight = "head.out.weight";

// Fisher-Yates shuffle of order[0 .. n).
void shuffle(int32_t* order, int n, Rng* rng) {
  for (int i = n - 1; i > 0; --i) {
    const int j = static_cast<int>(rng->below(static_cast<uint32_t>(i) + 1));
    const int32_t t = order[i];
    order[i] = order[j], order[j] = t;
  }
}

// Index of the largest of row[0 .. n) (first on ties) and its softmax probability.
int top_class(const float* row, int n, float* probability) {
  int best = 0;
  for (int c = 1; c < n; ++c)
    if (row[c] > row[best]) best = c;
  double sum = 0.0;
  for (int c = 0; c < n; ++c) sum += std::exp(static_cast<double>(row[c]) - row[best]);
  *probability = static_cast<float>(1.0 / sum);
  return best;
}

}  // namespace

Status draw_per_class(const data::Dataset& data, int per_class, uint64_t seed, int32_t* indices, int capacity) {
  if (!data.labels) return Status::error(Code::invalid_argument, "draw_per_class: the data set has no labels");
  const int classes = data.classes;
  if (classes < 1 || classes > kMaxDrawClasses)
    return Status::error(Code::invalid_argument, "draw_per_class: %d classes (1..%d)", classes, kMaxDrawClasses);
  if (per_class < 1) return Status::error(Code::invalid_argument, "draw_per_class: %d per class (>= 1)", per_class);
  if (data.count < 0) return Status::error(Code::invalid_argument, "draw_per_class: %d rows", data.count);
  int have[kMaxDrawClasses] = {0};
  for (int i = 0; i < data.count; ++i) {
    if (data.labels[i] >= classes)
      return Status::error(Code::corrupt_data, "draw_per_class: row %d has label %d, not below %d classes", i,
                           int(data.labels[i]), classes);
    ++have[data.labels[i]];
  }
  for (int c = 0; c < classes; ++c)
    if (have[c] < per_class)
      return Status::error(Code::invalid_argument, "draw_per_class: class %d has %d rows, fewer than %d asked", c,
                           have[c], per_class);
  const int64_t need = static_cast<int64_t>(per_class) * classes;  // <= count, so it fits in int
  if (!indices || capacity < need)
    return Status::error(Code::invalid_argument, "draw_per_class: room for %d indices, %lld short of %lld",
                         indices ? capacity : 0, static_cast<long long>(need - (indices ? capacity : 0)),
                         static_cast<long long>(need));
  // Algorithm R per class: the first per_class rows fill the reservoir; the s-th row seen
  // (s > per_class) replaces a uniformly chosen slot with probability per_class / s.
  Rng rng(seed);
  int seen[kMaxDrawClasses] = {0};
  for (int i = 0; i < data.count; ++i) {
    const int c = data.labels[i];
    int32_t* slot = indices + static_cast<size_t>(c) * per_class;
    const int s = ++seen[c];
    if (s <= per_class) {
      slot[s - 1] = i;
    } else {
      const uint32_t j = rng.below(static_cast<uint32_t>(s));
      if (j < static_cast<uint32_t>(per_class)) slot[j] = i;
    }
  }
  for (int c = 0; c < classes; ++c) {
    int32_t* slot = indices + static_cast<size_t>(c) * per_class;
    std::sort(slot, slot + per_class);
  }
  return Status::ok();
}

Status input_moments(const float* x, int n, int dims, float min_std, Arena* scratch, float* mean, float* inv_std) {
  if (n < 1 || dims < 1 || n > kMaxRows || dims > kMaxInputs)
    return Status::error(Code::invalid_argument, "input_moments: %d rows of %d dimensions", n, dims);
  if (!(min_std > 0.0f) || !std::isfinite(min_std))
    return Status::error(Code::invalid_argument, "input_moments: min_std must be > 0");
  ScratchScope scope(scratch);
  double *sum, *sq;
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(dims), &sum));
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(dims), &sq));
  std::memset(sum, 0, sizeof(double) * dims);
  std::memset(sq, 0, sizeof(double) * dims);
  for (int i = 0; i < n; ++i) {  // sums first, then squares around the mean: no cancellation
    const float* row = x + static_cast<size_t>(i) * dims;
    for (int d = 0; d < dims; ++d) {
      if (!std::isfinite(row[d]))
        return Status::error(Code::invalid_argument, "input_moments: value (%d, %d) is not finite", i, d);
      sum[d] += row[d];
    }
  }
  for (int d = 0; d < dims; ++d) sum[d] /= n;
  for (int i = 0; i < n; ++i) {
    const float* row = x + static_cast<size_t>(i) * dims;
    for (int d = 0; d < dims; ++d) sq[d] += (row[d] - sum[d]) * (row[d] - sum[d]);
  }
  for (int d = 0; d < dims; ++d) {
    const double sd = std::sqrt(sq[d] / n);
    mean[d] = static_cast<float>(sum[d]);
    inv_std[d] = static_cast<float>(1.0 / (sd > min_std ? sd : static_cast<double>(min_std)));
  }
  return Status::ok();
}

void standardise(float* x, int n, int dims, const float* mean, const float* inv_std) {
  for (int i = 0; i < n; ++i) {
    float* row = x + static_cast<size_t>(i) * dims;
    for (int d = 0; d < dims; ++d) row[d] = (row[d] - mean[d]) * inv_std[d];
  }
}

// ---- CodeHead ---------------------------------------------------------------------------

namespace {

// x[B, inputs] -> (linear hidden -> relu) -> linear classes: the logits.
T build_head(nn::Graph& g, const CodeHead::Setup& s, T x) {
  T h = x;
  if (s.hidden > 0) h = g.relu(g.linear(h, s.hidden, "head.fc"));
  return g.linear(h, s.classes, "head.out");
}

}  // namespace

Status CodeHead::configure(const Setup& s) {
  if (ready_) return Status::error(Code::invalid_argument, "head: already initialised (configure comes before init)");
  if (s.inputs < 1 || s.inputs > kMaxInputs)
    return Status::error(Code::invalid_argument, "head: %d inputs (1..%d)", s.inputs, kMaxInputs);
  if (s.classes < 2 || s.classes > kMaxClasses)
    return Status::error(Code::invalid_argument, "head: %d classes (2..%d)", s.classes, kMaxClasses);
  if (s.hidden < 0 || s.hidden > kMaxHidden)
    return Status::error(Code::invalid_argument, "head: hidden width %d (0..%d)", s.hidden, kMaxHidden);
  if (s.batch < 1 || s.batch > kMaxBatch || s.eval_batch < 1 || s.eval_batch > kMaxBatch)
    return Status::error(Code::invalid_argument, "head: batch %d / eval batch %d out of range 1..%d", s.batch,
                         s.eval_batch, kMaxBatch);
  if (s.max_rows < 1 || s.max_rows > kMaxRows)
    return Status::error(Code::invalid_argument, "head: max_rows %d (1..%d)", s.max_rows, kMaxRows);
  if (!(s.lr > 0.0f) || !std::isfinite(s.lr) || !(s.weight_decay >= 0.0f) || !std::isfinite(s.weight_decay))
    return Status::error(Code::invalid_argument, "head: learning rate must be > 0 and weight decay >= 0");
  setup_ = s;
  release();  // the state a new setup starts from (Adam from its rate)
  configured_ = true;
  return Status::ok();
}

void CodeHead::release() {
  unbuild();
  nn::OptimizerConfig oc = nn::OptimizerConfig::adam(setup_.lr);
  oc.weight_decay = setup_.weight_decay;
  opt_ = nn::Optimizer(oc, 0);
  shuffle_ = Rng(), seed_ = 0, cursor_ = 0;
  ctx_ = nullptr, setup_bytes_ = 0, ready_ = false;
}

// The graphs and the parameter table, in arena.
Status CodeHead::build(Arena* arena) {
  unbuild();
  params_.reset(arena);
  const Setup& s = setup_;
  train_x_ = train_.input("x", Shape(s.batch, s.inputs));
  train_labels_ = train_.labels("labels", s.batch);
  train_.minimize(train_.softmax_ce(build_head(train_, s, train_x_), train_labels_, nn::Reduction::mean));
  EMBER_TRY(train_.status());
  eval_x_ = eval_.input("x", Shape(s.eval_batch, s.inputs));
  eval_logits_ = build_head(eval_, s, eval_x_);
  eval_.mark_output(eval_logits_);
  EMBER_TRY(eval_.status());
  // The hidden layer starts from He initialisation (ReLU); the output layer from zeros, so
  // softmax regression (a convex problem) does not depend on the seed at all, and a few
  // labelled rows do not have to undo a random start.
  for (int i = 0; i < params_.count(); ++i) {
    nn::Param& p = params_[i];
    if (p.shape.rank >= 2) p.init.kind = std::strcmp(p.name, kOutWeight) ? nn::Init::kaiming_normal : nn::Init::zeros;
  }
  return Status::ok();
}

void CodeHead::unbuild() {
  train_.reset(), eval_.reset();
  params_.reset(nullptr);
  train_x_ = train_labels_ = eval_x_ = eval_logits_ = nn::T();
  order_ = nullptr;
}

// What init takes after the build: parameters, plans, the shuffle order.
Status CodeHead::compile_bytes(int workers, size_t* bytes) {
  size_t total = params_.bytes(nn::ParamMode::train_adam).total();
  EMBER_TRY(models::add_graph_bytes(train_, nn::CompileOptions{}, workers, &total));
  EMBER_TRY(models::add_graph_bytes(eval_, models::inference_options(), workers, &total));
  total += Arena::rounded(sizeof(int32_t) * static_cast<size_t>(setup_.max_rows));
  *bytes = total;
  return Status::ok();
}

Status CodeHead::bytes_needed(int threads, Arena* scratch, size_t* bytes) {
  return models::model_bytes_needed(this, "head", threads, scratch, bytes);
}

Status CodeHead::init(Arena* arena, Context* ctx) {
  if (!configured_) return Status::error(Code::invalid_argument, "head: configure() first");
  if (ready_) return Status::error(Code::invalid_argument, "head: already initialised");
  const size_t mark = arena->mark();
  EMBER_TRY(all_or_nothing(arena, [&] { return take(arena, ctx); }, [&] { release(); }));
  setup_bytes_ = arena->mark() - mark;
  ctx_ = ctx;
  ready_ = true;
  reset(setup_.seed);
  return Status::ok();
}

// init's pieces in order; any may run out of memory (init then undoes them all).
Status CodeHead::take(Arena* arena, Context* ctx) {
  EMBER_TRY(build(arena));
  EMBER_TRY(params_.allocate(arena, nn::ParamMode::train_adam));
  EMBER_TRY(train_.compile(arena, ctx, nn::CompileOptions{}));
  EMBER_TRY(eval_.compile(arena, ctx, models::inference_options()));
  return arena->alloc_array(static_cast<size_t>(setup_.max_rows), &order_);
}

void CodeHead::reset(uint64_t seed) {
  if (!ready_) return;
  Rng init_rng(seed);
  params_.initialise(&init_rng);  // also zeroes the Adam moments
  opt_ = nn::Optimizer(opt_.config(), 0);
  shuffle_.seed_with(seed, kShuffleStream);
  seed_ = seed;
}

Status CodeHead::check_ready() const {
  return ready_ ? Status::ok() : Status::error(Code::invalid_argument, "head: init() first");
}

void CodeHead::next_batch(const float* x, const int32_t* labels, const int32_t* rows, int n_rows) {
  float* bx = train_.data(train_x_);
  int32_t* by = train_.label_data(train_labels_);
  const size_t d = static_cast<size_t>(setup_.inputs);
  for (int b = 0; b < setup_.batch; ++b) {
    if (cursor_ == n_rows) shuffle(order_, n_rows, &shuffle_), cursor_ = 0;
    const int pos = order_[cursor_++];
    const int row = rows ? rows[pos] : pos;
    std::memcpy(bx + b * d, x + static_cast<size_t>(row) * d, d * sizeof(float));
    by[b] = labels[row];
  }
}

Status CodeHead::fit(const float* x, const int32_t* labels, int n, const int32_t* rows, int n_rows, int epochs,
                     float* loss) {
  EMBER_TRY(check_ready());
  if (n < 1 || n > kMaxRows || n_rows < 1 || epochs < 1 || (!rows && n_rows > n))
    return Status::error(Code::invalid_argument, "head: fit %d of %d rows for %d epochs", n_rows, n, epochs);
  if (n_rows > setup_.max_rows)
    return Status::error(Code::invalid_argument, "head: %d rows to fit, max_rows is %d", n_rows, setup_.max_rows);
  for (int k = 0; k < n_rows; ++k) {
    const int row = rows ? rows[k] : k;
    if (row < 0 || row >= n)
      return Status::error(Code::invalid_argument, "head: row %d (entry %d) outside 0..%d", row, k, n - 1);
    if (labels[row] < 0 || labels[row] >= setup_.classes)
      return Status::error(Code::invalid_argument, "head: label %d of row %d outside 0..%d", int(labels[row]), row,
                           setup_.classes - 1);
  }
  const int64_t per_epoch = (static_cast<int64_t>(n_rows) + setup_.batch - 1) / setup_.batch;
  const int64_t steps = (static_cast<int64_t>(epochs) * n_rows + setup_.batch - 1) / setup_.batch;
  for (int k = 0; k < n_rows; ++k) order_[k] = k;
  cursor_ = n_rows;  // shuffled before the first batch
  double tail = 0.0;
  for (int64_t step = 0; step < steps; ++step) {
    next_batch(x, labels, rows, n_rows);
    EMBER_TRY(train_.forward());
    const float l = train_.loss();
    if (!std::isfinite(l))
      return Status::error(Code::invalid_argument, "head: the loss is not finite (lower the learning rate?)");
    if (step >= steps - per_epoch) tail += l;
    EMBER_TRY(train_.backward());
    EMBER_TRY(opt_.step(*ctx_, params_));
  }
  if (loss) *loss = static_cast<float>(tail / (steps < per_epoch ? steps : per_epoch));
  return Status::ok();
}

Status CodeHead::classify(const float* x, int n, int32_t* pred, float* confidence) {
  EMBER_TRY(check_ready());
  if (n < 0 || n > kMaxRows) return Status::error(Code::invalid_argument, "head: classify %d rows", n);
  const int e = setup_.eval_batch, d = setup_.inputs, classes = setup_.classes;
  float* in = eval_.data(eval_x_);
  for (int at = 0; at < n; at += e) {
    const int chunk = n - at < e ? n - at : e;
    std::memcpy(in, x + static_cast<size_t>(at) * d, static_cast<size_t>(chunk) * d * sizeof(float));
    std::memset(in + static_cast<size_t>(chunk) * d, 0, static_cast<size_t>(e - chunk) * d * sizeof(float));
    EMBER_TRY(eval_.forward());
    const float* logits = eval_.data(eval_logits_);
    for (int i = 0; i < chunk; ++i) {
      float p = 0.0f;
      pred[at + i] = top_class(logits + static_cast<size_t>(i) * classes, classes, &p);
      if (confidence) confidence[at + i] = p;
    }
  }
  return Status::ok();
}

Status CodeHead::error_rate(const float* x, const int32_t* labels, int n, double* error) {
  EMBER_TRY(check_ready());
  if (n < 1 || n > kMaxRows) return Status::error(Code::invalid_argument, "head: error rate of %d rows", n);
  int32_t pred[kErrorChunk];
  int wrong = 0;
  for (int at = 0; at < n; at += kErrorChunk) {
    const int chunk = n - at < kErrorChunk ? n - at : kErrorChunk;
    EMBER_TRY(classify(x + static_cast<size_t>(at) * setup_.inputs, chunk, pred, nullptr));
    for (int i = 0; i < chunk; ++i) wrong += pred[i] != labels[at + i];
  }
  *error = static_cast<double>(wrong) / n;
  return Status::ok();
}

// ---- self-training ----------------------------------------------------------------------

size_t self_training_bytes(int n) {
  const size_t one = Arena::rounded(sizeof(int32_t) * static_cast<size_t>(n > 0 ? n : 0));
  return 5 * one;  // pred, confidence, order, y, rows
}

Status self_train(CodeHead* head, const float* x, int n, const int32_t* labelled, const int32_t* labels,
                  int n_labelled, const SelfTraining& st, Arena* scratch) {
  const int classes = head->setup().classes;
  if (st.rounds < 0 || st.epochs < 1 || !(st.fraction >= 0.0f && st.fraction <= 1.0f))
    return Status::error(Code::invalid_argument, "self_train: %d rounds of %d epochs, fraction not in [0, 1]",
                         st.rounds, st.epochs);
  if (n < 1 || n_labelled < 1 || n_labelled > n)
    return Status::error(Code::invalid_argument, "self_train: %d labelled of %d rows", n_labelled, n);
  if (n > head->setup().max_rows)
    return Status::error(Code::invalid_argument, "self_train: %d rows, the head's max_rows is %d", n,
                         head->setup().max_rows);
  ScratchScope scope(scratch);
  int32_t *pred, *order, *y, *rows;
  float* conf;
  const size_t count = static_cast<size_t>(n);
  EMBER_TRY(scratch->alloc_array(count, &pred));
  EMBER_TRY(scratch->alloc_array(count, &conf));
  EMBER_TRY(scratch->alloc_array(count, &order));
  EMBER_TRY(scratch->alloc_array(count, &y));
  EMBER_TRY(scratch->alloc_array(count, &rows));
  for (int i = 0; i < n; ++i) y[i] = -1;  // -1: unlabelled
  for (int j = 0; j < n_labelled; ++j) {
    const int row = labelled[j];
    if (row < 0 || row >= n)
      return Status::error(Code::invalid_argument, "self_train: labelled row %d (entry %d) outside 0..%d", row, j,
                           n - 1);
    if (labels[j] < 0 || labels[j] >= classes)
      return Status::error(Code::invalid_argument, "self_train: label %d (entry %d) outside 0..%d", int(labels[j]),
                           j, classes - 1);
    if (y[row] >= 0) return Status::error(Code::invalid_argument, "self_train: row %d is labelled twice", row);
    y[row] = labels[j];
  }
  const int unlabelled = n - n_labelled;
  const uint64_t seed = head->seed();
  for (int r = 1; r <= st.rounds; ++r) {
    EMBER_TRY(head->classify(x, n, pred, conf));
    int k = 0;
    for (int i = 0; i < n; ++i)
      if (y[i] < 0) order[k++] = i;
    // By predicted class, the most confident first; ties by row: a total order, so the
    // selection is deterministic.
    std::sort(order, order + k, [pred, conf](int32_t a, int32_t b) {
      if (pred[a] != pred[b]) return pred[a] < pred[b];
      if (conf[a] != conf[b]) return conf[a] > conf[b];
      return a < b;
    });
    const double share = static_cast<double>(st.fraction) * r / st.rounds;
    const int quota = static_cast<int>(share * unlabelled / classes);
    int m = 0, taken = 0, cls = -1;
    for (int j = 0; j < n_labelled; ++j) rows[m++] = labelled[j];
    for (int j = 0; j < k; ++j) {
      const int row = order[j];
      if (pred[row] != cls) cls = pred[row], taken = 0;
      if (taken < quota) rows[m++] = row, ++taken;
    }
    for (int j = 0; j < n_labelled; ++j) pred[labelled[j]] = labels[j];  // training labels: true or pseudo
    head->reset(seed + static_cast<uint64_t>(r));
    EMBER_TRY(head->fit(x, pred, n, rows, m, st.epochs, nullptr));
  }
  return Status::ok();
}

}  // namespace ember::metrics
