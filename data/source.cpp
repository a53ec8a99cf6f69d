#include "data/source.h"

#include <cstdio>
#include <cstring>

#include "data/mnist.h"
#include "data/sprites.h"
#include "io/file.h"

namespace ember::data {

namespace {
constexpr size_t kSlack = 1 << 20;  // alignment rounding and the loaders' small buffers
// Upper bound used when a file is gzip'd: IDX image data compresses less than 16x.
constexpr uint64_t kMaxGzipRatio = 16;

bool file_size(const char* dir, const char* name, const char* ext, uint64_t* size) {
  char path[1024];
  if (std::snprintf(path, sizeof path, "%s/%s%s", dir, name, ext) >= static_cast<int>(sizeof path)) return false;
  ReadFile f;
  return f.open(path).is_ok() && f.size(size).is_ok();
}

// Bytes the loader may need for one IDX file, raw or gzip'd (decompressed + compressed).
uint64_t idx_need(const char* dir, const char* name) {
  uint64_t n = 0;
  if (file_size(dir, name, "", &n)) return n;
  if (file_size(dir, name, ".gz", &n)) return n * (kMaxGzipRatio + 1);
  return 0;  // load_data reports the missing file
}
}  // namespace

bool DataSource::builtin() const { return source && std::strcmp(source, "sprites") == 0; }

Status data_bytes(const DataSource& spec, bool train, bool test, size_t* bytes) {
  if (!spec.source || !*spec.source) return Status::error(Code::invalid_argument, "data: no source named");
  uint64_t n = 0;
  if (spec.builtin()) {
    const uint64_t per = kSpriteSide * kSpriteSide + 1 + 4 * kSpriteFactors;
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

Status load_data(Arena* arena, const DataSource& spec, bool train, bool test, Dataset* train_out, Dataset* test_out) {
  if (!spec.source || !*spec.source) return Status::error(Code::invalid_argument, "data: no source named");
  if (spec.builtin()) {
    if (train) EMBER_TRY(make_sprites(arena, spec.sprites_train, spec.seed, train_out, nullptr));
    if (test) EMBER_TRY(make_sprites(arena, spec.sprites_test, sprites_test_seed(spec.seed), test_out, nullptr));
    return Status::ok();
  }
  if (train) EMBER_TRY(load_mnist(arena, spec.source, true, train_out));
  if (test) EMBER_TRY(load_mnist(arena, spec.source, false, test_out));
  return Status::ok();
}

Status check_image_size(const Dataset& data, int rows, int cols, const char* what) {
  if (data.rows == rows && data.cols == cols) return Status::ok();
  return Status::error(Code::shape_mismatch, "data has %dx%d images, %s %dx%d", data.rows, data.cols, what, rows, cols);
}

size_t order_bytes(size_t data_bytes, size_t image_size) {
  return Arena::rounded(sizeof(int32_t) * (data_bytes / image_size));
}

}  // namespace ember::data
