// Streaming zlib compressor; the design is in deflate.h.
#include "io/deflate.h"

#include <cstring>

#include "io/crc32.h"
#include "io/deflate-format.h"

namespace ember {

namespace {

using namespace deflate;

constexpr uint8_t kZlibMethodAndWindow = 8 | (ZlibWriter::kWindowBits - 8) << 4;  // CMF
constexpr uint8_t kZlibFlags = 31 - (kZlibMethodAndWindow << 8) % 31;             // FLG: makes CMF*256+FLG % 31 == 0
constexpr size_t kZlibOverhead = 2 + 4;                                           // header + Adler-32
constexpr uint32_t kHashMultiplier = 0x9E3779B1u;                                 // Fibonacci hashing
constexpr int kEndBlockBits = kBlockHeaderBits + 7;                               // the empty final block
constexpr size_t kStoredHeaderBytes = 4;                                          // LEN, NLEN
// Every non-final block covers at least this many input bytes (see ZlibWriter::write).
constexpr size_t kMinBlockBytes = ZlibWriter::kWindow - kMaxMatch;
// A stored block: 3 header bits, up to 7 bits of padding, LEN and NLEN, then the bytes.
constexpr size_t kMaxBlockOverheadBits = kBlockHeaderBits + 7 + 8 * kStoredHeaderBytes;

static_assert(kMinBlockBytes > 0 && ZlibWriter::kBuffer <= kMaxStoredBlock, "a block must fit one stored block");
static_assert(ZlibWriter::kBuffer + 1 <= 65535, "positions + 1 must fit uint16_t");

// The fixed code, bit-reversed so it can go straight into the LSB-first stream.
struct FixedCode {
  uint16_t lit[kLitLenSymbols];
  uint8_t lit_bits[kLitLenSymbols];
  constexpr FixedCode() : lit(), lit_bits() {
    uint32_t next[kMaxCodeBits + 2] = {};
    uint32_t count[kMaxCodeBits + 2] = {};
    for (int s = 0; s < kLitLenSymbols; ++s) ++count[fixed_litlen_bits(s)];
    uint32_t code = 0;
    for (int len = 1; len <= kMaxCodeBits; ++len) {
      code = (code + count[len - 1] * (len > 1)) << 1;
      next[len] = code;
    }
    for (int s = 0; s < kLitLenSymbols; ++s) {
      const int len = fixed_litlen_bits(s);
      lit[s] = static_cast<uint16_t>(reverse_bits(next[len]++, len));
      lit_bits[s] = static_cast<uint8_t>(len);
    }
  }
};
constexpr FixedCode kFixedCode;

int floor_log2(uint32_t v) { return 31 - __builtin_clz(v); }

// Length 3..258 -> index into kLengthBase (symbol - 257): 8 single lengths, then 4 codes per
// power of two, and 258 on its own.
int length_code(size_t len) {
  if (len == kMaxMatch) return kLengthCodes - 1;
  const uint32_t l = static_cast<uint32_t>(len - kMinMatch);
  if (l < 8) return static_cast<int>(l);
  const int b = floor_log2(l);
  return 4 * (b - 1) + static_cast<int>((l >> (b - 2)) & 3u);
}
// Distance 1..32768 -> distance symbol: 4 single distances, then 2 codes per power of two.
int distance_code(size_t dist) {
  const uint32_t d = static_cast<uint32_t>(dist - 1);
  if (d < 4) return static_cast<int>(d);
  const int b = floor_log2(d);
  return 2 * b + static_cast<int>((d >> (b - 1)) & 1u);
}

uint32_t hash3(const uint8_t* p) {
  return (uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]) * kHashMultiplier >> (32 - ZlibWriter::kHashBits);
}

}  // namespace

