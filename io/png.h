// A small PNG encoder for sample grids, reconstructions and plots: 8-bit greyscale or
// 8-bit RGB, from a caller's row-major pixel buffer, to a file or to a memory buffer.
//
// Format (PNG 1.2 / ISO 15948): the 8-byte signature, then chunks — each a big-endian
// length, a 4-letter type, the data and a CRC-32 of type and data: IHDR (size, bit depth 8,
// colour type 0 grey or 2 RGB, no interlace), one or more IDAT holding one zlib stream of
// the filtered rows, and IEND.
//
// Every row is stored after a filter: None, Sub (minus the pixel to the left), Up (minus
// the pixel above), Average, or Paeth (minus whichever of left, above, upper-left is
// nearest to left + above - upper-left). Per row the filter with the smallest sum of
// |byte as signed| is chosen — libpng's heuristic: small residues compress well. The zlib
// stream comes from io/deflate.h (LZ77 + fixed Huffman, stored when that is smaller), and
// is cut into IDAT chunks of 8 KiB as it is made, so nothing the size of the image is
// allocated: the encoder works in about 41 KiB of stack.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace ember {

constexpr int kPngGrey = 1;  // channels per pixel
constexpr int kPngRgb = 3;

// Upper bound on the encoded size of a width x height image (channels 1 or 3), whatever
// the pixels; 0 when the arguments are invalid or the bound does not fit in size_t.
size_t png_max_bytes(int width, int height, int channels);

// Encodes pixels [height][width][channels] into out[0..capacity); *out_size gets the
// length. A capacity of png_max_bytes() always suffices; a smaller one may, and if not the
// error says so (out then holds a partial image).
Status png_encode(const uint8_t* pixels, int width, int height, int channels, uint8_t* out, size_t capacity,
                  size_t* out_size);

// Writes the PNG to path atomically (io/file.h AtomicWriter: a failed write leaves
// any old file at path as it was).
Status png_write(const char* path, const uint8_t* pixels, int width, int height, int channels);

}  // namespace ember
