// File formats: checksums, inflate (raw, zlib, gzip), the zlib writer and the PNG encoder —
// hand-built streams for each block type, known-good streams made by Python, round trips,
// and hostile inputs (every truncation, random byte flips with guard bytes, crafted bad
// codes). IDX and the MNIST loader are in test-mnist.cpp.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "io/crc32.h"
#include "io/deflate.h"
#include "io/deflate-format.h"
#include "io/inflate.h"
#include "io/png.h"
#include "core/rng.h"
#include "tests/alloc-counter.h"
#include "tests/format-builders.h"

using namespace ember;
using namespace ember::testing;

namespace {

// Made with Python 3: zlib.compress(b"hello hello hello hello, world!", 9) — one fixed-Huffman block.
const Bytes kZlibFixed = {0x78, 0xda, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x40, 0x27, 0x75,
                          0x14, 0xca, 0xf3, 0x8b, 0x72, 0x52, 0x14, 0x01, 0xb8, 0xb5, 0x0b, 0x46};
const char* const kFixedText = "hello hello hello hello, world!";

// 200 bytes from a small skewed alphabet (same LCG as in Python below), so zlib picks a
// dynamic-Huffman block.
Bytes skewed_text(size_t n) {
  Bytes out;
  uint32_t x = 1;
  for (size_t i = 0; i < n; ++i) {
    x = (x * 1103515245u + 12345u) & 0x7fffffffu;
    out.push_back(uint8_t("aaaaaaabbbbccd"[(x >> 16) % 14]));
  }
  return out;
}
// Python 3: x=1; for each byte x=(x*1103515245+12345)&0x7fffffff, b"aaaaaaabbbbccd"[(x>>16)%14];
// zlib.compress(src, 9) — one dynamic-Huffman block (BTYPE 2).
const Bytes kZlibDynamic = {
    0x78, 0xda, 0x4d, 0x8e, 0xcb, 0x11, 0x00, 0x21, 0x0c, 0x42, 0x6b, 0xe5, 0xd3, 0x7f, 0x0d, 0x0b, 0x98, 0xc3,
    0x3a, 0x4e, 0xa2, 0x11, 0x78, 0x12, 0x80, 0x4d, 0x43, 0xb0, 0x52, 0x00, 0x66, 0x67, 0xc0, 0xcc, 0xb0, 0xab,
    0x37, 0x93, 0x9c, 0x9a, 0x46, 0x82, 0x4c, 0xb5, 0x4f, 0x8a, 0x5b, 0xfa, 0x9d, 0x9a, 0x96, 0x80, 0xf6, 0xc8,
    0x6b, 0xa8, 0xaf, 0x08, 0x9e, 0xae, 0x31, 0x6a, 0xf4, 0x30, 0x45, 0x73, 0xf4, 0xe8, 0xde, 0x7b, 0xc9, 0xf5,
    0x17, 0x30, 0x32, 0x26, 0xae, 0x5b, 0xfb, 0x74, 0x3e, 0x36, 0x69, 0x39, 0xfc, 0x00, 0x0c, 0x42, 0x4c, 0x7f};
// Python 3: gzip.GzipFile(filename='skewed.txt', mode='wb', fileobj=BytesIO(), mtime=0,
// compresslevel=9).write(same 200 bytes) — header with FNAME, the same dynamic block.
const Bytes kGzipNamed = {
    0x1f, 0x8b, 0x08, 0x08, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0x73, 0x6b, 0x65, 0x77, 0x65, 0x64, 0x2e, 0x74,
    0x78, 0x74, 0x00, 0x4d, 0x8e, 0xcb, 0x11, 0x00, 0x21, 0x0c, 0x42, 0x6b, 0xe5, 0xd3, 0x7f, 0x0d, 0x0b, 0x98,
    0xc3, 0x3a, 0x4e, 0xa2, 0x11, 0x78, 0x12, 0x80, 0x4d, 0x43, 0xb0, 0x52, 0x00, 0x66, 0x67, 0xc0, 0xcc, 0xb0,
    0xab, 0x37, 0x93, 0x9c, 0x9a, 0x46, 0x82, 0x4c, 0xb5, 0x4f, 0x8a, 0x5b, 0xfa, 0x9d, 0x9a, 0x96, 0x80, 0xf6,
    0xc8, 0x6b, 0xa8, 0xaf, 0x08, 0x9e, 0xae, 0x31, 0x6a, 0xf4, 0x30, 0x45, 0x73, 0xf4, 0xe8, 0xde, 0x7b, 0xc9,
    0xf5, 0x17, 0x30, 0x32, 0x26, 0xae, 0x5b, 0xfb, 0x74, 0x3e, 0x36, 0x69, 0x39, 0xfc, 0x00, 0x14, 0x7c, 0xec,
    0xf9, 0xc8, 0x00, 0x00, 0x00};

// The deflate data inside a zlib stream.
Bytes raw_of(const Bytes& z) { return Bytes(z.begin() + 2, z.end() - 4); }

bool has(const Status& s, const char* text) { return std::strstr(s.message(), text) != nullptr; }

enum class Kind { raw, zlib, gzip };

// Decodes into a buffer of `capacity` bytes followed by guard bytes that must survive.
struct Decoded {
  Status status;
  Bytes out;
  bool guard_intact = true;
};
Decoded decode(Kind kind, const Bytes& in, size_t capacity) {
  constexpr size_t kGuard = 64;
  constexpr uint8_t kGuardByte = 0xA5;
  Bytes buf(capacity + kGuard, kGuardByte);
  size_t n = 0;
  Decoded d;
  const uint8_t* p = in.empty() ? nullptr : in.data();
  if (kind == Kind::raw) d.status = inflate_raw(p, in.size(), buf.data(), capacity, &n);
  if (kind == Kind::zlib) d.status = zlib_decompress(p, in.size(), buf.data(), capacity, &n);
  if (kind == Kind::gzip) d.status = gzip_decompress(p, in.size(), buf.data(), capacity, &n);
  for (size_t i = capacity; i < buf.size(); ++i) d.guard_intact &= buf[i] == kGuardByte;
  if (d.status.is_ok()) d.out.assign(buf.begin(), buf.begin() + static_cast<long>(n));
  return d;
}

// Fixed-code literal/length symbol as (code, length), from RFC 1951 3.2.6.
void fixed_symbol(BitWriter& w, int sym) {
  if (sym < 144) w.huff(0x30 + sym, 8);
  else if (sym < 256) w.huff(0x190 + sym - 144, 9);
  else if (sym < 280) w.huff(sym - 256, 7);
  else w.huff(0xC0 + sym - 280, 8);
}

// A final dynamic block header whose code-length code gives 4 bits to each of the 16
// symbols 0..15 (complete), then the given literal/length and distance code lengths.
void dynamic_header(BitWriter& w, const std::vector<int>& lit, const std::vector<int>& dist) {
  w.bits(1, 1), w.bits(deflate::kDynamic, 2);
  w.bits(uint32_t(lit.size() - 257), 5), w.bits(uint32_t(dist.size() - 1), 5), w.bits(19 - 4, 4);
  for (int i = 0; i < deflate::kCodeLengthSymbols; ++i) w.bits(deflate::kCodeLengthOrder[i] < 16 ? 4 : 0, 3);
  for (int v : lit) w.huff(uint32_t(v), 4);
  for (int v : dist) w.huff(uint32_t(v), 4);
}
std::vector<int> lengths(int n, std::initializer_list<std::pair<int, int>> set) {
  std::vector<int> l(size_t(n), 0);
  for (auto& [sym, len] : set) l[size_t(sym)] = len;
  return l;
}

}  // namespace

