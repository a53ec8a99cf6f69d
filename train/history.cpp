#include "train/history.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "io/file.h"
#include "io/svg.h"

namespace ember::train {

namespace {
constexpr size_t kMaxCsvLine = 1024;
}

size_t History::bytes_needed(int columns, int capacity) {
  return Arena::rounded(sizeof(double) * static_cast<size_t>(columns) * static_cast<size_t>(capacity));
}

Status History::init(Arena* arena, const char* const* names, int columns, int capacity) {
  if (columns < 1 || columns > kMaxColumns || capacity < 1)
    return Status::error(Code::invalid_argument, "history: %d columns (1..%d), room for %d rows", columns, kMaxColumns,
                         capacity);
  for (int i = 0; i < columns; ++i) names_[i] = names[i];
  columns_ = columns, rows_ = 0, capacity_ = capacity;
  return arena->alloc_array(static_cast<size_t>(columns) * capacity, &values_);
}

int History::index_of(const char* column) const {
  for (int i = 0; i < columns_; ++i)
    if (std::strcmp(names_[i], column) == 0) return i;
  return -1;
}

double History::last(const char* column) const {
  const int i = index_of(column);
  return i < 0 || rows_ == 0 ? 0.0 : row(rows_ - 1)[i];
}

double History::sum(const char* column) const {
  const int i = index_of(column);
  double s = 0;
  for (int r = 0; r < rows_ && i >= 0; ++r) s += row(r)[i];
  return s;
}

Status History::add(const double* values) {
  if (rows_ >= capacity_) return Status::error(Code::invalid_argument, "history: room for %d rows, all used", capacity_);
  std::memcpy(values_ + static_cast<size_t>(rows_) * columns_, values, sizeof(double) * columns_);
  ++rows_;
  return Status::ok();
}

Status History::write_csv(const char* path) const {
  AtomicWriter w;
  EMBER_TRY(w.open(path));
  for (int i = 0; i < columns_; ++i) {
    EMBER_TRY(w.write(i ? "," : "", i ? 1 : 0));
    EMBER_TRY(w.write(names_[i], std::strlen(names_[i])));
  }
  EMBER_TRY(w.write("\n", 1));
  for (int r = 0; r < rows_; ++r) {
    for (int i = 0; i < columns_; ++i) {
      char v[40];
      const int len = std::snprintf(v, sizeof v, "%s%.9g", i ? "," : "", row(r)[i]);
      EMBER_TRY(w.write(v, static_cast<size_t>(len)));
    }
    EMBER_TRY(w.write("\n", 1));
  }
  return w.commit();
}

Status History::read_csv(const char* path, int max_epoch) {
  rows_ = 0;
  std::FILE* f = nullptr;
  bool missing = false;
  const Status opened = open_regular_file(path, &f, &missing);
  if (missing) return Status::ok();
  // Any other failure is reported: an unreadable log taken as empty would be overwritten.
  EMBER_TRY(opened);
  char line[kMaxCsvLine], header[kMaxCsvLine];
  size_t len = 0;
  for (int i = 0; i < columns_; ++i)
    len += static_cast<size_t>(std::snprintf(header + len, sizeof header - len, "%s%s", i ? "," : "", names_[i]));
  Status s = Status::ok();
  if (!std::fgets(line, sizeof line, f) || std::strncmp(line, header, len) != 0 ||
      (line[len] != '\n' && line[len] != 0))
    s = Status::error(Code::corrupt_data, "%s: not a log with the columns %s", path, header);
  const int epoch = index_of("epoch");
  double r[kMaxColumns];
  while (s.is_ok() && std::fgets(line, sizeof line, f)) {
    char* at = line;
    int got = 0;
    for (; got < columns_; ++got) {
      char* end = nullptr;
      r[got] = std::strtod(at, &end);
      if (end == at) break;
      at = *end == ',' ? end + 1 : end;
    }
    // "!(<=)": a NaN epoch ("nan1") is past every checkpoint too, so it is not kept.
    if (got != columns_ || (epoch >= 0 && !(r[epoch] <= max_epoch))) continue;
    if (rows_ >= capacity_)
      s = Status::error(Code::corrupt_data, "%s: more rows up to epoch %d than the %d this run has room for", path,
                        max_epoch, capacity_);
    else
      s = add(r);
  }
  std::fclose(f);
  return s;
}

size_t History::svg_bytes(int rows, int count) {
  const size_t n = rows > 0 ? static_cast<size_t>(rows) : 1;
  return Arena::rounded(sizeof(float) * n * (static_cast<size_t>(count) + 1));
}

Status History::write_svg(const char* path, const char* title, const char* y_label, const Line* lines, int count,
                          Arena* scratch) const {
  const int e = index_of("epoch");
  if (e < 0 || count < 1 || count > kSvgPaletteSize)
    return Status::error(Code::invalid_argument, "history chart: no epoch column or %d lines", count);
  Series series[kMaxColumns];
  void* mem = nullptr;
  const size_t n = static_cast<size_t>(rows_) > 0 ? static_cast<size_t>(rows_) : 1;
  EMBER_TRY(scratch->alloc_tail(svg_bytes(rows_, count), &mem));
  float* x = static_cast<float*>(mem);
  for (int r = 0; r < rows_; ++r) x[r] = static_cast<float>(row(r)[e]);
  Status s = Status::ok();
  for (int l = 0; l < count && s.is_ok(); ++l) {
    const int c = index_of(lines[l].column);
    if (c < 0) {
      s = Status::error(Code::invalid_argument, "history chart: no column %s", lines[l].column);
      break;
    }
    float* y = x + n * (l + 1);
    for (int r = 0; r < rows_; ++r) y[r] = static_cast<float>(row(r)[c]);
    series[l].name = lines[l].legend, series[l].x = x, series[l].y = y, series[l].count = rows_;
  }
  if (s.is_ok()) {
    LineChart chart;
    chart.title = title;
    chart.x_label = "epoch";
    chart.y_label = y_label;
    chart.series = series;
    chart.series_count = count;
    s = write_line_chart(path, chart);
  }
  scratch->reset_tail();
  return s;
}

}  // namespace ember::train
