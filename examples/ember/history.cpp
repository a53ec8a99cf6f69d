#include "examples/ember/history.h"

#include <cstdio>

#include "core/svg.h"
#include "platform/file.h"

namespace ember::tool {

namespace {
constexpr const char* kCsvHeader = "epoch,step,train_loss,test_loss,test_recon,test_kl,test_sq_err,seconds\n";
}

Status History::write_csv(const std::string& path) const {
  AtomicWriter w;
  EMBER_TRY(w.open(path.c_str()));
  EMBER_TRY(w.write(kCsvHeader, std::char_traits<char>::length(kCsvHeader)));
  for (const EpochRecord& e : epochs) {
    char line[256];
    const int n = std::snprintf(line, sizeof line, "%d,%lld,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f\n", e.epoch, e.step,
                                e.train_loss, e.test_loss, e.test_recon, e.test_kl, e.test_sq_err, e.seconds);
    EMBER_TRY(w.write(line, static_cast<size_t>(n)));
  }
  return w.commit();
}

Status History::read_csv(const std::string& path) {
  epochs.clear();
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return Status::ok();
  char line[256];
  bool header = true;
  while (std::fgets(line, sizeof line, f)) {
    if (header) {
      header = false;
      continue;
    }
    EpochRecord e;
    if (std::sscanf(line, "%d,%lld,%lf,%lf,%lf,%lf,%lf,%lf", &e.epoch, &e.step, &e.train_loss, &e.test_loss,
                    &e.test_recon, &e.test_kl, &e.test_sq_err, &e.seconds) == 8)
      epochs.push_back(e);
  }
  std::fclose(f);
  return Status::ok();
}

Status History::write_svg(const std::string& path, const char* title) const {
  std::vector<float> x, train, test;
  for (const EpochRecord& e : epochs) {
    x.push_back(static_cast<float>(e.epoch));
    train.push_back(static_cast<float>(e.train_loss));
    test.push_back(static_cast<float>(e.test_loss));
  }
  Series s[2];
  s[0].name = "train (running mean over the epoch)", s[0].x = x.data(), s[0].y = train.data(), s[0].count = int(x.size());
  s[1].name = "test", s[1].x = x.data(), s[1].y = test.data(), s[1].count = int(x.size());
  LineChart c;
  c.title = title;
  c.x_label = "epoch";
  c.y_label = "loss per image";
  c.series = s;
  c.series_count = 2;
  return write_line_chart(path.c_str(), c);
}

}  // namespace ember::tool
