// Pictures in memory (io/image.h): grid layouts, float-to-byte cells, frames, the bitmap
// font and grid labels. The SVG charts are tested in test-svg.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "io/image.h"

using namespace ember;

namespace {

// A w x h x c canvas in a std::vector (tests may allocate; the library may not).
struct Canvas {
  std::vector<uint8_t> bytes;
  Image img;
  Canvas(const GridLayout& g, int channels) : bytes(image_bytes(g.width, g.height, channels)) {
    REQUIRE(grid_canvas(g, channels, bytes.data(), bytes.size(), &img).is_ok());
  }
};

GridLayout layout(int cell, int rows, int cols, int scale, int pad, int left = 0, int top = 0) {
  GridSpec s;
  s.cell_w = s.cell_h = cell, s.rows = rows, s.cols = cols, s.scale = scale, s.pad = pad;
  s.label_left = left, s.label_top = top;
  GridLayout g;
  REQUIRE(make_grid_layout(s, &g).is_ok());
  return g;
}

// Lit (non-background) pixels of a grey image: their count and bounding box.
struct Lit {
  int count = 0, x0 = INT_MAX, y0 = INT_MAX, x1 = -1, y1 = -1;
};
Lit lit_pixels(const Image& img, uint8_t background) {
  Lit l;
  for (int y = 0; y < img.h; ++y)
    for (int x = 0; x < img.w; ++x)
      if (img.at(x, y)[0] != background) {
        ++l.count;
        l.x0 = std::min(l.x0, x), l.y0 = std::min(l.y0, y), l.x1 = std::max(l.x1, x), l.y1 = std::max(l.y1, y);
      }
  return l;
}

int glyph_bits(char c) {
  int n = 0;
  for (int r = 0; r < kGlyphH; ++r) n += __builtin_popcount(glyph_rows(c)[r]);
  return n;
}

}  // namespace

TEST_CASE("image: byte counts and views over caller buffers") {
  CHECK(image_bytes(28, 28, 1) == 784);
  CHECK(image_bytes(10, 20, 3) == 600);
  CHECK(image_bytes(0, 5, 1) == 0);
  CHECK(image_bytes(5, 5, 2) == 0);
  CHECK(image_bytes(kMaxImageSide + 1, 1, 1) == 0);
  CHECK(image_bytes(kMaxImageSide, kMaxImageSide, 3) == size_t{3} << 30);
  uint8_t buf[100];
  Image img;
  CHECK(image_view(buf, sizeof buf, 10, 10, 1, &img).is_ok());
  CHECK((img.px == buf && img.w == 10 && img.h == 10 && img.channels == 1));
  Status s = image_view(buf, sizeof buf, 10, 10, 3, &img);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(std::string(s.message()).find("200 short") != std::string::npos);
  CHECK(!image_view(nullptr, 100, 10, 10, 1, &img).is_ok());
  CHECK(!image_view(buf, sizeof buf, -1, 10, 1, &img).is_ok());
}

TEST_CASE("grid: canvas size from cells, scale, padding and label room") {
  GridLayout g = layout(28, 2, 3, 2, 2);
  CHECK(g.width == 2 + 3 * (56 + 2));
  CHECK(g.height == 2 + 2 * (56 + 2));
  CHECK(g.cell_x(0) == 2);
  CHECK(g.cell_x(2) == 2 + 2 * 58);
  CHECK(g.cell_y(1) == 60);
  GridLayout l = layout(28, 10, 10, 1, 1, 30, 12);
  CHECK(l.width == 30 + 1 + 10 * 29);
  CHECK(l.height == 12 + 1 + 10 * 29);
  CHECK(l.cell_x(0) == 31);
  CHECK(l.cell_y(0) == 13);
  CHECK(layout(5, 1, 1, 1, 0).width == 5);

  GridSpec s;
  s.cell_w = s.cell_h = 28, s.rows = s.cols = 4;
  GridLayout out;
  for (int field = 0; field < 8; ++field) {
    GridSpec b = s;
    int* f[] = {&b.cell_w, &b.cell_h, &b.rows, &b.cols, &b.scale, &b.pad, &b.label_left, &b.label_top};
    *f[field] = -1;
    CHECK(make_grid_layout(b, &out).code() == Code::invalid_argument);
    *f[field] = INT_MAX;
    CHECK(make_grid_layout(b, &out).code() == Code::invalid_argument);
  }
  GridSpec wide = s;
  wide.cols = 2000;  // 2 + 2000 * 30 px
  Status e = make_grid_layout(wide, &out);
  CHECK(e.code() == Code::invalid_argument);
  CHECK(std::string(e.message()).find("60002") != std::string::npos);

  // The canvas starts as background; a short buffer is refused and left untouched.
  Canvas c(g, 3);
  CHECK(lit_pixels(c.img, kGridGrey).count == 0);
  std::vector<uint8_t> small(image_bytes(g.width, g.height, 1) - 1, 7);
  Image img;
  CHECK(!grid_canvas(g, 1, small.data(), small.size(), &img).is_ok());
  CHECK(std::count(small.begin(), small.end(), 7) == static_cast<long>(small.size()));
}

