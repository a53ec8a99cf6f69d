// Status formatting, Shape/Tensor views.
#include <doctest/doctest.h>

#include <string>

#include "core/status.h"
#include "core/tensor.h"

using namespace ember;

TEST_CASE("status: ok by default, error keeps code and formatted message") {
  Status ok;
  CHECK(ok.is_ok());
  CHECK(std::string(ok.message()) == "ok");
  Status e = Status::error(Code::io_error, "file %s: %d of %zu bytes (%lld) %u%% %x", "a.bin", -3,
                           size_t{42}, -9000000000ll, 7u, 255u);
  CHECK(!e.is_ok());
  CHECK(e.code() == Code::io_error);
  CHECK(std::string(e.message()) == "file a.bin: -3 of 42 bytes (-9000000000) 7% ff");
  // A message longer than the buffer is cut, still terminated.
  std::string longer(400, 'x');
  Status t = Status::error(Code::corrupt_data, "%s", longer.c_str());
  CHECK(std::string(t.message()).size() == Status::kMaxMessage - 1);
  // An error made with Code::ok is still an error.
  CHECK(!Status::error(Code::ok, "oops").is_ok());
}

TEST_CASE("shape: numel, strides, printing, validation") {
  Shape s(2, 3, 4, 5);
  CHECK(s.numel() == 120);
  CHECK(s.stride(0) == 60);
  CHECK(s.stride(1) == 20);
  CHECK(s.stride(3) == 1);
  char buf[64];
  CHECK(std::string(s.str(buf, sizeof buf)) == "[2, 3, 4, 5]");
  CHECK(Shape().numel() == 1);
  CHECK(Shape(3, 0).numel() == 0);
  CHECK(Shape(-1, 2).validate().code() == Code::invalid_argument);
  CHECK(Shape(int64_t{1} << 40, int64_t{1} << 40).validate().code() == Code::invalid_argument);
  CHECK(s == Shape(2, 3, 4, 5));
  CHECK(s != Shape(2, 3, 4));
}

TEST_CASE("tensor: NCHW indexing, reshape and slice are views") {
  float data[2 * 3 * 4 * 5];
  for (int i = 0; i < 120; ++i) data[i] = static_cast<float>(i);
  Tensor t(data, Shape(2, 3, 4, 5));
  CHECK(t.at(1, 2, 3, 4) == 119.0f);
  CHECK(t.at(0, 1, 0, 0) == 20.0f);
  Tensor flat;
  REQUIRE(t.reshape(Shape(2, 60), &flat).is_ok());
  CHECK(flat.data == data);
  CHECK(flat.at(1, 0) == 60.0f);
  Tensor bad;
  Status s = t.reshape(Shape(7, 7), &bad);
  CHECK(s.code() == Code::shape_mismatch);
  CHECK(std::string(s.message()).find("[2, 3, 4, 5] -> [7, 7]") != std::string::npos);
  Tensor second;
  REQUIRE(t.slice(1, 2, &second).is_ok());
  CHECK(second.data == data + 60);
  CHECK(second.shape == Shape(1, 3, 4, 5));
  CHECK(t.slice(1, 3, &second).code() == Code::invalid_argument);
  CHECK(expect_same_shape(Shape(2, 3), Shape(3, 2), "add").code() == Code::shape_mismatch);
}
