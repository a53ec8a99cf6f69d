#include "examples/ember/session.h"

#include <sys/stat.h>

#include <cstdio>
#include <new>

#include "data/mnist.h"
#include "data/sprites.h"

namespace ember::tool {

namespace {
constexpr size_t kSlack = 1 << 20;  // alignment rounding and small buffers
// Upper bound used when a file is gzip'd: IDX image data compresses less than 16x.
constexpr uint64_t kMaxGzipRatio = 16;

bool file_size(const std::string& path, uint64_t* size) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  *size = static_cast<uint64_t>(st.st_size);
  return true;
}

// Bytes the loader may need for one IDX file, raw or gzip'd (decompressed + compressed).
uint64_t idx_need(const std::string& dir, const char* name) {
  uint64_t n = 0;
  if (file_size(dir + "/" + name, &n)) return n;
  if (file_size(dir + "/" + name + ".gz", &n)) return n * (kMaxGzipRatio + 1);
  return 0;  // load_data reports the missing file
}
}  // namespace

Status Session::open(size_t bytes, int threads) {
  Context::Options o;
  o.threads = threads;
  const size_t total = bytes + kSlack;
  block.reset(new (std::nothrow) uint8_t[total]);
  if (!block) return Status::error(Code::out_of_memory, "cannot allocate the %zu-byte memory block", total);
  new (&arena) Arena(block.get(), total);  // Arena is not assignable; it owns nothing to destroy
  return ctx.init(&arena, o);
}

Status data_bytes(const DataSpec& spec, bool train, bool test, size_t* bytes) {
  uint64_t n = 0;
  if (spec.builtin()) {
    const uint64_t per = models::kSpriteSide * models::kSpriteSide + 1 + 4 * models::kSpriteFactors;
    n = per * (uint64_t(train ? spec.sprites_train : 0) + uint64_t(test ? spec.sprites_test : 0));
  } else {
    const char* sets[2][2] = {{"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
                              {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}};
    for (int s = 0; s < 2; ++s)
      if (s == 0 ? train : test)
        for (const char* f : sets[s]) n += idx_need(spec.source, f);
  }
  *bytes = static_cast<size_t>(n) + kSlack;
  return Status::ok();
}

Status load_data(Arena* arena, const DataSpec& spec, bool train, bool test, models::Dataset* train_out,
                 models::Dataset* test_out) {
  if (spec.builtin()) {
    if (train) EMBER_TRY(models::make_sprites(arena, spec.sprites_train, spec.seed, train_out, nullptr));
    if (test)
      EMBER_TRY(models::make_sprites(arena, spec.sprites_test, models::sprites_test_seed(spec.seed), test_out, nullptr));
    return Status::ok();
  }
  if (train) EMBER_TRY(models::load_mnist(arena, spec.source.c_str(), true, train_out));
  if (test) EMBER_TRY(models::load_mnist(arena, spec.source.c_str(), false, test_out));
  return Status::ok();
}

Status check_image_size(const models::Dataset& data, int rows, int cols, const char* what) {
  if (data.rows == rows && data.cols == cols) return Status::ok();
  return Status::error(Code::shape_mismatch, "data has %dx%d images, %s %dx%d", data.rows, data.cols, what, rows, cols);
}

int report(const char* command, const Status& s) {
  std::fprintf(stderr, "ember %s: %s\n", command, s.message());
  return 1;
}

}  // namespace ember::tool