TEST_CASE("put_cell: clamping, rounding, inversion and infinities") {
  GridLayout g = layout(16, 1, 1, 1, 1);
  Canvas c(g, 1);
  std::vector<float> v(256);
  for (int k = 0; k < 256; ++k) v[k] = k / 255.0f;  // exact levels
  REQUIRE(put_cell(c.img, g, 0, 0, v.data(), 16, 16, 0.0f, 1.0f).is_ok());
  for (int k = 0; k < 256; ++k) CHECK(c.img.at(1 + k % 16, 1 + k / 16)[0] == k);

  auto one = [&](float value, float lo, float hi) {
    std::vector<float> cell(256, value);
    REQUIRE(put_cell(c.img, g, 0, 0, cell.data(), 16, 16, lo, hi).is_ok());
    return static_cast<int>(c.img.at(5, 5)[0]);
  };
  CHECK(one(-0.5f, 0, 1) == 0);
  CHECK(one(1.5f, 0, 1) == 255);
  CHECK(one(0.5f, 0, 1) == 128);  // 127.5 rounds up
  CHECK(one(0.1f, 0, 1) == 26);   // 25.5 rounds up
  CHECK(one(-1.0f, -1, 1) == 0);
  CHECK(one(0.0f, -1, 1) == 128);
  CHECK(one(1.0f, -1, 1) == 255);
  CHECK(one(1.0f, 1, 0) == 0);    // lo > hi inverts
  CHECK(one(0.0f, 1, 0) == 255);
  CHECK(one(INFINITY, 0, 1) == 255);
  CHECK(one(-INFINITY, 0, 1) == 0);
  CHECK(one(1e30f, -1, 1) == 255);
  CHECK(one(-1e30f, -1, 1) == 0);
}

TEST_CASE("put_cell: upscaling places k x k blocks and touches nothing else") {
  const int k = 3;
  GridLayout g = layout(4, 2, 2, k, 2);
  Canvas c(g, 1);
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(i * 10);
  REQUIRE(put_cell(c.img, g, 1, 0, v.data(), 4, 4, 0.0f, 255.0f).is_ok());
  const int x0 = g.cell_x(0), y0 = g.cell_y(1);
  CHECK(x0 == 2);
  CHECK(y0 == 2 + 12 + 2);
  for (int y = 0; y < c.img.h; ++y)
    for (int x = 0; x < c.img.w; ++x) {
      const bool inside = x >= x0 && x < x0 + 12 && y >= y0 && y < y0 + 12;
      const int want = inside ? ((y - y0) / k * 4 + (x - x0) / k) * 10 : kGridGrey;
      if (c.img.at(x, y)[0] != want) FAIL("pixel (" << x << ", " << y << ") is " << int(c.img.at(x, y)[0]));
    }
}

