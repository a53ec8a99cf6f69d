// The learning rate over a run. One object for every model:
//
//   constant       lr every epoch                                  (final <= 0)
//   geometric      lr at epoch 0, decayed geometrically to `final` at the last epoch
//   decay from E   lr held through epoch E, then geometric to `final` at the last epoch
//   time-based     geometric over elapsed training time: `final` at `time_limit` seconds
//                  (such a run is not bit-reproducible: the rate depends on the clock)
//
// Epochs count from 0. A run of one epoch (or with E at the last epoch) runs at lr.
#pragma once

namespace ember::train {

struct Schedule {
  float lr = 1e-3f;
  float final = 0.0f;       // <= 0: constant
  int epochs = 1;           // the run's last epoch is epochs - 1
  int decay_from = 0;       // hold lr through this epoch
  double time_limit = 0.0;  // > 0: decay over this many seconds of training instead

  // The rate of epoch `epoch`, `spent` seconds of training into the run.
  float at(int epoch, double spent) const;
};

// lr decayed geometrically to lr_final by fraction frac in [0, 1] (lr_final <= 0: lr).
float decayed_lr(float lr, float lr_final, double frac);

}  // namespace ember::train
