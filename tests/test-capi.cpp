// capi/ember-c.h: a sampler opened from a file's bytes in a caller's buffer (sized by a first
// call that fails with the size it needs), samples equal to the C++ model's bit for bit, any
// alignment of the buffer, and each bad call refused with its code and a message.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "capi/ember-c.h"
#include "core/rng.h"
#include "tests/model-fixture.h"
#include "tests/temp-dir.h"

using namespace ember;
using ember::testing::ModelFixture;

namespace {

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A small trained-looking model saved to a file (weights from the seed), and its bytes.
template <class Model>
std::vector<uint8_t> saved(const typename Model::Setup& setup, const std::string& path) {
  ModelFixture<Model> m(setup);
  REQUIRE(m->save(path.c_str(), 0).is_ok());
  return file_bytes(path);
}

// Opens through the C API as a user would: start from a tiny buffer and grow it to the size
// each refusal names (a tiny one first gets the size that can measure, then the real size;
// a model small enough may open in the measuring size already), then open for real at
// `offset` bytes into a block (any alignment must do).
struct Opened {
  std::vector<uint8_t> block;
  ember_sampler* s = nullptr;
  ember_error err{};
  Opened(const std::vector<uint8_t>& file, size_t offset = 0) {
    size_t size = 1000, need = 0;
    int refusals = 0;
    for (;; ++refusals) {
      REQUIRE(refusals < 3);
      std::vector<uint8_t> probe(size);
      const int code = ember_sampler_open(file.data(), file.size(), 1, probe.data(), size, &s, &need, &err);
      if (code == EMBER_OK) {
        ember_sampler_close(s);
        break;
      }
      REQUIRE_MESSAGE(code == EMBER_OUT_OF_MEMORY, err.message);
      CHECK((std::strstr(err.message, "short") || std::strstr(err.message, "too small")));
      REQUIRE(need > size);
      size = need;
    }
    CHECK(refusals >= 1);
    block.resize(size + offset);
    const int code = ember_sampler_open(file.data(), file.size(), 1, block.data() + offset, size, &s, nullptr, &err);
    REQUIRE_MESSAGE(code == EMBER_OK, err.message);
    CHECK(err.message[0] == 0);
  }
  ~Opened() { ember_sampler_close(s); }
};

}  // namespace

