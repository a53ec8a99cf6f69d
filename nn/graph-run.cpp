// Running a compiled graph: forward in node order, backward in reverse, each op's two
// halves side by side. Nothing here allocates; every pointer was fixed by compile().
#include <cstring>

#include "nn/graph.h"
#include "nn/op-helpers.h"

namespace ember::nn {

namespace {

size_t numel(const Node& n) { return static_cast<size_t>(n.shape.numel()); }
int rows(const Node& n) { return static_cast<int>(n.shape[0]); }
// Elements per channel of an [N, C, ...] tensor (1 for feature vectors): concat's unit.
int spatial(const Node& n) {
  return static_cast<int>(numel(n) / (static_cast<size_t>(n.shape[0]) * n.shape[1]));
}
int per_row(const Node& n) { return static_cast<int>(n.shape.numel() / (n.shape[0] ? n.shape[0] : 1)); }

}  // namespace

// The GEMM-backed ops (linear, conv) return the kernel's Status; it is passed up, not dropped.
Status Graph::forward_node(Node& n) {
  Context& ctx = *ctx_;
  const Node* a = n.in[0] >= 0 ? &nodes_[n.in[0]] : nullptr;
  const Node* b = n.in[1] >= 0 ? &nodes_[n.in[1]] : nullptr;
  const Node* c = n.in[2] >= 0 ? &nodes_[n.in[2]] : nullptr;
  auto value = [&](int k) { return n.param[k] >= 0 ? (*params_)[n.param[k]].value : nullptr; };
  Weights w;  // linear and convolutions: float32 or int8 (nn/quantize.h)
  if (n.op == Op::linear || n.op == Op::conv2d || n.op == Op::conv_t2d) {
    const Param& p = (*params_)[n.param[0]];
    if (p.storage == Storage::int8 && (!p.q || !p.scale))
      return Status::error(Code::invalid_argument, "forward: int8 weights '%s' were never loaded", p.name);
    w = p.storage == Storage::int8 ? Weights(p.q, p.scale) : Weights(p.value);
  }
  switch (n.op) {
    case Op::input:
    case Op::labels:
    case Op::reshape: break;
    case Op::linear:  // y[B,O] = x[B,I] W[O,I]^T + b[O]
      EMBER_TRY(linear_forward(ctx, a->value, w, value(1), n.value, rows(*a), per_row(*a), per_row(n), Act::identity,
                               0.0f, n.fwd_scratch));
      break;
    case Op::conv2d:  // y[N,O,Ho,Wo] = W[O,C,k,k] * x[N,C,H,W] + b[O]
      EMBER_TRY(conv2d_forward(ctx, n.conv, a->value, w, value(1), n.value, n.fwd_scratch));
      break;
    case Op::conv_t2d:  // y[N,O,Ho,Wo] = W[C,O,k,k] *^T x[N,C,H,W] + b[O]
      EMBER_TRY(conv_t2d_forward(ctx, n.conv, a->value, w, value(1), n.value, n.fwd_scratch));
      break;
    case Op::batchnorm:  // y = gamma (x - mean) / sqrt(var + eps) + beta, per channel
      if (opt_.training)
        batchnorm_forward_train(ctx, n.bn, a->value, value(0), value(1), n.value, n.aux, n.aux2, value(2), value(3),
                                n.fwd_scratch);
      else
        batchnorm_forward_eval(ctx, n.bn, a->value, value(0), value(1), value(2), value(3), n.value);
      break;
    case Op::act:  // y = f(x)
      act_forward(ctx, n.act, n.slope, a->value, n.value, numel(n));
      break;
    case Op::concat: {  // y[N, Ca+Cb, S] = a ++ b
      const int s = spatial(*a);
      concat_forward(a->value, b->value, n.value, rows(n), static_cast<int>(a->shape[1]),
                     static_cast<int>(b->shape[1]), s);
      break;
    }
    case Op::add: ctx.k().add(numel(n), a->value, b->value, n.value); break;  // y = a + b
    case Op::mul: ctx.k().mul(numel(n), a->value, b->value, n.value); break;  // y = a * b
    case Op::scale:                                                           // y = s a
      std::memcpy(n.value, a->value, numel(n) * sizeof(float));
      ctx.k().scale(numel(n), n.factor, n.value);
      break;
    case Op::reparam:  // z = mu + exp(logvar / 2) eps
      reparam_forward(ctx, *rng_, a->value, b->value, n.aux, n.value, numel(n));
      break;
    case Op::minibatch_stddev:  // y = [x, mean_j std over the batch of x_j]
      minibatch_stddev_forward(a->value, n.value, n.aux, n.aux2, rows(*a), static_cast<int>(a->shape[1]), spatial(*a));
      break;
    case Op::bce_logits:
      n.loss = bce_logits_forward(ctx, a->value, b->value, rows(*a), per_row(*a), n.reduction);
      break;
    case Op::mse: n.loss = mse_forward(ctx, a->value, b->value, rows(*a), per_row(*a), n.reduction); break;
    case Op::gauss_nll:
      n.loss = gauss_nll_forward(ctx, a->value, b->value, c->value, rows(*a), per_row(*a), n.reduction);
      break;
    case Op::kl_std_normal:
      n.loss = kl_std_normal_forward(ctx, a->value, b->value, rows(*a), per_row(*a), n.reduction);
      break;
    case Op::softmax_ce:
      n.loss = softmax_ce_forward(ctx, a->value, reinterpret_cast<const int32_t*>(b->value), rows(*a), per_row(*a),
                                  n.reduction);
      break;
  }
  if (is_loss(n.op)) n.value[0] = n.loss;
  return Status::ok();
}

Status Graph::backward_node(Node& n) {
  Context& ctx = *ctx_;
  Node* a = n.in[0] >= 0 ? &nodes_[n.in[0]] : nullptr;
  Node* b = n.in[1] >= 0 ? &nodes_[n.in[1]] : nullptr;
  Node* c = n.in[2] >= 0 ? &nodes_[n.in[2]] : nullptr;
  auto value = [&](int k) { return n.param[k] >= 0 ? (*params_)[n.param[k]].value : nullptr; };
  auto pgrad = [&](int k) -> float* {  // null unless this graph trains that parameter
    if (n.param[k] < 0) return nullptr;
    const Param& p = (*params_)[n.param[k]];
    return p.trainable && ((opt_.train_groups >> p.group) & 1u) ? p.grad : nullptr;
  };
  auto dx = [](Node* x) -> float* { return x && x->needs_grad ? x->grad : nullptr; };
  const float* dy = n.grad;
  GradWrites writes;
  writes.dx = n.writes_input_grad;
  writes.params = n.writes_param_grads;
  switch (n.op) {
    case Op::input:
    case Op::labels:
    case Op::reshape: break;
    case Op::linear:  // dx (+)= dy W; dW (+)= dy^T x; db (+)= sum dy
      EMBER_TRY(linear_backward(ctx, a->value, value(0), dy, dx(a), pgrad(0), pgrad(1), rows(*a), per_row(*a), per_row(n),
                                writes));
      break;
    case Op::conv2d: {
      float* d = dx(a);
      InputAct fold;
      if (n.folds_input_act >= 0) {  // the activation's input gradient: the conv does its backward too
        Node& f = nodes_[n.folds_input_act];
        d = dx(&nodes_[f.in[0]]), fold = InputAct{f.act, f.slope};
      }
      EMBER_TRY(
          conv2d_backward(ctx, n.conv, a->value, value(0), dy, d, pgrad(0), pgrad(1), n.bwd_scratch, writes, fold));
      break;
    }
    case Op::conv_t2d:
      EMBER_TRY(
          conv_t2d_backward(ctx, n.conv, a->value, value(0), dy, dx(a), pgrad(0), pgrad(1), n.bwd_scratch, writes));
      break;
    case Op::batchnorm:
      batchnorm_backward(ctx, n.bn, a->value, value(0), n.aux, n.aux2, dy, dx(a), pgrad(0), pgrad(1), n.bwd_scratch,
                         writes);
      break;
    case Op::act:  // dx (+)= dy f'(x)
      // x may have been overwritten in place; f' then reads the same sign from y.
      if (dx(a) && !n.act_in_consumer)
        act_backward(ctx, n.act, n.slope, act_backward_needs_input(n.act, n.slope) ? a->value : n.value, n.value, dy,
                     dx(a), numel(n), writes);
      break;
    case Op::concat: {
      const int s = spatial(*a);
      concat_backward(dy, dx(a), dx(b), rows(n), static_cast<int>(a->shape[1]), static_cast<int>(b->shape[1]), s);
      break;
    }
    case Op::add:  // da += dy; db += dy
      if (dx(a)) ctx.k().axpy(numel(n), 1.0f, dy, dx(a));
      if (dx(b)) ctx.k().axpy(numel(n), 1.0f, dy, dx(b));
      break;
    case Op::mul:  // da += dy b; db += dy a
      for (size_t i = 0, e = numel(n); i < e; ++i) {
        if (dx(a)) dx(a)[i] += dy[i] * b->value[i];
        if (dx(b)) dx(b)[i] += dy[i] * a->value[i];
      }
      break;
    case Op::scale:  // da += s dy
      if (dx(a)) ctx.k().axpy(numel(n), n.factor, dy, dx(a));
      break;
    case Op::reparam: reparam_backward(ctx, b->value, n.aux, dy, dx(a), dx(b), numel(n)); break;
    case Op::minibatch_stddev:
      minibatch_stddev_backward(a->value, n.aux, n.aux2, dy, dx(a), rows(*a), static_cast<int>(a->shape[1]),
                                spatial(*a));
      break;
    case Op::bce_logits:
      if (dx(a)) bce_logits_backward(ctx, a->value, b->value, dy[0], dx(a), rows(*a), per_row(*a), n.reduction);
      break;
    case Op::mse:
      if (dx(a)) mse_backward(ctx, a->value, b->value, dy[0], dx(a), rows(*a), per_row(*a), n.reduction);
      break;
    case Op::gauss_nll:
      gauss_nll_backward(ctx, a->value, b->value, c->value, dy[0], dx(b), dx(c), rows(*a), per_row(*a), n.reduction);
      break;
    case Op::kl_std_normal:
      kl_std_normal_backward(ctx, a->value, b->value, dy[0], dx(a), dx(b), rows(*a), per_row(*a), n.reduction);
      break;
    case Op::softmax_ce:
      if (dx(a))
        softmax_ce_backward(ctx, a->value, reinterpret_cast<const int32_t*>(b->value), dy[0], dx(a), rows(*a),
                            per_row(*a), n.reduction);
      break;
  }
  return Status::ok();
}

Status Graph::forward_range(int32_t begin, int32_t end) {
  if (!compiled_) return Status::error(Code::invalid_argument, "forward: compile the graph first");
  if (begin < 0 || end > nodes_.size() || begin > end)
    return Status::error(Code::invalid_argument, "forward: node range [%d, %d) is not in this graph",
                         static_cast<int>(begin), static_cast<int>(end));
  for (int32_t i = begin; i < end; ++i) {
    if (observer_) observer_->before(observer_->user, i, false);
    EMBER_TRY(forward_node(nodes_[i]));
    if (observer_) observer_->after(observer_->user, i, false);
  }
  return Status::ok();
}

Status Graph::forward() { return forward_range(0, nodes_.size()); }
Status Graph::forward_to(T last) { return forward_range(0, last.id + 1); }
Status Graph::forward_from(T after) { return forward_range(after.id + 1, nodes_.size()); }

Status Graph::backward() {
  if (!compiled_ || !opt_.training)
    return Status::error(Code::invalid_argument, "backward: the graph is not compiled for training");
  // Parameter gradients are summed over every use (a layer applied twice), so start at 0;
  // a layer that is its weights' only user writes them whole (Node::writes_param_grads).
  for (int32_t i = 0; i < nodes_.size(); ++i)
    for (int32_t pid : nodes_[i].param) {
      if (nodes_[i].writes_param_grads) break;
      if (pid < 0) continue;
      Param& p = (*params_)[pid];
      if (p.grad && p.trainable && ((opt_.train_groups >> p.group) & 1u)) std::memset(p.grad, 0, p.numel() * sizeof(float));
    }
  const int32_t N = nodes_.size();
  for (int32_t step = N; step < 2 * N; ++step) {
    const int32_t i = 2 * N - 1 - step;
    for (int32_t b = 0; b < first_scratch_; ++b)
      if (zero_at_[b] == step) {  // a gradient's first adder comes next: start it at 0
        float* buf = reinterpret_cast<float*>(act_base_ + bufs_[b].offset);  // whole floats
        auto zero = [buf](size_t lo, size_t hi) { std::memset(buf + lo, 0, (hi - lo) * sizeof(float)); };
        detail::parallel_chunks(*ctx_, bufs_[b].bytes / sizeof(float), zero);
      }
    Node& n = nodes_[i];
    if (i == loss_) n.grad[0] = 1.0f;
    if (!n.needs_grad) continue;
    if (observer_) observer_->before(observer_->user, i, true);
    EMBER_TRY(backward_node(n));
    if (observer_) observer_->after(observer_->user, i, true);
  }
  return Status::ok();
}

float Graph::loss() const { return loss_ >= 0 ? nodes_[loss_].value[0] : 0.0f; }

}  // namespace ember::nn
