#include "io/json.h"

#include <cstring>

namespace ember {

namespace {

// Why a character of a string body could not be decoded.
enum class Bad { none, end, control, escape, surrogate, utf8 };

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits at s (n bytes available) as a code unit; -1 for a non-hex digit, -2
// when the text ends first.
long hex4(const char* s, size_t n) {
  long v = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (i == n) return -2;
    const int h = hex_value(s[i]);
    if (h < 0) return -1;
    v = v << 4 | h;
  }
  return v;
}

size_t put_utf8(uint32_t cp, unsigned char* out) {
  if (cp < 0x80) return out[0] = static_cast<unsigned char>(cp), 1;
  if (cp < 0x800) {
    out[0] = static_cast<unsigned char>(0xC0 | cp >> 6);
    out[1] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<unsigned char>(0xE0 | cp >> 12);
    out[1] = static_cast<unsigned char>(0x80 | (cp >> 6 & 0x3F));
    out[2] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<unsigned char>(0xF0 | cp >> 18);
  out[1] = static_cast<unsigned char>(0x80 | (cp >> 12 & 0x3F));
  out[2] = static_cast<unsigned char>(0x80 | (cp >> 6 & 0x3F));
  out[3] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
  return 4;
}

// Length of the UTF-8 sequence at s (n bytes available), or 0 when it is not one RFC 3629
// allows: no overlong forms, no surrogates, nothing above U+10FFFF.
size_t utf8_sequence(const unsigned char* s, size_t n) {
  const unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t len = 0;
  uint32_t cp = 0, least = 0;
  if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F, least = 0x80;
  else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, least = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07, least = 0x10000;
  else return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3F);
  }
  if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Decodes one character of a string body at s[0..n) (n > 0, s[0] not the closing quote):
// its UTF-8 bytes go to out (*out_len of them), *used gets the text bytes it took.
Bad decode_char(const char* s, size_t n, unsigned char out[4], size_t* out_len, size_t* used) {
  const unsigned char c = static_cast<unsigned char>(s[0]);
  if (c < 0x20) return Bad::control;
  if (c != '\\') {
    const size_t len = utf8_sequence(reinterpret_cast<const unsigned char*>(s), n);
    if (len == 0) return Bad::utf8;
    std::memcpy(out, s, len);
    *out_len = *used = len;
    return Bad::none;
  }
  if (n < 2) return Bad::end;
  static const char kFrom[] = "\"\\/bfnrt", kTo[] = "\"\\/\b\f\n\r\t";
  if (const char* hit = s[1] ? std::strchr(kFrom, s[1]) : nullptr) {
    out[0] = static_cast<unsigned char>(kTo[hit - kFrom]);
    *out_len = 1, *used = 2;
    return Bad::none;
  }
  if (s[1] != 'u') return Bad::escape;
  const long unit = hex4(s + 2, n - 2);
  if (unit < 0) return unit == -2 ? Bad::end : Bad::escape;
  uint32_t cp = static_cast<uint32_t>(unit);
  *used = 6;
  if (cp >= 0xDC00 && cp <= 0xDFFF) return Bad::surrogate;  // a low half with no high half
  if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high half: the low half must follow as \uXXXX
    if (n < 12 || s[6] != '\\' || s[7] != 'u') return Bad::surrogate;
    const long low = hex4(s + 8, n - 8);
    if (low < 0xDC00 || low > 0xDFFF) return Bad::surrogate;
    cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
    *used = 12;
  }
  *out_len = put_utf8(cp, out);
  return Bad::none;
}

