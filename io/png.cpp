// PNG encoder; format and choices in png.h.
#include "io/png.h"

#include <cstring>

#include "io/crc32.h"
#include "io/deflate.h"
#include "io/file.h"

namespace ember {

namespace {

constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
constexpr size_t kChunkOverhead = 12;  // length, type, CRC
constexpr size_t kIhdrBytes = 13;
constexpr size_t kIdatBytes = 8192;    // data per IDAT chunk (libpng's default size)
constexpr uint8_t kBitDepth = 8;
constexpr uint8_t kColourGrey = 0, kColourRgb = 2;
constexpr size_t kRowChunk = 512;      // filtered bytes handed to the compressor at a time

enum Filter : uint8_t { kNone = 0, kSub = 1, kUp = 2, kAverage = 3, kPaeth = 4, kFilterCount = 5 };

void put_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24), p[1] = uint8_t(v >> 16), p[2] = uint8_t(v >> 8), p[3] = uint8_t(v);
}

Status check_args(const uint8_t* pixels, int width, int height, int channels) {
  if (!pixels) return Status::error(Code::invalid_argument, "png: pixels is null");
  if (width <= 0 || height <= 0)
    return Status::error(Code::invalid_argument, "png: image size %d x %d (both must be positive)", width, height);
  if (channels != kPngGrey && channels != kPngRgb)
    return Status::error(Code::invalid_argument, "png: %d channels (1 grey or 3 RGB)", channels);
  if (png_max_bytes(width, height, channels) == 0)
    return Status::error(Code::invalid_argument, "png: a %d x %d x %d image is too large", width, height, channels);
  return Status::ok();
}

// The bytes of the PNG go to a file or to memory.
class Output {
 public:
  Output(AtomicWriter* file, uint8_t* mem, size_t cap, size_t worst) : file_(file), mem_(mem), cap_(cap), worst_(worst) {}
  Status put(const uint8_t* p, size_t n) {
    if (n == 0) return Status::ok();  // IEND has no data (and p may be null)
    if (file_) return file_->write(p, n);
    if (n > cap_ - len_)
      return Status::error(Code::out_of_memory,
                           "png: output buffer of %zu bytes is too small (short by at least %zu; png_max_bytes says %zu)",
                           cap_, n - (cap_ - len_), worst_);
    std::memcpy(mem_ + len_, p, n);
    len_ += n;
    return Status::ok();
  }
  Status chunk(const char* type, const uint8_t* data, size_t n) {
    uint8_t head[8];
    put_be32(head, static_cast<uint32_t>(n));
    std::memcpy(head + 4, type, 4);
    uint8_t crc[4];
    put_be32(crc, crc32_update(crc32_update(kCrc32Init, head + 4, 4), data, n));
    EMBER_TRY(put(head, sizeof head));
    EMBER_TRY(put(data, n));
    return put(crc, sizeof crc);
  }
  size_t size() const { return len_; }

 private:
  AtomicWriter* file_;
  uint8_t* mem_;
  size_t cap_, worst_;
  size_t len_ = 0;
};

// Cuts the zlib stream into IDAT chunks.
class IdatSink : public ByteSink {
 public:
  explicit IdatSink(Output* out) : out_(out) {}
  Status put(const uint8_t* data, size_t n) override {
    while (n) {
      const size_t take = n < kIdatBytes - fill_ ? n : kIdatBytes - fill_;
      std::memcpy(buf_ + fill_, data, take);
      fill_ += take, data += take, n -= take;
      if (fill_ == kIdatBytes) EMBER_TRY(flush());
    }
    return Status::ok();
  }
  Status flush() {
    if (!fill_) return Status::ok();
    const size_t n = fill_;
    fill_ = 0;
    return out_->chunk("IDAT", buf_, n);
  }

 private:
  Output* out_;
  size_t fill_ = 0;
  uint8_t buf_[kIdatBytes];
};

uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = p > a ? p - a : a - p, pb = p > b ? p - b : b - p, pc = p > c ? p - c : c - p;
  if (pa <= pb && pa <= pc) return static_cast<uint8_t>(a);
  return static_cast<uint8_t>(pb <= pc ? b : c);
}

// One row and the row above it (null for the first row: zeros).
struct Row {
  const uint8_t* cur;
  const uint8_t* prev;
  size_t bytes;
  size_t bpp;  // bytes per pixel: how far back "left" is

