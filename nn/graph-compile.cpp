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

Status Graph::build_plan(const CompileOptions& opt) {
  if (!error_.is_ok()) return error_;
  if (count_ == 0) return Status::error(Code::invalid_argument, "compile: the graph is empty");
  if (opt.training && loss_ < 0)
    return Status::error(Code::invalid_argument, "compile: training needs an objective (call minimize)");
  const int32_t N = count_, end = opt.training ? 2 * N : N;
  auto bwd_step = [N](int32_t i) { return 2 * N - 1 - i; };
  auto trained = [&](int32_t pid) {
    return opt.training && pid >= 0 && (*params_)[pid].trainable && ((opt.train_groups >> (*params_)[pid].group) & 1u);
  };

  // 1. needs_grad = depends on a trained parameter AND reaches the objective.
  bool depends[kMaxNodes] = {false}, reaches[kMaxNodes] = {false};
  for (int32_t i = 0; i < N && opt.training; ++i) {
    Node& n = nodes_[i];
    for (int32_t p : n.param) depends[i] = depends[i] || trained(p);
    for (int32_t j : n.in) depends[i] = depends[i] || (j >= 0 && depends[j]);
  }
  if (opt.training) reaches[loss_] = true;
  for (int32_t i = N - 1; i >= 0 && opt.training; --i)
    if (reaches[i])
      for (int32_t j : nodes_[i].in)
        if (j >= 0) reaches[j] = true;
  for (int32_t i = 0; i < N; ++i) nodes_[i].needs_grad = depends[i] && reaches[i];

  // 2. Buffers. Reshape aliases its input's buffers; `root` follows the chain.
  nbufs_ = 0;
  auto root = [&](int32_t i) {
    while (nodes_[i].op == Op::reshape) i = nodes_[i].in[0];
    return i;
  };
  auto new_buf = [&](size_t bytes, int32_t first, int32_t last) {
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
    if (n.op != Op::conv2d && n.op != Op::conv_t2d) continue;
    const size_t floats = n.op == Op::conv2d ? conv2d_scratch_floats(n.conv, workers)
                                             : conv_t2d_scratch_floats(n.conv, workers);
    n.fwd_scratch_buf = new_buf(floats * sizeof(float), i, i);
    if (n.needs_grad) n.bwd_scratch_buf = new_buf(floats * sizeof(float), bwd_step(i), bwd_step(i));
  }
  act_region_ = plan_buffers(bufs_, first_scratch_, order_);
  scratch_region_ = plan_buffers(bufs_ + first_scratch_, nbufs_ - first_scratch_, order_);
  bytes_.activations = act_region_;
  bytes_.scratch = scratch_region_;
  return Status::ok();
}

Status Graph::plan(const CompileOptions& opt, int threads, GraphBytes* out) {
  if (compiled_) {
    *out = bytes_;
    return Status::ok();
  }
  workers_ = threads < 1 ? 1 : threads;
  EMBER_TRY(build_plan(opt));
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
  ctx_ = ctx;
  workers_ = ctx->threads();
  EMBER_TRY(build_plan(opt));
  for (int32_t i = 0; i < count_; ++i)
    if (nodes_[i].op == Op::reparam && !rng)
      return Status::error(Code::invalid_argument, "compile: reparam needs an Rng for its noise");
  const size_t need = Arena::rounded(act_region_) + Arena::rounded(scratch_region_);
  if (need > arena->free_bytes())
    return Status::error(Code::out_of_memory,
                         "compile: graph needs %zu bytes (activations %zu, scratch %zu), arena has %zu free "
                         "(short by %zu)",
                         need, act_region_, scratch_region_, arena->free_bytes(), need - arena->free_bytes());
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
  for (int32_t i = 0; i < count_; ++i) {
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
  for (int32_t i = 0; i < count_; ++i)
    if (nodes_[i].op == Op::input || nodes_[i].op == Op::labels)
      std::memset(nodes_[i].value, 0, static_cast<size_t>(nodes_[i].shape.numel()) * sizeof(float));
  opt_ = opt;
  rng_ = rng;
  compiled_ = true;
  return Status::ok();
}

void Graph::print_plan(FILE* out) {
  std::fprintf(out, "graph: %d nodes, activations %zu bytes, scratch %zu bytes\n", count_, act_region_,
               scratch_region_);
  for (int32_t i = 0; i < count_; ++i) {
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
