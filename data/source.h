// Where training images come from: "sprites" (generated from a seed, data/sprites.h) or a
// directory holding the four MNIST IDX files (raw or .gz, data/mnist.h). One description, the
// bytes loading it takes (a dry run), and the loader, so every command and the trainer size
// and fill their arena the same way.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "core/status.h"
#include "data/dataset.h"

namespace ember::data {

struct DataSource {
  const char* source = nullptr;  // "sprites" or a directory; the caller keeps the text alive
  uint64_t seed = 1;             // sprites only: the training split's seed (the test split's follows)
  int sprites_train = 60000;
  int sprites_test = 10000;
  bool builtin() const;          // "sprites"
};
// The environment variable that may name the MNIST directory when a program is given none.
constexpr const char* kDataEnv = "EMBER_DATA";

// Arena bytes load_data() takes for the chosen splits: exact for sprites, an upper bound for
// IDX files (from the file sizes; a .gz file is assumed to inflate at most 16 times).
Status data_bytes(const DataSource& spec, bool train, bool test, size_t* bytes);
// Loads the chosen splits into the arena (a split not asked for is left empty).
Status load_data(Arena* arena, const DataSource& spec, bool train, bool test, Dataset* train_out, Dataset* test_out);
// Whether data's images are rows x cols, the size of `what` ("the model", "the encoder"):
// "data has 32x32 images, the model 28x28" otherwise.
Status check_image_size(const Dataset& data, int rows, int cols, const char* what);
// Arena bytes of a Batcher's shuffle order (one int32 per image) over data that load_data()
// takes `data_bytes` for, images of `image_size` bytes: an upper bound.
size_t order_bytes(size_t data_bytes, size_t image_size);

}  // namespace ember::data
