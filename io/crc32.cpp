#include "io/crc32.h"

namespace ember {

namespace {

constexpr uint32_t kCrcPolynomial = 0xEDB88320u;  // IEEE 802.3, bit-reversed
constexpr uint32_t kAdlerModulus = 65521u;        // largest prime below 2^16
constexpr size_t kAdlerRun = 5552;                // bytes before b could pass 2^32

struct CrcTable {
  uint32_t t[256];
  constexpr CrcTable() : t() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? kCrcPolynomial ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
  }
};
constexpr CrcTable kCrc;

}  // namespace

uint32_t crc32_update(uint32_t crc, const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = kCrc.t[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

uint32_t adler32_update(uint32_t adler, const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint32_t a = adler & 0xFFFFu, b = adler >> 16;
  while (n) {
    const size_t run = n < kAdlerRun ? n : kAdlerRun;
    for (size_t i = 0; i < run; ++i) {
      a += p[i];
      b += a;
    }
    a %= kAdlerModulus;
    b %= kAdlerModulus;
    p += run, n -= run;
  }
  return (b << 16) | a;
}

}  // namespace ember
