// Kernels::transpose on every table against the scalar reference (a copy: the same bits),
// over sizes around the 8 x 8 register blocks and with padded strides; and the convolutions'
// NCHW <-> pixel-row moves built on it (nn/im2col.h) against plain loops.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "nn/im2col.h"
#include "platform/scalar/scalar.h"
#include "tests/testing.h"

using namespace ember;

TEST_CASE("transpose: every table gives the reference's bits, and writes nothing else") {
  const size_t sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 49, 64, 67};
  for (const Kernels* k : testing::available_kernels()) {
    for (size_t rows : sizes) {
      for (size_t cols : sizes) {
        for (size_t pad : {size_t{0}, size_t{5}}) {
          CAPTURE(k->name);
          CAPTURE(rows);
          CAPTURE(cols);
          CAPTURE(pad);
          const size_t lds = cols + pad, ldd = rows + pad;
          const std::vector<float> src = testing::random_vector(rows * lds, 7 + rows * 100 + cols);
          std::vector<float> got(cols * ldd, -7.0f), want(cols * ldd, -7.0f);
          k->transpose(src.data(), rows, cols, lds, got.data(), ldd);
          for (size_t i = 0; i < rows; ++i)
            for (size_t j = 0; j < cols; ++j) want[j * ldd + i] = src[i * lds + j];
          CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
          std::vector<float> ref(cols * ldd, -7.0f);
          scalar::transpose(src.data(), rows, cols, lds, ref.data(), ldd);
          CHECK(std::memcmp(ref.data(), want.data(), ref.size() * sizeof(float)) == 0);
        }
      }
    }
  }
}

TEST_CASE("transpose: NCHW to pixel rows and back, written and added") {
  for (const Kernels* k : testing::available_kernels()) {
    for (int ch : {1, 3, 32, 33}) {
      for (size_t pixels : {size_t{1}, size_t{49}, size_t{196}}) {
        CAPTURE(k->name);
        CAPTURE(ch);
        CAPTURE(pixels);
        const size_t n = static_cast<size_t>(ch) * pixels;
        const std::vector<float> x = testing::random_vector(n, 11 + n);
        std::vector<float> rows(n), back(n, 0.0f), added = x;
        nn::detail::nchw_to_rows(*k, x.data(), ch, pixels, rows.data());
        for (int c = 0; c < ch; ++c)
          for (size_t p = 0; p < pixels; ++p) CHECK(rows[p * ch + c] == x[c * pixels + p]);
        nn::detail::rows_to_nchw(*k, rows.data(), ch, pixels, back.data(), false);
        CHECK(back == x);
        nn::detail::rows_to_nchw(*k, rows.data(), ch, pixels, added.data(), true);
        for (size_t i = 0; i < n; ++i) CHECK(added[i] == x[i] + x[i]);
      }
    }
  }
}
