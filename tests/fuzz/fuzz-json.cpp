// libFuzzer harness: json_parse (io/json.h) on hostile text, with the token capacity and the
// depth limit from the first byte.
//
// Promises of an accepted text: every token lies within the text, a container's children are
// exactly the tokens up to its `next` (an object's keys strings), parents come before their
// children, and every string unescapes to json_unescaped_size() bytes that json_equals()
// matches. A refusal has a message and leaves no tokens counted.
#include <cstring>
#include <vector>

#include "io/json.h"
#include "tests/fuzz/harness.h"

using namespace ember;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const size_t kCapacities[4] = {0, 4, 64, 4096};
  const size_t capacity = kCapacities[data[0] & 3];
  const int depth = 1 + (data[0] >> 2) % kJsonMaxDepth;
  static std::vector<JsonToken> tokens(4096);
  const char* text = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;
  JsonDoc doc;
  const Status s = json_parse(n ? text : nullptr, n, tokens.data(), capacity, &doc, depth);
  fuzz::check_refusal(s);
  if (!s.is_ok()) {
    if (doc.count || doc.tokens) fuzz::fuzz_fail("a refused parse filled the document");
    return 0;
  }
  if (doc.count == 0 || doc.count > capacity || doc.tokens[0].next != doc.count) fuzz::fuzz_fail("token count");
  static std::vector<char> buf(8192);
  for (size_t i = 0; i < doc.count; ++i) {
    const JsonToken& t = doc.tokens[i];
    if (t.start > t.end || t.end > n || t.next <= i || t.next > doc.count) fuzz::fuzz_fail("token bounds");
    if (i > 0 && (t.parent < 0 || size_t(t.parent) >= i)) fuzz::fuzz_fail("parent after child");
    if (t.type == JsonType::object || t.type == JsonType::array) {
      size_t k = i + 1;
      for (uint32_t c = 0; c < t.children; ++c) {
        if (k >= t.next) fuzz::fuzz_fail("children beyond the subtree");
        if (t.type == JsonType::object) {
          if (doc.tokens[k].type != JsonType::string || doc.tokens[k].next != k + 1) fuzz::fuzz_fail("a key not a string");
          ++k;
        }
        if (doc.tokens[k].parent != static_cast<int32_t>(i)) fuzz::fuzz_fail("a child with another parent");
        k = doc.tokens[k].next;
      }
      if (k != t.next) fuzz::fuzz_fail("children do not fill the subtree");
    } else if (t.next != i + 1 || t.children) {
      fuzz::fuzz_fail("a leaf with children");
    }
    if (t.type == JsonType::string) {
      size_t len = 0;
      const Status u = json_unescape(doc, i, buf.data(), buf.size(), &len);
      if (!u.is_ok() || len != json_unescaped_size(doc, i) || len > t.end - t.start) fuzz::fuzz_fail("unescape", u);
      if (!json_valid_utf8(buf.data(), len)) fuzz::fuzz_fail("unescaped text is not UTF-8");
      if (std::strlen(buf.data()) == len && !json_equals(doc, i, buf.data())) fuzz::fuzz_fail("a string unequal to itself");
    }
    if (t.type == JsonType::number) {
      uint64_t v = 0;
      fuzz::check_refusal(json_to_u64(doc, i, &v));
    }
  }
  return 0;
}
