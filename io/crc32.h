// Checksums of the zlib family: CRC-32 (gzip, PNG chunks, ember checkpoints) and Adler-32
// (zlib streams, so PNG image data).
//
// CRC-32 is the IEEE 802.3 polynomial in its reflected form (0xEDB88320), preset to all
// ones and inverted at the end — exactly what zlib's crc32() computes, so a value can be
// compared with any other tool's. It is table driven: 256 entries built at compile time
// (1 KiB of read-only data, about 8x faster than bit by bit).
//
// Adler-32 (RFC 1950) is two running sums modulo 65521, the largest prime below 2^16:
// a = 1 + sum of bytes, b = sum of the a's; the value is b << 16 | a. The modulo is taken
// once per 5552 bytes, the longest run whose sums cannot overflow 32 bits.
//
// Both are incremental: feed the bytes in any number of pieces, passing the previous result.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ember {

// The value of "no bytes yet" for each checksum.
constexpr uint32_t kCrc32Init = 0;
constexpr uint32_t kAdler32Init = 1;

// crc32_update(0, "123456789", 9) == 0xCBF43926.
uint32_t crc32_update(uint32_t crc, const void* data, size_t n);

// adler32_update(1, "123456789", 9) == 0x091E01DE.
uint32_t adler32_update(uint32_t adler, const void* data, size_t n);

}  // namespace ember
