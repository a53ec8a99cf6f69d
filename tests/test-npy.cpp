// io/npy.h: round trips in memory and through files (bit for bit), headers as numpy writes
// them (versions 1 to 3, either quotes, keys in any order), and one refusal per rule.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "io/npy.h"
#include "nn/checkpoint-format.h"
#include "tests/temp-dir.h"
#include "tests/testing.h"

using namespace ember;
using ember::testing::message_has;

namespace {

using Bytes = std::vector<uint8_t>;

// A .npy file with this dict text, padded as numpy pads (spaces, '\n', data at a multiple of
// align), then data_bytes bytes.
Bytes npy_of(const std::string& dict, size_t data_bytes, int major = 1, size_t align = 64) {
  const size_t prefix = major == 1 ? 10 : 12;
  std::string h = dict;
  while ((prefix + h.size() + 1) % align) h += ' ';
  h += '\n';
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  for (size_t i = 0; i < prefix - 8; ++i) b.push_back(uint8_t(h.size() >> (8 * i)));
  b.insert(b.end(), h.begin(), h.end());
  for (size_t i = 0; i < data_bytes; ++i) b.push_back(uint8_t(i * 7));
  return b;
}
Status parse(const Bytes& b, NpyArray* a) { return npy_parse(b.data(), b.size(), "x.npy", a); }

const char* const kDict23 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

}  // namespace

TEST_CASE("npy: the writer makes numpy's version 1.0 header, 64-byte aligned") {
  const uint64_t dims[2] = {2, 3};
  const float x[6] = {1, 2, 3, 4, 5, 6};
  uint64_t bytes = 0;
  REQUIRE(npy_size(dims, 2, &bytes).is_ok());
  CHECK(bytes == 128 + 24);
  Bytes out(bytes);
  size_t n = 0;
  REQUIRE(npy_write(dims, 2, x, out.data(), out.size(), &n).is_ok());
  CHECK(n == bytes);
  const Bytes want = npy_of(kDict23, 0);  // numpy.save of a (2, 3) float32 array
  REQUIRE(want.size() == 128);
  CHECK(Bytes(out.begin(), out.begin() + 128) == want);
  CHECK(out[127] == '\n');
  CHECK(nn::ckpt::float_bits(x[5]) ==
        (uint32_t(out[148]) | uint32_t(out[149]) << 8 | uint32_t(out[150]) << 16 | uint32_t(out[151]) << 24));
  CHECK(message_has(npy_write(dims, 2, x, out.data(), out.size() - 1, &n), "takes 152 bytes"));

  const uint64_t one[1] = {5};
  REQUIRE(npy_size(one, 1, &bytes).is_ok());
  out.assign(bytes, 0);
  const float five[5] = {};
  REQUIRE(npy_write(one, 1, five, out.data(), out.size(), &n).is_ok());
  CHECK(std::string(out.begin() + 10, out.begin() + 128).find("'shape': (5,), }") != std::string::npos);
  REQUIRE(npy_size(nullptr, 0, &bytes).is_ok());
  CHECK(bytes == 128 + 4);  // the dict is 55 bytes: 66 do not fit in 64
}

