// class_spread: known distances, classes with fewer than two rows, the pairing rule, the
// Dataset form equal to the float form, and bad classes refused.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "metrics/sample-metrics.h"

using namespace ember;
using namespace ember::metrics;

TEST_CASE("class_spread: mean pair distance per class, by the pairing rule") {
  std::vector<uint8_t> buf(1 << 16);
  Arena scratch(buf.data(), buf.size());
  // dim 2; class 0: rows (0,0) (3,4) (0,0) (6,8): h = 2, pairs (r0, r2) = 0 and (r1, r3) = 5;
  // class 1: one row -> 0; class 2: (1,1) (1,2) -> 1.
  const std::vector<float> x = {0, 0, 3, 4, 9, 9, 0, 0, 6, 8, 1, 1, 1, 2};
  const std::vector<int32_t> cls = {0, 0, 1, 0, 0, 2, 2};
  double spread[3] = {-1, -1, -1};
  REQUIRE(metrics::class_spread(x.data(), cls.data(), 7, 2, 3, 100, &scratch, spread).is_ok());
  CHECK(spread[0] == doctest::Approx(2.5));
  CHECK(spread[1] == 0.0);
  CHECK(spread[2] == doctest::Approx(1.0));
  REQUIRE(metrics::class_spread(x.data(), cls.data(), 7, 2, 3, 1, &scratch, spread).is_ok());  // one pair per class
  CHECK(spread[0] == 0.0);
  CHECK(scratch.used() == 0);

  // The Dataset form: bytes / 255 with the data's labels gives the float form's answer.
  const std::vector<uint8_t> px = {0, 255, 51, 102, 255, 0, 0, 0};
  const std::vector<uint8_t> labels = {1, 1, 0, 1};
  data::Dataset d;
  d.pixels = px.data(), d.labels = labels.data(), d.count = 4, d.rows = 1, d.cols = 2, d.classes = 2;
  std::vector<float> xf(px.size());
  for (size_t i = 0; i < px.size(); ++i) xf[i] = px[i] / 255.0f;
  const std::vector<int32_t> lab(labels.begin(), labels.end());
  double a[2], b[2];
  REQUIRE(metrics::class_spread(d, 4, 10, &scratch, a).is_ok());
  REQUIRE(metrics::class_spread(xf.data(), lab.data(), 4, 2, 2, 10, &scratch, b).is_ok());
  CHECK(a[0] == b[0]);
  CHECK(a[1] == b[1]);
  CHECK(a[1] == doctest::Approx(std::sqrt(0.2 * 0.2 + 0.6 * 0.6)));  // rows 0 and 1 (h = 1 of 3)

  const std::vector<int32_t> bad = {0, 3, 0, 0, 0, 0, 0};
  CHECK(metrics::class_spread(x.data(), bad.data(), 7, 2, 3, 10, &scratch, spread).code() == Code::invalid_argument);
  d.labels = nullptr;
  CHECK(metrics::class_spread(d, 4, 10, &scratch, a).code() == Code::invalid_argument);
}
