// Inflate (RFC 1951) plus the zlib (RFC 1950) and gzip (RFC 1952) wrappers; see inflate.h.
//
// Decoding a Huffman symbol: a 9-bit lookup table answers every code of up to 9 bits with
// one probe (the common case: literals of image data and the short length codes). Longer
// codes fall back to walking the canonical code one bit at a time (the counts of codes per
// length are enough: canonical codes of one length are consecutive numbers). Both paths
// check every bit against the input end.
#include "io/inflate.h"

#include <cstring>

#include "io/crc32.h"
#include "io/deflate-format.h"

namespace ember {

namespace {

using namespace deflate;

constexpr int kFastBits = 9;
constexpr int kFastSize = 1 << kFastBits;
constexpr int kFastLengthBits = 4;  // a fast entry is symbol << 4 | code length (0: no entry)
constexpr uint16_t kFastLengthMask = (1u << kFastLengthBits) - 1;
constexpr int kRefillBelow = 57;    // refill while the 64-bit buffer has room for a byte

// Decoding tables for one canonical Huffman code.
struct Huffman {
  uint16_t count[kMaxCodeBits + 1];  // codes of each length (count[0]: unused symbols)
  uint16_t symbol[kLitLenSymbols];   // symbols in canonical order (by length, then value)
  uint16_t fast[kFastSize];          // indexed by the next kFastBits input bits
};

enum class CodeSet { complete, incomplete, oversubscribed };

// Builds h from code lengths (0 = symbol unused). Over-subscribed sets build nothing.
CodeSet build(Huffman* h, const uint8_t* lengths, int n) {
  std::memset(h->count, 0, sizeof h->count);
  for (int s = 0; s < n; ++s) ++h->count[lengths[s]];
  int left = 1;  // codes still available at the current length
  for (int len = 1; len <= kMaxCodeBits; ++len) {
    left = (left << 1) - h->count[len];
    if (left < 0) return CodeSet::oversubscribed;
  }
  uint16_t offset[kMaxCodeBits + 2];
  uint32_t next_code[kMaxCodeBits + 1];
  offset[1] = 0;
  next_code[0] = 0;
  uint32_t code = 0;
  for (int len = 1; len <= kMaxCodeBits; ++len) {
    offset[len + 1] = static_cast<uint16_t>(offset[len] + h->count[len]);
    code = (code + (len > 1 ? h->count[len - 1] : 0)) << 1;
    next_code[len] = code;
  }
  std::memset(h->fast, 0, sizeof h->fast);
  for (int s = 0; s < n; ++s) {
    const int len = lengths[s];
    if (!len) continue;
    h->symbol[offset[len]++] = static_cast<uint16_t>(s);
    const uint32_t c = next_code[len]++;
    if (len > kFastBits) continue;
    const uint16_t entry = static_cast<uint16_t>(s << kFastLengthBits | len);
    for (uint32_t j = reverse_bits(c, len); j < kFastSize; j += 1u << len) h->fast[j] = entry;
  }
  return left ? CodeSet::incomplete : CodeSet::complete;
}

// Lengths 1..15 with at most one code of length 1 and nothing else: the lone-symbol case.
bool single_one_bit_code(const Huffman& h) {
  int used = 0;
  for (int len = 1; len <= kMaxCodeBits; ++len) used += h.count[len];
  return used == 1 && h.count[1] == 1;
}

class Inflater {
 public:
  Inflater(const uint8_t* in, size_t in_size, uint8_t* out, size_t capacity)
      : in_(in), size_(in_size), out_(out), cap_(capacity) {}

  Status run() {
    bool last = false;
    while (!last) {
      uint32_t header = 0;
      EMBER_TRY(bits(kBlockHeaderBits, &header));
      last = header & 1u;
      switch (header >> 1) {
        case kStored: EMBER_TRY(stored()); break;
        case kFixed: EMBER_TRY(fixed()); break;
        case kDynamic: EMBER_TRY(dynamic()); break;
        default: return fail("reserved block type 3");
      }
    }
    return Status::ok();
  }
  size_t written() const { return op_; }
  size_t consumed() const { return pos_ - static_cast<size_t>(count_ / 8); }

