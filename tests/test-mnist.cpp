// IDX parsing and the MNIST / IDX-image loaders: a small IDX set generated here, written
// raw and as a hand-made stored-block gzip, plus every way the files can be wrong. Every
// failure must leave the arena where it was and the output Dataset untouched.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/arena.h"
#include "data/idx.h"
#include "core/rng.h"
#include "data/mnist.h"
#include "tests/format-builders.h"
#include "tests/temp-dir.h"

using namespace ember;
using namespace ember::data;
using namespace ember::testing;

namespace {

Bytes idx_file(uint8_t type, const std::vector<uint32_t>& dims, const Bytes& data) {
  Bytes b = {0, 0, type, uint8_t(dims.size())};
  for (uint32_t d : dims)
    for (int i = 3; i >= 0; --i) b.push_back(uint8_t(d >> (8 * i)));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

Bytes gzip_of(const Bytes& data) { return gzip_wrap(stored_deflate(data, 300), data); }

bool has(const Status& s, const std::string& text) { return std::string(s.message()).find(text) != std::string::npos; }

// A tiny MNIST-shaped set: 20 images of 5 x 4, labels 0..9.
struct TinySet {
  static constexpr int kCount = 20, kRows = 5, kCols = 4;
  Bytes pixels, labels;
  TinySet() {
    Rng rng(42);
    for (int i = 0; i < kCount * kRows * kCols; ++i) pixels.push_back(uint8_t(rng.next_u32()));
    for (int i = 0; i < kCount; ++i) labels.push_back(uint8_t((i * 7) % 10));
  }
  Bytes images_idx() const { return idx_file(kIdxTypeU8, {kCount, kRows, kCols}, pixels); }
  Bytes labels_idx() const { return idx_file(kIdxTypeU8, {kCount}, labels); }
};

struct ArenaBox {
  std::vector<uint8_t> buf;
  Arena arena;
  explicit ArenaBox(size_t bytes = 1 << 20) : buf(bytes), arena(buf.data(), buf.size()) {}
};

// Loading fails with `why` in the message, the arena is as it was and *out untouched.
void expect_load_fails(const std::string& dir, bool train, const char* why, size_t arena_bytes = 1 << 20) {
  ArenaBox box(arena_bytes);
  void* keep = nullptr;
  REQUIRE(box.arena.alloc(100, &keep).is_ok());
  const size_t used = box.arena.used();
  data::Dataset ds;
  ds.count = -7;
  const Status s = load_mnist(&box.arena, dir.c_str(), train, &ds);
  CHECK_FALSE(s.is_ok());
  CHECK_MESSAGE(has(s, why), std::string(s.message()));
  CHECK(box.arena.used() == used);
  CHECK(ds.count == -7);
  CHECK(ds.pixels == nullptr);
}

}  // namespace

TEST_CASE("idx: images and labels parse to their dimensions and data") {
  const TinySet set;
  const Bytes images = set.images_idx();
  IdxArray a;
  REQUIRE(idx_parse(images.data(), images.size(), "img", &a).is_ok());
  CHECK(a.rank == 3);
  CHECK(a.dims[0] == 20);
  CHECK(a.dims[1] == 5);
  CHECK(a.dims[2] == 4);
  CHECK(a.count == 400);
  CHECK(a.data == images.data() + 16);
  const Bytes labels = set.labels_idx();
  REQUIRE(idx_parse(labels.data(), labels.size(), "lab", &a).is_ok());
  CHECK(a.rank == 1);
  CHECK(a.count == 20);
  CHECK(std::memcmp(a.data, set.labels.data(), 20) == 0);
}

TEST_CASE("idx: bad magic, types, ranks, dimensions, overflow, truncation and trailing bytes") {
  auto refused = [](const Bytes& b, Code code, const char* why) {
    IdxArray a;
    a.count = 12345;
    const Status s = idx_parse(b.empty() ? nullptr : b.data(), b.size(), "x.idx", &a);
    CHECK(s.code() == code);
    CHECK_MESSAGE(has(s, why), std::string(s.message()));
    CHECK_MESSAGE(has(s, "x.idx"), std::string(s.message()));
    CHECK(a.count == 12345);  // untouched
  };
  refused({}, Code::corrupt_data, "too short");
  refused({0, 0, 8}, Code::corrupt_data, "too short");
  refused(Bytes{1, 0, 8, 1, 0, 0, 0, 2, 1, 2}, Code::corrupt_data, "magic");
  refused(idx_file(0x0D, {1}, {0, 0, 0, 0}), Code::unsupported, "float32");
  refused(idx_file(0x0B, {1}, {0, 0}), Code::unsupported, "int16");
  refused(idx_file(8, {}, {}), Code::corrupt_data, "0 dimensions");
  refused(idx_file(8, {1, 1, 1, 1, 1}, {0}), Code::corrupt_data, "5 dimensions");
  refused(Bytes{0, 0, 8, 3, 0, 0, 0, 1, 0, 0}, Code::corrupt_data, "header needs 16 bytes");
  refused(idx_file(8, {3, 0, 2}, {}), Code::corrupt_data, "dimension 1 is 0");
  refused(idx_file(8, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {}), Code::corrupt_data, "overflows");
  refused(idx_file(8, {2, 3}, {1, 2, 3, 4, 5}), Code::corrupt_data, "truncated");
  refused(idx_file(8, {2, 3}, {1, 2, 3, 4, 5, 6, 7}), Code::corrupt_data, "1 unexpected bytes");
  const Bytes good = TinySet().images_idx();
  for (size_t n = 0; n < good.size(); ++n) {
    IdxArray a;
    CHECK_FALSE(idx_parse(good.data(), n, "cut", &a).is_ok());
  }
}

TEST_CASE("mnist: raw and gzip files load to the same dataset; raw wins when both exist") {
  const TinySet set;
  ScratchDir raw, gz, both;
  for (const char* split : {"train", "t10k"}) {
    const std::string img = std::string(split) + "-images-idx3-ubyte", lab = std::string(split) + "-labels-idx1-ubyte";
    write_file(raw.file(img), set.images_idx());
    write_file(raw.file(lab), set.labels_idx());
    write_file(gz.file(img + ".gz"), gzip_of(set.images_idx()));
    write_file(gz.file(lab + ".gz"), gzip_of(set.labels_idx()));
    write_file(both.file(img), set.images_idx());
    write_file(both.file(lab), set.labels_idx());
    write_file(both.file(img + ".gz"), bytes_of("not gzip at all"));
    write_file(both.file(lab + ".gz"), bytes_of("not gzip at all"));
  }
  for (const std::string& dir : {raw.path, gz.path, both.path + "/"}) {
    for (bool train : {true, false}) {
      ArenaBox box;
      data::Dataset ds;
      const Status s = load_mnist(&box.arena, dir.c_str(), train, &ds);
      REQUIRE_MESSAGE(s.is_ok(), std::string(s.message()));
      CHECK(ds.count == TinySet::kCount);
      CHECK(ds.rows == TinySet::kRows);
      CHECK(ds.cols == TinySet::kCols);
      CHECK(ds.classes == data::kMnistClasses);
      CHECK(std::memcmp(ds.pixels, set.pixels.data(), set.pixels.size()) == 0);
      CHECK(std::memcmp(ds.labels, set.labels.data(), set.labels.size()) == 0);
      CHECK(ds.image(3) == ds.pixels + 3 * 20);
      CHECK(box.arena.used() == box.arena.mark());  // the tail scratch was released
    }
  }
}

TEST_CASE("mnist: a missing file is named, with where to get MNIST") {
  ScratchDir dir;
  expect_load_fails(dir.path, true, "no train-images-idx3-ubyte[.gz] in");
  expect_load_fails(dir.path, false, "t10k-images-idx3-ubyte");
  expect_load_fails(dir.path + "/does-not-exist", true, "yann.lecun.com/exdb/mnist");
  expect_load_fails(dir.path, true, "../shared/data/mnist");
  write_file(dir.file("train-images-idx3-ubyte"), TinySet().images_idx());
  expect_load_fails(dir.path, true, "no train-labels-idx1-ubyte[.gz]");
}

TEST_CASE("mnist: bad contents fail and rewind the arena") {
  const TinySet set;
  ScratchDir dir;
  const std::string img = dir.file("train-images-idx3-ubyte.gz"), lab = dir.file("train-labels-idx1-ubyte.gz");
  auto write_set = [&](const Bytes& images_gz, const Bytes& labels_gz) {
    write_file(img, images_gz);
    write_file(lab, labels_gz);
  };
  const Bytes good_images = gzip_of(set.images_idx()), good_labels = gzip_of(set.labels_idx());

  Bytes few = set.labels;
  few.pop_back();
  write_set(good_images, gzip_of(idx_file(kIdxTypeU8, {19}, few)));
  expect_load_fails(dir.path, true, "19 labels for 20 images");

  Bytes ten = set.labels;
  ten[6] = 10;
  write_set(good_images, gzip_of(idx_file(kIdxTypeU8, {20}, ten)));
  expect_load_fails(dir.path, true, "label 10 of image 6 is not a class 0..9");

  Bytes crc = good_images;
  crc[crc.size() - 8] ^= 1;
  write_set(crc, good_labels);
  expect_load_fails(dir.path, true, "CRC-32 mismatch");

  Bytes isize_small = good_images;  // ISIZE claims 10 bytes fewer than the data
  const uint32_t lie = uint32_t(set.images_idx().size() - 10);
  for (int i = 0; i < 4; ++i) isize_small[isize_small.size() - 4 + i] = uint8_t(lie >> (8 * i));
  write_set(isize_small, good_labels);
  expect_load_fails(dir.path, true, ("ISIZE says " + std::to_string(lie)).c_str());

  Bytes isize_huge = good_images;  // the output is not sized from ISIZE, so a lie is just a lie
  isize_huge[isize_huge.size() - 1] = 0xF0;
  write_set(isize_huge, good_labels);
  expect_load_fails(dir.path, true, "size mismatch");

  write_set(gzip_of(set.labels_idx()), good_labels);  // a vector where images belong
  expect_load_fails(dir.path, true, "1 dimensions");

  write_set(gzip_of(idx_file(kIdxTypeU8, {2, 5000, 4}, Bytes(40000, 1))), good_labels);
  expect_load_fails(dir.path, true, "sides up to");

  write_set(Bytes(good_images.begin(), good_images.end() - 30), good_labels);  // truncated .gz
  expect_load_fails(dir.path, true, "train-images-idx3-ubyte.gz");

  write_set(good_images, good_labels);
  expect_load_fails(dir.path, true, "arena", 700);  // too small: out of memory, still rewound
  expect_load_fails(dir.path, true, "free in the arena", 960);  // the packed bytes fit, the pixels not
}

// A .gz file cut short ends in 4 arbitrary bytes where ISIZE belongs; it used to be sized
// from them ("inflates to 3421017562 bytes ... more than the limit", or an arena shortfall).
// Cut anywhere — header, stored or Huffman-coded data, trailer — it must be called truncated
// and named, whatever those bytes say.
TEST_CASE("mnist: a .gz file cut short is reported as truncated, naming the file") {
  const TinySet set;
  ScratchDir dir;
  const std::string img = dir.file("train-images-idx3-ubyte.gz");
  write_file(dir.file("train-labels-idx1-ubyte.gz"), gzip_of(set.labels_idx()));
  // Smooth rows compress under Huffman coding with matches (ZlibWriter), unlike gzip_of's
  // stored blocks; 100 images of 28 x 28.
  Bytes pixels;
  for (int i = 0; i < 100 * 28 * 28; ++i) pixels.push_back(uint8_t((i % 28) * 9 + (i / 784) % 7));
  const Bytes idx = idx_file(kIdxTypeU8, {100, 28, 28}, pixels);
  const Bytes huffman = gzip_wrap(zlib_unwrap(zlib_of(idx)), idx), stored = gzip_of(set.images_idx());
  REQUIRE(huffman.size() < idx.size() / 4);
  for (const Bytes* whole : {&stored, &huffman}) {
    for (size_t cut : {size_t(5), size_t(17), size_t(40), whole->size() / 2, whole->size() - 9, whole->size() - 8,
                       whole->size() - 3}) {
      Bytes part(whole->begin(), whole->begin() + long(cut));
      if (cut > 4)  // the last 4 bytes claim a huge ISIZE, then a small one: neither matters
        for (uint8_t top : {uint8_t(0xCB), uint8_t(0)}) {
          part[cut - 1] = top;
          write_file(img, part);
          CAPTURE(cut);
          expect_load_fails(dir.path, true, "truncated");
          expect_load_fails(dir.path, true, "train-images-idx3-ubyte.gz");
        }
    }
  }
  // Raw IDX cut short says so too.
  write_file(dir.file("t10k-images-idx3-ubyte"), Bytes(idx.begin(), idx.begin() + 1000));
  write_file(dir.file("t10k-labels-idx1-ubyte"), set.labels_idx());
  expect_load_fails(dir.path, false, "truncated");
  expect_load_fails(dir.path, false, "t10k-images-idx3-ubyte");
}

TEST_CASE("load_idx_images: unlabelled sets, classes from the labels, and a busy tail refused") {
  const TinySet set;
  ScratchDir dir;
  write_file(dir.file("img.idx"), set.images_idx());
  Bytes fashion = set.labels;
  for (auto& l : fashion) l = uint8_t(l % 4);
  write_file(dir.file("lab.idx.gz"), gzip_of(idx_file(kIdxTypeU8, {20}, fashion)));
  ArenaBox box;
  data::Dataset ds;
  REQUIRE(load_idx_images(&box.arena, dir.file("img.idx").c_str(), nullptr, &ds).is_ok());
  CHECK(ds.labels == nullptr);
  CHECK(ds.classes == 0);
  CHECK(ds.count == 20);
  REQUIRE(load_idx_images(&box.arena, dir.file("img.idx").c_str(), dir.file("lab.idx.gz").c_str(), &ds).is_ok());
  CHECK(ds.classes == 4);
  CHECK(std::memcmp(ds.labels, fashion.data(), 20) == 0);

  void* scratch = nullptr;
  REQUIRE(box.arena.alloc_tail(64, &scratch).is_ok());
  const size_t used = box.arena.used();
  const Status s = load_idx_images(&box.arena, dir.file("img.idx").c_str(), nullptr, &ds);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(has(s, "tail"));
  CHECK(box.arena.used() == used);
  CHECK(load_idx_images(nullptr, "x", nullptr, &ds).code() == Code::invalid_argument);
}

TEST_CASE("idx_save: what it writes idx_parse reads back exactly; bad shapes are refused") {
  testing::TempDir dir("idx");
  std::vector<uint8_t> pixels(3 * 5 * 7);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(i * 37);
  const uint32_t dims[] = {3, 5, 7};
  const std::string path = dir.file("images-idx3-ubyte");
  REQUIRE(data::idx_save(path.c_str(), dims, 3, pixels.data()).is_ok());
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(file.size() == 4 + 3 * 4 + pixels.size());
  data::IdxArray a;
  REQUIRE(data::idx_parse(file.data(), file.size(), "images", &a).is_ok());
  CHECK(a.rank == 3);
  CHECK((a.dims[0] == 3 && a.dims[1] == 5 && a.dims[2] == 7));
  CHECK(std::memcmp(a.data, pixels.data(), pixels.size()) == 0);
  const uint32_t zero[] = {3, 0};
  CHECK(data::idx_save(dir.file("z").c_str(), zero, 2, pixels.data()).code() == Code::invalid_argument);
  CHECK(data::idx_save(dir.file("r").c_str(), dims, 0, pixels.data()).code() == Code::invalid_argument);
  CHECK(dir.entries() == 1);
}
