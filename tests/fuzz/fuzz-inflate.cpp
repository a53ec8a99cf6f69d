// libFuzzer harness: inflate_raw, zlib_decompress, gzip_decompress, gzip_isize, is_gzip
// (io/inflate.h) on hostile bytes.
//
// Input: one control byte, then the stream. Control bits 0-1 pick the decoder (raw, zlib,
// gzip, and raw again with in_used); bits 2-4 the output capacity, including 0 with a null
// output, which the API allows. The output is a heap block of exactly that capacity, so ASan
// sees any write past it.
#include <cstring>
#include <vector>

#include "io/inflate.h"
#include "tests/fuzz/harness.h"

using namespace ember;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const uint8_t* in = size > 1 ? data + 1 : nullptr;
  const size_t n_in = size - 1;
  static const size_t kCapacities[8] = {0, 0, 1, 7, 100, 1000, 70000, 1 << 18};
  const int pick = (control >> 2) & 7;
  const size_t cap = kCapacities[pick];
  std::vector<uint8_t> buf(cap);
  static uint8_t spare[1];  // capacity 0 with a real pointer (pick 1) as well as null (pick 0)
  uint8_t* out = cap ? buf.data() : pick == 0 ? nullptr : spare;

  size_t n = 12345, used = 12345;
  Status s;
  switch (control & 3) {
    case 0: s = inflate_raw(in, n_in, out, cap, &n); break;
    case 1: s = zlib_decompress(in, n_in, out, cap, &n); break;
    case 2: {
      s = gzip_decompress(in, n_in, out, cap, &n);
      uint32_t isize = 7;
      const Status si = gzip_isize(in, n_in, &isize);
      fuzz::check_refusal(si);
      if (!si.is_ok() && isize != 0) fuzz::fuzz_fail("gzip_isize failed but left a size");
      if (s.is_ok() && (!si.is_ok() || isize != static_cast<uint32_t>(n)))
        fuzz::fuzz_fail("a gzip member that decodes disagrees with its ISIZE", si);
      if (s.is_ok() && !is_gzip(in, n_in)) fuzz::fuzz_fail("decoded gzip without the magic");
      break;
    }
    default:
      s = inflate_raw(in, n_in, out, cap, &n, &used);
      if (s.is_ok() && used > n_in) fuzz::fuzz_fail("in_used beyond the input");
      if (!s.is_ok() && used != 0) fuzz::fuzz_fail("in_used set on failure");
      break;
  }
  fuzz::check_refusal(s);
  if (s.is_ok() && n > cap) fuzz::fuzz_fail("more output than the capacity");
  if (!s.is_ok() && n != 0) fuzz::fuzz_fail("out_size set on failure");
  // Too small an output is out_of_memory, never blamed on the input.
  if (s.code() == Code::out_of_memory && !std::strstr(s.message(), "-byte buffer"))
    fuzz::fuzz_fail("out_of_memory that does not name the buffer", s);
  return 0;
}