TEST_CASE("npy: write then read gives the same shape and bits, in memory and through files") {
  const std::vector<std::vector<uint64_t>> shapes = {{2, 3}, {7}, {}, {0, 4}, {1, 1, 1, 1, 1, 1, 2, 3}, {3, 0}};
  testing::TempDir dir("npy");
  for (const auto& shape : shapes) {
    CAPTURE(shape.size());
    uint64_t numel = 1;
    for (uint64_t d : shape) numel *= d;
    std::vector<float> x(numel);
    for (size_t i = 0; i < numel; ++i) x[i] = i % 3 == 0 ? -0.0f : std::ldexp(float(i) - 2.5f, -int(i % 150));
    if (numel > 2) x[1] = NAN, x[2] = -INFINITY;
    const int rank = int(shape.size());
    uint64_t bytes = 0;
    REQUIRE(npy_size(shape.data(), rank, &bytes).is_ok());
    CHECK((bytes - 4 * numel) % kNpyAlign == 0);
    Bytes mem(bytes);
    size_t n = 0;
    REQUIRE(npy_write(shape.data(), rank, x.data(), mem.data(), mem.size(), &n).is_ok());
    NpyArray a;
    REQUIRE(parse(mem, &a).is_ok());
    CHECK(a.rank == rank);
    CHECK(a.numel == numel);
    for (int d = 0; d < rank; ++d) CHECK(a.dims[d] == shape[size_t(d)]);
    std::vector<float> got(numel + 1);
    REQUIRE(npy_read_f32(a, got.data(), got.size()).is_ok());
    for (size_t i = 0; i < numel; ++i) CHECK(nn::ckpt::float_bits(got[i]) == nn::ckpt::float_bits(x[i]));

    const std::string path = dir.file("a.npy");
    REQUIRE(npy_save(path.c_str(), shape.data(), rank, x.data()).is_ok());
    NpyArray info;
    REQUIRE(npy_read_info(path.c_str(), &info).is_ok());
    CHECK(info.numel == numel);
    CHECK(info.data_offset == bytes - 4 * numel);
    CHECK(info.data == nullptr);
    std::vector<float> loaded(numel + 1);
    REQUIRE(npy_load(path.c_str(), loaded.data(), numel, &info).is_ok());
    for (size_t i = 0; i < numel; ++i) CHECK(nn::ckpt::float_bits(loaded[i]) == nn::ckpt::float_bits(x[i]));
    std::FILE* f = std::fopen(path.c_str(), "rb");
    Bytes disk(bytes);
    REQUIRE(std::fread(disk.data(), 1, bytes, f) == bytes);
    std::fclose(f);
    CHECK(disk == mem);
  }
}

