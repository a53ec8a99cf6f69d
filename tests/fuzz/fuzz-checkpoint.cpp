// libFuzzer harness: checkpoints (nn/checkpoint.h) read from memory and from a file, the meta
// text alone (read_checkpoint_meta) and the model family it names (models checkpoint_kind).
//
// Each input is tried as it is and with its trailing CRC-32 recomputed, so mutations get
// past the checksum to the structure checks and to the second, copying pass. Promises: a
// refused checkpoint leaves the model (arena, optimizers, RNGs, step) byte for byte as it
// was; memory and file give the same verdict; meta text comes back NUL-terminated. The same
// for a sampler with int8 weights, copied (memory, file) or read in place (memory: the
// loaded weights then point inside the input).
#include <cstring>
#include <vector>

#include "io/crc32.h"
#include "models/checkpoint-kind.h"
#include "tests/fuzz/checkpoint-model.h"
#include "tests/fuzz/harness.h"

using namespace ember;

namespace {

struct Snapshot {
  std::vector<uint8_t> arena;
  uint8_t opts[sizeof(nn::Optimizer) * 2], rngs[sizeof(Rng) * 2];
  uint64_t step;
  explicit Snapshot(const fuzz::CheckpointModel& m) : arena(m.buf), step(m.step) {
    std::memcpy(opts, static_cast<const void*>(m.opts), sizeof opts);
    std::memcpy(rngs, static_cast<const void*>(m.rngs), sizeof rngs);
  }
  bool same(const fuzz::CheckpointModel& m) const {
    return arena == m.buf && step == m.step && std::memcmp(opts, static_cast<const void*>(m.opts), sizeof opts) == 0 &&
           std::memcmp(rngs, static_cast<const void*>(m.rngs), sizeof rngs) == 0;
  }
};

// A refusal changes nothing; a success leaves NUL-terminated meta text.
void judge(const fuzz::CheckpointModel& m, const Snapshot& before, const Status& s) {
  fuzz::check_refusal(s);
  if (!s.is_ok() && !before.same(m)) fuzz::fuzz_fail("a refused checkpoint changed the model", s);
  if (s.is_ok() && !std::memchr(m.meta, 0, sizeof m.meta)) fuzz::fuzz_fail("meta text not terminated");
}

// The int8 sampler: copied from memory and from a file (the same verdict), and in place.
void int8_loads(const uint8_t* data, size_t size, const char* path) {
  static fuzz::Int8Model copy(false), in_place(true);
  if (!copy.ok || !in_place.ok) fuzz::fuzz_fail("int8 model set-up");
  std::vector<uint8_t> before(copy.buf);
  const Status mem = nn::load_checkpoint_from_memory(data, size, &copy.params, nn::CheckpointState());
  fuzz::check_refusal(mem);
  if (!mem.is_ok() && before != copy.buf) fuzz::fuzz_fail("a refused int8 checkpoint changed the model", mem);
  before = copy.buf;
  const Status file = nn::load_checkpoint(path, &copy.params, nn::CheckpointState());
  fuzz::check_refusal(file);
  if (!file.is_ok() && before != copy.buf) fuzz::fuzz_fail("a refused int8 checkpoint changed the model", file);
  if (file.is_ok() != mem.is_ok()) fuzz::fuzz_fail("int8: memory and file disagree", file);

  const int8_t* q_before = in_place.params[0].q;
  before = in_place.buf;
  const Status flash = nn::load_checkpoint_from_memory(data, size, &in_place.params, nn::CheckpointState());
  fuzz::check_refusal(flash);
  if (flash.is_ok() != mem.is_ok()) fuzz::fuzz_fail("int8: in place and copied disagree", flash);
  if (!flash.is_ok() && (before != in_place.buf || in_place.params[0].q != q_before))
    fuzz::fuzz_fail("a refused int8 checkpoint changed the in-place model", flash);
  const uint8_t* q = reinterpret_cast<const uint8_t*>(in_place.params[0].q);
  if (flash.is_ok() && (q < data || q + in_place.params[0].numel() > data + size))
    fuzz::fuzz_fail("int8 weights read in place point outside the input");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::CheckpointModel m;
  if (!m.ok) fuzz::fuzz_fail("model set-up");
  std::vector<uint8_t> fixed(data, data + size);
  if (size >= 4) {
    const uint32_t crc = crc32_update(kCrc32Init, data, size - 4);
    for (int i = 0; i < 4; ++i) fixed[size - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
  }
  const Snapshot first(m);
  judge(m, first, nn::load_checkpoint_from_memory(size ? data : nullptr, size, &m.params, m.state()));

  const Snapshot second(m);
  const Status from_memory = nn::load_checkpoint_from_memory(fixed.data(), size, &m.params, m.state());
  judge(m, second, from_memory);

  const char* path = fuzz::input_file("checkpoint", fixed.data(), size);
  const Snapshot third(m);
  const Status from_file = nn::load_checkpoint(path, &m.params, m.state());
  judge(m, third, from_file);
  if (from_file.is_ok() != from_memory.is_ok()) fuzz::fuzz_fail("memory and file disagree", from_file);

  int8_loads(fixed.data(), size, path);

  char meta[nn::kMaxCheckpointMeta + 1];
  const Status sm = nn::read_checkpoint_meta(path, meta, sizeof meta);
  fuzz::check_refusal(sm);
  if (sm.is_ok() && !std::memchr(meta, 0, sizeof meta)) fuzz::fuzz_fail("read_checkpoint_meta: not terminated");
  models::CheckpointKind kind;
  fuzz::check_refusal(models::checkpoint_kind(path, &kind));
  return 0;
}
