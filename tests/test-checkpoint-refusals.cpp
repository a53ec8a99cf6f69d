// Checkpoints refused: hostile files (each must fail with a clear error and leave the model
// byte for byte unchanged), and NaN or infinity, never saved and refused in a file.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "tests/checkpoint-fixture.h"
#include "tests/testing.h"

using namespace ember;
using namespace ember::nn;
using namespace ember::testing::ckpt;

TEST_CASE("checkpoint: hostile files are refused with a clear error and the model unchanged") {
  TempDir dir;
  Model src(ParamMode::train_adam, 1);
  src.scramble(2);
  const std::vector<uint8_t> good = src.to_memory();
  Model m(ParamMode::train_adam, 7);
  m.scramble(8);
  const Snapshot before(m);

  SUBCASE("nonexistent and empty") {
    Status s = m.load(dir.file("absent.ckpt"));
    CHECK(s.code() == Code::io_error);
    CHECK(has(s, "absent.ckpt"));
    CHECK(has(s, "No such file"));
    expect_refused(m, dir, {}, Code::corrupt_data, "empty");
    s = m.load(dir.path);  // a directory
    CHECK(s.code() == Code::io_error);
    CHECK(has(s, "not a regular file"));
    CHECK(Snapshot(m) == before);
  }
  SUBCASE("magic, version, flags") {
    std::vector<uint8_t> b = good;
    b[0] = 'X';
    expect_refused(m, dir, b, Code::corrupt_data, "not an ember checkpoint");
    b = good;
    b[8] = 4;  // the next version
    expect_refused(m, dir, b, Code::unsupported, "version 4");
    b = good;
    b[12] = 1;
    expect_refused(m, dir, b, Code::unsupported, "flags");
  }
  SUBCASE("truncated at every offset") {
    for (size_t n = 0; n < good.size(); ++n) {
      std::vector<uint8_t> b(good.begin(), good.begin() + long(n));
      Status s = load_checkpoint_from_memory(b.data(), b.size(), &m.params, m.state());
      CHECK(s.code() == Code::corrupt_data);
      CHECK_MESSAGE((n < 52 ? has(s, n == 0 ? "empty" : "shorter") : has(s, "header says")), std::string(s.message()));
    }
    CHECK(Snapshot(m) == before);
    std::vector<uint8_t> b(good.begin(), good.begin() + long(good.size() / 2));
    expect_refused(m, dir, b, Code::corrupt_data, "header says");
  }
  SUBCASE("a flipped byte anywhere is caught") {
    for (size_t at = 0; at < good.size(); ++at) {
      for (uint8_t flip : {uint8_t(0x01), uint8_t(0x80)}) {
        std::vector<uint8_t> b = good;
        b[at] ^= flip;
        Status s = load_checkpoint_from_memory(b.data(), b.size(), &m.params, m.state());
        CHECK(!s.is_ok());
        if (at >= 40) CHECK_MESSAGE(has(s, "CRC mismatch"), "offset ", at, ": ", std::string(s.message()));
      }
    }
    CHECK(Snapshot(m) == before);
    std::vector<uint8_t> b = good;
    b[good.size() / 2] ^= 0x10;
    expect_refused(m, dir, b, Code::corrupt_data, "CRC mismatch");
  }
  SUBCASE("shape, trainable and group mismatches name the parameter") {
    Variant v;
    v.fc1_in = 6;
    Model other(ParamMode::train_adam, 1, v);
    expect_refused(m, dir, other.to_memory(), Code::shape_mismatch,
                   "parameter 'g.fc1.weight' has shape [5, 6] in the file, [5, 7] in the model");
    Variant t;
    t.bn_trainable = true;
    Model trainable(ParamMode::inference, 1, t);
    expect_refused(m, dir, trainable.to_memory(), Code::shape_mismatch,
                   "'g.bn.running_mean' is trainable in the file, a state buffer in the model");
    std::vector<uint8_t> b = good;
    // First record: name length (2) + "g.fc1.weight" (12) + rank, then the group byte.
    REQUIRE(std::memcmp(&b[42], "g.fc1.weight", 12) == 0);
    b[40 + 2 + 12 + 1] = 1;
    fix_crc(b);
    expect_refused(m, dir, b, Code::shape_mismatch, "group 1 in the file, 0 in the model");
  }
  SUBCASE("missing and extra parameters are named") {
    Variant extra;
    extra.extra = true;
    Model more(ParamMode::train_adam, 1, extra);
    expect_refused(m, dir, more.to_memory(), Code::shape_mismatch, "'d.extra.bias' is in the file but not in the model");
    Variant missing;
    missing.missing = true;
    Model fewer(ParamMode::train_adam, 1, missing);
    expect_refused(m, dir, fewer.to_memory(), Code::shape_mismatch,
                   "'d.conv.weight' is in the model but not in the file");
  }
  SUBCASE("huge declared lengths and counts are errors, not allocations or reads") {
    std::vector<uint8_t> b = good;
    b[40] = 0xFF, b[41] = 0xFF;  // name length 65535
    fix_crc(b);
    expect_refused(m, dir, b, Code::corrupt_data, "name length 65535");
    b = good;
    b[24] = b[25] = b[26] = b[27] = 0xFF;  // 4294967295 parameters
    fix_crc(b);
    expect_refused(m, dir, b, Code::corrupt_data, "4294967295 parameters");
    b = good;
    put_u64(b, 16, ~uint64_t(0));  // declared file size
    expect_refused(m, dir, b, Code::corrupt_data, "header says 18446744073709551615 bytes");
    b = good;
    put_u64(b, 40 + 2 + 12 + 4, uint64_t(1) << 40);  // first dim of g.fc1.weight
    fix_crc(b);
    expect_refused(m, dir, b, Code::shape_mismatch, "has shape [1099511627776, 7] in the file");
    b = good;
    put_u64(b, 40 + 2 + 12 + 4, ~uint64_t(0));  // a negative dimension
    fix_crc(b);
    expect_refused(m, dir, b, Code::corrupt_data, "dimension 0 is -1");
  }
  SUBCASE("trailing bytes, optimizer and RNG mismatches") {
    std::vector<uint8_t> b = good;
    b.insert(b.end() - 4, {1, 2, 3});
    put_u64(b, 16, b.size());
    fix_crc(b);
    expect_refused(m, dir, b, Code::corrupt_data, "3 unexpected bytes");
    Model sgd(ParamMode::train_adam, 1, Variant(), OptimizerConfig::sgd(0.1f));
    expect_refused(m, dir, sgd.to_memory(), Code::invalid_argument, "optimizer 0 is SGD for group 0 in the file");
    CheckpointState one = m.state();
    one.n_opts = 1;
    Status s = load_checkpoint_from_memory(good.data(), good.size(), &m.params, one);
    CHECK(s.code() == Code::invalid_argument);
    CHECK(has(s, "file has 2 optimizers, 1 given"));
    CHECK(Snapshot(m) == before);
  }
  SUBCASE("bad arguments") {
    Params unallocated;
    Status s = load_checkpoint_from_memory(good.data(), good.size(), &unallocated, CheckpointState());
    CHECK(s.code() == Code::invalid_argument);
    s = load_checkpoint_from_memory(nullptr, 10, &m.params, CheckpointState());
    CHECK(s.code() == Code::invalid_argument);
  }
  CHECK(Snapshot(m) == before);
}

