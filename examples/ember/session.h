// What every `ember` command sets up: one memory block (the arena), the context (ISA,
// threads), and the datasets named by --data.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "core/arena.h"
#include "platform/context.h"
#include "data/dataset.h"
#include "data/source.h"

namespace ember::tool {

class Cli;

// What a command's one memory block holds, by category. `ember info` prints the plan of a
// training or sampling run, and the run itself allocates exactly its total (or the --memory
// the user gave, refusing one smaller than the total before any work): the two figures are
// the same by construction, because both come from the same functions.
struct MemoryPlan {
  static constexpr int kMaxParts = 8;
  // Alignment rounding and small buffers no category counts.
  static constexpr size_t kSlack = 64u << 10;
  struct Part {
    const char* what = "";
    size_t bytes = 0;
  };
  Part parts[kMaxParts];
  int count = 0;

  void add(const char* what, size_t bytes);  // a zero-byte part is left out
  void add(const MemoryPlan& more);
  size_t total() const;  // every part, plus kSlack, rounded up to 64 bytes
  // The parts, the slack and the total as rows "  what  bytes  MiB".
  void print(FILE* to = stdout) const;
};

// --memory SIZE: the block's size, for the commands that allocate one (0 when not given).
size_t read_memory(Cli& cli);

// The arena every command works in: allocated once, at start-up, at its final size.
struct Session {
  struct AlignedFree {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t[], AlignedFree> block;  // 64-byte aligned: all of it is the arena's
  Arena arena;
  Context ctx;
  size_t limit = 0;  // --memory: the block's size (0: the plan's total)
  size_t bytes = 0;  // the block's size, once open
  // Allocates the plan's total (or `limit`, refused when smaller than the total: by how much,
  // and what the plan holds), then initialises the context for `threads` in it. The plan's
  // model part counts the context (a model's bytes_needed does).
  Status open(const MemoryPlan& plan, int threads);
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
