// Links ember::ember from a parent project that keeps exceptions and RTTI on.
#include <cstdio>
#include <stdexcept>

#include "core/arena.h"

int main() {
  alignas(64) static unsigned char buffer[4096];
  ember::Arena arena(buffer, sizeof buffer);
  float* x = nullptr;
  ember::Status s = arena.alloc_array(16, &x);
  try {
    if (!s || x == nullptr) throw std::runtime_error(s.message());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
  std::printf("consumer: ember::ember linked, arena used %zu of %zu bytes\n", arena.used(),
              arena.capacity());
  return 0;
}
