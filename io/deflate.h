// A small streaming zlib compressor (RFC 1950 around RFC 1951 deflate), for PNG image data.
//
// Design: speed and a fixed, small footprint over the last few percent of ratio.
//   * LZ77 with a 4 KiB window: the input goes through an 8 KiB buffer; each position's
//     first 3 bytes are hashed into a 4096-entry table of the newest position with that
//     hash, and positions with the same hash are chained (newest first) through a
//     window-sized array. Up to kMaxChain candidates are compared; the longest match wins
//     (greedy, no lazy evaluation). When the buffer is full its older half is dropped and
//     every stored position moves down by the window size.
//   * Blocks use the fixed Huffman code. Each block is coded into a side buffer first; if
//     that came out larger than storing the bytes raw would be, a stored block is written
//     instead. So the output is never much larger than the input: see zlib_max_bytes().
//   * The stream ends with an empty final block, then the Adler-32 of the input.
// Everything lives in the ZlibWriter object (about 33 KiB, fine on a PC stack); nothing is
// allocated. Output goes to a ByteSink, a few hundred bytes to 8 KiB at a time.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace ember {

// Receives compressed bytes in order. put() has a default body rather than being pure (= 0),
// which would make the vtable pull __cxa_pure_virtual into bare-metal builds; the protected
// non-virtual destructor keeps operator delete out the same way.
class ByteSink {
 public:
  virtual Status put(const uint8_t* /*data*/, size_t /*n*/) {
    return Status::error(Code::unsupported, "ByteSink: put is not implemented by this sink");
  }

 protected:
  ~ByteSink() = default;
};

// Worst-case size of the zlib stream ZlibWriter makes from n input bytes; false when that
// does not fit in size_t.
bool zlib_max_bytes(size_t n, size_t* out);

class ZlibWriter {
 public:
  static constexpr int kWindowBits = 12;
  static constexpr size_t kWindow = size_t(1) << kWindowBits;  // how far back a match may reach
  static constexpr size_t kBuffer = 2 * kWindow;               // window plus the bytes being coded
  static constexpr int kHashBits = 12;
  static constexpr size_t kHashSize = size_t(1) << kHashBits;
  static constexpr int kMaxChain = 32;                        // match candidates tried per position
  static constexpr size_t kBlockBytes = kBuffer + 16;         // >= a stored block of the largest block

  // Starts a stream into sink (writes the 2-byte zlib header).
  Status begin(ByteSink* sink);
  Status write(const void* data, size_t n);
  // Codes what is left, ends the deflate data and writes the Adler-32.
  Status finish();

 private:
  struct Bits {  // an LSB-first bit writer into a byte array
    uint8_t* out;
    size_t cap, len;
    uint64_t acc;
    int count;
    bool overflowed;
    void put(uint32_t value, int bits);
  };

  void parse(size_t limit);
  size_t longest_match(size_t p, size_t* dist) const;
  void insert(size_t p);
  void code_literal(uint8_t byte);
  void code_match(size_t len, size_t dist);
  void start_block();
  Status end_block();
  Status put_bits(uint32_t value, int bits);  // straight into the stream, whole bytes to the sink
  void slide();

  ByteSink* sink_ = nullptr;
  size_t fill_ = 0;         // bytes in buf_
  size_t pos_ = 0;          // next byte of buf_ to code
  size_t block_start_ = 0;  // first byte of buf_ in the current block
  uint32_t adler_ = 1;
  uint64_t pending_ = 0;  // stream bits not yet a whole byte (fewer than 8)
  int npending_ = 0;
  Bits block_{};
  uint16_t head_[kHashSize];  // newest position + 1 with each hash, 0 = none
  uint16_t prev_[kWindow];    // per position (mod window): the previous position + 1 with its hash
  uint8_t buf_[kBuffer];
  uint8_t block_bytes_[kBlockBytes];
};

}  // namespace ember
