#include "train/schedule.h"

#include <cmath>

namespace ember::train {

float decayed_lr(float lr, float lr_final, double frac) {
  if (lr_final <= 0) return lr;
  return lr * static_cast<float>(std::pow(static_cast<double>(lr_final) / lr, frac));
}

float Schedule::at(int epoch, double spent) const {
  if (final <= 0) return lr;
  if (time_limit > 0) return decayed_lr(lr, final, std::fmin(1.0, spent / time_limit));
  const int span = epochs - 1 - decay_from;  // epochs over which the rate falls
  if (span <= 0 || epoch <= decay_from) return lr;
  return decayed_lr(lr, final, static_cast<double>(epoch - decay_from) / span);
}

}  // namespace ember::train
