// io/json.h: the token layout, lookups, unescaping (surrogate pairs included), integers, and
// one refusal per rule with the cause and byte offset in the message.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "io/json.h"
#include "tests/testing.h"

using namespace ember;
using ember::testing::message_has;

namespace {

struct Parsed {
  std::string text;
  std::vector<JsonToken> tokens;
  JsonDoc doc;
  Status status;
};
Parsed parse(const std::string& text, size_t capacity = 64, int depth = kJsonDefaultDepth) {
  Parsed p;
  p.text = text;
  p.tokens.resize(capacity);
  p.status = json_parse(p.text.data(), p.text.size(), p.tokens.data(), capacity, &p.doc, depth);
  return p;
}
}  // namespace

TEST_CASE("json: tokens in document order with children, next and parent") {
  const Parsed p = parse(R"( {"a": [1, 2], "b": null, "c": {"d": true}} )");
  REQUIRE(p.status.is_ok());
  REQUIRE(p.doc.count == 11);
  const JsonToken* t = p.doc.tokens;
  CHECK(t[0].type == JsonType::object);
  CHECK(t[0].children == 3);
  CHECK(t[0].next == 11);
  CHECK(t[0].start == 1);
  CHECK(t[0].end == p.text.size() - 1);
  CHECK(t[1].type == JsonType::string);
  CHECK(p.text.substr(t[1].start, t[1].end - t[1].start) == "a");
  CHECK(t[2].type == JsonType::array);
  CHECK(t[2].children == 2);
  CHECK(t[2].next == 5);
  CHECK(t[2].parent == 0);
  CHECK(t[3].type == JsonType::number);
  CHECK(t[3].parent == 2);
  CHECK(t[6].type == JsonType::null_value);
  CHECK(t[8].type == JsonType::object);
  CHECK(t[9].type == JsonType::string);
  CHECK(t[10].type == JsonType::true_value);
  CHECK(t[10].parent == 8);
  CHECK(json_find(p.doc, 0, "b") == 6);
  CHECK(json_find(p.doc, 0, "c") == 8);
  CHECK(json_find(p.doc, 0, "x") == -1);
  CHECK(json_find(p.doc, 2, "a") == -1);  // not an object
  CHECK(json_find(p.doc, 8, "d") == 10);
}

TEST_CASE("json: every kind of value, nested to the depth limit") {
  CHECK(parse("[true, false, null, -0.5e+10, 0, 1E-3, \"\", {}, []]").status.is_ok());
  CHECK(parse("  \"top-level string\"\n").status.is_ok());
  CHECK(parse("42").status.is_ok());
  CHECK(parse(std::string(32, '[') + std::string(32, ']')).status.is_ok());
  const Parsed deep = parse(std::string(33, '[') + std::string(33, ']'));
  CHECK(message_has(deep.status, "nesting deeper than 32 at byte 32"));
  CHECK(parse("[[1]]", 64, 1).status.code() == Code::corrupt_data);
  CHECK(parse("[1]", 64, 1).status.is_ok());
  CHECK(parse("[1]", 64, kJsonMaxDepth + 1).status.code() == Code::invalid_argument);
}

TEST_CASE("json: keys compare and unescape after decoding every escape") {
  const Parsed p =
      parse(R"({"\u0041b\"c": 1, "esc": "\"\\\/\b\f\n\r\t", "pair": "\ud83d\ude00 \u00e9\u20AC", "raw": "é"})");
  REQUIRE(p.status.is_ok());
  CHECK(json_find(p.doc, 0, "Ab\"c") == 2);
  CHECK(json_equals(p.doc, 1, "Ab\"c"));
  CHECK_FALSE(json_equals(p.doc, 1, "Ab\"cd"));
  CHECK_FALSE(json_equals(p.doc, 1, "Ab\""));
  char buf[32];
  size_t len = 0;
  REQUIRE(json_unescape(p.doc, size_t(json_find(p.doc, 0, "esc")), buf, sizeof buf, &len).is_ok());
  CHECK(std::string(buf, len) == "\"\\/\b\f\n\r\t");
  const size_t pair = size_t(json_find(p.doc, 0, "pair"));
  REQUIRE(json_unescape(p.doc, pair, buf, sizeof buf, &len).is_ok());
  CHECK(std::string(buf, len) == "\xF0\x9F\x98\x80 \xC3\xA9\xE2\x82\xAC");  // U+1F600, U+00E9, U+20AC
  CHECK(json_unescaped_size(p.doc, pair) == 10);
  CHECK(json_equals(p.doc, size_t(json_find(p.doc, 0, "raw")), "\xC3\xA9"));
  const Status small = json_unescape(p.doc, pair, buf, 10);
  CHECK(message_has(small, "needs 11 bytes"));
  CHECK(json_unescape(p.doc, 0, buf, sizeof buf).code() == Code::invalid_argument);  // not a string
}

