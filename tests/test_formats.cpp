// File formats: checksums, inflate (raw, zlib, gzip), the PNG encoder, IDX and the MNIST
// loader — round trips, known-good streams made by other tools, and hostile inputs.
#include <doctest/doctest.h>

#include "core/crc32.h"

using namespace ember;

TEST_CASE("formats: CRC-32 and Adler-32 match their check values") {
  CHECK(crc32_update(kCrc32Init, "123456789", 9) == 0xCBF43926u);
  CHECK(crc32_update(crc32_update(kCrc32Init, "1234", 4), "56789", 5) == 0xCBF43926u);
  CHECK(crc32_update(kCrc32Init, "", 0) == 0u);
  CHECK(adler32_update(kAdler32Init, "123456789", 9) == 0x091E01DEu);
  CHECK(adler32_update(adler32_update(kAdler32Init, "12345", 5), "6789", 4) == 0x091E01DEu);
  CHECK(adler32_update(kAdler32Init, "", 0) == 1u);
}
