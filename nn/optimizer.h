// Optimizer: SGD with momentum or Adam over one parameter group.
//
// A GAN has two (one for G, one for D); each owns its step counter t (Adam's bias
// correction) and learning rate, which the caller may change every step (schedules).
// Moments live in Params (allocated by Params::allocate in a train_* mode), so the update
// itself touches no memory of its own. Optional gradient clipping by global norm over the
// group; when clipping, a non-finite norm is refused with an error and nothing is changed.
#pragma once
#include <cstdint>

#include "platform/context.h"
#include "nn/params.h"

namespace ember::nn {

struct OptimizerConfig {
  enum class Kind : uint8_t { sgd, adam } kind = Kind::adam;
  float lr = 1e-3f;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;  // Adam
  float momentum = 0.9f;                           // SGD
  float weight_decay = 0.0f;
  bool decoupled_weight_decay = false;             // Adam only: AdamW
  float clip_norm = 0.0f;                          // > 0: rescale grads to at most this global norm

  static OptimizerConfig adam(float lr, float beta1 = 0.9f, float beta2 = 0.999f) {
    OptimizerConfig c;
    c.kind = Kind::adam, c.lr = lr, c.beta1 = beta1, c.beta2 = beta2;
    return c;
  }
  static OptimizerConfig sgd(float lr, float momentum = 0.9f) {
    OptimizerConfig c;
    c.kind = Kind::sgd, c.lr = lr, c.momentum = momentum;
    return c;
  }
};

class Optimizer {
 public:
  Optimizer() = default;
  Optimizer(const OptimizerConfig& config, uint8_t group) : config_(config), group_(group) {}

  // One update of every trainable parameter of the group from its gradient. A gradient whose
  // global norm is not finite is refused (Code::not_finite) and nothing changes.
  Status step(Context& ctx, Params& params);

  void set_lr(float lr) { config_.lr = lr; }
  const OptimizerConfig& config() const { return config_; }
  uint8_t group() const { return group_; }
  int64_t steps() const { return t_; }
  void set_steps(int64_t t) { t_ = t; }  // restoring a checkpoint
  float last_grad_norm() const { return last_norm_; }  // before clipping

 private:
  OptimizerConfig config_;
  uint8_t group_ = 0;
  int64_t t_ = 0;
  float last_norm_ = 0.0f;
};

}  // namespace ember::nn
