// libFuzzer harness: the safetensors reader (io/safetensors.h) from memory and from a file,
// and the writer on what it accepted.
//
// Input: a control byte (bits 0-1: tensor room 0, 1, 4 or 64; bit 2: a token room of 16
// instead of plenty), then the file. Promises of an accepted file: the tensors tile the data
// buffer in order and lie within the input; names are non-empty, unique and found by find();
// F32, F16 and BF16 tensors read as float32 and other dtypes are refused with a message; the
// file path gives the same verdict and the same bits, and names the file when it refuses;
// writing the tensors back (as F32) and reading that gives the same names, shapes and bits.
#include <cstring>
#include <vector>

#include "io/safetensors.h"
#include "tests/fuzz/harness.h"

using namespace ember;

namespace {

constexpr size_t kMaxFloats = 1 << 14;

bool readable(const SafetensorsTensor& t) {
  return t.dtype == SafetensorsDtype::f32 || t.dtype == SafetensorsDtype::f16 || t.dtype == SafetensorsDtype::bf16;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const size_t kTensorRooms[4] = {0, 1, 4, 64};
  static std::vector<JsonToken> tokens(safetensors_tokens(64, 64));
  static std::vector<SafetensorsTensor> tensors(64), file_tensors(64), back_tensors(64);
  SafetensorsRoom room;
  room.tokens = tokens.data(), room.token_capacity = data[0] & 4 ? 16 : tokens.size();
  room.tensors = tensors.data(), room.tensor_capacity = kTensorRooms[data[0] & 3];
  const uint8_t* file = data + 1;
  const size_t n = size - 1;

  SafetensorsView view;
  const Status s = view.parse_file(n ? file : nullptr, n, room, "fuzz.safetensors");
  fuzz::check_refusal(s);
  if (!s.is_ok() && (view.count() || !std::strstr(s.message(), "fuzz.safetensors")))
    fuzz::fuzz_fail("a refusal kept tensors or did not name the file", s);

  // The file path: the same verdict, the same tensors.
  const char* path = fuzz::input_file("safetensors", file, n);
  static std::vector<JsonToken> file_tokens(tokens.size());
  SafetensorsRoom froom = room;
  froom.tokens = file_tokens.data(), froom.tensors = file_tensors.data();
  uint64_t header = 0;
  const Status hs = safetensors_header_size(path, &header);
  fuzz::check_refusal(hs);
  static std::vector<uint8_t> head;
  SafetensorsFile sf;
  Status fs = hs;
  if (hs.is_ok()) {
    head.resize(header);
    fs = sf.open(path, head.data(), head.size(), froom);
  }
  fuzz::check_refusal(fs);
  if (fs.is_ok() != s.is_ok()) fuzz::fuzz_fail("memory and file disagree", s.is_ok() ? fs : s);
  if (!fs.is_ok() && !std::strstr(fs.message(), "ember-fuzz-safetensors")) fuzz::fuzz_fail("file not named", fs);
  if (!s.is_ok()) return 0;

  if (view.data_start() + view.data_size() != n || sf.view().count() != view.count())
    fuzz::fuzz_fail("the data buffer is not the rest of the input");
  static std::vector<float> values(kMaxFloats), again(kMaxFloats);
  static std::vector<SafetensorsInput> inputs(64);
  size_t used = 0;
  bool writable = true;
  uint64_t next = 0;
  for (size_t i = 0; i < view.count(); ++i) {
    const SafetensorsTensor& t = view.tensor(i);
    if (t.offset != next || t.bytes != t.numel * safetensors_dtype_size(t.dtype) || t.name[0] == '\0' ||
        view.find(t.name) != &t || std::strcmp(sf.view().tensor(i).name, t.name) != 0)
      fuzz::fuzz_fail("tensors do not tile the data, or a name is empty or repeated");
    next = t.offset + t.bytes;
    const Status r = view.read_f32(t, values.data() + used, kMaxFloats - used);
    fuzz::check_refusal(r);
    if (r.is_ok() != (readable(t) && t.numel <= kMaxFloats - used)) fuzz::fuzz_fail("read_f32 verdict", r);
    if (!r.is_ok()) {
      writable = false;
      continue;
    }
    const Status fr = sf.read_f32(sf.view().tensor(i), again.data(), kMaxFloats);
    if (!fr.is_ok() || std::memcmp(again.data(), values.data() + used, 4 * t.numel) != 0)
      fuzz::fuzz_fail("the file reads other values", fr);
    SafetensorsInput& in = inputs[i];
    in = SafetensorsInput();
    in.name = t.name, in.rank = t.rank, in.data = values.data() + used;
    std::memcpy(in.dims, t.dims, sizeof in.dims);
    used += t.numel;
  }
  if (next != view.data_size()) fuzz::fuzz_fail("the tensors leave data uncovered");
  char value[64];
  bool found = false;
  fuzz::check_refusal(view.metadata("format", value, sizeof value, &found));

  // Written back as F32 and read again: the same tensors, bit for bit.
  if (!writable) return 0;
  SafetensorsWriteList list;
  list.tensors = inputs.data(), list.count = view.count();
  uint64_t bytes = 0;
  const Status ws = safetensors_size(list, &bytes);
  if (!ws.is_ok()) fuzz::fuzz_fail("the writer refuses what the reader accepted", ws);
  static std::vector<uint8_t> out;
  out.resize(bytes);
  size_t written = 0;
  if (!safetensors_write(list, out.data(), out.size(), &written).is_ok() || written != bytes) fuzz::fuzz_fail("write");
  SafetensorsRoom broom = room;
  broom.tensors = back_tensors.data(), broom.token_capacity = tokens.size();
  SafetensorsView back;
  const Status bs = back.parse_file(out.data(), out.size(), broom);
  if (!bs.is_ok() || back.count() != view.count()) fuzz::fuzz_fail("the written file does not read back", bs);
  for (size_t i = 0; i < back.count(); ++i) {
    const SafetensorsTensor& t = back.tensor(i);
    if (std::strcmp(t.name, inputs[i].name) != 0 || t.rank != inputs[i].rank ||
        std::memcmp(t.dims, inputs[i].dims, sizeof t.dims) != 0 || t.dtype != SafetensorsDtype::f32)
      fuzz::fuzz_fail("a written tensor reads back as another");
    if (!back.read_f32(t, again.data(), kMaxFloats).is_ok() || std::memcmp(again.data(), inputs[i].data, 4 * t.numel))
      fuzz::fuzz_fail("written values read back differently");
  }
  return 0;
}