TEST_CASE("formats: CRC-32 and Adler-32 match their check values") {
  CHECK(crc32_update(kCrc32Init, "123456789", 9) == 0xCBF43926u);
  CHECK(crc32_update(crc32_update(kCrc32Init, "1234", 4), "56789", 5) == 0xCBF43926u);
  CHECK(crc32_update(kCrc32Init, "", 0) == 0u);
  CHECK(adler32_update(kAdler32Init, "123456789", 9) == 0x091E01DEu);
  CHECK(adler32_update(adler32_update(kAdler32Init, "12345", 5), "6789", 4) == 0x091E01DEu);
  CHECK(adler32_update(kAdler32Init, "", 0) == 1u);
  Bytes big(100000, 0xFF);  // long runs exercise the deferred modulo
  CHECK(adler32_update(kAdler32Init, big.data(), big.size()) == 0x149A302Cu);  // Python: zlib.adler32(b"\xff" * 100000)
  CHECK(crc32_update(kCrc32Init, big.data(), big.size()) == 0x68C6CEC4u);  // Python: zlib.crc32(b"\xff" * 100000)
}

TEST_CASE("inflate: stored blocks built by hand, alone and mixed with a fixed block") {
  Rng rng(5);
  Bytes data(70000);
  for (auto& b : data) b = uint8_t(rng.next_u32());
  for (size_t block : {size_t(65535), size_t(1000), size_t(1)}) {
    const Bytes part(data.begin(), data.begin() + (block == 1 ? 300 : 70000));
    const Bytes raw = stored_deflate(part, block);
    CHECK(decode(Kind::raw, raw, part.size()).out == part);
    CHECK(decode(Kind::zlib, zlib_wrap(raw, part), part.size()).out == part);
    CHECK(decode(Kind::gzip, gzip_wrap(raw, part), part.size()).out == part);
  }
  // An empty stored block; trailing bytes after the stream are reported, not read.
  Bytes raw = stored_deflate(Bytes());
  REQUIRE(raw.size() == 5);
  raw.push_back(0xEE);
  size_t n = 99, used = 0;
  uint8_t out[1];
  REQUIRE(inflate_raw(raw.data(), raw.size(), out, 0, &n, &used).is_ok());
  CHECK(n == 0);
  CHECK(used == 5);
  // A non-final stored block, then Python's fixed block (both start on a byte boundary).
  Bytes mixed = stored_deflate(bytes_of("stored:"));
  mixed[0] = 0;  // not final
  const Bytes fixed = raw_of(kZlibFixed);
  mixed.insert(mixed.end(), fixed.begin(), fixed.end());
  CHECK(decode(Kind::raw, mixed, 100).out == bytes_of(std::string("stored:") + kFixedText));
}

