#include "io/image.h"

#include <cstring>

namespace ember {

namespace {

constexpr int kMaxChannels = 3;
constexpr float kByteMax = 255.0f;
// Luma weights (BT.601: 0.299, 0.587, 0.114) scaled to sum to 256.
constexpr int kLabelGap = 2;  // blank pixels between a row label and the grid
constexpr unsigned kLumaR = 77, kLumaG = 150, kLumaB = 29, kLumaShift = 8;

// ---- the 5x7 font: one byte per row, bit 4 = leftmost column ----

constexpr char kGlyphChars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,-+=:/%()_? ";
constexpr int kGlyphCount = sizeof kGlyphChars - 1;
constexpr uint8_t kGlyphs[kGlyphCount][kGlyphH] = {
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},  // 0
    {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},  // 1
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},  // 2
    {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},  // 3
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},  // 4
    {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},  // 5
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},  // 6
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},  // 7
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},  // 8
    {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},  // 9
    {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},  // A
    {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},  // B
    {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E},  // C
    {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C},  // D
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F},  // E
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},  // F
    {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F},  // G
    {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},  // H
    {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},  // I
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},  // J
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11},  // K
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},  // L
    {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11},  // M
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},  // N
    {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},  // O
    {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10},  // P
    {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D},  // Q
    {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},  // R
    {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E},  // S
    {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},  // T
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},  // U
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},  // V
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A},  // W
    {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},  // X
    {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04},  // Y
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},  // Z
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C},  // .
    {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08},  // ,
    {0x00, 0x00, 0x00, 0x0E, 0x00, 0x00, 0x00},  // -
    {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00},  // +
    {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00},  // =
    {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},  // :
    {0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10},  // /
    {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},  // %
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},  // (
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},  // )
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F},  // _
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04},  // ?
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // space
};
constexpr int kUnknownGlyph = kGlyphCount - 2;  // '?'

int glyph_index(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == '\0') return -1;
  const char* hit = std::strchr(kGlyphChars, c);
  return hit ? static_cast<int>(hit - kGlyphChars) : -1;
}

void put_pixel(const Image& img, int x, int y, Color c) {
  uint8_t* p = img.at(x, y);
  if (img.channels == 1) {
    p[0] = luma(c);
  } else {
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  }
}

// Fills [x, x+w) x [y, y+h) intersected with the image. 64-bit so that no caller's
// coordinates (a frame's far edge, a glyph far off the image) can overflow.
void fill_clipped(const Image& img, long long x, long long y, long long w, long long h, Color c) {
  if (!img.valid() || w <= 0 || h <= 0) return;
  long long x1 = x + w, y1 = y + h;
  if (x < 0) x = 0;
  if (y < 0) y = 0;
  if (x1 > img.w) x1 = img.w;
  if (y1 > img.h) y1 = img.h;
  for (long long j = y; j < y1; ++j)
    for (long long i = x; i < x1; ++i) put_pixel(img, static_cast<int>(i), static_cast<int>(j), c);
}

// One float to a byte: round(255 * (v - lo) / (hi - lo)) clamped; NaN is the caller's.
uint8_t to_byte(float v, float lo, float scale) {
  const float t = (v - lo) * scale;
  if (!(t > 0.0f)) return 0;  // also -inf
  if (t >= kByteMax) return 255;
  return static_cast<uint8_t>(t + 0.5f);
}

// The byte a NaN pixel gets on a grey canvas: a checkerboard by canvas position.
uint8_t grey_nan_marker(int x, int y) { return ((x + y) & 1) ? 255 : 0; }

