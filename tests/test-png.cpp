// The zlib writer and the PNG encoder: round trips through our own inflate (random, smooth
// and constant data; odd image sizes), chunk CRCs, worst-case bounds, buffer-size errors,
// atomic file output, and no heap use.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "io/crc32.h"
#include "io/deflate.h"
#include "io/inflate.h"
#include "io/png.h"
#include "core/rng.h"
#include "tests/alloc-counter.h"
#include "tests/format-builders.h"

using namespace ember;
using namespace ember::testing;

namespace {

struct VectorSink : ByteSink {
  Bytes bytes;
  Status put(const uint8_t* data, size_t n) override {
    bytes.insert(bytes.end(), data, data + n);
    return Status::ok();
  }
};

enum class Fill { random, smooth, constant, period };

Bytes make_data(Fill fill, size_t n, uint64_t seed) {
  Rng rng(seed);
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) {
    switch (fill) {
      case Fill::random: b[i] = uint8_t(rng.next_u32()); break;
      case Fill::smooth: b[i] = uint8_t(128 + 100 * std::sin(0.01 * double(i)) + rng.below(3)); break;
      case Fill::constant: b[i] = 7; break;
      case Fill::period: b[i] = uint8_t("ember, "[i % 7]); break;
    }
  }
  return b;
}

// Compresses data with ZlibWriter, handing it over `piece` bytes at a time.
Bytes compress(const Bytes& data, size_t piece) {
  VectorSink sink;
  ZlibWriter* z = new ZlibWriter;  // 33 KiB: not on the test's stack
  REQUIRE(z->begin(&sink).is_ok());
  for (size_t at = 0; at < data.size(); at += piece)
    REQUIRE(z->write(data.data() + at, std::min(piece, data.size() - at)).is_ok());
  REQUIRE(z->finish().is_ok());
  delete z;
  return sink.bytes;
}

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

struct ParsedPng {
  uint32_t width = 0, height = 0;
  int depth = 0, colour = 0;
  std::vector<std::string> types;
  Bytes idat;
  bool crcs_ok = true;
};

ParsedPng parse_png(const Bytes& b) {
  static const uint8_t kSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  ParsedPng p;
  REQUIRE(b.size() >= 8);
  REQUIRE(std::memcmp(b.data(), kSig, 8) == 0);
  for (size_t at = 8; at < b.size();) {
    REQUIRE(b.size() - at >= 12);
    const uint32_t n = be32(&b[at]);
    REQUIRE(b.size() - at - 12 >= n);
    const uint8_t* type = &b[at + 4];
    const uint8_t* data = type + 4;
    p.crcs_ok &= crc32_update(kCrc32Init, type, 4 + n) == be32(data + n);
    p.types.emplace_back(reinterpret_cast<const char*>(type), 4);
    if (p.types.back() == "IHDR") {
      REQUIRE(n == 13);
      p.width = be32(data), p.height = be32(data + 4), p.depth = data[8], p.colour = data[9];
    }
    if (p.types.back() == "IDAT") p.idat.insert(p.idat.end(), data, data + n);
    at += 12 + n;
  }
  return p;
}

// Undoes the PNG row filters (the decoder's side, written independently of the encoder).
Bytes unfilter(const Bytes& raw, size_t width, size_t height, size_t channels, std::set<int>* filters) {
  const size_t row = width * channels;
  Bytes out(row * height), zero(row, 0);
  REQUIRE(raw.size() == height * (row + 1));
  for (size_t y = 0; y < height; ++y) {
    const uint8_t f = raw[y * (row + 1)];
    filters->insert(f);
    const uint8_t* in = &raw[y * (row + 1) + 1];
    uint8_t* cur = &out[y * row];
    const uint8_t* up = y ? cur - row : zero.data();
    for (size_t i = 0; i < row; ++i) {
      const int a = i >= channels ? cur[i - channels] : 0, b = up[i], c = i >= channels ? up[i - channels] : 0;
      const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
      const int paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const int pred[5] = {0, a, b, (a + b) / 2, paeth};
      REQUIRE(f < 5);
      cur[i] = uint8_t(in[i] + pred[f]);
    }
  }
  return out;
}

