// The per-epoch record of a training run: a table of named numeric columns (epoch, step,
// losses, seconds, ...), kept in memory, written next to the checkpoint as CSV (read back on
// --resume) and drawn as an SVG chart of chosen columns against the epoch.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"

namespace ember::tool {

struct History {
  explicit History(std::vector<std::string> column_names) : columns(std::move(column_names)) {}

  std::vector<std::string> columns;        // the CSV header; "epoch" and "seconds" are expected
  std::vector<std::vector<double>> rows;   // one per epoch, columns.size() values each

  void add(std::vector<double> row) { rows.push_back(std::move(row)); }
  // The value of `column` in the last row, and its sum over all rows (0 when empty or absent).
  double last(const char* column) const;
  double sum(const char* column) const;

  Status write_csv(const std::string& path) const;
  // A missing file is an empty history; a file with other columns is an error.
  Status read_csv(const std::string& path);
  // One line per (column, legend) pair against the epoch column.
  struct Line {
    const char* column;
    const char* legend;
  };
  Status write_svg(const std::string& path, const char* title, const char* y_label, const std::vector<Line>& lines) const;

 private:
  int index_of(const char* column) const;  // -1 when absent
};

}  // namespace ember::tool