Status check_cell(const char* what, const Image& canvas, const GridLayout& layout, int row, int col, const void* src,
                  int cell_w, int cell_h) {
  if (!canvas.valid())
    return Status::error(Code::invalid_argument, "%s: canvas is not a valid image (%dx%d, %d channels)", what, canvas.w,
                         canvas.h, canvas.channels);
  if (canvas.w != layout.width || canvas.h != layout.height)
    return Status::error(Code::invalid_argument, "%s: canvas is %dx%d but the layout needs %dx%d", what, canvas.w,
                         canvas.h, layout.width, layout.height);
  if (row < 0 || row >= layout.spec.rows || col < 0 || col >= layout.spec.cols)
    return Status::error(Code::invalid_argument, "%s: cell (%d, %d) is outside the %dx%d grid", what, row, col,
                         layout.spec.rows, layout.spec.cols);
  if (cell_w != layout.spec.cell_w || cell_h != layout.spec.cell_h)
    return Status::error(Code::invalid_argument, "%s: values are %dx%d but the grid's cells are %dx%d", what, cell_w,
                         cell_h, layout.spec.cell_w, layout.spec.cell_h);
  if (!src) return Status::error(Code::invalid_argument, "%s: no pixel values given", what);
  return Status::ok();
}

}  // namespace

uint8_t luma(Color c) {
  return static_cast<uint8_t>((kLumaR * c.r + kLumaG * c.g + kLumaB * c.b + (1u << (kLumaShift - 1))) >> kLumaShift);
}

bool Image::valid() const {
  return px && w > 0 && h > 0 && w <= kMaxImageSide && h <= kMaxImageSide && (channels == 1 || channels == 3);
}

size_t image_bytes(int w, int h, int channels) {
  if (w <= 0 || h <= 0 || w > kMaxImageSide || h > kMaxImageSide || (channels != 1 && channels != kMaxChannels))
    return 0;
  return static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(channels);
}

Status image_view(uint8_t* buf, size_t bytes, int w, int h, int channels, Image* out) {
  const size_t need = image_bytes(w, h, channels);
  if (need == 0)
    return Status::error(Code::invalid_argument, "image %dx%d with %d channels: sides must be 1..%d, channels 1 or 3",
                         w, h, channels, kMaxImageSide);
  if (!buf) return Status::error(Code::invalid_argument, "image %dx%d: no buffer given", w, h);
  if (bytes < need)
    return Status::error(Code::invalid_argument, "image %dx%dx%d needs %zu bytes, buffer has %zu (%zu short)", w, h,
                         channels, need, bytes, need - bytes);
  *out = Image{buf, w, h, channels};
  return Status::ok();
}

void fill(const Image& img, Color c) { fill_rect(img, 0, 0, img.w, img.h, c); }

void fill_rect(const Image& img, int x, int y, int w, int h, Color c) { fill_clipped(img, x, y, w, h, c); }

void draw_frame(const Image& img, int x, int y, int w, int h, Color c, int thickness) {
  if (w <= 0 || h <= 0 || thickness <= 0) return;
  const long long t = thickness;
  if (2 * t >= w || 2 * t >= h) {
    fill_clipped(img, x, y, w, h, c);  // the frame covers it all
    return;
  }
  fill_clipped(img, x, y, w, t, c);                      // top
  fill_clipped(img, x, 0ll + y + h - t, w, t, c);        // bottom
  fill_clipped(img, x, 0ll + y + t, t, h - 2 * t, c);    // left
  fill_clipped(img, 0ll + x + w - t, 0ll + y + t, t, h - 2 * t, c);  // right
}

// ---- grids ----

