// IDX: the array format of MNIST and its relatives (Fashion-MNIST, EMNIST, KMNIST).
//
//   bytes 0-1  zero
//   byte  2    element type: 0x08 uint8 (0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
//              0x0E float64 exist but are refused here: every known image set is uint8)
//   byte  3    rank: number of dimensions
//   then rank big-endian uint32 dimensions, then the elements, row-major, nothing after.
// So images are magic 0x00000803 (count, rows, cols) and labels 0x00000801 (count).
//
// The parser reads from a memory buffer and trusts nothing: magic, type, rank (1 to
// kIdxMaxRank), every dimension > 0, the element count computed with overflow checks, and
// the buffer must hold exactly header + data — a truncated file and one with trailing
// bytes are both errors (a file of the wrong kind usually fails one of these). Writing makes
// uint8 files (`ember dataset` exports the built-in sprites for other tools).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace ember::data {

constexpr int kIdxMaxRank = 4;
constexpr uint8_t kIdxTypeU8 = 0x08;

struct IdxArray {
  const uint8_t* data = nullptr;  // count uint8 elements, inside the parsed buffer
  int rank = 0;
  uint32_t dims[kIdxMaxRank] = {};
  size_t count = 0;  // product of dims
};

// Parses buf[0..size). `name` (a file name) is put in front of every error message.
Status idx_parse(const uint8_t* buf, size_t size, const char* name, IdxArray* out);

// Writes uint8 elements of shape dims[0..rank) (rank 1 to kIdxMaxRank, every dimension > 0)
// as an IDX file at path, atomically (io/file.h AtomicWriter): what idx_parse reads back.
Status idx_save(const char* path, const uint32_t* dims, int rank, const uint8_t* data);

}  // namespace ember::data
