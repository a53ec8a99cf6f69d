// A small JSON parser (RFC 8259) for headers of outside formats (safetensors), with no heap.
//
// The text stays in the caller's buffer; parsing fills a caller-provided array of tokens, one
// per value and one per object key, in document order (as jsmn does):
//
//   {"a": [1, 2], "b": null}   ->   0 object(2)  1 "a"  2 array(2)  3 1  4 2  5 "b"  6 null
//
// A token records its type, its bytes in the text, its direct children (an object counts its
// keys, an array its values; a key is followed by its value) and `next`, the index just past
// its subtree, so a caller walks an object's members without recursion: key at i, value at
// i + 1, next key at tokens[i + 1].next. String tokens cover the bytes between the quotes, still
// escaped; json_unescape() and json_equals() decode them.
//
// The text is treated as hostile. Refused, each with the byte offset: anything but one value
// and optional whitespace after it (trailing garbage), unterminated strings, control
// characters in strings, escapes other than \" \\ \/ \b \f \n \r \t \uXXXX, a \u escape of a
// lone surrogate (an unpaired half has no UTF-8 form), bytes that are not UTF-8 (overlong forms,
// surrogates, above U+10FFFF), numbers outside the JSON grammar (leading zeros, "+1", "1.",
// ".5", "0x10", NaN, Infinity), nesting deeper than max_depth (recursion is bounded by it), more
// tokens than the caller's capacity, and texts of kJsonMaxText bytes or more (offsets are 32-bit).
// Duplicate keys are not refused here: what they mean is the format's business.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace ember {

constexpr int kJsonMaxDepth = 64;                 // the most a caller may ask for
constexpr int kJsonDefaultDepth = 32;
constexpr size_t kJsonMaxText = 0x7fffffffu;      // offsets fit in uint32_t with room to spare

enum class JsonType : uint8_t { object, array, string, number, true_value, false_value, null_value };
const char* json_type_name(JsonType t);

struct JsonToken {
  JsonType type = JsonType::null_value;
  uint32_t start = 0;     // first byte (for a string: after the opening quote)
  uint32_t end = 0;       // one past the last byte (for a string: the closing quote)
  uint32_t children = 0;  // object: keys; array: values; else 0
  uint32_t next = 0;      // index of the token after this one's subtree
  int32_t parent = -1;    // index of the enclosing object or array (a value's parent, not its key)
};

// A parsed document: the text and the tokens it was parsed into (both the caller's).
struct JsonDoc {
  const char* text = nullptr;
  size_t size = 0;
  const JsonToken* tokens = nullptr;
  size_t count = 0;
};

// Parses text[0..size) into tokens[0..capacity); on success *doc describes the result (the
// root is token 0). max_depth: how deep objects and arrays may nest (1 = no nesting), at most
// kJsonMaxDepth. A text of n bytes needs at most n / 2 + 1 tokens.
Status json_parse(const char* text, size_t size, JsonToken* tokens, size_t capacity, JsonDoc* doc,
                  int max_depth = kJsonDefaultDepth);

// The value token of `key` in object token `object`, or -1 (also when `object` is not an
// object). Keys compare after unescaping; with duplicate keys the first wins.
long json_find(const JsonDoc& doc, size_t object, const char* key);

// True when string token i, unescaped, equals the C string s.
bool json_equals(const JsonDoc& doc, size_t i, const char* s);

// Bytes string token i takes once unescaped into UTF-8 (without a terminator).
size_t json_unescaped_size(const JsonDoc& doc, size_t i);

// Unescapes string token i into out[0..cap) as UTF-8 with a terminating NUL; *len (optional)
// gets the length without it. A buffer too small is an error naming both sizes. Note that
// "\u0000" unescapes to a NUL inside the string.
Status json_unescape(const JsonDoc& doc, size_t i, char* out, size_t cap, size_t* len = nullptr);

// Number token i as an unsigned integer: digits only (no sign, fraction or exponent) and at
// most UINT64_MAX; anything else is an error naming the text.
Status json_to_u64(const JsonDoc& doc, size_t i, uint64_t* out);

// True when s[0..n) is UTF-8 as RFC 3629 has it (what json_parse accepts inside strings).
bool json_valid_utf8(const char* s, size_t n);

}  // namespace ember
