#include "data/idx.h"

#include "io/file.h"

namespace ember::data {

namespace {

constexpr size_t kMagicBytes = 4;
constexpr size_t kDimBytes = 4;

const char* type_name(uint8_t type) {
  switch (type) {
    case 0x09: return "int8";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
  }
}

}  // namespace

Status idx_parse(const uint8_t* buf, size_t size, const char* name, IdxArray* out) {
  if (!name) name = "<memory>";
  if (!buf && size) return Status::error(Code::invalid_argument, "idx %s: null buffer", name);
  if (size < kMagicBytes)
    return Status::error(Code::corrupt_data, "idx %s: truncated: %zu bytes, too short for the 4-byte magic", name,
                         size);
  if (buf[0] != 0 || buf[1] != 0)
    return Status::error(Code::corrupt_data, "idx %s: bad magic %x %x %x %x (an IDX file starts with 00 00)", name,
                         buf[0], buf[1], buf[2], buf[3]);
  if (buf[2] != kIdxTypeU8)
    return Status::error(Code::unsupported, "idx %s: element type %x (%s); only 08 (uint8) is supported", name, buf[2],
                         type_name(buf[2]));
  const int rank = buf[3];
  if (rank < 1 || rank > kIdxMaxRank)
    return Status::error(Code::corrupt_data, "idx %s: %d dimensions (1 to %d supported)", name, rank, kIdxMaxRank);
  const size_t header = kMagicBytes + kDimBytes * static_cast<size_t>(rank);
  if (size < header)
    return Status::error(Code::corrupt_data, "idx %s: truncated: the header needs %zu bytes, the file has %zu", name, header,
                         size);
  IdxArray a;
  a.rank = rank;
  size_t count = 1;
  for (int d = 0; d < rank; ++d) {
    const uint8_t* p = buf + kMagicBytes + kDimBytes * static_cast<size_t>(d);
    const uint32_t dim = static_cast<uint32_t>(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
    if (dim == 0) return Status::error(Code::corrupt_data, "idx %s: dimension %d is 0", name, d);
    if (__builtin_mul_overflow(count, static_cast<size_t>(dim), &count))
      return Status::error(Code::corrupt_data, "idx %s: element count overflows at dimension %d (%u)", name, d,
                           unsigned(dim));
    a.dims[d] = dim;
  }
  const size_t data = size - header;
  if (data < count)
    return Status::error(Code::corrupt_data, "idx %s: truncated: %zu data bytes, the dimensions need %zu", name, data,
                         count);
  if (data > count)
    return Status::error(Code::corrupt_data, "idx %s: %zu unexpected bytes after the %zu data bytes", name,
                         data - count, count);
  a.data = buf + header;
  a.count = count;
  *out = a;
  return Status::ok();
}

Status idx_save(const char* path, const uint32_t* dims, int rank, const uint8_t* data) {
  if (rank < 1 || rank > kIdxMaxRank) return Status::error(Code::invalid_argument, "idx %s: rank %d", path, rank);
  uint8_t header[kMagicBytes + kDimBytes * kIdxMaxRank] = {0, 0, kIdxTypeU8, static_cast<uint8_t>(rank)};
  size_t count = 1;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] == 0) return Status::error(Code::invalid_argument, "idx %s: dimension %d is 0", path, i);
    count *= dims[i];
    for (size_t b = 0; b < kDimBytes; ++b)
      header[kMagicBytes + kDimBytes * size_t(i) + b] = static_cast<uint8_t>(dims[i] >> (8 * (kDimBytes - 1 - b)));
  }
  AtomicWriter w;
  EMBER_TRY(w.open(path));
  EMBER_TRY(w.write(header, kMagicBytes + kDimBytes * size_t(rank)));
  EMBER_TRY(w.write(data, count));
  return w.commit();
}

}  // namespace ember::data
