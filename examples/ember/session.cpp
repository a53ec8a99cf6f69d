#include "examples/ember/session.h"

#include "examples/ember/cli.h"

#include <cstdio>
#include <cstring>
#include <new>


namespace ember::tool {

void MemoryPlan::add(const char* what, size_t bytes) {
  if (bytes == 0) return;
  for (int i = 0; i < count; ++i)
    if (!std::strcmp(parts[i].what, what)) {
      parts[i].bytes += bytes;
      return;
    }
  // More categories than kMaxParts are counted in the last one rather than lost.
  if (count == kMaxParts) parts[count - 1].bytes += bytes;
  else parts[count++] = Part{what, bytes};
}

void MemoryPlan::add(const MemoryPlan& more) {
  for (int i = 0; i < more.count; ++i) add(more.parts[i].what, more.parts[i].bytes);
}

size_t MemoryPlan::total() const {
  size_t t = kSlack;
  for (int i = 0; i < count; ++i) t += parts[i].bytes;
  return Arena::rounded(t);
}

void MemoryPlan::print(FILE* to) const {
  auto row = [to](const char* what, size_t b) { std::fprintf(to, "  %-40s %12zu %9.2f\n", what, b, b / 1048576.0); };
  for (int i = 0; i < count; ++i) row(parts[i].what, parts[i].bytes);
  row("slack (rounding, small buffers)", total() - [this] {
    size_t t = 0;
    for (int i = 0; i < count; ++i) t += parts[i].bytes;
    return t;
  }());
  row("total (--memory takes this or more)", total());
}

size_t read_memory(Cli& cli) {
  return cli.bytes("--memory", "SIZE", "the one memory block to work in, e.g. 64MiB (default: what this run takes, "
                   "as `ember info` prints it); too small is refused before any work");
}

void Session::AlignedFree::operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(Arena::kAlign)); }

Status Session::open(const MemoryPlan& plan, int threads) {
  Context::Options o;
  o.threads = threads;
  const size_t need = plan.total();
  if (limit && limit < need) {
    std::fprintf(stderr, "%-42s %12s %9s\n", "memory this run takes", "bytes", "MiB");
    plan.print(stderr);
    return Status::error(Code::out_of_memory, "--memory %zu is %zu byte%s short of the %zu bytes this run takes "
                         "(by category above)", limit, need - limit, need - limit == 1 ? "" : "s", need);
  }
  const size_t total = limit ? limit : need;
  block.reset(static_cast<uint8_t*>(::operator new[](total, std::align_val_t(Arena::kAlign), std::nothrow)));
  if (!block) return Status::error(Code::out_of_memory, "cannot allocate the %zu-byte memory block", total);
  bytes = total;
  new (&arena) Arena(block.get(), total);  // Arena is not assignable; it owns nothing to destroy
  return ctx.init(&arena, o);
}

int report(const char* command, const Status& s) {
  std::fprintf(stderr, "ember %s: %s\n", command, s.message());
  return 1;
}

}  // namespace ember::tool
