// NumPy .npy files of float32, read and written with no heap.
//
//   bytes 0-5   "\x93NUMPY"
//   bytes 6-7   version major (1, 2 or 3), minor (0)
//   then        the header length: uint16 little-endian (version 1) or uint32 (2 and 3)
//   then        the header: a Python dict literal in ASCII (version 3: UTF-8), padded with
//               spaces and ended by '\n' so the data starts at a multiple of 64 (once 16):
//               {'descr': '<f4', 'fortran_order': False, 'shape': (64, 20), }
//   then        the elements, C order, nothing after.
//
// Reading treats the file as hostile. The dict is parsed here, not evaluated: keys in any
// order, single or double quotes (no escapes), whitespace, an optional trailing comma; exactly
// the keys descr, fortran_order and shape. Refused, naming the file and the cause: a bad magic
// or version, a header longer than kNpyMaxHeader, a descr other than '<f4' (little-endian
// float32; the message names it), fortran_order True, a shape that is not a tuple of
// non-negative integers ("(n)" without the comma is an int, not a tuple) or has more than
// kNpyMaxRank entries or an element count that overflows, and data that is not exactly
// elements * 4 bytes ("truncated" when short). () is a scalar: one element.
//
// Writing makes version 1.0 with the header numpy writes, padded to 64-byte alignment.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace ember {

constexpr int kNpyMaxRank = 8;
constexpr size_t kNpyMaxHeader = 4096;  // header bytes this reader takes (numpy writes ~100)
constexpr size_t kNpyAlign = 64;

struct NpyArray {
  int rank = 0;
  uint64_t dims[kNpyMaxRank] = {};
  uint64_t numel = 0;             // product of dims (1 for rank 0)
  uint64_t data_offset = 0;       // bytes before the data
  const uint8_t* data = nullptr;  // npy_parse only: numel little-endian float32, in the buffer
};

// Parses a whole .npy file in memory, buf[0..size); `name` goes in front of errors.
Status npy_parse(const uint8_t* buf, size_t size, const char* name, NpyArray* out);
// The parsed elements (npy_parse) as float32 into dst[0..capacity), capacity >= numel.
Status npy_read_f32(const NpyArray& a, float* dst, size_t capacity);

// The header of the file at path (regular files only), checked against the file's size; to
// size the buffer for npy_load. out->data stays null.
Status npy_read_info(const char* path, NpyArray* out);
// The whole array into dst[0..capacity); *out (optional) gets its shape.
Status npy_load(const char* path, float* dst, size_t capacity, NpyArray* out = nullptr);

// The exact size of the file npy_write makes for this shape (rank 0 to kNpyMaxRank).
Status npy_size(const uint64_t* dims, int rank, uint64_t* bytes);
Status npy_write(const uint64_t* dims, int rank, const float* data, uint8_t* out, size_t capacity, size_t* written);
// To a file, atomically (io/file.h AtomicWriter).
Status npy_save(const char* path, const uint64_t* dims, int rank, const float* data);

}  // namespace ember
