#include "nn/optimizer.h"

#include <cmath>

namespace ember::nn {

Status Optimizer::step(Context& ctx, Params& params) {
  const ParamMode need = config_.kind == OptimizerConfig::Kind::adam ? ParamMode::train_adam : ParamMode::train_sgd;
  if (!params.allocated() || params.mode() == ParamMode::inference ||
      (need == ParamMode::train_adam && params.mode() != ParamMode::train_adam))
    return Status::error(Code::invalid_argument, "optimizer: parameters were not allocated for %s",
                         need == ParamMode::train_adam ? "Adam (ParamMode::train_adam)" : "training");
  const Kernels& k = ctx.k();
  if (config_.clip_norm > 0.0f) {
    double sq = 0.0;  // summed in double, parameters in a fixed order: deterministic
    for (int i = 0; i < params.count(); ++i) {
      const Param& p = params[i];
      if (p.group == group_ && p.trainable) sq += k.sumsq(p.grad, p.numel());
    }
    last_norm_ = static_cast<float>(std::sqrt(sq));
    if (!std::isfinite(last_norm_))
      return Status::error(Code::invalid_argument,
                           "optimizer: gradient norm of group %d is not finite; parameters left unchanged", group_);
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
  for (int i = 0; i < params.count(); ++i) {
    Param& p = params[i];
    if (p.group != group_ || !p.trainable) continue;
    if (config_.kind == OptimizerConfig::Kind::adam)
      k.adam(adam, p.value, p.grad, p.m, p.v, p.numel());
    else
      k.sgd_momentum(sgd, p.value, p.grad, p.m, p.numel());
  }
  return Status::ok();
}

}  // namespace ember::nn
