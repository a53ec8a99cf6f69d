// safetensors (Hugging Face): named tensors in one file, read and written with no heap.
//
//   bytes 0-7    N, the header's length (unsigned 64-bit, little-endian)
//   bytes 8..    N bytes of UTF-8 JSON, starting with '{' and possibly padded with spaces:
//                {"__metadata__": {"format": "pt"},
//                 "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
//   then         the data buffer; data_offsets [begin, end) count from its first byte (8 + N),
//                elements little-endian, C order.
//
// Reading treats the file as hostile. Refused, each naming the file (or "memory") and the
// tensor: N above kSafetensorsMaxHeader or past the end of the file; a header that does not
// start with '{' or is not JSON (io/json.h: depth and token limits, strict syntax and UTF-8);
// an entry with keys other than exactly dtype, shape and data_offsets; an unknown dtype; a
// shape of rank above kSafetensorsMaxRank or whose element count overflows; offsets that are
// not [begin <= end] inside the data buffer, or whose length is not elements * dtype size;
// tensors that overlap or leave a hole, or do not end at the end of the buffer (the spec asks
// for a dense buffer); names empty, longer than kSafetensorsMaxName bytes or repeated;
// metadata that is not an object of strings; more tensors than the caller's room.
//
// The caller provides the room: JSON tokens (safetensors_tokens() counts them) and an array
// of SafetensorsTensor. Parsing sorts that array in place by data offset (heap sort, no
// memory of its own); files written here and by the reference library store tensors in the
// header in that same order, so the order is the header's.
//
// Writing emits F32 tensors in the order given, data offsets in that order, metadata first,
// a compact header padded with spaces to a multiple of 8 bytes: what the reference library
// itself writes (it orders tensors by dtype size, then name, which any reader accepts).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "io/file.h"
#include "io/json.h"

namespace ember {

constexpr int kSafetensorsMaxRank = 8;
constexpr size_t kSafetensorsMaxName = 255;               // bytes of UTF-8, after unescaping
constexpr uint64_t kSafetensorsMaxHeader = 100000000;     // as the reference library
constexpr size_t kSafetensorsPrefix = 8;                  // the length field

enum class SafetensorsDtype : uint8_t {
  boolean, u8, i8, f8_e5m2, f8_e4m3, i16, u16, f16, bf16, i32, u32, f32, f64, i64, u64
};
const char* safetensors_dtype_name(SafetensorsDtype d);  // "F32", "BF16", ...
size_t safetensors_dtype_size(SafetensorsDtype d);      // bytes per element

struct SafetensorsTensor {
  char name[kSafetensorsMaxName + 1] = {0};  // unescaped, NUL-terminated
  SafetensorsDtype dtype = SafetensorsDtype::f32;
  int rank = 0;
  uint64_t dims[kSafetensorsMaxRank] = {};
  uint64_t numel = 0;   // product of dims (1 for rank 0)
  uint64_t offset = 0;  // from the start of the data buffer
  uint64_t bytes = 0;   // numel * dtype size
};

// Tokens a header with these many tensors and metadata entries needs at most.
constexpr size_t safetensors_tokens(size_t tensors, size_t metadata) {
  return 3 + 2 * metadata + (10 + kSafetensorsMaxRank) * tensors;
}

// Memory a parse works in, the caller's: tokens for the header's JSON, entries for tensors.
struct SafetensorsRoom {
  JsonToken* tokens = nullptr;
  size_t token_capacity = 0;
  SafetensorsTensor* tensors = nullptr;
  size_t tensor_capacity = 0;
};

// Element conversions to float32, exact (every F16 and BF16 value is a float32 value; NaN
// stays NaN with its payload shifted into place).
float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t h);