// The API allows a null output of capacity 0; an empty stored block must then copy nothing
// (memcpy with a null pointer is undefined even for 0 bytes; UBSan reports it).
TEST_CASE("inflate: empty stored blocks into a null output of capacity 0") {
  const Bytes final_empty = {0x01, 0x00, 0x00, 0xFF, 0xFF};
  const Bytes two_empty = {0x00, 0x00, 0x00, 0xFF, 0xFF, 0x01, 0x00, 0x00, 0xFF, 0xFF};
  for (const Bytes& raw : {final_empty, two_empty}) {
    size_t n = 99, used = 0;
    REQUIRE(inflate_raw(raw.data(), raw.size(), nullptr, 0, &n, &used).is_ok());
    CHECK(n == 0);
    CHECK(used == raw.size());
  }
  size_t n = 99;
  const Bytes one = stored_deflate(bytes_of("x"));
  const Status s = inflate_raw(one.data(), one.size(), nullptr, 0, &n);
  CHECK(has(s, "0-byte buffer"));
  const Bytes z = zlib_wrap(final_empty, Bytes());
  REQUIRE(zlib_decompress(z.data(), z.size(), nullptr, 0, &n).is_ok());
  const Bytes g = gzip_wrap(final_empty, Bytes());
  REQUIRE(gzip_decompress(g.data(), g.size(), nullptr, 0, &n).is_ok());
  CHECK(n == 0);
}

TEST_CASE("inflate: fixed and dynamic Huffman streams made by Python's zlib and gzip") {
  CHECK(decode(Kind::zlib, kZlibFixed, 100).out == bytes_of(kFixedText));
  const Bytes text = skewed_text(200);
  CHECK(((kZlibDynamic[2] >> 1) & 3) == deflate::kDynamic);
  CHECK(decode(Kind::zlib, kZlibDynamic, 200).out == text);
  CHECK(decode(Kind::raw, raw_of(kZlibDynamic), 200).out == text);
  CHECK(decode(Kind::gzip, kGzipNamed, 200).out == text);
  uint32_t isize = 0;
  REQUIRE(gzip_isize(kGzipNamed.data(), kGzipNamed.size(), &isize).is_ok());
  CHECK(isize == 200);
  // Every optional header field at once, with a correct header CRC.
  GzipHeader h;
  h.extra = {'A', 'B', 2, 0, 7, 9};
  h.name = "file.idx";
  h.comment = "made by hand";
  h.header_crc = true;
  CHECK(decode(Kind::gzip, gzip_wrap(raw_of(kZlibDynamic), text, h), 200).out == text);
}

TEST_CASE("inflate: output capacity is enforced and named") {
  const Bytes text = skewed_text(200);
  CHECK(decode(Kind::zlib, kZlibDynamic, 200).status.is_ok());
  for (size_t cap : {size_t(0), size_t(1), size_t(150), size_t(199)}) {
    const Decoded d = decode(Kind::zlib, kZlibDynamic, cap);
    CHECK(d.guard_intact);
    REQUIRE_FALSE(d.status.is_ok());
    CHECK(has(d.status, (std::to_string(cap) + "-byte buffer").c_str()));
  }
  const Bytes raw = stored_deflate(text);
  CHECK(has(decode(Kind::raw, raw, 199).status, "199-byte buffer"));
}

