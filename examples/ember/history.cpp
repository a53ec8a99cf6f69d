#include "examples/ember/history.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "io/svg.h"
#include "io/file.h"

namespace ember::tool {

namespace {
constexpr size_t kMaxCsvLine = 1024;
}

int History::index_of(const char* column) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == column) return static_cast<int>(i);
  return -1;
}

double History::last(const char* column) const {
  const int i = index_of(column);
  return i < 0 || rows.empty() ? 0.0 : rows.back()[size_t(i)];
}

double History::sum(const char* column) const {
  const int i = index_of(column);
  double s = 0;
  for (const std::vector<double>& r : rows) s += i < 0 ? 0.0 : r[size_t(i)];
  return s;
}

Status History::write_csv(const std::string& path) const {
  std::string text;
  for (size_t i = 0; i < columns.size(); ++i) text += (i ? "," : "") + columns[i];
  text += "\n";
  for (const std::vector<double>& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      char v[32];
      std::snprintf(v, sizeof v, "%s%.9g", i ? "," : "", r[i]);
      text += v;
    }
    text += "\n";
  }
  AtomicWriter w;
  EMBER_TRY(w.open(path.c_str()));
  EMBER_TRY(w.write(text.data(), text.size()));
  return w.commit();
}

Status History::read_csv(const std::string& path) {
  rows.clear();
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return Status::ok();
  char line[kMaxCsvLine];
  std::string header;
  for (size_t i = 0; i < columns.size(); ++i) header += (i ? "," : "") + columns[i];
  Status s = Status::ok();
  if (!std::fgets(line, sizeof line, f) || std::strncmp(line, header.c_str(), header.size()) != 0 ||
      (line[header.size()] != '\n' && line[header.size()] != 0))
    s = Status::error(Code::corrupt_data, "%s: not a log with the columns %s", path.c_str(), header.c_str());
  while (s.is_ok() && std::fgets(line, sizeof line, f)) {
    std::vector<double> r;
    char* at = line;
    for (size_t i = 0; i < columns.size(); ++i) {
      char* end = nullptr;
      r.push_back(std::strtod(at, &end));
      if (end == at) break;
      at = *end == ',' ? end + 1 : end;
    }
    if (r.size() == columns.size()) rows.push_back(r);
  }
  std::fclose(f);
  return s;
}

Status History::write_svg(const std::string& path, const char* title, const char* y_label,
                          const std::vector<Line>& lines) const {
  const int e = index_of("epoch");
  if (e < 0 || lines.empty() || lines.size() > size_t(kSvgPaletteSize))
    return Status::error(Code::invalid_argument, "history chart: no epoch column or %d lines", int(lines.size()));
  std::vector<float> x;
  std::vector<std::vector<float>> y(lines.size());
  std::vector<Series> series(lines.size());
  for (const std::vector<double>& r : rows) x.push_back(static_cast<float>(r[size_t(e)]));
  for (size_t l = 0; l < lines.size(); ++l) {
    const int c = index_of(lines[l].column);
    if (c < 0) return Status::error(Code::invalid_argument, "history chart: no column %s", lines[l].column);
    for (const std::vector<double>& r : rows) y[l].push_back(static_cast<float>(r[size_t(c)]));
    series[l].name = lines[l].legend, series[l].x = x.data(), series[l].y = y[l].data();
    series[l].count = static_cast<int>(x.size());
  }
  LineChart c;
  c.title = title;
  c.x_label = "epoch";
  c.y_label = y_label;
  c.series = series.data();
  c.series_count = static_cast<int>(series.size());
  return write_line_chart(path.c_str(), c);
}

}  // namespace ember::tool
