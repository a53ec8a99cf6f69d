// Graph compilation: which nodes need gradients, every buffer's lifetime, and the memory plan.
//
// Schedule: forward of node i is step i; its backward is step 2N-1-i (reverse order), so a
// tensor saved for backward lives from its forward step to its node's backward step, and a
// gradient from the backward step of its first consumer (where it is zeroed, then
// accumulated into) to its own node's backward step.
#include <cstring>

#include "nn/graph.h"

namespace ember::nn {

namespace {

// Which values an op's backward reads: its inputs (bit i) and its own output (bit 3).
constexpr uint8_t kIn0 = 1, kIn1 = 2, kIn2 = 4, kSelf = 8;
uint8_t backward_reads(const Node& n) {
  switch (n.op) {
    case Op::linear:
    case Op::conv2d:
    case Op::conv_t2d:
    case Op::batchnorm:
    case Op::minibatch_stddev: return kIn0;
    case Op::act: return act_backward_needs_input(n.act, n.slope) ? kIn0 | kSelf : kSelf;
    case Op::mul: return kIn0 | kIn1;
    case Op::reparam: return kIn1;
    case Op::bce_logits:
    case Op::mse:
    case Op::kl_std_normal:
    case Op::softmax_ce: return kIn0 | kIn1;
    case Op::gauss_nll: return kIn0 | kIn1 | kIn2;
    default: return 0;
  }
}

int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }
int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }

}  // namespace

// needs_grad = depends on a trained parameter AND reaches the objective.
void Graph::mark_gradients(const CompileOptions& opt) {
  const int32_t N = nodes_.size();
  auto trained = [&](int32_t pid) {
    return opt.training && pid >= 0 && (*params_)[pid].trainable && ((opt.train_groups >> (*params_)[pid].group) & 1u);
  };
  for (int32_t i = 0; i < N; ++i) {
    Node& n = nodes_[i];
    n.depends = n.reaches = false;
    for (int32_t p : n.param) n.depends = n.depends || trained(p);
    for (int32_t j : n.in) n.depends = n.depends || (j >= 0 && nodes_[j].depends);
  }
  if (opt.training) nodes_[loss_].reaches = true;
  for (int32_t i = N - 1; i >= 0; --i)
    if (nodes_[i].reaches)
      for (int32_t j : nodes_[i].in)
        if (j >= 0) nodes_[j].reaches = true;
  for (int32_t i = 0; i < N; ++i) nodes_[i].needs_grad = nodes_[i].depends && nodes_[i].reaches;
  // A linear node whose parameters no other node uses writes their gradients whole. (A
  // quadratic scan: graphs have tens of nodes, and compile allocates nothing of its own.)
  auto used_elsewhere = [&](int32_t pid, int32_t self) {
    for (int32_t j = 0; j < N; ++j)
      for (int32_t q : nodes_[j].param)
        if (j != self && q == pid) return true;
    return false;
  };
  for (int32_t i = 0; i < N; ++i) {
    Node& n = nodes_[i];
    n.writes_input_grad = false;  // build_plan decides, when training
    n.folds_input_act = -1, n.act_in_consumer = false;
    n.writes_param_grads = n.op == Op::linear && n.needs_grad;
    for (int32_t p : n.param)
      if (p >= 0 && used_elsewhere(p, i)) n.writes_param_grads = false;
  }
}

bool Graph::int8_weights(const Node& n) const {
  const bool weighted = n.op == Op::linear || n.op == Op::conv2d || n.op == Op::conv_t2d;
  return weighted && (*params_)[n.param[0]].storage == Storage::int8;
}

// How many buffers build_plan makes (it checks it makes no more): a value per node that is
// not a reshape; when training a gradient per such node that needs one; saved tensors of
// BatchNorm (training), reparam and minibatch_stddev; workspaces of the convolutions and
// of BatchNorm's image layout (training).
int32_t Graph::count_buffers(const CompileOptions& opt) {
  int32_t n = 0;
  for (int32_t i = 0; i < nodes_.size(); ++i) {
    const Node& x = nodes_[i];
    if (x.op == Op::reshape) continue;
    n += 1 + (opt.training && x.needs_grad ? 1 : 0);
    if (x.op == Op::batchnorm && opt.training) {
      n += 2;
      if (batchnorm_scratch_floats(x.bn)) n += 1 + (x.needs_grad ? 1 : 0);
    }
    if (x.op == Op::reparam) n += 1;
    if (x.op == Op::minibatch_stddev) n += 2;
    if (x.op == Op::conv2d || x.op == Op::conv_t2d) n += 1 + (x.needs_grad ? 1 : 0);
    if (x.op == Op::linear && int8_weights(x)) n += 1;  // the panel int8 weights are widened into
  }
  return n;
}

