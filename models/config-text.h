// Small text helpers for model configs kept in checkpoints ("key=value key=value") and for
// command-line values: checked integer/float/list parsing and a bounded string builder.
//
// No printf and no strtod: a microcontroller build links no float formatting, and the
// parse is the same bits on every platform (decimal digits folded in double, then rounded
// once to float).
#pragma once
#include <cstddef>
#include <cstring>

#include "core/status.h"

namespace ember::models {

Status parse_int(const char* key, const char* text, int lo, int hi, int* out);
Status parse_float(const char* key, const char* text, float* out);  // [-]digits[.digits][e[-]digits]
// "400,200" -> {400, 200}, *count = 2; at most cap values.
Status parse_int_list(const char* key, const char* text, int lo, int hi, int* out, int cap, int* count);
// Exactly two values, "32,64"; out is written only on success.
Status parse_int_pair(const char* key, const char* text, int lo, int hi, int out[2]);

// Limits a config may ask for: image side, and width of any layer.
constexpr int kMaxSide = 4096;
constexpr int kMaxWidth = 1 << 16;

constexpr size_t kModelConfigText = 256;  // room for any model config's one-line text

// Appends to a fixed buffer; remembers overflow and reports it once at the end.
class TextWriter {
 public:
  TextWriter(char* buf, size_t cap) : buf_(buf), cap_(cap) { if (cap) buf[0] = 0; }
  TextWriter& put(const char* s);
  TextWriter& put_int(long long v);
  // Up to 6 decimals, trailing zeros dropped ("0.001", "1"), or when that would not read back
  // as the same float (1e-9, 0.1234567), the fewest digits that do: "1e-9", "1234567e-7".
  TextWriter& put_float(float v);
  Status status(const char* what) const;
  size_t size() const { return len_; }

 private:
  char* buf_;
  size_t cap_, len_ = 0;
  bool overflow_ = false;
};

// Enumerations in config text: a table of (name, value) pairs per enum.
struct Named {
  const char* name;
  int value;
};
template <size_t N>
const char* name_of(const Named (&table)[N], int value) {
  for (const Named& n : table)
    if (n.value == value) return n.name;
  return "?";
}
// The value named `text`; otherwise an error listing the names.
template <size_t N>
Status value_of(const Named (&table)[N], const char* key, const char* text, int* out) {
  for (const Named& n : table)
    if (std::strcmp(n.name, text) == 0) return (*out = n.value, Status::ok());
  char options[96] = {0};
  for (const Named& n : table) {
    std::strncat(options, n.name, sizeof options - std::strlen(options) - 1);
    std::strncat(options, " ", sizeof options - std::strlen(options) - 1);
  }
  return Status::error(Code::invalid_argument, "%s: unknown value '%s' (one of: %s)", key, text, options);
}
template <class E, size_t N>
Status set_enum(const Named (&table)[N], const char* key, const char* text, E* out) {
  int v = 0;
  EMBER_TRY(value_of(table, key, text, &v));
  *out = static_cast<E>(v);
  return Status::ok();
}

// A sampler's weight storage in config text: "weights=int8", absent for float32 (nn/quantize.h).
constexpr Named kWeightStorages[] = {{"f32", 0}, {"int8", 1}};

// Calls f(key, value) for each space-separated "key=value" of text (copies of at most
// kMaxToken characters each). Stops at and returns the first error.
constexpr size_t kMaxToken = 96;
template <class F>
Status for_each_pair(const char* text, F f) {
  const char* p = text;
  while (*p) {
    while (*p == ' ') ++p;
    if (!*p) break;
    const char* end = p;
    while (*end && *end != ' ') ++end;
    const size_t n = static_cast<size_t>(end - p);
    const char* eq = static_cast<const char*>(std::memchr(p, '=', n));
    char key[kMaxToken], value[kMaxToken];
    if (!eq || eq == p || n >= kMaxToken) {
      const size_t shown = n < kMaxToken ? n : kMaxToken - 1;
      std::memcpy(key, p, shown);
      key[shown] = 0;
      return Status::error(Code::invalid_argument, "config: bad entry '%s' (want key=value)", key);
    }
    std::memcpy(key, p, static_cast<size_t>(eq - p));
    key[eq - p] = 0;
    std::memcpy(value, eq + 1, static_cast<size_t>(end - eq - 1));
    value[end - eq - 1] = 0;
    EMBER_TRY(f(key, value));
    p = end;
  }
  return Status::ok();
}

// Config::from_text for any config with set() and validate(): parses every pair into a
// default Config, validates it, and only then replaces *out (untouched on any error).
template <class Config>
Status config_from_text(const char* text, Config* out) {
  Config c;
  EMBER_TRY(for_each_pair(text, [&c](const char* k, const char* v) { return c.set(k, v); }));
  EMBER_TRY(c.validate());
  *out = c;
  return Status::ok();
}

}  // namespace ember::models
