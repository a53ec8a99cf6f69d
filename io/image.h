// Image: composing 8-bit pictures in memory — sample grids, reconstructions next to their
// inputs, interpolation rows, latent traversals — ready for the PNG writer (io/png.h).
//
// An Image is only a view (pointer, width, height, channels) over memory the caller owns
// (an arena block or a static buffer); nothing here allocates. Pixels are row-major with
// the channels interleaved: 1 channel = grey, 3 = RGB.
//
// Grids. A GridSpec says what goes in (cell size in source pixels, rows x cols, an integer
// upscale factor, padding, room for labels); make_grid_layout turns it into a GridLayout
// with the canvas size and each cell's top-left corner:
//
//   <label_left> pad [cell] pad [cell] pad ... [cell] pad      (and the same vertically,
//                                                              with label_top above)
//   cell size on the canvas = source size * scale (nearest-neighbour upscaling, so a 28x28
//   digit at scale 2 is a crisp 56x56 block).
//
// put_cell maps float values to bytes: byte = round(255 * (v - lo) / (hi - lo)), clamped
// to 0..255, so lo=0, hi=1 suits sigmoid outputs and lo=-1, hi=1 tanh outputs (lo > hi
// inverts the picture). Infinities clamp like any out-of-range value. NaN cannot be
// mapped, so it is drawn as a marker that smooth model output never produces: magenta
// (255, 0, 255) on RGB canvases, and on grey canvases a black/white checkerboard by canvas
// pixel (visible as a dithered patch once the cell is upscaled).
//
// Frames and labels. draw_cell_frame draws a 1-pixel frame in the padding around a cell
// (to mark, say, the input column of a reconstruction picture); on a grey canvas a colour
// is drawn as its luma. draw_text stamps short labels with a built-in 5x7 bitmap font
// (digits, A-Z — lower case is drawn as upper case — and . , - + = : / % ( ) _ ?; any
// other character is drawn as '?'), clipped to the image.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace ember {

// Largest width or height accepted anywhere here: keeps every byte count far from
// overflow (32768 * 32768 * 3 < 2^32, so it fits even a 32-bit size_t).
constexpr int kMaxImageSide = 1 << 15;

struct Color {
  uint8_t r = 0, g = 0, b = 0;
};
constexpr Color grey_color(uint8_t v) { return Color{v, v, v}; }
constexpr Color kBlack{0, 0, 0};
constexpr Color kWhite{255, 255, 255};
constexpr Color kHighlight{230, 40, 40};   // frames around cells worth pointing at
constexpr Color kNanMarker{255, 0, 255};   // NaN pixels on RGB canvases
// A colour as one grey value (ITU-R BT.601 luma, integer weights summing to 256).
uint8_t luma(Color c);

struct Image {
  uint8_t* px = nullptr;  // [h][w][channels]
  int w = 0, h = 0, channels = 0;

  size_t row_bytes() const { return static_cast<size_t>(w) * static_cast<size_t>(channels); }
  uint8_t* at(int x, int y) const { return px + static_cast<size_t>(y) * row_bytes() + static_cast<size_t>(x) * static_cast<size_t>(channels); }
  bool valid() const;  // px set, 1..kMaxImageSide wide and high, 1 or 3 channels
};

// Bytes of a w x h image with `channels` (1 or 3); 0 when any argument is out of range.
size_t image_bytes(int w, int h, int channels);

// Wraps a caller buffer of `bytes` as a w x h x channels image (contents untouched).
// Errors: bad size or channel count, or a buffer too small (saying by how much).
Status image_view(uint8_t* buf, size_t bytes, int w, int h, int channels, Image* out);

// Drawing primitives, clipped to the image (parts outside are skipped, never an error; an
// invalid image draws nothing).
void fill(const Image& img, Color c);
void fill_rect(const Image& img, int x, int y, int w, int h, Color c);
// A frame `thickness` pixels wide whose outer edge is the rectangle (x, y, w, h).
void draw_frame(const Image& img, int x, int y, int w, int h, Color c, int thickness = 1);

// ---- grids ----

constexpr uint8_t kGridGrey = 128;  // default background: tells black and white cells apart

struct GridSpec {
  int cell_w = 0, cell_h = 0;  // one cell's source size in pixels (e.g. 28 x 28)
  int rows = 0, cols = 0;
  int scale = 1;               // nearest-neighbour upscale factor, 1..kMaxGridScale
  int pad = 2;                 // canvas pixels between cells and around the grid
  int label_left = 0;          // extra canvas pixels left of the grid, for row labels
  int label_top = 0;           // extra canvas pixels above the grid, for column labels
  uint8_t background = kGridGrey;
};
constexpr int kMaxGridScale = 64;
constexpr int kMaxGridPad = 256;

struct GridLayout {
  GridSpec spec;
  int width = 0, height = 0;   // canvas size
  int cell_px_w = 0, cell_px_h = 0;  // a cell on the canvas (source size * scale)
  int cell_x(int col) const { return spec.label_left + spec.pad + col * (cell_px_w + spec.pad); }
  int cell_y(int row) const { return spec.label_top + spec.pad + row * (cell_px_h + spec.pad); }
};

// Checks the spec and computes the canvas size. Errors name the bad field, or the canvas
// dimension that would exceed kMaxImageSide.
Status make_grid_layout(const GridSpec& spec, GridLayout* out);

// Wraps buf as the layout's canvas with `channels` and fills it with the background.
Status grid_canvas(const GridLayout& layout, int channels, uint8_t* buf, size_t bytes, Image* out);

// Draws one cell from float values mapped lo..hi to 0..255 (see the header comment).
// `values` holds value_channels planes of cell_h x cell_w floats (CHW, as a model's NCHW
// output is laid out): 1 plane is drawn grey (into every channel of an RGB canvas); 3
// planes need an RGB canvas. cell_w/cell_h must match the layout (a check that the right
// tensor is drawn). On error nothing is drawn.
Status put_cell(const Image& canvas, const GridLayout& layout, int row, int col, const float* values,
                int cell_w, int cell_h, float lo, float hi, int value_channels = 1);
// The same from grey bytes (a dataset image, data/dataset.h), drawn as they are.
Status put_cell_bytes(const Image& canvas, const GridLayout& layout, int row, int col, const uint8_t* grey,
                      int cell_w, int cell_h);

// A 1-pixel frame in the padding just outside a cell (needs spec.pad >= 1, so no cell
// pixel is covered).
Status draw_cell_frame(const Image& canvas, const GridLayout& layout, int row, int col, Color c);

// ---- text ----

constexpr int kGlyphW = 5, kGlyphH = 7;
constexpr int kGlyphAdvance = kGlyphW + 1;  // one blank column between characters

// Pixels a string takes at `scale` (no trailing gap); 0 for an empty string.
int text_width(const char* s, int scale = 1);
// Whether the font has a glyph for c (else c is drawn as '?').
bool font_has(char c);
// The 7 row bytes of c's glyph (bit 4 = leftmost column).
const uint8_t* glyph_rows(char c);
// Stamps s with its top-left corner at (x, y), each font pixel a scale x scale block.
void draw_text(const Image& img, int x, int y, const char* s, Color c, int scale = 1);

// Labels in the grid's margins: a row label right-aligned in label_left and centred on
// the row; a column label centred on the column within label_top. Clipped to the canvas.
void draw_row_label(const Image& canvas, const GridLayout& layout, int row, const char* s, Color c, int scale = 1);
void draw_col_label(const Image& canvas, const GridLayout& layout, int col, const char* s, Color c, int scale = 1);

}  // namespace ember
