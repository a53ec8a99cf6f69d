// Decompression of deflate data (RFC 1951) and its two common wrappers, zlib (RFC 1950:
// PNG image data) and gzip (RFC 1952: MNIST's .gz files), written from the RFCs.
//
// Everything decodes from one memory block into one caller-supplied output buffer of a
// given capacity: no allocation, the Huffman tables live on the stack (about 3.5 KiB).
// The whole output stays addressable, so back-references are checked against the start of
// the output rather than against a window.
//
// Input is treated as hostile. Every bit read is bounds-checked (running out is
// "truncated", never a read past the end); over-subscribed code sets are rejected and
// incomplete ones too, except the single one-bit code RFC 1951 allows for a lone symbol;
// distances reaching before the start of the output, the reserved block type and lengths
// or distances outside the alphabets are errors; output that would not fit is an error
// naming the capacity, with Code::out_of_memory (every fault of the input itself is
// corrupt_data or unsupported, and input that ends early says "truncated"), so a caller
// can tell "give me more room" from a bad stream. On error the output buffer may hold a
// partial result.
//
// Sizing the output: a gzip member ends with ISIZE, its uncompressed size modulo 2^32.
// gzip_isize() reads it so a caller can allocate first — but it is only a claim from the
// file: cap it before allocating, and gzip_decompress() then verifies it (together with
// the CRC-32) against what was really decoded.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace ember {

// A raw deflate stream at in[0..in_size). On success *out_size bytes were written to out
// and, when in_used is not null, *in_used is the number of input bytes the stream took
// (the rest of the last byte is padding); what follows is the caller's (a trailer).
Status inflate_raw(const uint8_t* in, size_t in_size, uint8_t* out, size_t capacity, size_t* out_size,
                   size_t* in_used = nullptr);

// A zlib stream: 2-byte header (method 8, no preset dictionary), deflate data, Adler-32
// of the output (big-endian). The stream must fill the input exactly.
Status zlib_decompress(const uint8_t* in, size_t in_size, uint8_t* out, size_t capacity, size_t* out_size);

// One gzip member: header (FEXTRA, FNAME, FCOMMENT and FHCRC are parsed, FHCRC checked),
// deflate data, CRC-32 and ISIZE (little-endian), both checked. Bytes after the member
// (e.g. a second, concatenated member) are refused.
Status gzip_decompress(const uint8_t* in, size_t in_size, uint8_t* out, size_t capacity, size_t* out_size);

// The ISIZE field of the gzip member in[0..in_size) (after checking the magic bytes and
// the minimum size). Untrusted: see above.
Status gzip_isize(const uint8_t* in, size_t in_size, uint32_t* isize);

// True when the bytes start like a gzip member (1f 8b).
bool is_gzip(const uint8_t* in, size_t in_size);

}  // namespace ember
