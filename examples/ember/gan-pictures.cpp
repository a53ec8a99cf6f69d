// The memorisation picture of `ember eval` for generators: the generated images closest to
// a training image (framed, top row) above that training image, each column labelled with
// their L2 distance. A generator that copies its training set shows look-alike columns
// with distances near 0.
#include <cstdio>

#include "io/image.h"
#include "io/png.h"
#include "examples/ember/gan-report.h"
#include "examples/ember/pictures.h"

namespace ember::tool {

namespace {
constexpr int kPairPad = 2;
constexpr int kRowLabelScale = 2;
constexpr int kRowLabelWidth = 64;   // canvas pixels for "GEN" / "TRAIN" at kRowLabelScale
constexpr int kDistanceLabelHeight = 12;  // room for one line of the 5x7 font above the cells
constexpr int kPairChannels = 3;
}  // namespace

Status write_nearest_pairs(Arena* arena, const float* images, const data::Dataset& train,
                           const metrics::GanEvalResult& r, const std::string& path) {
  if (r.pairs < 1) return Status::error(Code::invalid_argument, "pairs picture: no pairs to draw");
  GridSpec spec;
  spec.cell_w = train.cols, spec.cell_h = train.rows, spec.rows = 2, spec.cols = r.pairs;
  spec.scale = kPictureScale, spec.pad = kPairPad;
  spec.label_left = kRowLabelWidth, spec.label_top = kDistanceLabelHeight;
  GridLayout layout;
  EMBER_TRY(make_grid_layout(spec, &layout));
  const size_t bytes = image_bytes(layout.width, layout.height, kPairChannels);
  const size_t mark = arena->mark();
  uint8_t* buf = nullptr;
  Image canvas;
  Status s = arena->alloc_array(bytes, &buf);
  if (s.is_ok()) s = grid_canvas(layout, kPairChannels, buf, bytes, &canvas);
  if (s.is_ok()) {
    draw_row_label(canvas, layout, 0, "GEN", kHighlight, kRowLabelScale);
    draw_row_label(canvas, layout, 1, "TRAIN", kBlack, kRowLabelScale);
  }
  for (int i = 0; i < r.pairs && s.is_ok(); ++i) {
    const float* gen = images + static_cast<size_t>(r.pair_gen[i]) * train.image_size();
    s = put_cell(canvas, layout, 0, i, gen, train.cols, train.rows, 0.0f, 1.0f);
    if (s.is_ok()) s = draw_cell_frame(canvas, layout, 0, i, kHighlight);
    if (s.is_ok()) s = put_cell_bytes(canvas, layout, 1, i, train.image(r.pair_train[i]), train.cols, train.rows);
    char label[16];
    std::snprintf(label, sizeof label, "%.2f", r.pair_dist[i]);
    if (s.is_ok()) draw_col_label(canvas, layout, i, label, kBlack);
  }
  if (s.is_ok()) s = png_write(path.c_str(), canvas.px, canvas.w, canvas.h, canvas.channels);
  arena->rewind(mark);
  return s;
}

}  // namespace ember::tool
