// File I/O for checkpoints and datasets: C stdio plus, where the platform has it, POSIX.
//
// Two small classes, neither of which allocates or throws:
//   ReadFile     — open (regular files only), size, read exactly n bytes (a short read is an error naming the path
//                  and the offset), seek to an offset or back to the start.
//   AtomicWriter — writes to a temp file next to the target ("<path>.tmp.<pid>"), then on
//                  commit(): flush, fsync, close, rename over the target. Any failure (or
//                  destroying the writer without commit) removes the temp file, so the old
//                  target is either fully replaced or left exactly as it was — a crash in the
//                  middle of a save never leaves a half-written checkpoint under the real name.
//                  A temp file left by a killed save (its process gone) is removed by the
//                  next successful save of the same name.
//
// The POSIX parts (fsync, getpid, directory sync) are compiled only on Unix-like hosts; a
// bare-metal newlib build gets plain stdio (rename/remove exist there, durability is the
// board's business). Paths are kept in fixed buffers of kMaxPath bytes: a longer path is
// refused with an error rather than cut.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "core/status.h"

namespace ember {

constexpr size_t kMaxPath = 256;

// The last part of `path` that fits in buf (with "..." in front when cut), for messages:
// a Status holds 160 characters, and a long directory prefix would crowd out the reason.
const char* short_path(const char* path, char* buf, size_t cap);

// What a path names, without opening it (opening a FIFO for reading would block).
enum class FileKind { missing, regular, directory, other };
FileKind file_kind(const char* path);

// Opens path for reading as a stdio stream, refusing anything but a regular file ("not a
// regular file") before any read could block on it (a FIFO, a device, a directory). On
// failure *out is null and, when missing is given, *missing says the path does not exist.
Status open_regular_file(const char* path, std::FILE** out, bool* missing = nullptr);

class ReadFile {
 public:
  ReadFile() = default;
  ~ReadFile() { close(); }
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;

  Status open(const char* path);
  void close();
  bool is_open() const { return f_ != nullptr; }

  // Bytes in the file (from the end position; the offset is left where it was).
  Status size(uint64_t* out);
  // Reads exactly n bytes into dst or fails naming the path and offset.
  Status read_exact(void* dst, size_t n);
  // Back to offset 0.
  Status rewind();
  // To an absolute offset (past the end is allowed: the next read then reports end of file).
  Status seek(uint64_t offset);
  uint64_t offset() const { return offset_; }
  const char* path() const { return path_; }

 private:
  std::FILE* f_ = nullptr;
  uint64_t offset_ = 0;
  char path_[kMaxPath] = {0};
};

class AtomicWriter {
 public:
  AtomicWriter() = default;
  ~AtomicWriter() { abort(); }
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  // Creates the temp file for `path`. The target itself is not touched until commit().
  Status open(const char* path);
  Status write(const void* data, size_t n);
  // Flush, fsync, close, rename over the target. On failure the temp file is removed and
  // the target is unchanged.
  Status commit();
  // Drops the temp file (no-op when nothing is open).
  void abort();

  uint64_t written() const { return written_; }
  const char* temp_path() const { return tmp_; }

 private:
  std::FILE* f_ = nullptr;
  uint64_t written_ = 0;
  char path_[kMaxPath] = {0};
  char tmp_[kMaxPath + 32] = {0};  // path + ".tmp." + pid
};

}  // namespace ember
