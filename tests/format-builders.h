// Test helpers that build deflate, zlib and gzip streams by hand (no compressor involved),
// so the decoder can be fed exactly the layout under test.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/crc32.h"
#include "io/deflate.h"

namespace ember::testing {

using Bytes = std::vector<uint8_t>;

inline Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

// LSB-first bit writer; huff() sends a Huffman code most significant bit first.
struct BitWriter {
  Bytes out;
  uint32_t acc = 0;
  int n = 0;
  void bits(uint32_t v, int count) {
    for (int i = 0; i < count; ++i) {
      acc |= ((v >> i) & 1u) << n;
      if (++n == 8) out.push_back(uint8_t(acc)), acc = 0, n = 0;
    }
  }
  void huff(uint32_t code, int len) {
    for (int i = len - 1; i >= 0; --i) bits((code >> i) & 1u, 1);
  }
  Bytes done() {
    Bytes r = out;
    if (n) r.push_back(uint8_t(acc));
    return r;
  }
};

// Raw deflate made only of stored blocks of at most `block` bytes (at least one block).
inline Bytes stored_deflate(const Bytes& data, size_t block = 65535) {
  Bytes out;
  size_t at = 0;
  do {
    const size_t n = data.size() - at < block ? data.size() - at : block;
    const bool last = at + n == data.size();
    out.push_back(last ? 1 : 0);  // BFINAL, BTYPE 00, then padding to the byte boundary
    out.push_back(uint8_t(n)), out.push_back(uint8_t(n >> 8));
    out.push_back(uint8_t(~n)), out.push_back(uint8_t(~n >> 8));
    out.insert(out.end(), data.begin() + at, data.begin() + at + n);
    at += n;
  } while (at < data.size());
  return out;
}

// A zlib stream from the library's own compressor (LZ77 matches, fixed Huffman or stored
// blocks); empty if it fails.
inline Bytes zlib_of(const Bytes& data) {
  struct Collect : ByteSink {
    Bytes out;
    Status put(const uint8_t* p, size_t n) override {
      out.insert(out.end(), p, p + n);
      return Status::ok();
    }
  } sink;
  ZlibWriter z;
  if (!z.begin(&sink).is_ok() || !z.write(data.data(), data.size()).is_ok() || !z.finish().is_ok()) return Bytes();
  return sink.out;
}
// The deflate data inside a zlib stream (its 2-byte header and Adler-32 dropped).
inline Bytes zlib_unwrap(const Bytes& zlib) {
  return zlib.size() < 6 ? Bytes() : Bytes(zlib.begin() + 2, zlib.end() - 4);
}

inline void put_le32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}

inline Bytes zlib_wrap(const Bytes& deflate, const Bytes& data) {
  Bytes out = {0x78, 0x01};  // deflate, 32 KiB window, check bits
  out.insert(out.end(), deflate.begin(), deflate.end());
  const uint32_t a = adler32_update(kAdler32Init, data.data(), data.size());
  for (int i = 3; i >= 0; --i) out.push_back(uint8_t(a >> (8 * i)));
  return out;
}

struct GzipHeader {
  Bytes extra;            // FEXTRA payload (sent when not empty)
  std::string name;       // FNAME (sent when not empty)
  std::string comment;    // FCOMMENT (sent when not empty)
  bool header_crc = false;  // FHCRC
};

inline Bytes gzip_wrap(const Bytes& deflate, const Bytes& data, const GzipHeader& h = GzipHeader()) {
  const uint8_t flags = uint8_t((h.header_crc ? 2 : 0) | (h.extra.empty() ? 0 : 4) | (h.name.empty() ? 0 : 8) |
                                (h.comment.empty() ? 0 : 16));
  Bytes out = {0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 255};
  if (!h.extra.empty()) {
    out.push_back(uint8_t(h.extra.size())), out.push_back(uint8_t(h.extra.size() >> 8));
    out.insert(out.end(), h.extra.begin(), h.extra.end());
  }
  if (!h.name.empty()) out.insert(out.end(), h.name.c_str(), h.name.c_str() + h.name.size() + 1);
  if (!h.comment.empty()) out.insert(out.end(), h.comment.c_str(), h.comment.c_str() + h.comment.size() + 1);
  if (h.header_crc) {
    const uint32_t c = crc32_update(kCrc32Init, out.data(), out.size());
    out.push_back(uint8_t(c)), out.push_back(uint8_t(c >> 8));
  }
  out.insert(out.end(), deflate.begin(), deflate.end());
  put_le32(out, crc32_update(kCrc32Init, data.data(), data.size()));
  put_le32(out, uint32_t(data.size()));
  return out;
}

}  // namespace ember::testing

#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace ember::testing {

// A fresh directory under /tmp (mkdtemp), removed with everything in it afterwards.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    char tmpl[] = "/tmp/ember-formats-XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    path = p ? p : "";
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

inline Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
inline void write_file(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace ember::testing
