// Status: the result of every fallible call in ember (no exceptions in library code).
//
// A Status is a code plus a short message naming what went wrong and where. It holds its
// message in a fixed buffer, so making one never allocates; that keeps it usable inside a
// training step and on microcontrollers.
#pragma once
#include <cstdarg>
#include <cstddef>
#include <cstdint>

namespace ember {

enum class Code : uint8_t {
  ok = 0,
  invalid_argument,  // a caller passed something out of range
  out_of_memory,     // the arena cannot hold a request
  shape_mismatch,    // tensor shapes do not agree
  io_error,          // a file could not be opened, read or written
  corrupt_data,      // a file or buffer fails a format check
  unsupported,       // asked for something this build or CPU cannot do
  not_finite,        // a loss, gradient or weight is NaN or infinite: training diverged
};

const char* code_name(Code c);

class Status {
 public:
  static constexpr size_t kMaxMessage = 160;

  Status() = default;  // ok
  static Status ok() { return Status(); }
  // printf-style message; supports %s %c %d %i %u %x %ld %lu %lld %llu %zu %zd %p %%
  // (no floats, so no libc printf is pulled into microcontroller builds).
  static Status error(Code code, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

  bool is_ok() const { return code_ == Code::ok; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const char* message() const { return code_ == Code::ok ? "ok" : msg_; }

 private:
  Code code_ = Code::ok;
  char msg_[kMaxMessage] = {0};
};

// Formats like Status::error into buf (always NUL-terminated); returns the length written.
size_t format_message(char* buf, size_t cap, const char* fmt, va_list args);

// A reader's refusal of outside data: Code::corrupt_data with the message "<format> <name>:
// <text>" (e.g. "npy x.npy: truncated: ..."), so each one names the format and the file.
Status corrupt(const char* format, const char* name, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

// Outside text (a name or field read from a file: text[0..n), or up to a NUL) made fit for a
// message in buf: control and non-ASCII bytes as '?', cut with "..." to fit cap (at least 4).
// Returns buf.
const char* message_excerpt(const char* text, size_t n, char* buf, size_t cap);

}  // namespace ember

// Return early from a function when a call fails.
#define EMBER_TRY(expr)                       \
  do {                                        \
    ::ember::Status ember_status_ = (expr);   \
    if (!ember_status_.is_ok()) return ember_status_; \
  } while (0)