Bytes encode_png(const Bytes& pixels, int w, int h, int c) {
  Bytes out(png_max_bytes(w, h, c));
  size_t n = 0;
  const Status s = png_encode(pixels.data(), w, h, c, out.data(), out.size(), &n);
  REQUIRE_MESSAGE(s.is_ok(), std::string(s.message()));
  out.resize(n);
  return out;
}

}  // namespace

TEST_CASE("zlib writer: round trips through inflate and stays within zlib_max_bytes") {
  for (Fill fill : {Fill::random, Fill::smooth, Fill::constant, Fill::period}) {
    for (size_t n : {size_t(0), size_t(1), size_t(3), size_t(258), size_t(4096), size_t(8192), size_t(8193),
                     size_t(50000)}) {
      const Bytes data = make_data(fill, n, n + 1);
      for (size_t piece : {size_t(1), size_t(1000), size_t(1) << 20}) {
        if (piece == 1 && n > 9000) continue;
        const Bytes z = compress(data, piece);
        size_t bound = 0;
        REQUIRE(zlib_max_bytes(n, &bound));
        CHECK(z.size() <= bound);
        Bytes out(n + 1);
        size_t got = 0;
        const Status s = zlib_decompress(z.data(), z.size(), out.data(), out.size(), &got);
        REQUIRE_MESSAGE(s.is_ok(), std::string(s.message()));
        out.resize(got);
        CHECK(out == data);
        if (fill == Fill::constant && n >= 4096) CHECK(z.size() < n / 50);  // LZ77 finds the runs
        if (fill == Fill::period && n >= 4096) CHECK(z.size() < n / 20);
      }
    }
  }
}

TEST_CASE("zlib writer: a sink that does not override put() fails the stream") {
  struct NoSink : ByteSink {} sink;
  ZlibWriter* z = new ZlibWriter;  // 33 KiB: not on the test's stack
  const Status s = z->begin(&sink);
  delete z;
  CHECK(s.code() == Code::unsupported);
  CHECK(std::string(s.message()).find("not implemented") != std::string::npos);
}

TEST_CASE("png: encoder output decodes back to the pixels (odd sizes, grey and RGB, random and smooth)") {
  struct Case {
    int w, h;
  };
  for (Case sz : {Case{1, 1}, Case{3, 7}, Case{28, 28}, Case{257, 5}}) {
    for (int channels : {kPngGrey, kPngRgb}) {
      for (Fill fill : {Fill::random, Fill::smooth}) {
        CAPTURE(sz.w);
        CAPTURE(sz.h);
        CAPTURE(channels);
        const Bytes pixels = make_data(fill, size_t(sz.w) * sz.h * channels, 9);
        const Bytes png = encode_png(pixels, sz.w, sz.h, channels);
        CHECK(png.size() <= png_max_bytes(sz.w, sz.h, channels));
        const ParsedPng p = parse_png(png);
        CHECK(p.crcs_ok);
        REQUIRE(p.types.size() >= 3);
        CHECK(p.types.front() == "IHDR");
        CHECK(p.types[1] == "IDAT");
        CHECK(p.types.back() == "IEND");
        CHECK(p.width == uint32_t(sz.w));
        CHECK(p.height == uint32_t(sz.h));
        CHECK(p.depth == 8);
        CHECK(p.colour == (channels == kPngRgb ? 2 : 0));
        const size_t raw_size = size_t(sz.h) * (1 + size_t(sz.w) * channels);
        Bytes raw(raw_size);
        size_t got = 0;
        REQUIRE(zlib_decompress(p.idat.data(), p.idat.size(), raw.data(), raw.size(), &got).is_ok());
        REQUIRE(got == raw_size);
        std::set<int> filters;
        CHECK(unfilter(raw, sz.w, sz.h, channels, &filters) == pixels);
        if (fill == Fill::smooth && sz.h > 1) CHECK(*filters.rbegin() > 0);  // some row uses a filter
      }
    }
  }
}

