// The fixed vocabulary of DEFLATE (RFC 1951), shared by the decoder (io/inflate.cpp) and
// the encoder (io/deflate.cpp) so the two can never disagree about a table.
//
// A deflate stream is a sequence of blocks, each starting with 3 bits: BFINAL (last block)
// and BTYPE (0 stored, 1 fixed Huffman, 2 dynamic Huffman, 3 reserved). Bits are packed
// into bytes starting at the least significant bit; Huffman codes are sent most
// significant bit first, all other fields least significant bit first.
//
// Huffman blocks code two alphabets: literal/length (0-255 a byte, 256 end of block,
// 257-285 a match length from kLengthBase plus kLengthExtra extra bits) and distance (0-29,
// a distance from kDistBase plus kDistExtra extra bits). Codes are canonical: only the
// length of each symbol's code is sent (or, for fixed blocks, agreed: fixed_litlen_bits).
#pragma once
#include <cstdint>

namespace ember::deflate {

enum BlockType : uint32_t { kStored = 0, kFixed = 1, kDynamic = 2, kReserved = 3 };
constexpr int kBlockHeaderBits = 3;  // BFINAL + 2-bit BTYPE

constexpr int kMaxCodeBits = 15;       // longest Huffman code
constexpr int kMaxCodeLengthBits = 7;  // longest code in the code-length code
constexpr int kLitLenSymbols = 288;    // including 286 and 287, which take part in the fixed code but never occur
constexpr int kLitLenUsed = 286;
constexpr int kDistSymbols = 32;       // same for distance codes 30 and 31
constexpr int kDistUsed = 30;
constexpr int kCodeLengthSymbols = 19;
constexpr int kEndOfBlock = 256;
constexpr int kFirstLengthSymbol = 257;
constexpr int kLengthCodes = 29;

constexpr int kMinMatch = 3;
constexpr int kMaxMatch = 258;
constexpr uint32_t kMaxDistance = 32768;
constexpr uint32_t kMaxStoredBlock = 65535;  // LEN is 16 bits

inline constexpr uint16_t kLengthBase[kLengthCodes] = {3,  4,  5,  6,  7,  8,  9,  10,  11,  13,
                                                      15, 17, 19, 23, 27, 31, 35, 43,  51,  59,
                                                      67, 83, 99, 115, 131, 163, 195, 227, 258};
inline constexpr uint8_t kLengthExtra[kLengthCodes] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
inline constexpr uint16_t kDistBase[kDistUsed] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                                  33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                                  1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
inline constexpr uint8_t kDistExtra[kDistUsed] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                                  6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// Order in which a dynamic block sends the code lengths of the code-length alphabet.
inline constexpr uint8_t kCodeLengthOrder[kCodeLengthSymbols] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                                 11, 4,  12, 3, 13, 2, 14, 1, 15};
// Code-length alphabet: 0-15 a length, then the three repeat codes.
constexpr int kRepeatPrevious = 16;  // previous length 3-6 times (2 extra bits)
constexpr int kRepeatZero = 17;      // zero 3-10 times (3 extra bits)
constexpr int kRepeatZeroLong = 18;  // zero 11-138 times (7 extra bits)

// The fixed code (BTYPE 1): literal/length code lengths by symbol, distances all 5 bits.
constexpr int fixed_litlen_bits(int sym) { return sym < 144 ? 8 : sym < 256 ? 9 : sym < 280 ? 7 : 8; }
constexpr int kFixedDistBits = 5;

// The low `bits` bits of code in reverse order (Huffman codes go out MSB first into an
// LSB-first bit stream).
constexpr uint32_t reverse_bits(uint32_t code, int bits) {
  uint32_t r = 0;
  for (int i = 0; i < bits; ++i, code >>= 1) r = (r << 1) | (code & 1u);
  return r;
}

}  // namespace ember::deflate
