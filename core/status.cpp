#include "core/status.h"

#include <cstring>

namespace ember {

const char* code_name(Code c) {
  switch (c) {
    case Code::ok: return "ok";
    case Code::invalid_argument: return "invalid argument";
    case Code::out_of_memory: return "out of memory";
    case Code::shape_mismatch: return "shape mismatch";
    case Code::io_error: return "i/o error";
    case Code::corrupt_data: return "corrupt data";
    case Code::unsupported: return "unsupported";
    case Code::not_finite: return "not finite";
  }
  return "unknown";
}

namespace {

struct Writer {
  char* buf;
  size_t cap, len;
  void put(char c) {
    if (len + 1 < cap) buf[len] = c;
    ++len;
  }
  void puts(const char* s) {
    if (!s) s = "(null)";
    while (*s) put(*s++);
  }
  void unsigned_number(unsigned long long v, unsigned base) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v % base];
      v /= base;
    } while (v);
    while (n) put(digits[--n]);
  }
  void signed_number(long long v) {
    if (v < 0) {
      put('-');
      unsigned_number(0ull - static_cast<unsigned long long>(v), 10);
    } else {
      unsigned_number(static_cast<unsigned long long>(v), 10);
    }
  }
};

}  // namespace

size_t format_message(char* buf, size_t cap, const char* fmt, va_list args) {
  Writer w{buf, cap, 0};
  for (const char* p = fmt; *p; ++p) {
    if (*p != '%') {
      w.put(*p);
      continue;
    }
    ++p;
    int longs = 0;
    bool size = false;
    while (*p == 'l') ++longs, ++p;
    if (*p == 'z') size = true, ++p;
    switch (*p) {
      case 's': w.puts(va_arg(args, const char*)); break;
      case 'c': w.put(static_cast<char>(va_arg(args, int))); break;
      case 'd':
      case 'i':
        if (size) w.signed_number(static_cast<long long>(va_arg(args, ptrdiff_t)));
        else if (longs >= 2) w.signed_number(va_arg(args, long long));
        else if (longs == 1) w.signed_number(va_arg(args, long));
        else w.signed_number(va_arg(args, int));
        break;
      case 'u':
      case 'x': {
        const unsigned base = *p == 'x' ? 16 : 10;
        if (size) w.unsigned_number(va_arg(args, size_t), base);
        else if (longs >= 2) w.unsigned_number(va_arg(args, unsigned long long), base);
        else if (longs == 1) w.unsigned_number(va_arg(args, unsigned long), base);
        else w.unsigned_number(va_arg(args, unsigned), base);
        break;
      }
      case 'p':
        w.puts("0x");
        w.unsigned_number(reinterpret_cast<uintptr_t>(va_arg(args, void*)), 16);
        break;
      case '%': w.put('%'); break;
      case '\0': --p; break;  // stray % at the end
      default: w.put('%'); w.put(*p); break;
    }
  }
  if (cap) buf[w.len < cap ? w.len : cap - 1] = '\0';
  return w.len < cap ? w.len : (cap ? cap - 1 : 0);
}

Status corrupt(const char* format, const char* name, const char* fmt, ...) {
  char text[Status::kMaxMessage];
  va_list args;
  va_start(args, fmt);
  format_message(text, sizeof text, fmt, args);
  va_end(args);
  return Status::error(Code::corrupt_data, "%s %s: %s", format, name, text);
}

const char* message_excerpt(const char* text, size_t n, char* buf, size_t cap) {
  if (!text) text = "(null)", n = 6;
  size_t len = 0;
  while (len < n && text[len]) ++len;
  const bool cut = len >= cap;
  const size_t keep = cut ? cap - 4 : len;
  for (size_t i = 0; i < keep; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    buf[i] = c < 0x20 || c >= 0x7f ? '?' : static_cast<char>(c);
  }
  std::memcpy(buf + keep, cut ? "..." : "", cut ? 4 : 1);
  return buf;
}

Status Status::error(Code code, const char* fmt, ...) {
  Status s;
  s.code_ = code == Code::ok ? Code::invalid_argument : code;  // an error is never ok
  va_list args;
  va_start(args, fmt);
  format_message(s.msg_, sizeof s.msg_, fmt, args);
  va_end(args);
  return s;
}

}  // namespace ember