TEST_CASE("json: integers to uint64 with overflow checked") {
  const Parsed p = parse("[0, 18446744073709551615, 18446744073709551616, -1, 1.5, 1e3, \"7\"]");
  REQUIRE(p.status.is_ok());
  uint64_t v = 1;
  REQUIRE(json_to_u64(p.doc, 1, &v).is_ok());
  CHECK(v == 0);
  REQUIRE(json_to_u64(p.doc, 2, &v).is_ok());
  CHECK(v == UINT64_MAX);
  CHECK(message_has(json_to_u64(p.doc, 3, &v), "above 2^64 - 1"));
  for (size_t i : {4, 5, 6}) CHECK(message_has(json_to_u64(p.doc, i, &v), "not a non-negative integer"));
  CHECK(message_has(json_to_u64(p.doc, 7, &v), "expected a number"));
}

TEST_CASE("json: each violation is refused with its cause and offset") {
  struct Case {
    const char* text;
    const char* cause;
  };
  const Case cases[] = {
      {"", "no value"},
      {"   ", "no value"},
      {"{\"a\":1} x", "unexpected 'x' at byte 8"},
      {"[1] [2]", "unexpected '[' at byte 4"},
      {"\"abc", "unterminated string starting at byte 0"},
      {"[\"a\\", "unterminated string starting at byte 1"},
      {"\"a\\u12\"", "bad escape"},
      {"\"a\\x\"", "bad escape in a string at byte 2"},
      {"\"a\x01\"", "control character"},
      {"\"a\tb\"", "control character"},
      {"\"\\ud800\"", "unpaired surrogate"},
      {"\"\\udc00\"", "unpaired surrogate"},
      {"\"\\ud800\\u0041\"", "unpaired surrogate"},
      {"\"\xff\"", "not UTF-8"},
      {"\"\xc0\xaf\"", "not UTF-8"},          // overlong '/'
      {"\"\xed\xa0\x80\"", "not UTF-8"},      // a surrogate encoded directly
      {"\"\xf4\x90\x80\x80\"", "not UTF-8"},  // above U+10FFFF
      {"\"\xe2\x82\"", "not UTF-8"},          // cut short
      {"01", "leading zero at byte 0"},
      {"[1, -01]", "leading zero at byte 4"},
      {"1.", "no digits after '.'"},
      {"1.e5", "no digits after '.'"},
      {".5", "expected a value at byte 0"},
      {"+1", "expected a value at byte 0"},
      {"-", "no digits"},
      {"1e", "no exponent digits"},
      {"1e+", "no exponent digits"},
      {"0x10", "unexpected 'x' at byte 1"},
      {"NaN", "expected a value"},
      {"Infinity", "expected a value"},
      {"tru", "bad literal at byte 0"},
      {"nul", "bad literal"},
      {"{", "unterminated object"},
      {"[1, 2", "unterminated array"},
      {"{\"a\" 1}", "expected ':'"},
      {"{\"a\":}", "expected a value at byte 5"},
      {"{\"a\":", "object ends before a value"},
      {"[1 2]", "expected ',' or ']' at byte 3"},
      {"{\"a\":1 \"b\":2}", "expected ',' or '}'"},
      {"{1:2}", "expected a string key at byte 1"},
      {"[1,]", "expected a value at byte 3"},
      {"{\"a\":1,}", "expected a string key"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const Parsed p = parse(c.text);
    CHECK(p.status.code() == Code::corrupt_data);
    CHECK(message_has(p.status, c.cause));
    CHECK(p.doc.count == 0);
  }
}

TEST_CASE("json: the token capacity and the text size are limits") {
  CHECK(parse("[1,2]", 3).status.is_ok());
  CHECK(message_has(parse("[1,2,3]", 3).status, "more than 3 tokens (the capacity) at byte 5"));
  CHECK(message_has(parse("1", 0).status, "more than 0 tokens"));
  JsonToken t[1];
  JsonDoc doc;
  CHECK(json_parse("1", kJsonMaxText, t, 1, &doc).code() == Code::corrupt_data);  // refused before reading
  CHECK(json_parse(nullptr, 1, t, 1, &doc).code() == Code::invalid_argument);
}

TEST_CASE("json: every cut of a document parses or is refused with a message") {
  const std::string text = R"({"k\u00e9y": [1, -2.5e3, "s\n\ud83d\ude00"], "o": {"t": true, "f": false, "n": null}})";
  REQUIRE(parse(text).status.is_ok());
  for (size_t n = 0; n < text.size(); ++n) {
    const Parsed p = parse(text.substr(0, n));
    CHECK_FALSE(p.status.is_ok());
    CHECK(std::strlen(p.status.message()) > 10);
  }
}

TEST_CASE("json: UTF-8 validation") {
  CHECK(json_valid_utf8("plain", 5));
  CHECK(json_valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9));
  CHECK_FALSE(json_valid_utf8("\x80", 1));
  CHECK_FALSE(json_valid_utf8("\xC3", 1));
  CHECK_FALSE(json_valid_utf8("\xE0\x80\x80", 3));
}