Status make_grid_layout(const GridSpec& s, GridLayout* out) {
  const char* bad = nullptr;
  if (s.cell_w <= 0 || s.cell_w > kMaxImageSide) bad = "cell_w";
  else if (s.cell_h <= 0 || s.cell_h > kMaxImageSide) bad = "cell_h";
  else if (s.rows <= 0 || s.rows > kMaxImageSide) bad = "rows";
  else if (s.cols <= 0 || s.cols > kMaxImageSide) bad = "cols";
  else if (s.scale <= 0 || s.scale > kMaxGridScale) bad = "scale";
  else if (s.pad < 0 || s.pad > kMaxGridPad) bad = "pad";
  else if (s.label_left < 0 || s.label_left > kMaxImageSide) bad = "label_left";
  else if (s.label_top < 0 || s.label_top > kMaxImageSide) bad = "label_top";
  if (bad)
    return Status::error(Code::invalid_argument,
                         "grid: %s out of range (cell %dx%d, %dx%d cells, scale %d of 1..%d, pad %d of 0..%d, "
                         "labels %d/%d)",
                         bad, s.cell_w, s.cell_h, s.rows, s.cols, s.scale, kMaxGridScale, s.pad, kMaxGridPad,
                         s.label_left, s.label_top);
  // Every factor is at most 2^15 (scale and pad far less), so 64-bit products are exact.
  const long long cw = static_cast<long long>(s.cell_w) * s.scale, ch = static_cast<long long>(s.cell_h) * s.scale;
  const long long width = s.label_left + s.pad + s.cols * (cw + s.pad);
  const long long height = s.label_top + s.pad + s.rows * (ch + s.pad);
  if (width > kMaxImageSide || height > kMaxImageSide)
    return Status::error(Code::invalid_argument, "grid: canvas would be %lldx%lld pixels, more than %d on a side",
                         width, height, kMaxImageSide);
  GridLayout g;
  g.spec = s;
  g.width = static_cast<int>(width), g.height = static_cast<int>(height);
  g.cell_px_w = static_cast<int>(cw), g.cell_px_h = static_cast<int>(ch);
  *out = g;
  return Status::ok();
}

Status grid_canvas(const GridLayout& layout, int channels, uint8_t* buf, size_t bytes, Image* out) {
  Image img;
  EMBER_TRY(image_view(buf, bytes, layout.width, layout.height, channels, &img));
  std::memset(img.px, layout.spec.background, image_bytes(img.w, img.h, img.channels));
  *out = img;
  return Status::ok();
}

Status put_cell(const Image& canvas, const GridLayout& layout, int row, int col, const float* values, int cell_w,
                int cell_h, float lo, float hi, int value_channels) {
  EMBER_TRY(check_cell("put_cell", canvas, layout, row, col, values, cell_w, cell_h));
  if (value_channels != 1 && !(value_channels == kMaxChannels && canvas.channels == kMaxChannels))
    return Status::error(Code::invalid_argument, "put_cell: %d value planes on a %d-channel canvas (want 1, or 3 on RGB)",
                         value_channels, canvas.channels);
  const float span = hi - lo;
  // Checked as floats: "!(x == x)" catches NaN, and span must be finite and non-zero.
  if (!(span == span) || span == 0.0f || span - span != 0.0f)
    return Status::error(Code::invalid_argument, "put_cell: value range lo..hi must be finite and not empty");
  const float scale = kByteMax / span;
  const int k = layout.spec.scale;
  const size_t plane = static_cast<size_t>(cell_w) * static_cast<size_t>(cell_h);
  const int x0 = layout.cell_x(col), y0 = layout.cell_y(row);
  for (int sy = 0; sy < cell_h; ++sy) {
    for (int sx = 0; sx < cell_w; ++sx) {
      const size_t at = static_cast<size_t>(sy) * static_cast<size_t>(cell_w) + static_cast<size_t>(sx);
      bool nan = false;
      uint8_t v[kMaxChannels];
      for (int c = 0; c < value_channels; ++c) {
        const float f = values[static_cast<size_t>(c) * plane + at];
        nan = nan || f != f;
        v[c] = to_byte(f, lo, scale);
      }
      for (int dy = 0; dy < k; ++dy) {
        const int y = y0 + sy * k + dy;
        for (int dx = 0; dx < k; ++dx) {
          const int x = x0 + sx * k + dx;
          uint8_t* p = canvas.at(x, y);
          if (nan && canvas.channels == 1) p[0] = grey_nan_marker(x, y);
          else if (nan) p[0] = kNanMarker.r, p[1] = kNanMarker.g, p[2] = kNanMarker.b;
          else
            for (int c = 0; c < canvas.channels; ++c) p[c] = v[value_channels == 1 ? 0 : c];
        }
      }
    }
  }
  return Status::ok();
}

