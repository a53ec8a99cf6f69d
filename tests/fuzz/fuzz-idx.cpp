// libFuzzer harness: idx_parse (data/idx.h) on hostile bytes. A parse that succeeds must
// describe exactly the buffer it was given: the elements end where the input ends.
#include "data/idx.h"
#include "tests/fuzz/harness.h"

using namespace ember;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  data::IdxArray a;
  const Status s = data::idx_parse(size ? data : nullptr, size, "fuzz.idx", &a);
  fuzz::check_refusal(s);
  if (!s.is_ok()) {
    if (a.data || a.count || a.rank) fuzz::fuzz_fail("a refused parse filled the output");
    return 0;
  }
  size_t count = 1;
  for (int d = 0; d < a.rank; ++d) count *= a.dims[d];
  if (a.rank < 1 || a.rank > data::kIdxMaxRank || count != a.count || a.data + a.count != data + size)
    fuzz::fuzz_fail("the parsed array does not cover the buffer exactly");
  volatile uint8_t sum = 0;  // every element readable (ASan)
  for (size_t i = 0; i < a.count; ++i) sum = static_cast<uint8_t>(sum + a.data[i]);
  return 0;
}