const char* bad_name(Bad b) {
  switch (b) {
    case Bad::control: return "a control character (below 0x20) in a string";
    case Bad::escape: return "a bad escape in a string";
    case Bad::surrogate: return "a \\u escape of an unpaired surrogate";
    case Bad::utf8: return "bytes that are not UTF-8 in a string";
    default: return "an unterminated string";
  }
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Recursive descent; recursion depth is bounded by max_depth (at most kJsonMaxDepth). The
// functions return false after recording the first error, keeping the frames small.
class Parser {
 public:
  Parser(const char* text, size_t size, JsonToken* tokens, size_t capacity, int max_depth)
      : t_(text), n_(size), tok_(tokens), cap_(capacity), max_depth_(max_depth) {}

  Status run(size_t* count) {
    skip_space();
    if (pos_ == n_) fail("json: no value (empty text)");
    else if (value(0, -1)) {
      skip_space();
      if (pos_ != n_) fail("json: unexpected '%c' at byte %zu after the value", printable(t_[pos_]), pos_);
    }
    *count = count_;
    return error_;
  }

 private:
  static char printable(char c) { return c >= 0x20 && c < 0x7f ? c : '?'; }

  template <class... Args>
  bool fail(const char* fmt, Args... args) {
    if (error_.is_ok()) error_ = Status::error(Code::corrupt_data, fmt, args...);
    return false;
  }
  bool fail(const char* msg) { return fail("%s", msg); }

  void skip_space() {
    while (pos_ < n_ && is_space(t_[pos_])) ++pos_;
  }

  bool add(JsonType type, int32_t parent, size_t* index) {
    if (count_ == cap_)
      return fail("json: more than %zu tokens (the capacity) at byte %zu", cap_, pos_);
    JsonToken& k = tok_[count_];
    k = JsonToken();
    k.type = type, k.parent = parent, k.start = static_cast<uint32_t>(pos_);
    *index = count_++;
    return true;
  }
  void close(size_t index, size_t end) {
    tok_[index].end = static_cast<uint32_t>(end);
    tok_[index].next = static_cast<uint32_t>(count_);
  }

  bool value(int depth, int32_t parent) {
    const char c = t_[pos_];
    if (c == '{' || c == '[') return container(c == '{', depth + 1, parent);
    if (c == '"') return string(parent);
    if (c == '-' || is_digit(c)) return number(parent);
    if (c == 't') return literal("true", JsonType::true_value, parent);
    if (c == 'f') return literal("false", JsonType::false_value, parent);
    if (c == 'n') return literal("null", JsonType::null_value, parent);
    return fail("json: expected a value at byte %zu, found '%c'", pos_, printable(c));
  }

  bool literal(const char* word, JsonType type, int32_t parent) {
    const size_t len = std::strlen(word);
    if (n_ - pos_ < len || std::memcmp(t_ + pos_, word, len) != 0)
      return fail("json: bad literal at byte %zu (expected %s)", pos_, word);
    size_t i = 0;
    if (!add(type, parent, &i)) return false;
    pos_ += len;
    close(i, pos_);
    return true;
  }

  bool number(int32_t parent) {
    const size_t start = pos_;
    size_t i = 0;
    if (!add(JsonType::number, parent, &i)) return false;
    if (t_[pos_] == '-') ++pos_;
    if (pos_ < n_ && t_[pos_] == '0') {
      if (++pos_ < n_ && is_digit(t_[pos_])) return fail("json: number with a leading zero at byte %zu", start);
    } else if (pos_ < n_ && is_digit(t_[pos_])) {
      while (pos_ < n_ && is_digit(t_[pos_])) ++pos_;
    } else {
      return fail("json: bad number at byte %zu (no digits)", start);
    }
    if (pos_ < n_ && t_[pos_] == '.') {
      if (++pos_ == n_ || !is_digit(t_[pos_])) return fail("json: bad number at byte %zu (no digits after '.')", start);
      while (pos_ < n_ && is_digit(t_[pos_])) ++pos_;
    }
    if (pos_ < n_ && (t_[pos_] == 'e' || t_[pos_] == 'E')) {
      if (++pos_ < n_ && (t_[pos_] == '+' || t_[pos_] == '-')) ++pos_;
      if (pos_ == n_ || !is_digit(t_[pos_])) return fail("json: bad number at byte %zu (no exponent digits)", start);
      while (pos_ < n_ && is_digit(t_[pos_])) ++pos_;
    }
    close(i, pos_);
    return true;
  }

  bool string(int32_t parent) {
    const size_t quote = pos_;
    size_t i = 0;
    if (!add(JsonType::string, parent, &i)) return false;
    tok_[i].start = static_cast<uint32_t>(++pos_);
    unsigned char out[4];
    size_t out_len = 0, used = 0;
    while (pos_ < n_ && t_[pos_] != '"') {
      const Bad b = decode_char(t_ + pos_, n_ - pos_, out, &out_len, &used);
      if (b == Bad::end) pos_ = n_;
      else if (b != Bad::none) return fail("json: %s at byte %zu", bad_name(b), pos_);
      else pos_ += used;
    }
    if (pos_ >= n_) return fail("json: unterminated string starting at byte %zu", quote);
    close(i, pos_++);
    return true;
  }

  bool container(bool object, int depth, int32_t parent) {
    if (depth > max_depth_) return fail("json: nesting deeper than %d at byte %zu", max_depth_, pos_);
    const char closing = object ? '}' : ']';
    size_t i = 0;
    if (!add(object ? JsonType::object : JsonType::array, parent, &i)) return false;
    const int32_t self = static_cast<int32_t>(i);
    ++pos_;
    skip_space();
    if (pos_ < n_ && t_[pos_] == closing) {
      close(i, ++pos_);
      return true;
    }
    for (;;) {
      if (pos_ == n_)
        return fail("json: unterminated %s starting at byte %u", object ? "object" : "array", unsigned(tok_[i].start));
      if (object) {
        if (t_[pos_] != '"') return fail("json: expected a string key at byte %zu", pos_);
        if (!string(self)) return false;
        skip_space();
        if (pos_ == n_ || t_[pos_] != ':') return fail("json: expected ':' after the key at byte %zu", pos_);
        ++pos_;
        skip_space();
        if (pos_ == n_) return fail("json: object ends before a value at byte %zu", pos_);
      }
      if (!value(depth, self)) return false;
      ++tok_[i].children;
      skip_space();
      if (pos_ < n_ && t_[pos_] == ',') {
        ++pos_;
        skip_space();
        continue;
      }
      if (pos_ < n_ && t_[pos_] == closing) break;
      if (pos_ == n_) continue;  // reported as unterminated above
      return fail("json: expected ',' or '%c' at byte %zu", closing, pos_);
    }
    close(i, ++pos_);
    return true;
  }

  const char* t_;
  size_t n_;
  size_t pos_ = 0;
  JsonToken* tok_;
  size_t cap_;
  size_t count_ = 0;
  int max_depth_;
  Status error_;
};

// Walks the characters of string token i, handing each one's UTF-8 bytes to f; stops and
// returns false when f does or the body does not decode (which json_parse already refused).
template <class F>
bool each_char(const JsonDoc& doc, size_t i, F f) {
  if (i >= doc.count || doc.tokens[i].type != JsonType::string) return false;
  const JsonToken& k = doc.tokens[i];
  unsigned char out[4];
  size_t out_len = 0, used = 0;
  for (size_t p = k.start; p < k.end; p += used)
    if (decode_char(doc.text + p, k.end - p, out, &out_len, &used) != Bad::none || !f(out, out_len)) return false;
  return true;
}

}  // namespace