Status put_cell_bytes(const Image& canvas, const GridLayout& layout, int row, int col, const uint8_t* grey, int cell_w,
                      int cell_h) {
  EMBER_TRY(check_cell("put_cell_bytes", canvas, layout, row, col, grey, cell_w, cell_h));
  const int k = layout.spec.scale;
  const int x0 = layout.cell_x(col), y0 = layout.cell_y(row);
  for (int sy = 0; sy < cell_h; ++sy)
    for (int sx = 0; sx < cell_w; ++sx) {
      const uint8_t v = grey[static_cast<size_t>(sy) * static_cast<size_t>(cell_w) + static_cast<size_t>(sx)];
      fill_rect(canvas, x0 + sx * k, y0 + sy * k, k, k, grey_color(v));
    }
  return Status::ok();
}

Status draw_cell_frame(const Image& canvas, const GridLayout& layout, int row, int col, Color c) {
  if (!canvas.valid() || canvas.w != layout.width || canvas.h != layout.height)
    return Status::error(Code::invalid_argument, "draw_cell_frame: canvas %dx%d does not match the layout's %dx%d",
                         canvas.w, canvas.h, layout.width, layout.height);
  if (row < 0 || row >= layout.spec.rows || col < 0 || col >= layout.spec.cols)
    return Status::error(Code::invalid_argument, "draw_cell_frame: cell (%d, %d) is outside the %dx%d grid", row, col,
                         layout.spec.rows, layout.spec.cols);
  if (layout.spec.pad < 1)
    return Status::error(Code::invalid_argument, "draw_cell_frame: the grid has no padding to draw the frame in");
  draw_frame(canvas, layout.cell_x(col) - 1, layout.cell_y(row) - 1, layout.cell_px_w + 2, layout.cell_px_h + 2, c);
  return Status::ok();
}

// ---- text ----

bool font_has(char c) { return glyph_index(c) >= 0; }

const uint8_t* glyph_rows(char c) {
  const int i = glyph_index(c);
  return kGlyphs[i >= 0 ? i : kUnknownGlyph];
}

int text_width(const char* s, int scale) {
  if (!s || !*s || scale <= 0) return 0;
  const long long n = static_cast<long long>(std::strlen(s));
  const long long w = (n * kGlyphAdvance - 1) * scale;
  return w > kMaxImageSide ? kMaxImageSide : static_cast<int>(w);  // wider is clipped anyway
}

void draw_text(const Image& img, int x, int y, const char* s, Color c, int scale) {
  if (!img.valid() || !s || scale <= 0 || scale > kMaxGridScale) return;
  const long long k = scale;
  for (long long pen = x; *s && pen < img.w; ++s, pen += kGlyphAdvance * k) {
    const uint8_t* rows = glyph_rows(*s);
    for (int r = 0; r < kGlyphH; ++r)
      for (int b = 0; b < kGlyphW; ++b)
        if (rows[r] & (1u << (kGlyphW - 1 - b))) fill_clipped(img, pen + b * k, y + r * k, k, k, c);
  }
}

void draw_row_label(const Image& canvas, const GridLayout& layout, int row, const char* s, Color c, int scale) {
  const int right = layout.spec.label_left - kLabelGap;
  const int y = layout.cell_y(row) + (layout.cell_px_h - kGlyphH * scale) / 2;
  draw_text(canvas, right - text_width(s, scale), y, s, c, scale);
}

void draw_col_label(const Image& canvas, const GridLayout& layout, int col, const char* s, Color c, int scale) {
  const int x = layout.cell_x(col) + (layout.cell_px_w - text_width(s, scale)) / 2;
  const int y = (layout.spec.label_top - kGlyphH * scale) / 2;
  draw_text(canvas, x, y, s, c, scale);
}

}  // namespace ember
