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
#include "data/source.h"

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

// --data and the sprite counts as the command line gave them (data/source.h does the work).
struct DataSpec {
  std::string source;
  uint64_t seed = 1;         // sprites only
  int sprites_train = 60000;
  int sprites_test = 10000;
  bool builtin() const { return source == "sprites"; }
  // The library's view; valid while this object lives.
  data::DataSource view() const {
    data::DataSource d;
    d.source = source.c_str(), d.seed = seed, d.sprites_train = sprites_train, d.sprites_test = sprites_test;
    return d;
  }
};
inline Status data_bytes(const DataSpec& spec, bool train, bool test, size_t* bytes) {
  return data::data_bytes(spec.view(), train, test, bytes);
}
inline Status load_data(Arena* arena, const DataSpec& spec, bool train, bool test, data::Dataset* train_out,
                        data::Dataset* test_out) {
  return data::load_data(arena, spec.view(), train, test, train_out, test_out);
}
using data::check_image_size;
using data::kDataEnv;
using data::order_bytes;

// Prints "ember CMD: message" to stderr; returns the exit code for a failed command.
int report(const char* command, const Status& s);

}  // namespace ember::tool
