// Shape and Tensor: non-owning views of float data in the arena.
//
// Up to 4 dimensions, row-major (the last dimension is contiguous). Images are NCHW:
// batch, channels, height, width. A Tensor never owns memory; it points into an Arena,
// so copying one is free and it never allocates.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace ember {

struct Shape {
  static constexpr int kMaxRank = 4;
  int rank = 0;
  int64_t dims[kMaxRank] = {0, 0, 0, 0};

  Shape() = default;
  Shape(int64_t d0) : rank(1), dims{d0, 0, 0, 0} {}
  Shape(int64_t d0, int64_t d1) : rank(2), dims{d0, d1, 0, 0} {}
  Shape(int64_t d0, int64_t d1, int64_t d2) : rank(3), dims{d0, d1, d2, 0} {}
  Shape(int64_t d0, int64_t d1, int64_t d2, int64_t d3) : rank(4), dims{d0, d1, d2, d3} {}

  int64_t operator[](int i) const { return dims[i]; }
  // Product of the dimensions (1 for rank 0); -1 if any dimension is negative or it overflows.
  int64_t numel() const;
  // Elements between consecutive indices of dimension i.
  int64_t stride(int i) const;
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  // "[128, 1, 28, 28]" into buf; returns buf.
  const char* str(char* buf, size_t cap) const;
  // ok when every dimension is >= 0 and numel fits.
  Status validate() const;
};

struct Tensor {
  float* data = nullptr;
  Shape shape;

  Tensor() = default;
  Tensor(float* d, const Shape& s) : data(d), shape(s) {}

  int64_t numel() const { return shape.numel(); }
  size_t bytes() const { return static_cast<size_t>(numel()) * sizeof(float); }
  float& operator[](int64_t i) const { return data[i]; }
  float& at(int64_t i, int64_t j) const { return data[i * shape.dims[1] + j]; }
  float& at(int64_t n, int64_t c, int64_t h, int64_t w) const {
    return data[((n * shape.dims[1] + c) * shape.dims[2] + h) * shape.dims[3] + w];
  }
  // Same data seen with another shape of equal element count.
  Status reshape(const Shape& to, Tensor* out) const;
  // Rows [begin, end) of the first dimension.
  Status slice(int64_t begin, int64_t end, Tensor* out) const;
};

// Checks a and b have the same shape; the error names both and `what`.
Status expect_same_shape(const Shape& a, const Shape& b, const char* what);

}  // namespace ember