bool zlib_max_bytes(size_t n, size_t* out) {
  // Blocks: at most n / kMinBlockBytes + 1, each at most its bytes plus the stored overhead;
  // plus the final empty block and the last byte's padding.
  const size_t blocks = n / kMinBlockBytes + 1;
  const size_t block_overhead = (blocks * kMaxBlockOverheadBits + kEndBlockBits + 7) / 8 + 1;
  size_t total = 0;
  if (__builtin_add_overflow(n, block_overhead, &total) || __builtin_add_overflow(total, kZlibOverhead, &total))
    return false;
  *out = total;
  return true;
}

void ZlibWriter::Bits::put(uint32_t value, int bits) {
  acc |= static_cast<uint64_t>(value) << count;
  count += bits;
  while (count >= 8) {
    if (len < cap) out[len++] = static_cast<uint8_t>(acc);
    else overflowed = true;
    acc >>= 8;
    count -= 8;
  }
}

Status ZlibWriter::begin(ByteSink* sink) {
  if (!sink) return Status::error(Code::invalid_argument, "zlib writer: no sink");
  sink_ = sink;
  fill_ = pos_ = block_start_ = 0;
  adler_ = kAdler32Init;
  pending_ = 0, npending_ = 0;
  std::memset(head_, 0, sizeof head_);
  std::memset(prev_, 0, sizeof prev_);
  start_block();
  const uint8_t header[2] = {kZlibMethodAndWindow, kZlibFlags};
  return sink_->put(header, sizeof header);
}

Status ZlibWriter::write(const void* data, size_t n) {
  if (!sink_) return Status::error(Code::invalid_argument, "zlib writer: write before begin()");
  const uint8_t* p = static_cast<const uint8_t*>(data);
  adler_ = adler32_update(adler_, p, n);
  while (n) {
    const size_t take = n < kBuffer - fill_ ? n : kBuffer - fill_;
    std::memcpy(buf_ + fill_, p, take);
    fill_ += take, p += take, n -= take;
    if (fill_ == kBuffer) {
      // Code all but the last kMaxMatch bytes (so every match can reach full length), close
      // the block while its bytes are still here, then drop the older half.
      parse(kBuffer - kMaxMatch);
      EMBER_TRY(end_block());
      slide();
      start_block();
    }
  }
  return Status::ok();
}

Status ZlibWriter::finish() {
  if (!sink_) return Status::error(Code::invalid_argument, "zlib writer: finish before begin()");
  parse(fill_);
  EMBER_TRY(end_block());
  EMBER_TRY(put_bits(1u | kFixed << 1, kBlockHeaderBits));  // empty final block
  EMBER_TRY(put_bits(kFixedCode.lit[kEndOfBlock], kFixedCode.lit_bits[kEndOfBlock]));
  if (npending_) EMBER_TRY(put_bits(0, 8 - npending_));
  const uint8_t adler[4] = {uint8_t(adler_ >> 24), uint8_t(adler_ >> 16), uint8_t(adler_ >> 8), uint8_t(adler_)};
  ByteSink* sink = sink_;
  sink_ = nullptr;  // the stream is over: a further write() is an error
  return sink->put(adler, sizeof adler);
}

void ZlibWriter::parse(size_t limit) {
  while (pos_ < limit) {
    size_t dist = 0;
    const size_t len = longest_match(pos_, &dist);
    if (len >= kMinMatch) {
      code_match(len, dist);
      for (size_t i = 0; i < len; ++i) insert(pos_ + i);
      pos_ += len;
    } else {
      code_literal(buf_[pos_]);
      insert(pos_);
      ++pos_;
    }
  }
}

size_t ZlibWriter::longest_match(size_t p, size_t* dist) const {
  const size_t avail = fill_ - p;
  if (avail < kMinMatch) return 0;
  const size_t max_len = avail < size_t(kMaxMatch) ? avail : size_t(kMaxMatch);
  const size_t oldest = p > kWindow ? p - kWindow : 0;
  const uint32_t h = hash3(buf_ + p);
  size_t best = 0;
  uint32_t next = head_[h];
  for (int tries = kMaxChain; next && tries; --tries) {
    const size_t c = next - 1;
    if (c < oldest) break;  // everything further down the chain is older still
    if (buf_[c + best] == buf_[p + best]) {
      size_t len = 0;
      while (len < max_len && buf_[c + len] == buf_[p + len]) ++len;
      if (len > best) {
        best = len, *dist = p - c;
        if (len == max_len) break;
      }
    }
    next = prev_[c & (kWindow - 1)];
  }
  return best;
}