const char* json_type_name(JsonType t) {
  switch (t) {
    case JsonType::object: return "object";
    case JsonType::array: return "array";
    case JsonType::string: return "string";
    case JsonType::number: return "number";
    case JsonType::true_value: return "true";
    case JsonType::false_value: return "false";
    default: return "null";
  }
}

Status json_parse(const char* text, size_t size, JsonToken* tokens, size_t capacity, JsonDoc* doc, int max_depth) {
  *doc = JsonDoc();
  if (!text && size) return Status::error(Code::invalid_argument, "json: null text");
  if (!tokens && capacity) return Status::error(Code::invalid_argument, "json: null token array");
  if (max_depth < 1 || max_depth > kJsonMaxDepth)
    return Status::error(Code::invalid_argument, "json: depth limit %d (1 to %d)", max_depth, kJsonMaxDepth);
  if (size >= kJsonMaxText)
    return Status::error(Code::corrupt_data, "json: text of %zu bytes (limit %zu)", size, kJsonMaxText - 1);
  size_t count = 0;
  EMBER_TRY(Parser(text, size, tokens, capacity, max_depth).run(&count));
  doc->text = text, doc->size = size, doc->tokens = tokens, doc->count = count;
  return Status::ok();
}

long json_find(const JsonDoc& doc, size_t object, const char* key) {
  if (object >= doc.count || doc.tokens[object].type != JsonType::object) return -1;
  size_t k = object + 1;
  for (uint32_t m = 0; m < doc.tokens[object].children && k + 1 < doc.count; ++m) {
    if (json_equals(doc, k, key)) return static_cast<long>(k + 1);
    k = doc.tokens[k + 1].next;
  }
  return -1;
}