TEST_CASE("inflate: crafted bad streams are refused with the reason") {
  auto fails_with = [](const Bytes& raw, const char* why) {
    const Decoded d = decode(Kind::raw, raw, 64);
    CHECK_MESSAGE(has(d.status, why), std::string(d.status.message()));
    CHECK(d.guard_intact);
  };
  fails_with({0x07}, "reserved block type");
  fails_with({0x01, 0x03, 0x00, 0xFC, 0xFE, 'a', 'b', 'c'}, "complement");
  fails_with({0x01, 0x03, 0x00, 0xFC, 0xFF, 'a'}, "truncated");
  fails_with({}, "truncated");

  BitWriter ok;  // 'a', then a match of 3 at distance 1 (overlapping), end: "aaaa"
  ok.bits(1, 1), ok.bits(deflate::kFixed, 2);
  fixed_symbol(ok, 'a'), fixed_symbol(ok, 257), ok.huff(0, 5), fixed_symbol(ok, 256);
  CHECK(decode(Kind::raw, ok.done(), 4).out == bytes_of("aaaa"));

  BitWriter far;  // distance 2 after one byte of output
  far.bits(1, 1), far.bits(deflate::kFixed, 2);
  fixed_symbol(far, 'a'), fixed_symbol(far, 257), far.huff(1, 5), fixed_symbol(far, 256);
  fails_with(far.done(), "before the start");

  BitWriter badlen;  // length symbol 286 exists in the fixed code but means nothing
  badlen.bits(1, 1), badlen.bits(deflate::kFixed, 2);
  fixed_symbol(badlen, 286);
  fails_with(badlen.done(), "invalid length symbol");

  BitWriter baddist;  // distance symbol 30, likewise
  baddist.bits(1, 1), baddist.bits(deflate::kFixed, 2);
  fixed_symbol(baddist, 'a'), fixed_symbol(baddist, 257), baddist.huff(30, 5);
  fails_with(baddist.done(), "invalid distance symbol");

  BitWriter cl_over;  // code-length code: 4 codes of 1 bit
  cl_over.bits(1, 1), cl_over.bits(deflate::kDynamic, 2), cl_over.bits(0, 5), cl_over.bits(0, 5), cl_over.bits(0, 4);
  for (int i = 0; i < 4; ++i) cl_over.bits(1, 3);
  fails_with(cl_over.done(), "code-length code");

  BitWriter cl_incomplete;  // code-length code: 2 codes of 2 bits
  cl_incomplete.bits(1, 1), cl_incomplete.bits(deflate::kDynamic, 2), cl_incomplete.bits(0, 5);
  cl_incomplete.bits(0, 5), cl_incomplete.bits(0, 4);
  for (int len : {2, 2, 0, 0}) cl_incomplete.bits(uint32_t(len), 3);
  fails_with(cl_incomplete.done(), "code-length code");

  BitWriter too_many;
  too_many.bits(1, 1), too_many.bits(deflate::kDynamic, 2), too_many.bits(30, 5);
  too_many.bits(0, 5), too_many.bits(0, 4);
  fails_with(too_many.done(), "too many");

  BitWriter lit_over;  // three 1-bit literal/length codes
  dynamic_header(lit_over, lengths(257, {{'a', 1}, {'b', 1}, {256, 1}}), {1});
  fails_with(lit_over.done(), "literal/length code");

  BitWriter lit_incomplete;  // 1 + 2 bits: a quarter of the code space unused
  dynamic_header(lit_incomplete, lengths(257, {{'a', 2}, {256, 1}}), {1});
  fails_with(lit_incomplete.done(), "literal/length code");

  BitWriter no_end;
  dynamic_header(no_end, lengths(257, {{'a', 1}, {'b', 1}}), {1});
  fails_with(no_end.done(), "end-of-block");

  BitWriter dist_incomplete;  // distance codes of 1 + 2 bits
  dynamic_header(dist_incomplete, lengths(257, {{'a', 1}, {256, 1}}), {1, 2});
  fails_with(dist_incomplete.done(), "distance code");
}

TEST_CASE("inflate: the lone one-bit codes RFC 1951 allows are accepted") {
  BitWriter eob_only;  // only end-of-block (1 bit), no distance codes: an empty block
  dynamic_header(eob_only, lengths(257, {{256, 1}}), {0});
  eob_only.huff(0, 1);
  const Decoded d = decode(Kind::raw, eob_only.done(), 8);
  CHECK(d.status.is_ok());
  CHECK(d.out.empty());

  BitWriter one_dist;  // 'a' (0), end (10), length 3 (11); a single 1-bit distance code
  dynamic_header(one_dist, lengths(258, {{'a', 1}, {256, 2}, {257, 2}}), {1});
  one_dist.huff(0, 1), one_dist.huff(3, 2), one_dist.huff(0, 1), one_dist.huff(2, 2);
  CHECK(decode(Kind::raw, one_dist.done(), 8).out == bytes_of("aaaa"));
}

