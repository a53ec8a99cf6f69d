#include "nn/optimizer.h"

#include "nn/op-helpers.h"

#include <cmath>

namespace ember::nn {

namespace {

constexpr size_t kFloatsPerTask = 16384;  // floats per task: large enough to amortise a task

struct Update {
  Params* params;
  const Kernels* k;
  uint8_t group;
  bool adam;
  AdamArgs adam_args;
  SgdArgs sgd_args;
};

void update_chunk(void* ctx, int task, int /*worker*/) {
  const Update& u = *static_cast<const Update*>(ctx);
  const size_t begin = static_cast<size_t>(task) * kFloatsPerTask, end = begin + kFloatsPerTask;
  size_t offset = 0;  // where the current parameter starts in the group's long array
  for (int i = 0; i < u.params->count() && offset < end; ++i) {
    Param& p = (*u.params)[i];
    if (p.group != u.group || !p.trainable) continue;
    const size_t n = p.numel(), lo = begin > offset ? begin - offset : 0;
    const size_t hi = end - offset < n ? end - offset : n;
    if (lo < hi) {
      if (u.adam)
        u.k->adam(u.adam_args, p.value + lo, p.grad + lo, p.m + lo, p.v + lo, hi - lo);
      else
        u.k->sgd_momentum(u.sgd_args, p.value + lo, p.grad + lo, p.m + lo, hi - lo);
    }
    offset += n;
  }
}

constexpr int kNormBatch = 64;  // parameters per job of the gradient norm's terms

}  // namespace

Status Optimizer::step(Context& ctx, Params& params) {
  const ParamMode need = config_.kind == OptimizerConfig::Kind::adam ? ParamMode::train_adam : ParamMode::train_sgd;
  if (!params.allocated() || params.mode() == ParamMode::inference ||
      (need == ParamMode::train_adam && params.mode() != ParamMode::train_adam))
    return Status::error(Code::invalid_argument, "optimizer: parameters were not allocated for %s",
                         need == ParamMode::train_adam ? "Adam (ParamMode::train_adam)" : "training");
  const Kernels& k = ctx.k();
  // The global gradient norm, every step: a finite loss can still have an infinite or NaN
  // gradient (an overflow in backward), and one such update would poison every weight. The
  // step is refused instead, changing nothing (the trainer counts it as skipped). One read
  // of the gradients, small beside the step that made them.
  // Each parameter's sum of squares on any worker (a single-threaded pass over every gradient
  // left the other cores idle long enough to fall asleep before the update), the terms added
  // in double in parameter order: the same bits for any thread count.
  double sq = 0.0;
  int ids[kNormBatch];
  double terms[kNormBatch];
  int batch = 0;
  auto term = [&](int t) {  // k.sumsq over one whole parameter, as when summed alone
    const Param& p = params[ids[t]];
    terms[t] = k.sumsq(p.grad, p.numel());
  };
  auto add_terms = [&] {
    detail::parallel_for(ctx, batch, term);
    for (int t = 0; t < batch; ++t) sq += terms[t];
    batch = 0;
  };
  for (int i = 0; i < params.count(); ++i) {
    const Param& p = params[i];
    if (p.group != group_ || !p.trainable) continue;
    ids[batch++] = i;
    if (batch == kNormBatch) add_terms();
  }
  if (batch) add_terms();
  last_norm_ = static_cast<float>(std::sqrt(sq));
  if (!std::isfinite(last_norm_))
    return Status::error(Code::not_finite,
                         "optimizer: gradient norm of group %d is not finite; parameters left unchanged", group_);
  if (config_.clip_norm > 0.0f) {
    if (last_norm_ > config_.clip_norm) {
      const float s = config_.clip_norm / (last_norm_ + 1e-6f);
      for (int i = 0; i < params.count(); ++i) {
        Param& p = params[i];
        if (p.group == group_ && p.trainable) k.scale(p.numel(), s, p.grad);
      }
    }
  }
  ++t_;
  AdamArgs adam;
  SgdArgs sgd;
  if (config_.kind == OptimizerConfig::Kind::adam) {
    adam.lr = config_.lr, adam.beta1 = config_.beta1, adam.beta2 = config_.beta2, adam.eps = config_.eps;
    adam.weight_decay = config_.weight_decay;
    adam.decoupled = config_.decoupled_weight_decay;
    adam.bias1 = static_cast<float>(1.0 - std::pow(static_cast<double>(config_.beta1), static_cast<double>(t_)));
    adam.bias2 = static_cast<float>(1.0 - std::pow(static_cast<double>(config_.beta2), static_cast<double>(t_)));
  } else {
    sgd.lr = config_.lr, sgd.momentum = config_.momentum, sgd.weight_decay = config_.weight_decay;
  }
  // The group's parameters seen as one long array cut into fixed chunks, spread over the
  // workers. Each element's update is independent of the others, so the split cannot
  // change any bit of the result.
  Update job{&params, &k, group_, config_.kind == OptimizerConfig::Kind::adam, adam, sgd};
  const size_t total = params.numel(group_, true);
  const int tasks = static_cast<int>((total + kFloatsPerTask - 1) / kFloatsPerTask);
  ctx.parallel().for_each(update_chunk, &job, tasks);
  return Status::ok();
}

}  // namespace ember::nn