TEST_CASE("put_cell: NaN markers, colour planes, and refused arguments") {
  GridLayout g = layout(2, 1, 1, 2, 1);
  const float nan = std::nanf("");
  const std::vector<float> v = {0.0f, nan, 1.0f, 0.5f};
  SUBCASE("grey canvas: checkerboard by canvas pixel") {
    Canvas c(g, 1);
    REQUIRE(put_cell(c.img, g, 0, 0, v.data(), 2, 2, 0.0f, 1.0f).is_ok());
    for (int y = 1; y < 3; ++y)
      for (int x = 3; x < 5; ++x) CHECK(c.img.at(x, y)[0] == (((x + y) & 1) ? 255 : 0));
    CHECK(c.img.at(1, 3)[0] == 255);  // the finite neighbours are drawn as usual
  }
  SUBCASE("RGB canvas: magenta; grey values go to all three channels") {
    Canvas c(g, 3);
    REQUIRE(put_cell(c.img, g, 0, 0, v.data(), 2, 2, 0.0f, 1.0f).is_ok());
    const uint8_t* p = c.img.at(3, 1);
    CHECK((p[0] == 255 && p[1] == 0 && p[2] == 255));
    p = c.img.at(4, 4);
    CHECK((p[0] == 128 && p[1] == 128 && p[2] == 128));
  }
  SUBCASE("three planes on RGB (CHW)") {
    Canvas c(g, 3);
    std::vector<float> rgb(12, 0.0f);
    rgb[0] = 1.0f;       // R of pixel 0
    rgb[4 + 1] = 1.0f;   // G of pixel 1
    rgb[8 + 3] = 0.5f;   // B of pixel 3
    rgb[4 + 2] = nan;    // pixel 2 has a NaN in one plane
    REQUIRE(put_cell(c.img, g, 0, 0, rgb.data(), 2, 2, 0.0f, 1.0f, 3).is_ok());
    auto px = [&](int sx, int sy) { const uint8_t* p = c.img.at(1 + 2 * sx, 1 + 2 * sy); return std::vector<int>{p[0], p[1], p[2]}; };
    CHECK(px(0, 0) == std::vector<int>{255, 0, 0});
    CHECK(px(1, 0) == std::vector<int>{0, 255, 0});
    CHECK(px(0, 1) == std::vector<int>{255, 0, 255});
    CHECK(px(1, 1) == std::vector<int>{0, 0, 128});
  }
  SUBCASE("bad arguments draw nothing") {
    Canvas c(g, 1);
    const std::vector<uint8_t> before = c.bytes;
    CHECK(!put_cell(c.img, g, 1, 0, v.data(), 2, 2, 0, 1).is_ok());      // row outside
    CHECK(!put_cell(c.img, g, 0, -1, v.data(), 2, 2, 0, 1).is_ok());     // col outside
    CHECK(!put_cell(c.img, g, 0, 0, v.data(), 3, 2, 0, 1).is_ok());      // wrong cell size
    CHECK(!put_cell(c.img, g, 0, 0, nullptr, 2, 2, 0, 1).is_ok());
    CHECK(!put_cell(c.img, g, 0, 0, v.data(), 2, 2, 1, 1).is_ok());      // empty range
    CHECK(!put_cell(c.img, g, 0, 0, v.data(), 2, 2, nan, 1).is_ok());
    CHECK(!put_cell(c.img, g, 0, 0, v.data(), 2, 2, 0, INFINITY).is_ok());
    CHECK(!put_cell(c.img, g, 0, 0, v.data(), 2, 2, -3e38f, 3e38f).is_ok());  // span overflows
    CHECK(!put_cell(c.img, g, 0, 0, v.data(), 2, 2, 0, 1, 3).is_ok());   // 3 planes, grey canvas
    CHECK(!put_cell(c.img, g, 0, 0, v.data(), 2, 2, 0, 1, 2).is_ok());
    Image wrong = c.img;
    wrong.w -= 1;
    CHECK(!put_cell(wrong, g, 0, 0, v.data(), 2, 2, 0, 1).is_ok());     // not this layout's canvas
    CHECK(c.bytes == before);
  }
  SUBCASE("bytes as they are") {
    Canvas c(g, 1);
    const uint8_t grey[4] = {0, 50, 200, 255};
    REQUIRE(put_cell_bytes(c.img, g, 0, 0, grey, 2, 2).is_ok());
    CHECK(c.img.at(1, 1)[0] == 0);
    CHECK(c.img.at(4, 2)[0] == 50);
    CHECK(c.img.at(2, 3)[0] == 200);
    CHECK(c.img.at(4, 4)[0] == 255);
    CHECK(!put_cell_bytes(c.img, g, 0, 0, grey, 2, 1).is_ok());
  }
}

TEST_CASE("frames: around a cell in the padding, clipped rectangles") {
  GridLayout g = layout(4, 2, 2, 1, 2);
  Canvas c(g, 3);
  REQUIRE(draw_cell_frame(c.img, g, 0, 1, kHighlight).is_ok());
  const int x0 = g.cell_x(1), y0 = g.cell_y(0);
  int framed = 0;
  for (int y = 0; y < c.img.h; ++y)
    for (int x = 0; x < c.img.w; ++x) {
      const uint8_t* p = c.img.at(x, y);
      const bool ring = x >= x0 - 1 && x <= x0 + 4 && y >= y0 - 1 && y <= y0 + 4 &&
                        (x == x0 - 1 || x == x0 + 4 || y == y0 - 1 || y == y0 + 4);
      if (ring) framed += p[0] == kHighlight.r && p[1] == kHighlight.g && p[2] == kHighlight.b;
      else CHECK(p[0] == kGridGrey);
    }
  CHECK(framed == 6 * 6 - 4 * 4);

  Canvas grey(g, 1);
  REQUIRE(draw_cell_frame(grey.img, g, 1, 0, kHighlight).is_ok());
  CHECK(grey.img.at(g.cell_x(0) - 1, g.cell_y(1))[0] == luma(kHighlight));
  CHECK(luma(kWhite) == 255);
  CHECK(luma(grey_color(77)) == 77);
  CHECK(!draw_cell_frame(grey.img, g, 2, 0, kWhite).is_ok());
  CHECK(!draw_cell_frame(grey.img, layout(4, 1, 1, 1, 0), 0, 0, kWhite).is_ok());  // no padding

  // Frames partly or wholly outside, and absurd coordinates, are clipped without harm.
  Canvas d(layout(4, 1, 1, 1, 0), 1);
  draw_frame(d.img, -1, -1, 5, 5, kWhite);  // only the far edges (x = 3, y = 3) are inside
  CHECK(lit_pixels(d.img, kGridGrey).count == 4 + 4 - 1);
  draw_frame(d.img, INT_MAX - 2, INT_MIN, INT_MAX, INT_MAX, kBlack, 3);
  draw_frame(d.img, INT_MIN, INT_MIN, INT_MAX, INT_MAX, kBlack, INT_MAX);
  fill_rect(d.img, INT_MAX, INT_MAX, INT_MAX, INT_MAX, kBlack);
  CHECK(lit_pixels(d.img, kGridGrey).count == 4 + 4 - 1);
  draw_frame(d.img, 0, 0, 4, 4, kBlack, 2);  // thickness 2 of a 4x4 box fills it
  CHECK(lit_pixels(d.img, kBlack.r).count == 0);
}

