// libFuzzer harness: the .npy reader (io/npy.h) from memory and from a file, and the writer
// on what it accepted.
//
// Promises of an accepted file: the header is followed by exactly numel float32 that end where
// the input ends; the file path gives the same verdict, shape and bits, and names the file
// when it refuses; writing the array back and parsing that gives the same shape and bits.
#include <cstring>
#include <vector>

#include "io/npy.h"
#include "tests/fuzz/harness.h"

using namespace ember;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kMaxFloats = 1 << 14;
  static std::vector<float> values(kMaxFloats), again(kMaxFloats);
  NpyArray a;
  const Status s = npy_parse(size ? data : nullptr, size, "fuzz.npy", &a);
  fuzz::check_refusal(s);
  if (!s.is_ok() && (a.data || a.numel || !std::strstr(s.message(), "fuzz.npy")))
    fuzz::fuzz_fail("a refusal filled the output or did not name the file", s);

  const char* path = fuzz::input_file("npy", data, size);
  NpyArray info;
  const Status fs = npy_read_info(path, &info);
  fuzz::check_refusal(fs);
  if (fs.is_ok() != s.is_ok()) fuzz::fuzz_fail("memory and file disagree", s.is_ok() ? fs : s);
  if (!fs.is_ok() && !std::strstr(fs.message(), "ember-fuzz-npy")) fuzz::fuzz_fail("file not named", fs);
  if (!s.is_ok()) return 0;

  if (a.rank < 0 || a.rank > kNpyMaxRank || a.data != data + a.data_offset || a.data_offset + 4 * a.numel != size ||
      info.numel != a.numel || info.rank != a.rank || std::memcmp(info.dims, a.dims, sizeof a.dims) != 0)
    fuzz::fuzz_fail("the parsed array does not end where the input ends");
  uint64_t numel = 1;
  for (int d = 0; d < a.rank; ++d) numel *= a.dims[d];
  if (numel != a.numel) fuzz::fuzz_fail("numel is not the product of dims");
  const Status r = npy_read_f32(a, values.data(), kMaxFloats);
  if (r.is_ok() != (a.numel <= kMaxFloats)) fuzz::fuzz_fail("read verdict", r);
  if (!r.is_ok()) return 0;
  const Status lr = npy_load(path, again.data(), kMaxFloats);
  if (!lr.is_ok() || std::memcmp(again.data(), values.data(), 4 * a.numel)) fuzz::fuzz_fail("the file reads differently", lr);

  uint64_t bytes = 0;
  if (!npy_size(a.dims, a.rank, &bytes).is_ok()) fuzz::fuzz_fail("the writer refuses the shape");
  static std::vector<uint8_t> out;
  out.resize(bytes);
  size_t written = 0;
  if (!npy_write(a.dims, a.rank, values.data(), out.data(), out.size(), &written).is_ok() || written != bytes)
    fuzz::fuzz_fail("write");
  NpyArray back;
  const Status bs = npy_parse(out.data(), out.size(), "back", &back);
  if (!bs.is_ok() || back.rank != a.rank || std::memcmp(back.dims, a.dims, sizeof a.dims) != 0 ||
      back.data_offset % kNpyAlign != 0 || std::memcmp(back.data, a.data, 4 * a.numel) != 0)
    fuzz::fuzz_fail("the written file reads back differently", bs);
  return 0;
}
