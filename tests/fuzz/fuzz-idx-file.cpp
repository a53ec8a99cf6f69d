// libFuzzer harness: an IDX image file as data/ reads it (data/mnist.h load_idx_images),
// raw or gzip-compressed, through a real file: the .gz path sizes, inflates and checks it,
// then parses the IDX inside.
//
// Input: one control byte picking the arena size (so shortfalls are exercised too), then the
// file's bytes. Promises: a failure names the file and leaves the arena and the output as
// they were; a success describes images inside the arena.
#include <cstring>
#include <vector>

#include "core/arena.h"
#include "data/mnist.h"
#include "tests/fuzz/harness.h"

using namespace ember;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const size_t kArena[4] = {1 << 10, 1 << 13, 1 << 16, 1 << 20};
  static std::vector<uint8_t> buf(kArena[3] + 64);
  Arena arena(buf.data(), kArena[data[0] & 3]);
  void* keep = nullptr;
  if (!arena.alloc(64, &keep).is_ok()) fuzz::fuzz_fail("arena set-up");
  const size_t used = arena.used();
  const char* path = fuzz::input_file("idx-file", data + 1, size - 1);

  data::Dataset ds;
  ds.count = -7;
  const Status s = data::load_idx_images(&arena, path, nullptr, &ds);
  fuzz::check_refusal(s);
  if (!s.is_ok()) {
    if (arena.used() != used || ds.count != -7 || ds.pixels) fuzz::fuzz_fail("a refused file changed something", s);
    if (!std::strstr(s.message(), "ember-fuzz-idx-file")) fuzz::fuzz_fail("the message does not name the file", s);
    return 0;
  }
  const uint8_t* lo = static_cast<const uint8_t*>(keep);
  const size_t pixels = static_cast<size_t>(ds.count) * ds.rows * ds.cols;
  if (ds.count < 1 || ds.rows < 1 || ds.cols < 1 || ds.pixels < lo || ds.pixels + pixels > lo + arena.capacity())
    fuzz::fuzz_fail("the images are not inside the arena");
  return 0;
}