TEST_CASE("capi: a VAE decoder samples what the C++ model decodes, bit for bit, at any buffer alignment") {
  testing::TempDir dir("capi");
  const std::string path = dir.file("vae.ember");
  const auto setup = testing::small_ae(models::ModelKind::vae, models::Arch::mlp, false);
  const std::vector<uint8_t> file = saved<models::AeModel>(setup, path);
  auto dec = testing::small_ae(models::ModelKind::vae, models::Arch::mlp, false, true);
  dec.eval_batch = 1;
  ModelFixture<models::AeModel> ref(dec);
  uint64_t step = 0;
  REQUIRE(ref->load(path.c_str(), &step).is_ok());

  for (size_t offset : {size_t(0), size_t(3), size_t(60)}) {
    Opened o(file, offset);
    ember_info info{};
    REQUIRE(ember_sampler_info(o.s, &info, &o.err) == EMBER_OK);
    CHECK(info.kind == EMBER_VAE);
    CHECK(info.latent == 4);
    CHECK((info.channels == 1 && info.rows == 16 && info.cols == 16 && info.classes == 0));
    const int n = 5;
    std::vector<float> z(size_t(n) * 4), images(size_t(n) * 256), again(images.size()), expect(images.size());
    REQUIRE(ember_sampler_draw(o.s, 42, nullptr, n, z.data(), images.data(), &o.err) == EMBER_OK);
    std::vector<float> zr(z.size());
    Rng rng(42);
    rng.fill_normal(zr.data(), zr.size(), 0.0f, 1.0f);
    CHECK(z == zr);  // the draws are Rng(seed)'s, as everywhere in ember
    REQUIRE(ember_sampler_decode(o.s, z.data(), nullptr, n, again.data(), &o.err) == EMBER_OK);
    REQUIRE(ref->decode(z.data(), n, expect.data()).is_ok());
    CHECK(std::memcmp(images.data(), expect.data(), images.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(again.data(), expect.data(), images.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("capi: a conditional GAN needs its labels; bad calls and bad files are refused by code") {
  testing::TempDir dir("capi");
  auto gs = testing::small_gan(models::GanKind::dcgan, false);
  gs.config.cond = true, gs.config.classes = 3;
  const std::vector<uint8_t> file = saved<models::GanModel>(gs, dir.file("cgan.ember"));
  Opened o(file);
  ember_info info{};
  REQUIRE(ember_sampler_info(o.s, &info, nullptr) == EMBER_OK);
  CHECK(info.kind == EMBER_GAN);
  CHECK(info.classes == 3);
  std::vector<float> z(2 * 8), images(2 * 256);
  const int32_t good[2] = {0, 2}, bad[2] = {1, 3};
  CHECK(ember_sampler_draw(o.s, 1, good, 2, z.data(), images.data(), &o.err) == EMBER_OK);
  for (float v : images) CHECK((v >= 0.0f && v <= 1.0f));
  CHECK(ember_sampler_draw(o.s, 1, nullptr, 2, z.data(), images.data(), &o.err) == EMBER_INVALID_ARGUMENT);
  CHECK(std::strstr(o.err.message, "one label per sample"));
  CHECK(ember_sampler_draw(o.s, 1, bad, 2, z.data(), images.data(), &o.err) == EMBER_INVALID_ARGUMENT);
  CHECK(std::strstr(o.err.message, "labels[1] is 3; the classes are 0..2"));
  CHECK(ember_sampler_decode(o.s, z.data(), good, 0, images.data(), &o.err) == EMBER_INVALID_ARGUMENT);
  CHECK(ember_sampler_decode(o.s, nullptr, good, 1, images.data(), &o.err) == EMBER_INVALID_ARGUMENT);
  CHECK(std::string(ember_code_name(EMBER_OUT_OF_MEMORY)) == "EMBER_OUT_OF_MEMORY");
  CHECK(std::string(ember_code_name(99)) == "EMBER_UNKNOWN_CODE");

  // A damaged or cut file, and no room at all: refused, and nothing is left open.
  std::vector<uint8_t> block(4 << 20);
  ember_sampler* s = nullptr;
  ember_error err{};
  std::vector<uint8_t> cut(file.begin(), file.begin() + long(file.size() / 2));
  CHECK(ember_sampler_open(cut.data(), cut.size(), 1, block.data(), block.size(), &s, nullptr, &err) ==
        EMBER_CORRUPT_DATA);
  CHECK(s == nullptr);
  std::vector<uint8_t> flipped = file;
  flipped[flipped.size() / 2] ^= 0x40;
  CHECK(ember_sampler_open(flipped.data(), flipped.size(), 1, block.data(), block.size(), &s, nullptr, &err) ==
        EMBER_CORRUPT_DATA);
  size_t need = 0;
  CHECK(ember_sampler_open(file.data(), file.size(), 1, block.data(), 100, &s, &need, &err) == EMBER_OUT_OF_MEMORY);
  CHECK(need > 100);
  CHECK(ember_sampler_open(nullptr, 0, 1, block.data(), block.size(), &s, nullptr, &err) == EMBER_INVALID_ARGUMENT);
  CHECK(ember_sampler_open(file.data(), file.size(), -1, block.data(), block.size(), &s, nullptr, &err) ==
        EMBER_INVALID_ARGUMENT);
  // The same block opens the file again once the failed attempts are over.
  REQUIRE(ember_sampler_open(file.data(), file.size(), 1, block.data(), block.size(), &s, nullptr, &err) == EMBER_OK);
  ember_sampler_close(s);
  ember_sampler_close(nullptr);
}
