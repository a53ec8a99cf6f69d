// 64-bit file offsets and inode numbers on 32-bit Linux (ARMv7): without them readdir() fails
// with EOVERFLOW on file systems with large inode numbers, and files over 2 GiB cannot be read.
// Only this file's own calls see the wider types; io/file.h exposes none of them.
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include "io/file.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#if defined(__unix__) || defined(__APPLE__)
#define EMBER_POSIX_FILES 1
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#define EMBER_POSIX_FILES 0
#endif

namespace ember {

namespace {

// errno as text; "unknown error" when the C library left it at 0 (e.g. a short fread at
// end of file, or a bare-metal stub that does not set it).
const char* reason(int err) { return err ? std::strerror(err) : "unknown error"; }

bool copy_path(const char* path, char* dst, size_t cap) {
  const size_t n = std::strlen(path);
  if (n == 0 || n >= cap) return false;
  std::memcpy(dst, path, n + 1);
  return true;
}

#if EMBER_POSIX_FILES
// Appends the decimal digits of v to s (which has room: callers size for 20 digits).
void append_number(char* s, unsigned long long v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  s += std::strlen(s);
  while (n) *s++ = digits[--n];
  *s = '\0';
}

// After the rename, sync the directory so the new name itself survives a power cut. Best
// effort: the replacement has already happened atomically, and some file systems refuse
// fsync on a directory, which must not turn a good save into an error.
void sync_parent_directory(const char* path) {
  char dir[kMaxPath];
  std::strcpy(dir, path);  // path fits: checked in open()
  char* slash = std::strrchr(dir, '/');
  if (!slash) std::strcpy(dir, ".");
  else if (slash == dir) dir[1] = '\0';  // "/name": the root
  else *slash = '\0';
  const int fd = ::open(dir, O_RDONLY);
  if (fd < 0) return;
  (void)::fsync(fd);
  (void)::close(fd);
}

// A save killed between creating its temp file and the rename (kill -9, a power cut) leaves
// "<name>.tmp.<pid>" behind, as big as the checkpoint. The next successful save of the same
// name removes such files whose process is gone. A temp whose pid is alive (another save in
// progress, or the pid reused since) is left alone, and so is anything not a regular file.
void remove_stale_temps(const char* path) {
  char dir[kMaxPath];
  std::strcpy(dir, path);  // path fits: checked in open()
  char* slash = std::strrchr(dir, '/');
  const char* base = slash ? path + (slash - dir) + 1 : path;
  if (!slash) std::strcpy(dir, ".");
  else if (slash == dir) dir[1] = '\0';
  else *slash = '\0';
  const size_t base_len = std::strlen(base);
  DIR* d = ::opendir(dir);
  if (!d) return;
  const long long me = static_cast<long long>(::getpid());
  while (const dirent* e = ::readdir(d)) {
    const char* name = e->d_name;
    if (std::strncmp(name, base, base_len) != 0 || std::strncmp(name + base_len, ".tmp.", 5) != 0) continue;
    const char* digits = name + base_len + 5;
    long long pid = 0;
    const char* c = digits;
    for (; *c >= '0' && *c <= '9' && pid < (1ll << 40); ++c) pid = pid * 10 + (*c - '0');
    if (c == digits || *c || pid == me) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
    char full[2 * kMaxPath + 2];
    std::snprintf(full, sizeof full, "%s/%s", dir, name);
    struct stat st;
    if (::lstat(full, &st) == 0 && S_ISREG(st.st_mode)) (void)::unlink(full);
  }
  ::closedir(d);
}

#endif

}  // namespace

const char* short_path(const char* path, char* buf, size_t cap) {
  if (!path) path = "(null)";
  if (cap == 0) return "";
  const size_t n = std::strlen(path);
  if (n < cap) {
    std::memcpy(buf, path, n + 1);
    return buf;
  }
  if (cap < 5) {
    buf[0] = '\0';
    return buf;
  }
  const size_t keep = cap - 4;  // "..." + tail + NUL
  std::memcpy(buf, "...", 3);
  std::memcpy(buf + 3, path + n - keep, keep + 1);
  return buf;
}

Status open_regular_file(const char* path, std::FILE** out, bool* missing) {
  *out = nullptr;
  if (missing) *missing = false;
  char sp[64];
  if (!path || !*path) return Status::error(Code::invalid_argument, "cannot open a file: the path is empty");
  errno = 0;
#if EMBER_POSIX_FILES
  // fopen on a FIFO (or a terminal, a tape...) blocks until a writer shows up, so `ember info
  // --file FIFO` used to hang before any check. Open without blocking, look at what it is,
  // and only then give the descriptor to stdio.
  const int fd = ::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (missing) *missing = err == ENOENT;
    return Status::error(Code::io_error, "cannot open %s: %s", short_path(path, sp, sizeof sp), reason(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    (void)::close(fd);
    return Status::error(Code::io_error, "cannot open %s: not a regular file", short_path(path, sp, sizeof sp));
  }
  // Regular files ignore O_NONBLOCK; clearing it anyway keeps stdio's reads plainly blocking.
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0) (void)::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  std::FILE* f = ::fdopen(fd, "rb");
  if (!f) {
    const int err = errno;
    (void)::close(fd);
    return Status::error(Code::io_error, "cannot open %s: %s", short_path(path, sp, sizeof sp), reason(err));
  }
#else
  std::FILE* f = std::fopen(path, "rb");
  if (!f) {
    if (missing) *missing = errno == ENOENT;
    return Status::error(Code::io_error, "cannot open %s: %s", short_path(path, sp, sizeof sp), reason(errno));
  }
#endif
  *out = f;
  return Status::ok();
}

// ---- ReadFile ----

Status ReadFile::open(const char* path) {
  close();
  char sp[64];
  if (!path || !copy_path(path, path_, sizeof path_))
    return Status::error(Code::invalid_argument, "cannot open %s: path is empty or longer than %zu bytes",
                         short_path(path, sp, sizeof sp), kMaxPath - 1);
  EMBER_TRY(open_regular_file(path, &f_));
  offset_ = 0;
  return Status::ok();
}

void ReadFile::close() {
  if (f_) std::fclose(f_);
  f_ = nullptr;
  offset_ = 0;
}

Status ReadFile::size(uint64_t* out) {
  *out = 0;
  char sp[64];
  if (!f_) return Status::error(Code::invalid_argument, "file size: no file is open");
#if EMBER_POSIX_FILES
  struct stat st;
  if (::fstat(::fileno(f_), &st) != 0 || st.st_size < 0)
    return Status::error(Code::io_error, "size of %s: %s", short_path(path_, sp, sizeof sp), reason(errno));
  *out = static_cast<uint64_t>(st.st_size);
  return Status::ok();
#else
  // stdio only: measure from the end, then go back to where we were. ftell's long limits
  // this to 2 GiB on 32-bit targets, far beyond anything a microcontroller reads.
  const long here = std::ftell(f_);
  if (here < 0 || std::fseek(f_, 0, SEEK_END) != 0)
    return Status::error(Code::io_error, "size of %s: cannot seek", short_path(path_, sp, sizeof sp));
  const long end = std::ftell(f_);
  if (end < 0 || std::fseek(f_, here, SEEK_SET) != 0)
    return Status::error(Code::io_error, "size of %s: cannot seek", short_path(path_, sp, sizeof sp));
  *out = static_cast<uint64_t>(end);
  return Status::ok();
#endif
}

Status ReadFile::read_exact(void* dst, size_t n) {
  char sp[64];
  if (!f_) return Status::error(Code::invalid_argument, "read: no file is open");
  if (n == 0) return Status::ok();
  errno = 0;
  const size_t got = std::fread(dst, 1, n, f_);
  if (got != n) {
    const bool eof = std::feof(f_) != 0;
    return Status::error(eof ? Code::corrupt_data : Code::io_error,
                         "read %s at offset %llu: wanted %zu bytes, got %zu (%s)",
                         short_path(path_, sp, sizeof sp), static_cast<unsigned long long>(offset_ + got), n, got,
                         eof ? "end of file" : reason(errno));
  }
  offset_ += n;
  return Status::ok();
}

Status ReadFile::rewind() {
  char sp[64];
  if (!f_) return Status::error(Code::invalid_argument, "rewind: no file is open");
  if (std::fseek(f_, 0, SEEK_SET) != 0)
    return Status::error(Code::io_error, "rewind %s: %s", short_path(path_, sp, sizeof sp), reason(errno));
  std::clearerr(f_);
  offset_ = 0;
  return Status::ok();
}

Status ReadFile::seek(uint64_t offset) {
  char sp[64];
  if (!f_) return Status::error(Code::invalid_argument, "seek: no file is open");
#if EMBER_POSIX_FILES
  const bool fits = offset <= static_cast<uint64_t>(INT64_MAX);
  const int rc = fits ? ::fseeko(f_, static_cast<off_t>(offset), SEEK_SET) : -1;
#else
  const bool fits = offset <= static_cast<uint64_t>(LONG_MAX);
  const int rc = fits ? std::fseek(f_, static_cast<long>(offset), SEEK_SET) : -1;
#endif
  if (rc != 0)
    return Status::error(Code::io_error, "seek %s to offset %llu: %s", short_path(path_, sp, sizeof sp),
                         static_cast<unsigned long long>(offset), fits ? reason(errno) : "offset too large");
  std::clearerr(f_);
  offset_ = offset;
  return Status::ok();
}

FileKind file_kind(const char* path) {
  if (!path || !*path) return FileKind::missing;
#if EMBER_POSIX_FILES
  struct stat st;
  if (::stat(path, &st) != 0) return FileKind::missing;
  if (S_ISREG(st.st_mode)) return FileKind::regular;
  return S_ISDIR(st.st_mode) ? FileKind::directory : FileKind::other;
#else
  std::FILE* f = std::fopen(path, "rb");  // no stat on a bare-metal C library
  if (!f) return FileKind::missing;
  std::fclose(f);
  return FileKind::regular;
#endif
}

// ---- AtomicWriter ----

Status AtomicWriter::open(const char* path) {
  abort();
  char sp[64];
  // Room for ".tmp." and 20 digits of pid in tmp_.
  if (!path || !copy_path(path, path_, sizeof path_))
    return Status::error(Code::invalid_argument, "save %s: path is empty or longer than %zu bytes",
                         short_path(path, sp, sizeof sp), kMaxPath - 1);
  // The temp file sits in the target's directory (same file system, so rename is atomic).
  // With a pid in its name two processes saving the same path do not write into one temp.
  std::strcpy(tmp_, path_);
  std::strcat(tmp_, ".tmp");
#if EMBER_POSIX_FILES
  std::strcat(tmp_, ".");
  append_number(tmp_, static_cast<unsigned long long>(::getpid()));
#endif
  errno = 0;
  f_ = std::fopen(tmp_, "wb");
  if (!f_) {
    const int err = errno;
    tmp_[0] = '\0';  // not ours: never remove a file we did not create
    return Status::error(Code::io_error, "save %s: cannot create temp file (%s)", short_path(path_, sp, sizeof sp),
                         reason(err));
  }
  written_ = 0;
  return Status::ok();
}

Status AtomicWriter::write(const void* data, size_t n) {
  char sp[64];
  if (!f_) return Status::error(Code::invalid_argument, "write: no temp file is open");
  if (n == 0) return Status::ok();
  errno = 0;
  if (std::fwrite(data, 1, n, f_) != n) {
    const int err = errno;
    const unsigned long long at = written_;
    abort();
    return Status::error(Code::io_error, "save %s: write of %zu bytes at offset %llu failed (%s)",
                         short_path(path_, sp, sizeof sp), n, at, reason(err));
  }
  written_ += n;
  return Status::ok();
}

Status AtomicWriter::commit() {
  char sp[64];
  if (!f_) return Status::error(Code::invalid_argument, "commit: no temp file is open");
  errno = 0;
  bool good = std::fflush(f_) == 0;
  int err = errno;
#if EMBER_POSIX_FILES
  // fflush only hands the bytes to the kernel; fsync puts them on the disk before the
  // rename makes them the real file (otherwise a crash could leave an empty checkpoint).
  if (good && ::fsync(::fileno(f_)) != 0) good = false, err = errno;
#endif
  const int closed = std::fclose(f_);
  f_ = nullptr;
  if (good && closed != 0) good = false, err = errno;
  if (!good) {
    std::remove(tmp_);
    tmp_[0] = '\0';
    return Status::error(Code::io_error, "save %s: flushing the temp file failed (%s)",
                         short_path(path_, sp, sizeof sp), reason(err));
  }
  errno = 0;
  if (std::rename(tmp_, path_) != 0) {
    err = errno;
    std::remove(tmp_);
    tmp_[0] = '\0';
    return Status::error(Code::io_error, "save %s: cannot rename the temp file over it (%s)",
                         short_path(path_, sp, sizeof sp), reason(err));
  }
  tmp_[0] = '\0';
#if EMBER_POSIX_FILES
  sync_parent_directory(path_);
  remove_stale_temps(path_);
#endif
  return Status::ok();
}

void AtomicWriter::abort() {
  if (f_) {
    std::fclose(f_);
    f_ = nullptr;
  }
  if (tmp_[0]) std::remove(tmp_);
  tmp_[0] = '\0';
}

}  // namespace ember