size_t Graph::table_bytes(int32_t nodes, int32_t buffers) {
  const size_t b = static_cast<size_t>(buffers);
  return decltype(nodes_)::seal_bytes(nodes) + Arena::rounded(b * sizeof(PlannedBuffer)) +
         2 * Arena::rounded(b * sizeof(int32_t));
}

// The plan's tables for nbufs buffers, from the arena's tail (a dry run) or head (compile).
Status Graph::take_tables(Arena* arena, bool tail, int32_t nbufs) {
  const size_t n = static_cast<size_t>(nbufs);
  void* p[3] = {nullptr, nullptr, nullptr};
  const size_t bytes[3] = {n * sizeof(PlannedBuffer), n * sizeof(int32_t), n * sizeof(int32_t)};
  for (int k = 0; k < 3; ++k) EMBER_TRY(tail ? arena->alloc_tail(bytes[k], &p[k]) : arena->alloc(bytes[k], &p[k]));
  bufs_ = static_cast<PlannedBuffer*>(p[0]);
  order_ = static_cast<int32_t*>(p[1]);
  zero_at_ = static_cast<int32_t*>(p[2]);
  return Status::ok();
}

Status Graph::check_buildable(const CompileOptions& opt) const {
  if (!error_.is_ok()) return error_;
  if (nodes_.size() == 0) return Status::error(Code::invalid_argument, "compile: the graph is empty");
  if (opt.training && loss_ < 0)
    return Status::error(Code::invalid_argument, "compile: training needs an objective (call minimize)");
  for (int32_t i = 0; opt.training && i < nodes_.size(); ++i)
    if (int8_weights(nodes_[i]))
      return Status::error(Code::invalid_argument, "compile: '%s' has int8 weights, which are for sampling, not "
                           "training", (*params_)[nodes_[i].param[0]].name);
  return Status::ok();
}