TEST_CASE("font: glyphs are distinct and stamps stay inside their box and the image") {
  const char* chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,-+=:/%()_?";
  for (const char* a = chars; *a; ++a) {
    CHECK(font_has(*a));
    CHECK(glyph_bits(*a) > 0);
    for (int r = 0; r < kGlyphH; ++r) CHECK(glyph_rows(*a)[r] < (1 << kGlyphW));
    for (const char* b = a + 1; *b; ++b)
      if (std::memcmp(glyph_rows(*a), glyph_rows(*b), kGlyphH) == 0) FAIL("glyphs " << *a << " and " << *b);
  }
  CHECK(font_has(' '));
  CHECK(glyph_bits(' ') == 0);
  CHECK(font_has('e'));
  CHECK(glyph_rows('e') == glyph_rows('E'));
  CHECK(!font_has('@'));
  CHECK(glyph_rows('@') == glyph_rows('?'));
  CHECK(text_width("", 1) == 0);
  CHECK(text_width(nullptr, 1) == 0);
  CHECK(text_width("AB", 1) == 11);
  CHECK(text_width("Z=0.5", 2) == (5 * 6 - 1) * 2);

  for (int scale : {1, 3}) {
    GridLayout g = layout(40, 1, 1, 1, 0);
    Canvas c(g, 1);
    const char* s = "Z=-0.5";
    draw_text(c.img, 3, 4, s, kWhite, scale);
    Lit l = lit_pixels(c.img, kGridGrey);
    int bits = 0;
    for (const char* p = s; *p; ++p) bits += glyph_bits(*p);
    // At scale 3 the text is 3 + 6*18 - 3 = 108 px: clipped at the canvas edge.
    if (scale == 1) CHECK(l.count == bits);
    CHECK(l.count > 0);
    CHECK(l.x0 >= 3);
    CHECK(l.y0 >= 4);
    CHECK(l.x1 < std::min(3 + text_width(s, scale), c.img.w));
    CHECK(l.y1 < 4 + kGlyphH * scale);
  }
  // Text hanging off every edge, and absurd positions, draws only inside.
  GridLayout g = layout(10, 1, 1, 1, 0);
  Canvas c(g, 3);
  draw_text(c.img, -4, -3, "88", kWhite);
  draw_text(c.img, 7, 6, "88", kWhite);
  draw_text(c.img, INT_MAX, INT_MAX, "8", kWhite, 64);
  draw_text(c.img, INT_MIN, INT_MIN, "8", kWhite, 64);
  draw_text(c.img, INT_MIN + 10, 2, "8888", kWhite);
  Lit l = lit_pixels(c.img, kGridGrey);
  CHECK(l.count > 0);
  CHECK(l.x1 < 10);
  CHECK(l.y1 < 10);
}

TEST_CASE("grid labels sit in their margins") {
  GridLayout g = layout(28, 3, 4, 1, 2, 30, 12);
  Canvas c(g, 1);
  draw_row_label(c.img, g, 1, "Z1", kWhite);
  Lit row = lit_pixels(c.img, kGridGrey);
  CHECK(row.count == glyph_bits('Z') + glyph_bits('1'));
  CHECK(row.x1 < g.spec.label_left);
  CHECK(row.y0 >= g.cell_y(1));
  CHECK(row.y1 < g.cell_y(1) + g.cell_px_h);
  Canvas d(g, 1);
  draw_col_label(d.img, g, 3, "-1", kBlack);
  Lit col = lit_pixels(d.img, kGridGrey);
  CHECK(col.count == glyph_bits('-') + glyph_bits('1'));
  CHECK(col.y1 < g.spec.label_top);
  CHECK(col.x0 >= g.cell_x(3));
  CHECK(col.x1 < g.cell_x(3) + g.cell_px_w);
}
