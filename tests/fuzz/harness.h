// Shared by the libFuzzer harnesses (tests/fuzz/fuzz-*.cpp; run with tests/fuzz/run.sh).
//
// A harness feeds the bytes libFuzzer gives it to one reader of outside bytes and checks what
// the reader promises beyond "no crash" (ASan and UBSan catch memory and UB faults): sizes
// within bounds, a failed load changing nothing, a failure's message not empty. A broken
// promise calls fuzz_fail, which aborts so libFuzzer saves the input as a crash.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/status.h"

namespace ember::fuzz {

[[noreturn]] inline void fuzz_fail(const char* what, const Status& s = Status::ok()) {
  std::fprintf(stderr, "fuzz: broken promise: %s (status: %s)\n", what, s.message());
  std::abort();
}

// Every refusal must say why: a non-empty message, and not the "ok" of a success.
inline void check_refusal(const Status& s) {
  if (s.is_ok()) return;
  if (s.message()[0] == '\0') fuzz_fail("an error without a message", s);
}

// Readers that take a path get the input through a file of this process's own (one per
// harness and process, so parallel runs of different harnesses never share one).
inline const char* input_file(const char* tag, const uint8_t* data, size_t size) {
  static std::string path;
  if (path.empty()) path = "/tmp/ember-fuzz-" + std::string(tag) + "-" + std::to_string(::getpid());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path.c_str();
}

}  // namespace ember::fuzz