// Fills the tables take_tables made for count_buffers(opt) buffers (after mark_gradients).
Status Graph::build_plan(const CompileOptions& opt) {
  const int32_t N = nodes_.size(), end = opt.training ? 2 * N : N;
  const int32_t capacity = count_buffers(opt);
  auto bwd_step = [N](int32_t i) { return 2 * N - 1 - i; };

  // 2. Buffers. Reshape aliases its input's buffers; `root` follows the chain.
  nbufs_ = 0;
  auto root = [&](int32_t i) {
    while (nodes_[i].op == Op::reshape) i = nodes_[i].in[0];
    return i;
  };
  auto new_buf = [&](size_t bytes, int32_t first, int32_t last) {
    if (nbufs_ >= capacity) return nbufs_;  // cannot happen: count_buffers counts the same
    PlannedBuffer& b = bufs_[nbufs_];
    b = PlannedBuffer();
    b.bytes = bytes;
    b.first = first;
    b.last = last;
    zero_at_[nbufs_] = -1;
    return nbufs_++;
  };
  for (int32_t i = 0; i < N; ++i) {
    Node& n = nodes_[i];
    n.value_buf = n.grad_buf = n.aux_buf = n.aux2_buf = n.fwd_scratch_buf = n.bwd_scratch_buf = -1;
    if (n.op == Op::reshape) continue;
    const int32_t first = (n.op == Op::input || n.op == Op::labels) ? 0 : i;
    n.value_buf = new_buf(static_cast<size_t>(n.shape.numel()) * sizeof(float), first, i);
  }
  for (int32_t i = 0; i < N; ++i) {
    Node& n = nodes_[i];
    if (n.op == Op::reshape) continue;
    PlannedBuffer& own = bufs_[n.value_buf];
    if (n.output) own.last = end;
    const uint8_t reads = n.needs_grad ? backward_reads(n) : 0;
    if (reads & kSelf) own.last = max32(own.last, bwd_step(i));
    for (int k = 0; k < 3; ++k) {
      if (n.in[k] < 0) continue;
      PlannedBuffer& in = bufs_[nodes_[root(n.in[k])].value_buf];
      in.last = max32(in.last, (reads >> k) & 1 ? bwd_step(i) : i);
    }
  }
  // A reshape marked as an output keeps its root's memory alive to the end.
  for (int32_t i = 0; i < N; ++i)
    if (nodes_[i].op == Op::reshape && nodes_[i].output) bufs_[nodes_[root(i)].value_buf].last = end;
  // In place: an activation whose input dies at this very step writes over it (the
  // pre-activation of a Linear + ReLU is then never stored twice).
  for (int32_t i = 0; i < N; ++i) {
    Node& n = nodes_[i];
    if (n.op != Op::act) continue;
    const Node& in = nodes_[root(n.in[0])];
    PlannedBuffer& x = bufs_[in.value_buf];
    if (x.last != i || in.op == Op::input || in.output) continue;
    x.last = bufs_[n.value_buf].last;
    bufs_[n.value_buf].bytes = 0;
    n.value_buf = in.value_buf;
  }

  if (opt.training) {
    for (int32_t i = 0; i < N; ++i) {
      Node& n = nodes_[i];
      if (!n.needs_grad || n.op == Op::reshape) continue;
      n.grad_buf = new_buf(static_cast<size_t>(n.shape.numel()) * sizeof(float), bwd_step(i), bwd_step(i));
    }
    // A gradient is zeroed at its first contribution: the earliest backward step of a
    // consumer. A reshape runs no backward; its consumers write into the root's gradient.
    for (int32_t i = 0; i < N; ++i) {
      const Node& n = nodes_[i];
      if (!n.needs_grad || n.op == Op::reshape) continue;
      for (int32_t j : n.in) {
        if (j < 0 || !nodes_[j].needs_grad) continue;
        PlannedBuffer& g = bufs_[nodes_[root(j)].grad_buf];
        g.first = min32(g.first, bwd_step(i));
      }
    }
    for (int32_t i = 0; i < N; ++i)
      if (nodes_[i].grad_buf >= 0) zero_at_[nodes_[i].grad_buf] = bufs_[nodes_[i].grad_buf].first;
    // A gradient with a single contributor that can write it (ops.h, GradWrites) is written
    // by that node's backward rather than zeroed and added to: a conv's 6 MB input gradient
    // is then stored once instead of being cleared, read back and stored again.
    for (int32_t i = 0; i < N; ++i) {
      Node& n = nodes_[i];
      const bool writer = n.op == Op::linear || n.op == Op::conv2d || n.op == Op::conv_t2d ||
                          n.op == Op::batchnorm || n.op == Op::act;
      if (!writer || !n.needs_grad || n.in[0] < 0 || !nodes_[n.in[0]].needs_grad) continue;
      const int32_t a = root(n.in[0]);
      int contributors = 0;
      for (int32_t k = 0; k < N; ++k) {
        if (!nodes_[k].needs_grad || nodes_[k].op == Op::reshape) continue;
        for (int32_t j : nodes_[k].in)
          if (j >= 0 && nodes_[j].needs_grad && root(j) == a) ++contributors;
      }
      if (contributors != 1) continue;
      n.writes_input_grad = true;
      zero_at_[nodes_[a].grad_buf] = -1;
    }
    // A conv after an activation (conv -> ReLU -> conv), both writing their input gradients:
    // the conv applies f' to each image of its dx as it folds it, while that image is in
    // cache, and writes the activation's input gradient; the activation's backward, a pass
    // over the whole batch (6 MB read twice and written once in a classifier), is skipped.
    // That gradient is then born at the conv's backward step.
    for (int32_t i = 0; i < N; ++i) {
      Node& n = nodes_[i];
      if (n.op != Op::conv2d || !n.writes_input_grad) continue;
      Node& a = nodes_[root(n.in[0])];
      if (a.op != Op::act || !a.writes_input_grad || act_backward_needs_input(a.act, a.slope)) continue;
      PlannedBuffer& g = bufs_[nodes_[root(a.in[0])].grad_buf];
      g.first = min32(g.first, bwd_step(i));
      n.folds_input_act = root(n.in[0]);
      a.act_in_consumer = true;
    }
    // In place: a bce_logits or mse loss writes its input's gradient over the input when
    // that input dies at the loss's backward step and its gradient is born there (nothing
    // reads the logits later, nothing added to their gradient before). The loss reads each
    // chunk before zeroing and writing it (ops.h), so the buffer is not zeroed here. A VAE's
    // 784-wide logits and their gradient are then one buffer at the plan's peak.
    for (int32_t i = 0; i < N; ++i) {
      const Node& n = nodes_[i];
      if ((n.op != Op::bce_logits && n.op != Op::mse) || !n.needs_grad) continue;
      Node& a = nodes_[root(n.in[0])];
      if (a.grad_buf < 0 || a.op == Op::input || a.output || root(n.in[1]) == root(n.in[0])) continue;
      PlannedBuffer &v = bufs_[a.value_buf], &g = bufs_[a.grad_buf];
      if (v.last != bwd_step(i) || g.first != bwd_step(i) || v.bytes != g.bytes) continue;
      v.last = g.last;
      g.bytes = 0;
      zero_at_[a.grad_buf] = -1;
      a.grad_buf = a.value_buf;
    }
  }
  for (int32_t i = 0; i < N; ++i) {  // saved tensors: forward to backward
    Node& n = nodes_[i];
    const int32_t last = n.needs_grad ? bwd_step(i) : i;
    if (n.op == Op::batchnorm && opt.training) {
      n.aux_buf = new_buf(static_cast<size_t>(n.bn.c) * sizeof(float), i, last);
      n.aux2_buf = new_buf(static_cast<size_t>(n.bn.c) * sizeof(float), i, last);
    }
    if (n.op == Op::reparam) n.aux_buf = new_buf(static_cast<size_t>(n.shape.numel()) * sizeof(float), i, last);
    if (n.op == Op::minibatch_stddev) {  // per-feature mean and 1/std, in every mode
      const size_t features = static_cast<size_t>(nodes_[n.in[0]].shape.numel() / n.shape[0]);
      n.aux_buf = new_buf(features * sizeof(float), i, last);
      n.aux2_buf = new_buf(features * sizeof(float), i, last);
    }
  }
  first_scratch_ = nbufs_;
  const int workers = workers_;
  for (int32_t i = 0; i < N; ++i) {  // op workspaces live for one step
    Node& n = nodes_[i];
    if (n.op == Op::linear && int8_weights(n)) {
      const size_t in = static_cast<size_t>(nodes_[n.in[0]].shape.numel() / n.shape[0]);
      const int batch = static_cast<int>(n.shape[0]);
      n.fwd_scratch_buf = new_buf(linear_scratch_floats(batch, static_cast<int>(in), true) * sizeof(float), i, i);
      continue;
    }
    if (n.op == Op::batchnorm && opt.training && batchnorm_scratch_floats(n.bn)) {
      const size_t bytes = batchnorm_scratch_floats(n.bn) * sizeof(float);
      n.fwd_scratch_buf = new_buf(bytes, i, i);
      if (n.needs_grad) n.bwd_scratch_buf = new_buf(bytes, bwd_step(i), bwd_step(i));
      continue;
    }
    if (n.op != Op::conv2d && n.op != Op::conv_t2d) continue;
    const bool int8 = int8_weights(n);
    const size_t floats = n.op == Op::conv2d ? conv2d_scratch_floats(n.conv, workers, int8)
                                             : conv_t2d_scratch_floats(n.conv, workers, int8);
    n.fwd_scratch_buf = new_buf(floats * sizeof(float), i, i);
    if (n.needs_grad) n.bwd_scratch_buf = new_buf(floats * sizeof(float), bwd_step(i), bwd_step(i));
  }
  if (nbufs_ != capacity)
    return Status::error(Code::invalid_argument, "compile: planned %d buffers, counted %d (a bug in count_buffers)",
                         static_cast<int>(nbufs_), static_cast<int>(capacity));
  act_region_ = plan_buffers(bufs_, first_scratch_, order_);
  scratch_region_ = plan_buffers(bufs_ + first_scratch_, nbufs_ - first_scratch_, order_);
  bytes_.activations = act_region_;
  bytes_.scratch = scratch_region_;
  bytes_.tables = table_bytes(N, nbufs_);
  return Status::ok();
}

