#include "models/config-text.h"

#include <cmath>
#include <cstdint>

namespace ember::models {

namespace {
constexpr int kMaxDigits = 18;      // digits folded exactly into a uint64 / double mantissa
constexpr int kMaxExponent = 38;    // float range
constexpr int kFloatDecimals = 6;
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

Status parse_int(const char* key, const char* text, int lo, int hi, int* out) {
  const char* p = text;
  const bool neg = *p == '-';
  if (neg) ++p;
  if (!is_digit(*p)) return Status::error(Code::invalid_argument, "%s: '%s' is not an integer", key, text);
  long long v = 0;
  constexpr long long kSaturate = 1LL << 40;  // far outside any int range; stops overflow
  for (; is_digit(*p); ++p)
    if (v < kSaturate) v = v * 10 + (*p - '0');
  if (*p) return Status::error(Code::invalid_argument, "%s: '%s' is not an integer", key, text);
  if (neg) v = -v;
  if (v < lo || v > hi) return Status::error(Code::invalid_argument, "%s: %s is out of range %d..%d", key, text, lo, hi);
  *out = static_cast<int>(v);
  return Status::ok();
}

Status parse_float(const char* key, const char* text, float* out) {
  const char* p = text;
  const bool neg = *p == '-';
  if (neg || *p == '+') ++p;
  uint64_t mant = 0;
  int digits = 0, exp10 = 0;
  bool any = false;
  for (; is_digit(*p); ++p, any = true) {
    if (digits < kMaxDigits) mant = mant * 10 + uint64_t(*p - '0'), digits += mant != 0;
    else ++exp10;
  }
  if (*p == '.') {
    for (++p; is_digit(*p); ++p, any = true)
      if (digits < kMaxDigits) mant = mant * 10 + uint64_t(*p - '0'), digits += mant != 0, --exp10;
  }
  if (any && (*p == 'e' || *p == 'E')) {
    int e = 0;
    EMBER_TRY(parse_int(key, p + 1, -4 * kMaxExponent, 4 * kMaxExponent, &e));
    exp10 += e;
    p += std::strlen(p);
  }
  if (!any || *p) return Status::error(Code::invalid_argument, "%s: '%s' is not a number", key, text);
  double v = static_cast<double>(mant);
  // Scale by exact powers of ten one step at a time: slow but the same on every platform.
  for (; exp10 > 0; --exp10) v *= 10.0;
  for (; exp10 < 0; ++exp10) v /= 10.0;
  if (!(v <= 3.4e38)) return Status::error(Code::invalid_argument, "%s: '%s' is out of float range", key, text);
  *out = static_cast<float>(neg ? -v : v);
  return Status::ok();
}

Status parse_int_list(const char* key, const char* text, int lo, int hi, int* out, int cap, int* count) {
  int n = 0;
  const char* p = text;
  char item[kMaxToken];
  while (true) {
    const char* end = std::strchr(p, ',');
    const size_t len = end ? static_cast<size_t>(end - p) : std::strlen(p);
    if (len == 0 || len >= kMaxToken)
      return Status::error(Code::invalid_argument, "%s: '%s' is not a comma-separated list of integers", key, text);
    if (n == cap) return Status::error(Code::invalid_argument, "%s: at most %d values", key, cap);
    std::memcpy(item, p, len);
    item[len] = 0;
    EMBER_TRY(parse_int(key, item, lo, hi, &out[n]));
    ++n;
    if (!end) break;
    p = end + 1;
  }
  *count = n;
  return Status::ok();
}

Status parse_int_pair(const char* key, const char* text, int lo, int hi, int out[2]) {
  int got[2] = {0, 0}, n = 0;
  EMBER_TRY(parse_int_list(key, text, lo, hi, got, 2, &n));
  if (n != 2) return Status::error(Code::invalid_argument, "%s: give two values, e.g. %d,%d", key, lo, lo);
  out[0] = got[0], out[1] = got[1];
  return Status::ok();
}

TextWriter& TextWriter::put(const char* s) {
  for (; *s; ++s) {
    if (len_ + 1 >= cap_) return (overflow_ = true, *this);
    buf_[len_++] = *s;
    buf_[len_] = 0;
  }
  return *this;
}

TextWriter& TextWriter::put_int(long long v) {
  char tmp[24];
  int n = 0;
  unsigned long long u = v < 0 ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
  do tmp[n++] = static_cast<char>('0' + u % 10); while (u /= 10);
  if (v < 0) tmp[n++] = '-';
  char s[24];
  for (int i = 0; i < n; ++i) s[i] = tmp[n - 1 - i];
  s[n] = 0;
  return put(s);
}

namespace {

// v with up to kFloatDecimals decimals, trailing zeros dropped ("0.001", "1"), into buf.
void fixed_form(float v, char* buf, size_t cap) {
  TextWriter w(buf, cap);
  double d = v < 0 ? -static_cast<double>(v) : static_cast<double>(v);
  double scale = 1.0;
  for (int i = 0; i < kFloatDecimals; ++i) scale *= 10.0;
  const unsigned long long fixed = static_cast<unsigned long long>(d * scale + 0.5);
  const unsigned long long whole = fixed / static_cast<unsigned long long>(scale);
  unsigned long long frac = fixed % static_cast<unsigned long long>(scale);
  if (v < 0 && fixed) w.put("-");
  w.put_int(static_cast<long long>(whole));
  if (frac) {
    char s[kFloatDecimals + 2] = {'.'};
    for (int i = kFloatDecimals; i >= 1; --i, frac /= 10) s[i] = static_cast<char>('0' + frac % 10);
    int end = kFloatDecimals;
    while (s[end] == '0') --end;
    s[end + 1] = 0;
    w.put(s);
  }
}

// v as "<digits>e<exponent>" with `digits` significant digits (1..9), into buf.
void exponent_form(float v, int digits, char* buf, size_t cap) {
  // x = |v| scaled into [1e8, 1e9), |v| ~ x * 10^-k; the same stepwise scaling as parse_float.
  double x = v < 0 ? -static_cast<double>(v) : static_cast<double>(v);
  if (x == 0.0) {  // never scales into range; the fixed form reads back anyway
    TextWriter(buf, cap).put("0");
    return;
  }
  int k = 0;
  for (; x >= 1e9; --k) x /= 10.0;
  for (; x < 1e8; ++k) x *= 10.0;
  for (int i = digits; i < 9; ++i) x /= 10.0;
  unsigned long long m = static_cast<unsigned long long>(x + 0.5);
  long long e = (9 - digits) - k;
  while (m && m % 10 == 0) m /= 10, ++e;
  TextWriter w(buf, cap);
  if (v < 0) w.put("-");
  w.put_int(static_cast<long long>(m)).put("e").put_int(e);
}

bool reads_back(const char* text, float v) {
  float back = 0.0f;
  return parse_float("", text, &back).is_ok() && back == v;
}

}  // namespace

TextWriter& TextWriter::put_float(float v) {
  if (!std::isfinite(v)) return put(v != v ? "nan" : v > 0 ? "inf" : "-inf");
  char s[48];
  fixed_form(v, s, sizeof s);
  if (reads_back(s, v)) return put(s);
  // Too small or too precise for the short form: sigma=1e-9 used to print as "0", which the
  // config then refused, so a checkpoint saved with it no longer loaded. The fewest
  // significant digits that read back as the same float (9 always do).
  for (int digits = 1; digits <= 9; ++digits) {
    exponent_form(v, digits, s, sizeof s);
    if (reads_back(s, v)) break;
  }
  return put(s);
}

Status TextWriter::status(const char* what) const {
  if (overflow_) return Status::error(Code::invalid_argument, "%s: text longer than %zu bytes", what, cap_ - 1);
  return Status::ok();
}

}  // namespace ember::models
