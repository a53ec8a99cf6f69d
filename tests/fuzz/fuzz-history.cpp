// libFuzzer harness: the training history CSV reader (train/history.h History::read_csv),
// which reads the log next to a checkpoint when a run resumes, through a real file.
//
// Input: the file. Promises: rows stay within the history's room, no kept row has an epoch
// above the checkpoint's, and a refusal names the file.
#include <cstring>
#include <vector>

#include "core/arena.h"
#include "tests/fuzz/harness.h"
#include "train/history.h"

using namespace ember;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kNames[] = {"epoch", "loss", "seconds"};
  constexpr int kRoom = 6, kMaxEpoch = 4;
  static std::vector<uint8_t> buf(1 << 12);
  Arena arena(buf.data(), buf.size());
  train::History h;
  if (!h.init(&arena, kNames, 3, kRoom).is_ok()) fuzz::fuzz_fail("history set-up");
  const char* path = fuzz::input_file("history", data, size);
  const Status s = h.read_csv(path, kMaxEpoch);
  fuzz::check_refusal(s);
  if (!s.is_ok() && !std::strstr(s.message(), "ember-fuzz-history"))
    fuzz::fuzz_fail("the message does not name the file", s);
  if (h.rows() < 0 || h.rows() > kRoom) fuzz::fuzz_fail("rows beyond the room");
  for (int r = 0; r < h.rows(); ++r)
    if (!(h.row(r)[0] <= kMaxEpoch)) fuzz::fuzz_fail("a row past the checkpoint's epoch was kept");
  return 0;
}