Status Graph::plan(const CompileOptions& opt, int threads, GraphBytes* out) {
  if (compiled_) {
    *out = bytes_;
    return Status::ok();
  }
  EMBER_TRY(check_buildable(opt));
  workers_ = threads < 1 ? 1 : threads;
  mark_gradients(opt);
  Arena* arena = params_->arena();
  const size_t tail = arena->tail_mark();
  Status s = take_tables(arena, true, count_buffers(opt));
  if (!s.is_ok()) s = Status::error(s.code(), "plan: the plan's tables: %s", s.message());
  if (s.is_ok()) s = build_plan(opt);
  arena->rewind_tail(tail);
  bufs_ = nullptr, order_ = nullptr, zero_at_ = nullptr;
  EMBER_TRY(s);
  *out = bytes_;
  return Status::ok();
}

Status Graph::compile(Arena* arena, Context* ctx, const CompileOptions& opt, Rng* rng) {
  if (compiled_) return Status::error(Code::invalid_argument, "compile: the graph is already compiled");
  if (!params_->allocated())
    return Status::error(Code::invalid_argument, "compile: allocate the parameters first (Params::allocate)");
  if (opt.training && params_->mode() == ParamMode::inference)
    return Status::error(Code::invalid_argument,
                         "compile: training needs parameters allocated with gradients (ParamMode::train_*)");
  EMBER_TRY(check_buildable(opt));
  for (int32_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].op == Op::reparam && !rng)
      return Status::error(Code::invalid_argument, "compile: reparam needs an Rng for its noise");
  ctx_ = ctx;
  workers_ = ctx->threads();
  mark_gradients(opt);
  // The tables first (their size is known before planning), then the two regions.
  const int32_t nbufs = count_buffers(opt);
  const size_t avail = arena->free_bytes(), mark = arena->mark();
  const size_t tables = table_bytes(nodes_.size(), nbufs);
  if (tables > avail)
    return Status::error(Code::out_of_memory, "compile: the graph's tables need %zu bytes, arena has %zu free (short by %zu)",
                         tables, avail, tables - avail);
  (void)nodes_.seal(arena);  // cannot fail: checked above, rounded the same way
  (void)take_tables(arena, false, nbufs);
  Status built = build_plan(opt);
  const size_t need = tables + Arena::rounded(act_region_) + Arena::rounded(scratch_region_);
  if (built.is_ok() && need > avail)
    built = Status::error(Code::out_of_memory,
                          "compile: graph needs %zu bytes (activations %zu, scratch %zu, tables %zu), arena has %zu "
                          "free (short by %zu)",
                          need, act_region_, scratch_region_, tables, avail, need - avail);
  if (!built.is_ok()) {
    nodes_.unseal();
    bufs_ = nullptr, order_ = nullptr, zero_at_ = nullptr;
    arena->rewind(mark);
    return built;
  }
  void* a = nullptr;
  void* s = nullptr;
  EMBER_TRY(arena->alloc(act_region_, &a));
  EMBER_TRY(arena->alloc(scratch_region_, &s));
  act_base_ = static_cast<uint8_t*>(a);
  scratch_base_ = static_cast<uint8_t*>(s);
  auto at = [&](int32_t b) -> float* {
    if (b < 0) return nullptr;
    uint8_t* base = b < first_scratch_ ? act_base_ : scratch_base_;
    return reinterpret_cast<float*>(base + bufs_[b].offset);
  };
  for (int32_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (n.op == Op::reshape) {
      n.value = nodes_[n.in[0]].value;  // inputs come first, so already set
      n.grad = nodes_[n.in[0]].grad;
      continue;
    }
    n.value = at(n.value_buf);
    n.grad = at(n.grad_buf);
    n.aux = at(n.aux_buf);
    n.aux2 = at(n.aux2_buf);
    n.fwd_scratch = at(n.fwd_scratch_buf);
    n.bwd_scratch = at(n.bwd_scratch_buf);
  }
  // Inputs start at zero so a forgotten input gives a defined (if useless) result.
  for (int32_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].op == Op::input || nodes_[i].op == Op::labels)
      std::memset(nodes_[i].value, 0, static_cast<size_t>(nodes_[i].shape.numel()) * sizeof(float));
  opt_ = opt;
  rng_ = rng;
  compiled_ = true;
  return Status::ok();
}

void Graph::print_plan(FILE* out) {
  std::fprintf(out, "graph: %d nodes, activations %zu bytes, scratch %zu bytes\n", nodes_.size(), act_region_,
               scratch_region_);
  for (int32_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    char s[64];
    std::fprintf(out, "  %3d %-13s %-20s value buf %3d grad buf %3d%s\n", static_cast<int>(i), op_name(n.op),
                 n.shape.str(s, sizeof s), static_cast<int>(n.value_buf), static_cast<int>(n.grad_buf),
                 n.needs_grad ? " (grad)" : "");
  }
  nn::print_plan(out, bufs_, first_scratch_, act_region_, "activations");
  nn::print_plan(out, bufs_ + first_scratch_, nbufs_ - first_scratch_, scratch_region_, "scratch");
}

Status Graph::check_plan() const {
  EMBER_TRY(nn::check_plan(bufs_, first_scratch_, act_region_));
  return nn::check_plan(bufs_ + first_scratch_, nbufs_ - first_scratch_, scratch_region_);
}

}  // namespace ember::nn