void ZlibWriter::insert(size_t p) {
  if (fill_ - p < kMinMatch) return;
  const uint32_t h = hash3(buf_ + p);
  prev_[p & (kWindow - 1)] = head_[h];
  head_[h] = static_cast<uint16_t>(p + 1);
}

void ZlibWriter::code_literal(uint8_t byte) { block_.put(kFixedCode.lit[byte], kFixedCode.lit_bits[byte]); }

void ZlibWriter::code_match(size_t len, size_t dist) {
  const int lc = length_code(len);
  const int sym = kFirstLengthSymbol + lc;
  block_.put(kFixedCode.lit[sym], kFixedCode.lit_bits[sym]);
  block_.put(static_cast<uint32_t>(len - kLengthBase[lc]), kLengthExtra[lc]);
  const int dc = distance_code(dist);
  block_.put(reverse_bits(static_cast<uint32_t>(dc), kFixedDistBits), kFixedDistBits);
  block_.put(static_cast<uint32_t>(dist - kDistBase[dc]), kDistExtra[dc]);
}

// A new block continues from the stream's pending bits, so its bytes can be appended as is.
void ZlibWriter::start_block() {
  block_ = Bits{block_bytes_, kBlockBytes, 0, pending_, npending_, false};
  block_.put(kFixed << 1, kBlockHeaderBits);  // not final: the stream ends with an empty block
  block_start_ = pos_;
}

Status ZlibWriter::end_block() {
  const size_t n = pos_ - block_start_;
  if (n == 0) return Status::ok();  // nothing coded: drop the header, keep pending bits
  block_.put(kFixedCode.lit[kEndOfBlock], kFixedCode.lit_bits[kEndOfBlock]);
  const size_t fixed_bits = 8 * block_.len + static_cast<size_t>(block_.count - npending_);
  const size_t pad = (8 - (static_cast<size_t>(npending_) + kBlockHeaderBits) % 8) % 8;
  const size_t stored_bits = kBlockHeaderBits + pad + 8 * (kStoredHeaderBytes + n);
  if (!block_.overflowed && fixed_bits <= stored_bits) {
    pending_ = block_.acc, npending_ = block_.count;
    return sink_->put(block_bytes_, block_.len);
  }
  // Stored: header bits, pad to the byte boundary, LEN and NLEN, the raw bytes.
  EMBER_TRY(put_bits(kStored << 1, kBlockHeaderBits));
  if (npending_) EMBER_TRY(put_bits(0, 8 - npending_));
  const uint8_t lens[kStoredHeaderBytes] = {uint8_t(n), uint8_t(n >> 8), uint8_t(~n), uint8_t(~n >> 8)};
  EMBER_TRY(sink_->put(lens, sizeof lens));
  return sink_->put(buf_ + block_start_, n);
}

Status ZlibWriter::put_bits(uint32_t value, int bits) {
  uint8_t bytes[4];
  Bits b{bytes, sizeof bytes, 0, pending_, npending_, false};
  b.put(value, bits);
  pending_ = b.acc, npending_ = b.count;
  return b.len ? sink_->put(bytes, b.len) : Status::ok();
}

void ZlibWriter::slide() {
  std::memmove(buf_, buf_ + kWindow, fill_ - kWindow);
  fill_ -= kWindow, pos_ -= kWindow;
  for (uint16_t& v : head_) v = v > kWindow ? static_cast<uint16_t>(v - kWindow) : 0;
  for (uint16_t& v : prev_) v = v > kWindow ? static_cast<uint16_t>(v - kWindow) : 0;
}

}  // namespace ember