 private:
  Status fail(const char* what) const {
    return Status::error(Code::corrupt_data, "inflate: %s (input byte %zu)", what, consumed());
  }
  Status truncated() const {
    return Status::error(Code::corrupt_data, "inflate: truncated: the input ends inside the stream (%zu bytes)", size_);
  }
  Status overflow() const {
    return Status::error(Code::out_of_memory, "inflate: output does not fit the %zu-byte buffer (input byte %zu)", cap_,
                         consumed());
  }

  void refill() {
    while (count_ < kRefillBelow && pos_ < size_) {
      buf_ |= static_cast<uint64_t>(in_[pos_++]) << count_;
      count_ += 8;
    }
  }
  Status bits(int n, uint32_t* v) {
    if (count_ < n) refill();
    if (count_ < n) return truncated();
    *v = static_cast<uint32_t>(buf_ & ((uint64_t(1) << n) - 1));
    buf_ >>= n;
    count_ -= n;
    return Status::ok();
  }

  Status decode(const Huffman& h, int* sym) {
    refill();
    const uint16_t e = h.fast[buf_ & (kFastSize - 1)];
    if (e) {
      const int len = e & kFastLengthMask;
      if (len > count_) return truncated();  // the code needs bits past the end
      buf_ >>= len;
      count_ -= len;
      *sym = e >> kFastLengthBits;
      return Status::ok();
    }
    // Canonical walk: `code` is the bits so far, `first` the first code of this length,
    // `index` where this length's symbols start.
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= kMaxCodeBits; ++len) {
      if (count_ == 0) return truncated();
      code |= static_cast<int>(buf_ & 1u);
      buf_ >>= 1;
      --count_;
      const int n = h.count[len];
      if (code - first < n) {
        *sym = h.symbol[index + code - first];
        return Status::ok();
      }
      index += n;
      first = (first + n) << 1;
      code <<= 1;
    }
    return fail("invalid Huffman code");
  }

  Status stored() {
    // Skip to the byte boundary and hand the whole bytes still in the bit buffer back.
    pos_ -= static_cast<size_t>(count_ / 8);
    buf_ = 0, count_ = 0;
    if (size_ - pos_ < 4) return truncated();
    const uint32_t len = in_[pos_] | in_[pos_ + 1] << 8;
    const uint32_t nlen = in_[pos_ + 2] | in_[pos_ + 3] << 8;
    if (len != (~nlen & 0xFFFFu)) return fail("stored block length does not match its complement");
    pos_ += 4;
    if (size_ - pos_ < len) return truncated();
    if (cap_ - op_ < len) return overflow();
    // An empty block may come with a null output of capacity 0 (the API allows it), and
    // memcpy's pointers must be valid even for 0 bytes.
    if (len) std::memcpy(out_ + op_, in_ + pos_, len);
    pos_ += len, op_ += len;
    return Status::ok();
  }

  Status fixed() {
    uint8_t lengths[kLitLenSymbols + kDistSymbols];
    for (int s = 0; s < kLitLenSymbols; ++s) lengths[s] = static_cast<uint8_t>(fixed_litlen_bits(s));
    for (int s = 0; s < kDistSymbols; ++s) lengths[kLitLenSymbols + s] = kFixedDistBits;
    build(&lit_, lengths, kLitLenSymbols);
    build(&dist_, lengths + kLitLenSymbols, kDistSymbols);
    return codes();
  }