bool json_equals(const JsonDoc& doc, size_t i, const char* s) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s);
  const bool same = each_char(doc, i, [&](const unsigned char* out, size_t n) {
    for (size_t j = 0; j < n; ++j)
      if (*p == '\0' || *p++ != out[j]) return false;
    return true;
  });
  return same && *p == '\0';
}

size_t json_unescaped_size(const JsonDoc& doc, size_t i) {
  size_t total = 0;
  each_char(doc, i, [&](const unsigned char*, size_t n) { return total += n, true; });
  return total;
}

Status json_unescape(const JsonDoc& doc, size_t i, char* out, size_t cap, size_t* len) {
  if (len) *len = 0;
  if (i >= doc.count || doc.tokens[i].type != JsonType::string)
    return Status::error(Code::invalid_argument, "json: token %zu is not a string", i);
  const size_t need = json_unescaped_size(doc, i);
  if (need >= cap)
    return Status::error(Code::invalid_argument,
                         "json: string at byte %u needs %zu bytes with its NUL, the buffer has %zu",
                         unsigned(doc.tokens[i].start), need + 1, cap);
  size_t at = 0;
  each_char(doc, i, [&](const unsigned char* c, size_t n) { return std::memcpy(out + at, c, n), at += n, true; });
  out[at] = '\0';
  if (len) *len = at;
  return Status::ok();
}

Status json_to_u64(const JsonDoc& doc, size_t i, uint64_t* out) {
  *out = 0;
  if (i >= doc.count || doc.tokens[i].type != JsonType::number)
    return Status::error(Code::corrupt_data, "json: expected a number at token %zu", i);
  const JsonToken& k = doc.tokens[i];
  uint64_t v = 0;
  for (size_t p = k.start; p < k.end; ++p) {
    const char c = doc.text[p];
    if (!is_digit(c))
      return Status::error(Code::corrupt_data, "json: number at byte %u is not a non-negative integer", unsigned(k.start));
    if (__builtin_mul_overflow(v, uint64_t{10}, &v) || __builtin_add_overflow(v, uint64_t(c - '0'), &v))
      return Status::error(Code::corrupt_data, "json: integer at byte %u is above 2^64 - 1", unsigned(k.start));
  }
  *out = v;
  return Status::ok();
}

bool json_valid_utf8(const char* s, size_t n) {
  for (size_t i = 0, len = 0; i < n; i += len)
    if ((len = utf8_sequence(reinterpret_cast<const unsigned char*>(s + i), n - i)) == 0) return false;
  return true;
}

}  // namespace ember