TEST_CASE("npy: headers as other numpy versions and writers make them") {
  NpyArray a;
  CHECK(parse(npy_of(kDict23, 24, 2), &a).is_ok());
  CHECK(parse(npy_of(kDict23, 24, 3), &a).is_ok());
  CHECK(parse(npy_of(kDict23, 24, 1, 16), &a).is_ok());  // numpy before 1.?: 16-byte alignment
  REQUIRE(parse(npy_of("{\"shape\":(4,5),\"fortran_order\":False,\"descr\":\"<f4\"}", 80), &a).is_ok());
  CHECK(a.rank == 2);
  CHECK(a.dims[1] == 5);
  REQUIRE(parse(npy_of("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 2L), }", 24), &a).is_ok());  // Python 2
  CHECK(a.numel == 6);
  REQUIRE(parse(npy_of("{ 'descr' : '<f4' ,\t'fortran_order':False,'shape':( 3 , )}", 12), &a).is_ok());
  CHECK(a.rank == 1);
  REQUIRE(parse(npy_of("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4), &a).is_ok());
  CHECK(a.rank == 0);
  CHECK(a.numel == 1);
}

TEST_CASE("npy: each broken rule is refused with its cause") {
  struct Case {
    std::string dict;
    size_t data;
    const char* cause;
  };
  const Case cases[] = {
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16, "descr '<f8' is not supported"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "descr '>f4' is not supported"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", 2, "descr '|u1'"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, "fortran_order True (column-major)"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", 8, "neither True nor False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", 12, "shape (n) is an int, not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [3], }", 12, "expected '('"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4, "more than 8 entries"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4, "expected a non-negative integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (007,), }", 28, "leading zero"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551616,), }", 4, "above 2^64 - 1"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 4, "element count overflows"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", 4, "byte size overflows"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20,
       "truncated: 20 data bytes, the shape needs 24"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 28, "4 unexpected bytes after the 24 data bytes"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", 8, "unknown header key 'extra'"},
      {"{'descr': '<f4', 'shape': (2,), }", 8, "header has no 'fortran_order'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8, "'descr' given twice"},
      {"{'descr': '<f4", 8, "unterminated string at byte 20"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }", 8, "descr '<f4, ' is not supported"},
      {"{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (2,), }", 8, "an escape in a string"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", 8, "unexpected bytes after the dict"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", 8, "expected ',' or '}' at byte 26"},
      {"{descr: '<f4', 'fortran_order': False, 'shape': (2,)}", 8, "expected a quoted key at byte 11"},
      {"('descr', '<f4')", 8, "expected '{' at byte 10"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", 8, "expected ',' or ')' in shape"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.dict);
    NpyArray a;
    const Status s = parse(npy_of(c.dict, c.data), &a);
    CHECK_FALSE(s.is_ok());
    CHECK(message_has(s, "npy x.npy: "));
    CHECK(message_has(s, c.cause));
    CHECK(a.data == nullptr);
  }
  NpyArray a;
  Bytes b = npy_of(kDict23, 24);
  b[0] = 0x92;
  CHECK(message_has(parse(b, &a), "bad magic"));
  b = npy_of(kDict23, 24);
  b[6] = 4;
  CHECK(message_has(parse(b, &a), "version 4.0"));
  b[6] = 1, b[7] = 1;
  CHECK(message_has(parse(b, &a), "version 1.1"));
  CHECK(message_has(parse(Bytes(b.begin(), b.begin() + 9), &a), "truncated: 9 bytes, the preamble takes 10"));
  CHECK(message_has(parse(Bytes(b.begin(), b.begin() + 11), &a), "version 1.1"));
  b = npy_of(kDict23, 24, 2);
  CHECK(message_has(parse(Bytes(b.begin(), b.begin() + 11), &a), "the preamble takes 12"));
  CHECK(message_has(parse(Bytes(b.begin(), b.begin() + 40), &a), "truncated: the header needs 116 bytes, 28 follow"));
  b[10] = 1;  // header length 65536 + 116
  CHECK(message_has(parse(b, &a), "header of 65652 bytes (this reader takes 4096)"));
  CHECK(message_has(npy_parse(nullptr, 0, nullptr, &a), "npy memory: truncated"));
  float f[6];
  CHECK(message_has(npy_read_f32(a, f, 6), "no parsed data"));
  REQUIRE(parse(npy_of(kDict23, 24), &a).is_ok());
  CHECK(message_has(npy_read_f32(a, f, 5), "6 elements, the buffer holds 5"));
}

TEST_CASE("npy: files: regular files only, checked sizes, truncation named") {
  testing::TempDir dir("npy");
  NpyArray a;
  CHECK(message_has(npy_read_info(dir.path.c_str(), &a), "not a regular file"));
  CHECK(message_has(npy_read_info(dir.file("missing.npy").c_str(), &a), "cannot open"));
  const std::string path = dir.file("cut.npy");
  const Bytes b = npy_of(kDict23, 20);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  std::fwrite(b.data(), 1, b.size(), file);
  std::fclose(file);
  float f[6];
  const Status s = npy_load(path.c_str(), f, 6);
  CHECK(message_has(s, "cut.npy: truncated: 20 data bytes, the shape needs 24"));
  file = std::fopen(path.c_str(), "ab");
  std::fwrite("1234", 1, 4, file);
  std::fclose(file);
  CHECK(npy_load(path.c_str(), f, 6).is_ok());
  CHECK(message_has(npy_load(path.c_str(), f, 5), "6 elements, the buffer holds 5"));
  const uint64_t dims[1] = {3};
  CHECK(message_has(npy_save(path.c_str(), dims, 1, nullptr), "no data"));
  CHECK(message_has(npy_save(path.c_str(), dims, 9, f), "rank 9"));
  CHECK(npy_load(path.c_str(), f, 6).is_ok());  // the refused saves left it alone
}