  Status dynamic() {
    uint32_t hlit = 0, hdist = 0, hclen = 0;
    EMBER_TRY(bits(5, &hlit));
    EMBER_TRY(bits(5, &hdist));
    EMBER_TRY(bits(4, &hclen));
    const int nlit = static_cast<int>(hlit) + kFirstLengthSymbol, ndist = static_cast<int>(hdist) + 1;
    const int nclen = static_cast<int>(hclen) + 4;
    if (nlit > kLitLenUsed || ndist > kDistUsed) return fail("too many length or distance codes");

    uint8_t lengths[kLitLenSymbols + kDistSymbols] = {0};
    for (int i = 0; i < nclen; ++i) {
      uint32_t v = 0;
      EMBER_TRY(bits(3, &v));
      lengths[kCodeLengthOrder[i]] = static_cast<uint8_t>(v);
    }
    if (build(&lit_, lengths, kCodeLengthSymbols) != CodeSet::complete)
      return fail("code-length code is over-subscribed or incomplete");

    const int total = nlit + ndist;
    for (int i = 0; i < total;) {
      int sym = 0;
      EMBER_TRY(decode(lit_, &sym));
      if (sym < kRepeatPrevious) {
        lengths[i++] = static_cast<uint8_t>(sym);
        continue;
      }
      uint8_t value = 0;
      uint32_t repeat = 0;
      if (sym == kRepeatPrevious) {
        if (i == 0) return fail("repeat of a code length with no previous length");
        value = lengths[i - 1];
        EMBER_TRY(bits(2, &repeat));
        repeat += 3;
      } else if (sym == kRepeatZero) {
        EMBER_TRY(bits(3, &repeat));
        repeat += 3;
      } else {
        EMBER_TRY(bits(7, &repeat));
        repeat += 11;
      }
      if (repeat > static_cast<uint32_t>(total - i)) return fail("code lengths repeat past the end of the list");
      for (; repeat; --repeat) lengths[i++] = value;
    }
    if (lengths[kEndOfBlock] == 0) return fail("no end-of-block code");
    // Incomplete sets are allowed only as one code of one bit (a lone symbol); a block of
    // literals only may have no distance code at all.
    const CodeSet lit = build(&lit_, lengths, nlit);
    if (lit == CodeSet::oversubscribed || (lit == CodeSet::incomplete && !single_one_bit_code(lit_)))
      return fail("literal/length code is over-subscribed or incomplete");
    const CodeSet dist = build(&dist_, lengths + nlit, ndist);
    if (dist == CodeSet::oversubscribed ||
        (dist == CodeSet::incomplete && dist_.count[0] != ndist && !single_one_bit_code(dist_)))
      return fail("distance code is over-subscribed or incomplete");
    return codes();
  }

  // The symbols of one Huffman block, up to end-of-block.
  Status codes() {
    for (;;) {
      int sym = 0;
      EMBER_TRY(decode(lit_, &sym));
      if (sym < kEndOfBlock) {
        if (op_ == cap_) return overflow();
        out_[op_++] = static_cast<uint8_t>(sym);
        continue;
      }
      if (sym == kEndOfBlock) return Status::ok();
      sym -= kFirstLengthSymbol;
      if (sym >= kLengthCodes) return fail("invalid length symbol");
      uint32_t extra = 0;
      EMBER_TRY(bits(kLengthExtra[sym], &extra));
      const size_t len = kLengthBase[sym] + extra;
      int dsym = 0;
      EMBER_TRY(decode(dist_, &dsym));
      if (dsym >= kDistUsed) return fail("invalid distance symbol");
      EMBER_TRY(bits(kDistExtra[dsym], &extra));
      const size_t dist = kDistBase[dsym] + extra;
      if (dist > op_) return fail("distance reaches before the start of the output");
      if (len > cap_ - op_) return overflow();
      uint8_t* dst = out_ + op_;
      const uint8_t* src = dst - dist;
      for (size_t i = 0; i < len; ++i) dst[i] = src[i];  // byte by byte: the copy may overlap itself
      op_ += len;
    }
  }