  uint8_t filtered(Filter f, size_t i) const {
    const int x = cur[i];
    const int a = i >= bpp ? cur[i - bpp] : 0;
    const int b = prev ? prev[i] : 0;
    const int c = prev && i >= bpp ? prev[i - bpp] : 0;
    switch (f) {
      case kSub: return static_cast<uint8_t>(x - a);
      case kUp: return static_cast<uint8_t>(x - b);
      case kAverage: return static_cast<uint8_t>(x - ((a + b) >> 1));
      case kPaeth: return static_cast<uint8_t>(x - paeth(a, b, c));
      default: return static_cast<uint8_t>(x);
    }
  }
  // The filter whose output has the smallest sum of |signed byte|.
  Filter best_filter() const {
    Filter best = kNone;
    uint64_t best_cost = UINT64_MAX;
    for (int f = kNone; f < kFilterCount; ++f) {
      uint64_t cost = 0;
      for (size_t i = 0; i < bytes; ++i) {
        const int v = static_cast<int8_t>(filtered(static_cast<Filter>(f), i));
        cost += static_cast<uint64_t>(v < 0 ? -v : v);
      }
      if (cost < best_cost) best_cost = cost, best = static_cast<Filter>(f);
    }
    return best;
  }
};

Status encode(Output* out, const uint8_t* pixels, int width, int height, int channels) {
  EMBER_TRY(out->put(kSignature, sizeof kSignature));
  uint8_t ihdr[kIhdrBytes] = {0};
  put_be32(ihdr, static_cast<uint32_t>(width));
  put_be32(ihdr + 4, static_cast<uint32_t>(height));
  ihdr[8] = kBitDepth;
  ihdr[9] = channels == kPngRgb ? kColourRgb : kColourGrey;  // compression, filter, interlace: 0
  EMBER_TRY(out->chunk("IHDR", ihdr, sizeof ihdr));

  IdatSink idat(out);
  ZlibWriter z;
  EMBER_TRY(z.begin(&idat));
  const size_t row_bytes = static_cast<size_t>(width) * static_cast<size_t>(channels);
  uint8_t chunk[kRowChunk];
  for (int y = 0; y < height; ++y) {
    const uint8_t* cur = pixels + static_cast<size_t>(y) * row_bytes;
    const Row row{cur, y ? cur - row_bytes : nullptr, row_bytes, static_cast<size_t>(channels)};
    const Filter f = row.best_filter();
    const uint8_t type = f;
    EMBER_TRY(z.write(&type, 1));
    for (size_t i = 0; i < row_bytes;) {
      const size_t n = row_bytes - i < kRowChunk ? row_bytes - i : kRowChunk;
      for (size_t k = 0; k < n; ++k) chunk[k] = row.filtered(f, i + k);
      EMBER_TRY(z.write(chunk, n));
      i += n;
    }
  }
  EMBER_TRY(z.finish());
  EMBER_TRY(idat.flush());
  return out->chunk("IEND", nullptr, 0);
}

}  // namespace

size_t png_max_bytes(int width, int height, int channels) {
  if (width <= 0 || height <= 0 || (channels != kPngGrey && channels != kPngRgb)) return 0;
  size_t row = 0, raw = 0, z = 0, total = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(width), static_cast<size_t>(channels), &row) ||
      __builtin_mul_overflow(row + 1, static_cast<size_t>(height), &raw) || !zlib_max_bytes(raw, &z))
    return 0;
  const size_t idat_chunks = z / kIdatBytes + 1;
  const size_t fixed = sizeof kSignature + (kChunkOverhead + kIhdrBytes) + kChunkOverhead;  // + IEND
  if (__builtin_mul_overflow(idat_chunks, kChunkOverhead, &total) || __builtin_add_overflow(total, z, &total) ||
      __builtin_add_overflow(total, fixed, &total))
    return 0;
  return total;
}

Status png_encode(const uint8_t* pixels, int width, int height, int channels, uint8_t* out, size_t capacity,
                  size_t* out_size) {
  *out_size = 0;
  EMBER_TRY(check_args(pixels, width, height, channels));
  if (!out && capacity) return Status::error(Code::invalid_argument, "png: output buffer is null");
  Output o(nullptr, out, capacity, png_max_bytes(width, height, channels));
  EMBER_TRY(encode(&o, pixels, width, height, channels));
  *out_size = o.size();
  return Status::ok();
}

Status png_write(const char* path, const uint8_t* pixels, int width, int height, int channels) {
  EMBER_TRY(check_args(pixels, width, height, channels));
  AtomicWriter file;
  EMBER_TRY(file.open(path));
  Output o(&file, nullptr, 0, 0);
  EMBER_TRY(encode(&o, pixels, width, height, channels));  // the writer's destructor drops the temp file
  return file.commit();
}

}  // namespace ember
