// libFuzzer harness: the models' config text parsers (AeConfig, GanConfig, ClassifierConfig
// ::from_text), which read the meta text of any checkpoint handed to the tool.
//
// Input: one control byte picking the parser, then the text (cut at its first NUL, as a C
// string would be). Promises: a refused text leaves the config as it was; an accepted one
// prints (to_text) to a text that parses back to the same text.
#include <cstring>
#include <string>

#include "models/ae-network.h"
#include "models/classifier-network.h"
#include "models/gan-network.h"
#include "tests/fuzz/harness.h"

using namespace ember;

namespace {

template <class Config>
void round_trip(const char* text) {
  Config c, before;
  char printed[4096], again[4096];
  before.to_text(printed, sizeof printed);
  const Status s = c.from_text(text);
  fuzz::check_refusal(s);
  const Status p = c.to_text(again, sizeof again);
  if (!s.is_ok()) {
    if (!p.is_ok() || std::strcmp(printed, again) != 0) fuzz::fuzz_fail("a refused text changed the config", s);
    return;
  }
  if (!p.is_ok()) fuzz::fuzz_fail("an accepted config does not print", p);
  Config back;
  const Status b = back.from_text(again);
  if (!b.is_ok()) fuzz::fuzz_fail("a printed config does not parse back", b);
  if (!back.to_text(printed, sizeof printed).is_ok() || std::strcmp(printed, again) != 0)
    fuzz::fuzz_fail("print, parse, print gives another text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);  // c_str() ends at a NUL inside
  switch (data[0] % 3) {
    case 0: round_trip<models::AeConfig>(text.c_str()); break;
    case 1: round_trip<models::GanConfig>(text.c_str()); break;
    default: round_trip<models::ClassifierConfig>(text.c_str()); break;
  }
  return 0;
}