  const uint8_t* in_;
  size_t size_;
  size_t pos_ = 0;     // next input byte to load into buf_
  uint64_t buf_ = 0;   // unread bits, the next one in bit 0
  int count_ = 0;      // number of valid bits in buf_
  uint8_t* out_;
  size_t cap_;
  size_t op_ = 0;
  Huffman lit_, dist_;  // lit_ also holds the code-length code while a header is read
};

// ---- wrappers ----

constexpr uint8_t kGzipId1 = 0x1F, kGzipId2 = 0x8B;
constexpr uint8_t kMethodDeflate = 8;
constexpr size_t kGzipHeaderBytes = 10, kGzipTrailerBytes = 8;
constexpr uint8_t kGzipFlagHcrc = 0x02, kGzipFlagExtra = 0x04, kGzipFlagName = 0x08, kGzipFlagComment = 0x10;
constexpr uint8_t kGzipFlagReserved = 0xE0;
constexpr size_t kZlibHeaderBytes = 2, kZlibTrailerBytes = 4;
constexpr uint32_t kZlibHeaderCheck = 31;   // CMF * 256 + FLG is a multiple of 31
constexpr uint32_t kZlibMaxWindowInfo = 7;  // CINFO: log2(window) - 8, at most 32 KiB
constexpr uint8_t kZlibFlagDict = 0x20;

uint32_t le32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; }
uint32_t be32(const uint8_t* p) { return static_cast<uint32_t>(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

// Past a zero-terminated header field starting at *pos, or false when it is not terminated.
bool skip_string(const uint8_t* in, size_t size, size_t* pos) {
  const void* nul = std::memchr(in + *pos, 0, size - *pos);
  if (!nul) return false;
  *pos = static_cast<size_t>(static_cast<const uint8_t*>(nul) - in) + 1;
  return true;
}

// The gzip header's length, after checking it.
Status gzip_header(const uint8_t* in, size_t size, size_t* header_bytes) {
  if (!is_gzip(in, size)) return Status::error(Code::corrupt_data, "gzip: not a gzip stream (no 1f 8b magic)");
  if (size < kGzipHeaderBytes + kGzipTrailerBytes)
    return Status::error(Code::corrupt_data, "gzip: truncated: %zu bytes, shorter than the smallest member (%zu)", size,
                         kGzipHeaderBytes + kGzipTrailerBytes);
  if (in[2] != kMethodDeflate)
    return Status::error(Code::unsupported, "gzip: compression method %u (only 8, deflate, exists)", in[2]);
  const uint8_t flags = in[3];
  if (flags & kGzipFlagReserved) return Status::error(Code::corrupt_data, "gzip: reserved header flags %x set", flags);
  size_t pos = kGzipHeaderBytes;
  if (flags & kGzipFlagExtra) {
    if (size - pos < 2) return Status::error(Code::corrupt_data, "gzip: header ends inside FEXTRA");
    const size_t xlen = in[pos] | in[pos + 1] << 8;
    pos += 2;
    if (size - pos < xlen)
      return Status::error(Code::corrupt_data, "gzip: FEXTRA of %zu bytes runs past the end", xlen);
    pos += xlen;
  }
  if ((flags & kGzipFlagName) && !skip_string(in, size, &pos))
    return Status::error(Code::corrupt_data, "gzip: file name in the header is not terminated");
  if ((flags & kGzipFlagComment) && !skip_string(in, size, &pos))
    return Status::error(Code::corrupt_data, "gzip: comment in the header is not terminated");
  if (flags & kGzipFlagHcrc) {
    if (size - pos < 2) return Status::error(Code::corrupt_data, "gzip: header ends inside FHCRC");
    const uint32_t want = in[pos] | in[pos + 1] << 8;
    const uint32_t got = crc32_update(kCrc32Init, in, pos) & 0xFFFFu;
    if (want != got)
      return Status::error(Code::corrupt_data, "gzip: header CRC mismatch: stored %x, computed %x", unsigned(want),
                           unsigned(got));
    pos += 2;
  }
  *header_bytes = pos;
  return Status::ok();
}

}  // namespace

Status inflate_raw(const uint8_t* in, size_t in_size, uint8_t* out, size_t capacity, size_t* out_size,
                   size_t* in_used) {
  *out_size = 0;
  if (in_used) *in_used = 0;
  if ((!in && in_size) || (!out && capacity))
    return Status::error(Code::invalid_argument, "inflate: null buffer");
  Inflater inf(in, in_size, out, capacity);
  EMBER_TRY(inf.run());
  *out_size = inf.written();
  if (in_used) *in_used = inf.consumed();
  return Status::ok();
}

Status zlib_decompress(const uint8_t* in, size_t in_size, uint8_t* out, size_t capacity, size_t* out_size) {
  *out_size = 0;
  if (!in || in_size < kZlibHeaderBytes + kZlibTrailerBytes)
    return Status::error(Code::corrupt_data, "zlib: %zu bytes is too short for a zlib stream", in ? in_size : 0);
  const uint32_t cmf = in[0], flg = in[1];
  if ((cmf & 0x0Fu) != kMethodDeflate)
    return Status::error(Code::unsupported, "zlib: compression method %u (only 8, deflate)", unsigned(cmf & 0x0Fu));
  if ((cmf >> 4) > kZlibMaxWindowInfo)
    return Status::error(Code::corrupt_data, "zlib: window size field %u is above 7", unsigned(cmf >> 4));
  if ((cmf << 8 | flg) % kZlibHeaderCheck != 0)
    return Status::error(Code::corrupt_data, "zlib: header check fails (bytes %x %x)", unsigned(cmf), unsigned(flg));
  if (flg & kZlibFlagDict) return Status::error(Code::unsupported, "zlib: preset dictionaries are not supported");
  size_t used = 0, n = 0;
  EMBER_TRY(inflate_raw(in + kZlibHeaderBytes, in_size - kZlibHeaderBytes, out, capacity, &n, &used));
  const size_t rest = in_size - kZlibHeaderBytes - used;
  if (rest < kZlibTrailerBytes)
    return Status::error(Code::corrupt_data, "zlib: truncated: the Adler-32 trailer has %zu of its 4 bytes", rest);
  if (rest > kZlibTrailerBytes)
    return Status::error(Code::corrupt_data, "zlib: %zu unexpected bytes after the stream", rest - kZlibTrailerBytes);
  const uint32_t want = be32(in + kZlibHeaderBytes + used), got = adler32_update(kAdler32Init, out, n);
  if (want != got)
    return Status::error(Code::corrupt_data, "zlib: Adler-32 mismatch: stored %x, computed %x", unsigned(want),
                         unsigned(got));
  *out_size = n;
  return Status::ok();
}

bool is_gzip(const uint8_t* in, size_t in_size) {
  return in && in_size >= 2 && in[0] == kGzipId1 && in[1] == kGzipId2;
}

Status gzip_isize(const uint8_t* in, size_t in_size, uint32_t* isize) {
  *isize = 0;
  if (!is_gzip(in, in_size)) return Status::error(Code::corrupt_data, "gzip: not a gzip stream (no 1f 8b magic)");
  if (in_size < kGzipHeaderBytes + kGzipTrailerBytes)
    return Status::error(Code::corrupt_data, "gzip: %zu bytes is shorter than the smallest member (%zu)", in_size,
                         kGzipHeaderBytes + kGzipTrailerBytes);
  *isize = le32(in + in_size - 4);
  return Status::ok();
}

Status gzip_decompress(const uint8_t* in, size_t in_size, uint8_t* out, size_t capacity, size_t* out_size) {
  *out_size = 0;
  size_t pos = 0, used = 0, n = 0;
  EMBER_TRY(gzip_header(in, in_size, &pos));
  EMBER_TRY(inflate_raw(in + pos, in_size - pos, out, capacity, &n, &used));
  pos += used;
  const size_t rest = in_size - pos;
  if (rest < kGzipTrailerBytes)
    return Status::error(Code::corrupt_data, "gzip: truncated: the CRC/size trailer has %zu of its 8 bytes", rest);
  if (rest > kGzipTrailerBytes)
    return Status::error(Code::corrupt_data, "gzip: %zu bytes after the member (only one member is read)",
                         rest - kGzipTrailerBytes);
  const uint32_t want_crc = le32(in + pos), got_crc = crc32_update(kCrc32Init, out, n);
  if (want_crc != got_crc)
    return Status::error(Code::corrupt_data, "gzip: CRC-32 mismatch: stored %x, computed %x", unsigned(want_crc),
                         unsigned(got_crc));
  const uint32_t isize = le32(in + pos + 4);
  if (isize != static_cast<uint32_t>(n))
    return Status::error(Code::corrupt_data, "gzip: size mismatch: ISIZE says %u, decoded %zu bytes", unsigned(isize),
                         n);
  *out_size = n;
  return Status::ok();
}

}  // namespace ember
