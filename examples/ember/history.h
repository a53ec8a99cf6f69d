// The per-epoch record of a training run: kept in memory, written next to the checkpoint as
// CSV (read back on --resume) and drawn as an SVG loss curve.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"

namespace ember::tool {

struct EpochRecord {
  int epoch = 0;
  long long step = 0;
  double train_loss = 0, test_loss = 0, test_recon = 0, test_kl = 0, test_sq_err = 0, seconds = 0;
};

struct History {
  std::vector<EpochRecord> epochs;
  Status write_csv(const std::string& path) const;
  Status read_csv(const std::string& path);  // a missing file is an empty history
  Status write_svg(const std::string& path, const char* title) const;
};

}  // namespace ember::tool
