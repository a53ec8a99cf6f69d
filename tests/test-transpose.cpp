// Kernels::transpose on every table against the scalar reference (a copy: the same bits),
// over sizes around the 8 x 8 register blocks and with padded strides; the convolutions'
// NCHW <-> pixel-row moves built on it (nn/im2col.h) against plain loops; and the 4 x 4 patch
// moves (Kernels::patches_k4, patches_k4_add) on every table against plain loops.
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

// Ring rows as nn/im2col.cpp lays them out: per channel 4 rows of `wp` floats, channels
// cs = 4 wp apart; the patch rows `ld` floats apart with a gap after the patches.
TEST_CASE("patches_k4: every table moves the 4 x 4 patches as plain loops do, and writes nothing else") {
  for (const Kernels* k : testing::available_kernels()) {
    for (int channels : {1, 2, 3, 17}) {
      for (int ow : {1, 2, 5, 14}) {
        for (int stride : {1, 2, 3}) {
          CAPTURE(k->name);
          CAPTURE(channels);
          CAPTURE(ow);
          CAPTURE(stride);
          const size_t wp = static_cast<size_t>(ow - 1) * stride + 4 + 3, cs = 4 * wp;
          const size_t ld = static_cast<size_t>(channels) * 16 + 5;
          const std::vector<float> ring = testing::random_vector(cs * channels, 51 + channels * 7 + ow);
          const float* src[4] = {ring.data(), ring.data() + wp, ring.data() + 2 * wp, ring.data() + 3 * wp};
          std::vector<float> got(ld * ow, -7.0f), want(ld * ow, -7.0f);
          k->patches_k4(src, cs, channels, ow, stride, got.data(), ld);
          for (int x = 0; x < ow; ++x)
            for (int c = 0; c < channels; ++c)
              for (int ki = 0; ki < 4; ++ki)
                for (int kj = 0; kj < 4; ++kj)
                  want[x * ld + c * 16 + ki * 4 + kj] = src[ki][c * cs + static_cast<size_t>(x) * stride + kj];
          CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
        }
      }
    }
  }
}

TEST_CASE("patches_k4_add: every table adds in the plain loops' order (the same bits), over pixel phases") {
  struct Phase {
    int first, step;
  };
  for (const Kernels* k : testing::available_kernels()) {
    for (int channels : {1, 3, 17}) {
      for (int ow : {1, 2, 7, 14}) {
        for (int stride : {1, 2, 3}) {
          for (Phase ph : {Phase{0, 1}, Phase{0, 2}, Phase{1, 2}, Phase{2, 3}}) {
            CAPTURE(k->name);
            CAPTURE(channels);
            CAPTURE(ow);
            CAPTURE(stride);
            CAPTURE(ph.first);
            CAPTURE(ph.step);
            const size_t wp = static_cast<size_t>(ow - 1) * stride + 4 + 3, cs = 4 * wp;
            const size_t ld = static_cast<size_t>(channels) * 16 + 5;
            const std::vector<float> rows = testing::random_vector(ld * ow, 61 + channels * 5 + ow);
            std::vector<float> got = testing::random_vector(cs * channels, 71 + stride), want = got;
            float* dst[4] = {got.data(), got.data() + wp, got.data() + 2 * wp, got.data() + 3 * wp};
            k->patches_k4_add(rows.data(), ld, channels, ph.first, ph.step, ow, stride, dst, cs);
            for (int x = ph.first; x < ow; x += ph.step)
              for (int c = 0; c < channels; ++c)
                for (int ki = 0; ki < 4; ++ki)
                  for (int kj = 0; kj < 4; ++kj)
                    want[ki * wp + c * cs + static_cast<size_t>(x) * stride + kj] +=
                        rows[x * ld + c * 16 + ki * 4 + kj];
            CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
          }
        }
      }
    }
  }
}
