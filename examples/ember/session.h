// What every `ember` command sets up: one memory block (the arena), the context (ISA,
// threads), and the datasets named by --data.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/arena.h"
#include "platform/context.h"
#include "data/dataset.h"

namespace ember::tool {

// The arena every command works in: allocated once, at start-up, at its final size.
struct Session {
  std::unique_ptr<uint8_t[]> block;
  Arena arena;
  Context ctx;
  // `bytes` for the context, models and data (a model's bytes_needed counts the context
  // for `threads`), then the context in it.
  Status open(size_t bytes, int threads);
};

// Where the images come from: "sprites" (built in) or a directory with the four MNIST IDX
// files (.gz or not).
struct DataSpec {
  std::string source;
  uint64_t seed = 1;         // sprites only
  int sprites_train = 60000;
  int sprites_test = 10000;
  bool builtin() const { return source == "sprites"; }
};
// Arena bytes load_data() needs (an upper bound, from file sizes or the sprite counts).
Status data_bytes(const DataSpec& spec, bool train, bool test, size_t* bytes);
Status load_data(Arena* arena, const DataSpec& spec, bool train, bool test, models::Dataset* train_out,
                 models::Dataset* test_out);
// Arena bytes of a Batcher's shuffle order (one int32 per training image) over data that
// load_data() needs `data_bytes` for, images of `image_size` bytes: an upper bound.
inline size_t order_bytes(size_t data_bytes, size_t image_size) {
  return Arena::rounded(sizeof(int32_t) * (data_bytes / image_size));
}
// Whether data's images are rows x cols, the size of `what` ("the model", "the encoder"):
// "data has 32x32 images, the model 28x28" otherwise.
Status check_image_size(const models::Dataset& data, int rows, int cols, const char* what);
// The environment variable that may name the MNIST directory when --data is not given.
constexpr const char* kDataEnv = "EMBER_DATA";

// Prints "ember CMD: message" to stderr; returns the exit code for a failed command.
int report(const char* command, const Status& s);

}  // namespace ember::tool