TEST_CASE("png: large images span several IDAT chunks; smooth ones compress") {
  const int w = 200, h = 100;
  const Bytes noisy = make_data(Fill::random, size_t(w) * h * 3, 3);
  const ParsedPng p = parse_png(encode_png(noisy, w, h, kPngRgb));
  CHECK(p.crcs_ok);
  CHECK(p.types.size() > 4);
  Bytes raw(size_t(h) * (1 + w * 3));
  size_t got = 0;
  REQUIRE(zlib_decompress(p.idat.data(), p.idat.size(), raw.data(), raw.size(), &got).is_ok());
  std::set<int> filters;
  CHECK(unfilter(raw, w, h, 3, &filters) == noisy);

  Bytes gradient(size_t(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) gradient[size_t(y) * w + x] = uint8_t(x + y);
  CHECK(encode_png(gradient, w, h, kPngGrey).size() < gradient.size() / 10);
}

TEST_CASE("png: bad arguments and short buffers are refused with the sizes") {
  const Bytes pixels = make_data(Fill::random, 28 * 28, 1);
  uint8_t out[64];
  size_t n = 1;
  CHECK(png_max_bytes(0, 5, 1) == 0);
  CHECK(png_max_bytes(5, -1, 1) == 0);
  CHECK(png_max_bytes(5, 5, 2) == 0);
  CHECK(png_encode(pixels.data(), 28, 28, 4, out, sizeof out, &n).code() == Code::invalid_argument);
  CHECK(png_encode(nullptr, 28, 28, 1, out, sizeof out, &n).code() == Code::invalid_argument);
  CHECK(n == 0);
  const Bytes good = encode_png(pixels, 28, 28, 1);
  Bytes small(good.size() - 1);
  const Status s = png_encode(pixels.data(), 28, 28, 1, small.data(), small.size(), &n);
  CHECK(s.code() == Code::out_of_memory);
  CHECK(std::string(s.message()).find(std::to_string(small.size()) + " bytes is too small") != std::string::npos);
  Bytes exact(good.size());
  REQUIRE(png_encode(pixels.data(), 28, 28, 1, exact.data(), exact.size(), &n).is_ok());
  CHECK(exact == good);
}

TEST_CASE("png: png_write writes the same bytes atomically; a bad path leaves nothing") {
  ScratchDir dir;
  REQUIRE(!dir.path.empty());
  const Bytes pixels = make_data(Fill::smooth, 3 * 17 * 9, 4);
  REQUIRE(png_write(dir.file("a.png").c_str(), pixels.data(), 17, 9, kPngRgb).is_ok());
  CHECK(read_file(dir.file("a.png")) == encode_png(pixels, 17, 9, kPngRgb));
  const Status s = png_write(dir.file("missing/a.png").c_str(), pixels.data(), 17, 9, kPngRgb);
  CHECK(s.code() == Code::io_error);
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("formats: inflate and the PNG encoder never touch the heap") {
  if (!alloc_counter::available()) return;
  const Bytes pixels = make_data(Fill::smooth, 64 * 64, 2);
  Bytes png(png_max_bytes(64, 64, 1)), raw(64 * 65);
  size_t n = 0, got = 0;
  alloc_counter::start();
  const Status s1 = png_encode(pixels.data(), 64, 64, 1, png.data(), png.size(), &n);
  const size_t encode_allocations = alloc_counter::stop();
  REQUIRE(s1.is_ok());
  png.resize(n);
  const ParsedPng p = parse_png(png);
  alloc_counter::start();
  const Status s2 = zlib_decompress(p.idat.data(), p.idat.size(), raw.data(), raw.size(), &got);
  const size_t inflate_allocations = alloc_counter::stop();
  CHECK_MESSAGE(s2.is_ok(), std::string(s2.message()));
  CHECK(encode_allocations == 0);
  CHECK(inflate_allocations == 0);
}
