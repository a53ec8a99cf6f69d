// The memory planner: no two live buffers overlap, disjoint lifetimes share memory, the
// result is deterministic and never worse than the sum of sizes.
#include <doctest/doctest.h>

#include <vector>

#include "core/rng.h"
#include "nn/planner.h"

using namespace ember;
using namespace ember::nn;

TEST_CASE("planner: buffers alive at different times share an offset") {
  PlannedBuffer b[3];
  b[0].bytes = 1000, b[0].first = 0, b[0].last = 1;
  b[1].bytes = 1000, b[1].first = 2, b[1].last = 3;
  b[2].bytes = 100, b[2].first = 1, b[2].last = 2;
  int32_t order[3];
  const size_t region = plan_buffers(b, 3, order);
  CHECK(b[0].offset == b[1].offset);
  CHECK(region == 1024 + 128);
  CHECK(check_plan(b, 3, region).is_ok());
}

TEST_CASE("planner: random lifetimes never overlap and stay within the sum of sizes") {
  Rng rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    const int n = 1 + static_cast<int>(rng.below(60));
    std::vector<PlannedBuffer> b(n);
    std::vector<int32_t> order(n);
    size_t sum = 0;
    for (auto& x : b) {
      x.bytes = rng.below(5) == 0 ? 0 : 1 + rng.below(100000);
      x.first = static_cast<int32_t>(rng.below(40));
      x.last = x.first + static_cast<int32_t>(rng.below(10));
      sum += (x.bytes + 63) / 64 * 64;
    }
    std::vector<PlannedBuffer> again = b;
    const size_t region = plan_buffers(b.data(), n, order.data());
    REQUIRE(check_plan(b.data(), n, region).is_ok());
    CHECK(region <= sum);
    const size_t region2 = plan_buffers(again.data(), n, order.data());
    CHECK(region2 == region);
    for (int i = 0; i < n; ++i) CHECK(again[i].offset == b[i].offset);
  }
}

TEST_CASE("planner: the overlap checker catches a bad plan") {
  PlannedBuffer b[2];
  b[0].bytes = 128, b[0].first = 0, b[0].last = 5, b[0].offset = 0;
  b[1].bytes = 128, b[1].first = 5, b[1].last = 6, b[1].offset = 64;
  CHECK(check_plan(b, 2, 256).code() == Code::corrupt_data);
  b[1].offset = 128;
  CHECK(check_plan(b, 2, 256).is_ok());
  CHECK(check_plan(b, 2, 200).code() == Code::corrupt_data);  // past the region
}