TEST_CASE("checkpoint: NaN and infinity are never saved, and a file holding one is refused") {
  TempDir dir;
  Model a(ParamMode::train_adam, 1);
  a.scramble(3);
  const std::string path = dir.file("model.ckpt");
  REQUIRE(a.save(path).is_ok());
  const std::vector<uint8_t> good = read_bytes(path);

  // A diverged model: the save is refused naming the parameter, and the last good file stays.
  const float bad[2] = {std::nanf(""), 1.0f / 0.0f};
  for (float x : bad)
    for (int which = 0; which < 3; ++which) {
      Param& p = a.params[a.params.find("d.fc.weight")];
      float* arr = which == 0 ? p.value : which == 1 ? p.m : p.v;
      const float keep = arr[2];
      arr[2] = x;
      Status s = a.save(path);
      CHECK(s.code() == Code::not_finite);
      CHECK_MESSAGE(has(s, "d.fc.weight"), std::string(s.message()));
      CHECK_MESSAGE(has(s, "non-finite"), std::string(s.message()));
      std::vector<uint8_t> mem(good.size());
      size_t written = 0;
      CHECK(!save_checkpoint_to_memory(mem.data(), mem.size(), &written, a.params, a.state()).is_ok());
      arr[2] = keep;
      CHECK(read_bytes(path) == good);
      CHECK(dir.entries() == 1);  // no temp file left either
    }

  // A file that holds one anyway (written by something else, CRC right) is refused, naming it.
  const std::vector<uint8_t> bytes = a.to_memory();
  const float ref = a.params[a.params.find("g.fc1.bias")].value[4];
  uint32_t ref_bits;
  std::memcpy(&ref_bits, &ref, 4);
  size_t at = 0;
  for (size_t i = 0; i + 4 <= bytes.size(); ++i)
    if (bytes[i] == uint8_t(ref_bits) && bytes[i + 1] == uint8_t(ref_bits >> 8) &&
        bytes[i + 2] == uint8_t(ref_bits >> 16) && bytes[i + 3] == uint8_t(ref_bits >> 24))
      at = i;
  REQUIRE(at > 0);
  std::vector<uint8_t> nan_file = bytes;
  nan_file[at + 3] = 0x7f, nan_file[at + 2] = 0xc0;  // a quiet NaN
  fix_crc(nan_file);
  Model m(ParamMode::train_adam, 9);
  expect_refused(m, dir, nan_file, Code::corrupt_data, "non-finite");
  expect_refused(m, dir, nan_file, Code::corrupt_data, "g.fc1.bias");
}