TEST_CASE("inflate: wrapper checks (zlib header and Adler-32, gzip header, CRC, size, trailing data)") {
  auto refused = [](Kind kind, Bytes b, const char* why) {
    const Decoded d = decode(kind, b, 256);
    CHECK_MESSAGE(has(d.status, why), std::string(d.status.message()));
  };
  Bytes z = kZlibDynamic;
  z[1] ^= 1;
  refused(Kind::zlib, z, "header check");
  refused(Kind::zlib, {0x78, 0xBB, 0, 0, 0, 0, 0}, "dictionar");  // 0x78BB % 31 == 0, FDICT set
  z = kZlibDynamic;
  z.back() ^= 1;
  refused(Kind::zlib, z, "Adler-32 mismatch");
  z = kZlibDynamic;
  z.push_back(0);
  refused(Kind::zlib, z, "unexpected bytes");

  Bytes g = kGzipNamed;
  g[0] = 0x1e;
  refused(Kind::gzip, g, "not a gzip");
  g = kGzipNamed;
  g[2] = 7;
  refused(Kind::gzip, g, "method");
  g = kGzipNamed;
  g[3] |= 0x20;
  refused(Kind::gzip, g, "reserved");
  g = Bytes(kGzipNamed.begin(), kGzipNamed.begin() + 18);  // ends inside FNAME
  refused(Kind::gzip, g, "not terminated");
  g = kGzipNamed;
  g[g.size() - 8] ^= 1;
  refused(Kind::gzip, g, "CRC-32 mismatch");
  g = kGzipNamed;
  g[g.size() - 4] ^= 1;
  refused(Kind::gzip, g, "size mismatch");
  g = kGzipNamed;
  g.insert(g.end(), kGzipNamed.begin(), kGzipNamed.end());
  refused(Kind::gzip, g, "after the member");
  GzipHeader h;
  h.header_crc = true;
  g = gzip_wrap(raw_of(kZlibFixed), bytes_of(kFixedText), h);
  g[10] ^= 1;
  refused(Kind::gzip, g, "header CRC");

  uint32_t isize = 7;
  CHECK_FALSE(gzip_isize(kGzipNamed.data(), 17, &isize).is_ok());
  CHECK(isize == 0);
  CHECK_FALSE(gzip_isize(kZlibDynamic.data(), kZlibDynamic.size(), &isize).is_ok());
}

TEST_CASE("inflate: every truncation of a gzip member fails cleanly") {
  for (size_t n = 0; n < kGzipNamed.size(); ++n) {
    const Decoded d = decode(Kind::gzip, Bytes(kGzipNamed.begin(), kGzipNamed.begin() + long(n)), 200);
    CHECK_MESSAGE(!d.status.is_ok(), "prefix of ", n, " bytes");
    CHECK(d.guard_intact);
  }
  const Bytes raw = raw_of(kZlibDynamic);
  for (size_t n = 0; n < raw.size(); ++n)
    CHECK_FALSE(decode(Kind::raw, Bytes(raw.begin(), raw.begin() + long(n)), 200).status.is_ok());
}

TEST_CASE("inflate: random byte flips fail or stay in bounds (run under ASan)") {
  Rng rng(77);
  int failed = 0, total = 0;
  const Bytes sources[] = {kGzipNamed, kZlibDynamic, kZlibFixed, raw_of(kZlibDynamic)};
  const Kind kinds[] = {Kind::gzip, Kind::zlib, Kind::zlib, Kind::raw};
  for (int s = 0; s < 4; ++s) {
    for (int trial = 0; trial < 1500; ++trial) {
      Bytes b = sources[s];
      const int flips = 1 + int(rng.below(3));
      for (int f = 0; f < flips; ++f) b[rng.below(uint32_t(b.size()))] ^= uint8_t(1 + rng.below(255));
      const Decoded d = decode(kinds[s], b, 200);
      CHECK(d.guard_intact);
      if (d.status.is_ok()) CHECK(d.out.size() <= 200);
      failed += !d.status.is_ok(), ++total;
    }
  }
  // The checksummed wrappers catch nearly everything; raw deflate has no check at all.
  CHECK(failed > total / 2);
}
