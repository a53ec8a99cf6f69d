// The per-epoch record of a training run: a table of named numeric columns (epoch, step,
// losses, seconds, ...), written next to the checkpoint as CSV after every epoch (read back
// when a run resumes) and drawn as an SVG chart of chosen columns against the epoch.
//
// Rows live in the arena: init() takes room for `capacity` rows at once, so adding a row never
// allocates. Column names are the caller's static strings.
#pragma once
#include <cstddef>

#include "core/arena.h"
#include "core/status.h"

namespace ember::train {

class History {
 public:
  static constexpr int kMaxColumns = 16;

  // Arena bytes init() takes for `capacity` rows of `columns` values.
  static size_t bytes_needed(int columns, int capacity);
  Status init(Arena* arena, const char* const* names, int columns, int capacity);

  int columns() const { return columns_; }
  int rows() const { return rows_; }
  const char* name(int column) const { return names_[column]; }
  int index_of(const char* column) const;  // -1 when absent
  const double* row(int r) const { return values_ + static_cast<size_t>(r) * columns_; }
  // The value of `column` in the last row, and its sum over all rows (0 when empty or absent).
  double last(const char* column) const;
  double sum(const char* column) const;

  // Appends row[columns()]; refuses when full.
  Status add(const double* row);
  // Keeps the first n rows.
  void truncate(int n) { rows_ = n < rows_ ? (n < 0 ? 0 : n) : rows_; }

  // Atomic (io/file.h's AtomicWriter): header line, then a line per row.
  Status write_csv(const char* path) const;
  // A missing file is an empty history; one that cannot be opened or is not a regular file,
  // one with other columns, or more rows than fit, is an error. Rows whose `epoch` is above max_epoch are dropped (a log written past the
  // checkpoint it goes with).
  Status read_csv(const char* path, int max_epoch);

  // One line per (column, legend) pair against the epoch column; the chart's float copies of
  // the columns come from the arena's tail and are given back.
  struct Line {
    const char* column;
    const char* legend;
  };
  Status write_svg(const char* path, const char* title, const char* y_label, const Line* lines, int count,
                   Arena* scratch) const;
  // The arena bytes write_svg takes for `count` lines of up to `rows` rows.
  static size_t svg_bytes(int rows, int count);

 private:
  const char* names_[kMaxColumns] = {};
  int columns_ = 0, rows_ = 0, capacity_ = 0;
  double* values_ = nullptr;
};

}  // namespace ember::train