// A parsed header. It points into the header text and the room it was parsed with (and for
// parse_file(), the data after it): keep those alive and unchanged while using it.
class SafetensorsView {
 public:
  // A whole file in memory, file[0..size): header and data. `name` goes in front of errors.
  Status parse_file(const uint8_t* file, size_t size, const SafetensorsRoom& room, const char* name = "memory");
  // The first 8 + N bytes of a file of file_size bytes (the data stays where it is: read it
  // with SafetensorsFile). Needs header_size == 8 + N exactly.
  Status parse_header(const uint8_t* header, size_t header_size, uint64_t file_size, const SafetensorsRoom& room,
                      const char* name = "memory");

  size_t count() const { return count_; }
  const SafetensorsTensor& tensor(size_t i) const { return room_.tensors[i]; }
  const SafetensorsTensor* find(const char* name) const;  // null when absent
  uint64_t data_start() const { return data_start_; }       // 8 + N
  uint64_t data_size() const { return data_size_; }

  size_t metadata_count() const;
  // The value of metadata `key`, unescaped into out[0..cap) with a NUL. *found false (and ok)
  // when absent; a buffer too small is an error.
  Status metadata(const char* key, char* out, size_t cap, bool* found) const;

  // Tensor t (of parse_file()'s buffer) as float32 into dst[0..capacity): F32 copied, F16 and
  // BF16 converted; other dtypes and a capacity below t.numel are errors.
  Status read_f32(const SafetensorsTensor& t, float* dst, size_t capacity) const;

 private:
  Status parse(const char* json, size_t json_size, uint64_t data_size, const SafetensorsRoom& room);
  SafetensorsRoom room_;
  JsonDoc doc_;
  long metadata_ = -1;  // token of the __metadata__ object
  size_t count_ = 0;
  const uint8_t* data_ = nullptr;  // parse_file() only
  uint64_t data_start_ = 0, data_size_ = 0;
  char name_[48] = {0};
};

// 8 + N: the bytes the header of the file at path takes, to size the buffer for
// SafetensorsFile::open (N checked against kSafetensorsMaxHeader and the file's size).
Status safetensors_header_size(const char* path, uint64_t* bytes);

// A safetensors file read on demand: the header at open, each tensor's bytes when asked.
class SafetensorsFile {
 public:
  // Reads and parses the header into header[0..header_capacity) (safetensors_header_size()).
  Status open(const char* path, uint8_t* header, size_t header_capacity, const SafetensorsRoom& room);
  const SafetensorsView& view() const { return view_; }
  // As SafetensorsView::read_f32, from the file; a file that ends early is "truncated".
  Status read_f32(const SafetensorsTensor& t, float* dst, size_t capacity);

 private:
  ReadFile file_;
  SafetensorsView view_;
};

// ---- writing ----

struct SafetensorsInput {  // one F32 tensor to write
  const char* name = nullptr;
  int rank = 0;
  uint64_t dims[kSafetensorsMaxRank] = {};
  const float* data = nullptr;  // product of dims floats, C order
};
struct SafetensorsMeta {  // one metadata entry
  const char* key = nullptr;
  const char* value = nullptr;
};
struct SafetensorsWriteList {
  const SafetensorsInput* tensors = nullptr;
  size_t count = 0;
  const SafetensorsMeta* metadata = nullptr;
  size_t metadata_count = 0;
};

// The exact size of the file safetensors_write would make (and of its header, 8 + N), after
// checking the list: names non-empty, unique, valid UTF-8, at most kSafetensorsMaxName bytes
// and not "__metadata__"; metadata keys the same; rank <= kSafetensorsMaxRank; data present;
// the header at most kSafetensorsMaxHeader bytes.
Status safetensors_size(const SafetensorsWriteList& list, uint64_t* bytes, uint64_t* header_bytes = nullptr);
Status safetensors_write(const SafetensorsWriteList& list, uint8_t* out, size_t capacity, size_t* written);
// To a file, atomically (AtomicWriter: a failed save leaves an old file at path as it was).
Status safetensors_save(const char* path, const SafetensorsWriteList& list);

}  // namespace ember
