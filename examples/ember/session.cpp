#include "examples/ember/session.h"

#include <cstdio>
#include <new>


namespace ember::tool {

namespace {
constexpr size_t kSlack = 1 << 20;  // alignment rounding and small buffers
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

int report(const char* command, const Status& s) {
  std::fprintf(stderr, "ember %s: %s\n", command, s.message());
  return 1;
}

}  // namespace ember::tool
