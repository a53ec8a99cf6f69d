#include "examples/ember/pictures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "examples/ember/interop.h"
#include "models/gan-network.h"
#include "io/image.h"
#include "io/npy.h"
#include "io/png.h"
#include "io/svg.h"
#include "data/sprites.h"

namespace ember::tool {

namespace {

constexpr int kPad = 2;
constexpr int kLabelScale = 2;
constexpr int kLabelMargin = 40;  // canvas pixels for row labels

// A grid canvas in the arena; the memory goes back when the picture is written.
class Canvas {
 public:
  explicit Canvas(Arena* arena) : arena_(arena), mark_(arena->mark()) {}
  ~Canvas() { arena_->rewind(mark_); }
  Status open(int cell_w, int cell_h, int rows, int cols, int label_left = 0, int label_top = 0) {
    GridSpec spec;
    spec.cell_w = cell_w, spec.cell_h = cell_h, spec.rows = rows, spec.cols = cols;
    spec.scale = kPictureScale, spec.pad = kPad, spec.label_left = label_left, spec.label_top = label_top;
    EMBER_TRY(make_grid_layout(spec, &layout));
    const size_t bytes = image_bytes(layout.width, layout.height, 3);
    uint8_t* buf = nullptr;
    EMBER_TRY(arena_->alloc_array(bytes, &buf));
    return grid_canvas(layout, 3, buf, bytes, &img);
  }
  // Scratch floats from the same arena, released with the canvas.
  Status floats(size_t n, float** out) { return arena_->alloc_array(n, out); }
  Status cell(int row, int col, const float* values) {
    return put_cell(img, layout, row, col, values, layout.spec.cell_w, layout.spec.cell_h, 0.0f, 1.0f);
  }
  Status write(const std::string& path) { return png_write(path.c_str(), img.px, img.w, img.h, img.channels); }

  GridLayout layout;
  Image img;

 private:
  Arena* arena_;
  size_t mark_;
};

size_t floats(size_t n) { return Arena::rounded(sizeof(float) * n); }

// What Canvas::open takes for that grid (0 when the layout is refused: open fails then too).
size_t canvas_bytes(int cell_w, int cell_h, int rows, int cols, int label_left = 0, int label_top = 0) {
  GridSpec spec;
  spec.cell_w = cell_w, spec.cell_h = cell_h, spec.rows = rows, spec.cols = cols;
  spec.scale = kPictureScale, spec.pad = kPad, spec.label_left = label_left, spec.label_top = label_top;
  GridLayout layout;
  if (!make_grid_layout(spec, &layout).is_ok()) return 0;
  return Arena::rounded(image_bytes(layout.width, layout.height, 3));
}

constexpr int kRankImages = 1000;  // rank_dimensions' images at most

void grey_floats(const data::Dataset& d, int i, float* out) {
  const uint8_t* px = d.image(i);
  for (size_t k = 0; k < d.image_size(); ++k) out[k] = px[k] / 255.0f;
}

}  // namespace

size_t image_grid_bytes(int rows, int cols, int n, int grid_cols, bool row_labels) {
  if (n < 1 || grid_cols < 1) return 0;
  return canvas_bytes(cols, rows, (n + grid_cols - 1) / grid_cols, grid_cols, row_labels ? kLabelMargin : 0);
}

size_t samples_bytes(const models::AeConfig& c, int n, int cols) {
  return floats(size_t(n) * c.latent) + floats(size_t(n) * c.pixels()) + image_grid_bytes(c.rows, c.cols, n, cols, false);
}

size_t reconstructions_bytes(const models::AeConfig& c, int eval_batch, int n, int cols) {
  const int blocks = (n + cols - 1) / cols;
  return canvas_bytes(c.cols, c.rows, 2 * blocks, cols, kLabelMargin) + 2 * floats(size_t(n) * c.pixels()) +
         floats(size_t(eval_batch) * c.latent);
}

size_t interpolations_bytes(const models::AeConfig& c, int pairs, int steps) {
  const size_t l = size_t(c.latent), d = size_t(c.pixels());
  return canvas_bytes(c.cols, c.rows, pairs, steps + 2) + floats(2 * d) + floats(2 * l) + floats(steps * l) +
         floats(steps * d);
}

size_t traversal_bytes(const models::AeConfig& c, int eval_batch, int data_count, int dims, int steps) {
  const size_t l = size_t(c.latent), d = size_t(c.pixels());
  if (dims > c.latent) dims = c.latent;
  const size_t rank = data_count > 0 ? floats(size_t(eval_batch) * d) +
                                           floats(size_t(data_count < kRankImages ? data_count : kRankImages) * l)
                                     : 0;
  return canvas_bytes(c.cols, c.rows, dims, steps, kLabelMargin, kLabelMargin / 2) + floats(l) + floats(steps * l) +
         floats(steps * d) + rank;
}

size_t latent_map_bytes(const models::AeConfig& c, int eval_batch, int n) {
  return floats(size_t(n) * c.latent) + floats(size_t(eval_batch) * c.pixels());
}

Status write_image_grid(Arena* arena, const std::string& path, const float* images, int n, int rows, int cols,
                        int grid_cols, const char* const* row_labels) {
  if (n < 1 || grid_cols < 1) return Status::error(Code::invalid_argument, "picture: %d images in %d columns", n, grid_cols);
  const int grid_rows = (n + grid_cols - 1) / grid_cols;
  Canvas canvas(arena);
  EMBER_TRY(canvas.open(cols, rows, grid_rows, grid_cols, row_labels ? kLabelMargin : 0));
  for (int r = 0; row_labels && r < grid_rows; ++r)
    draw_row_label(canvas.img, canvas.layout, r, row_labels[r], kBlack, kLabelScale);
  for (int i = 0; i < n; ++i) EMBER_TRY(canvas.cell(i / grid_cols, i % grid_cols, images + size_t(i) * rows * cols));
  return canvas.write(path);
}

Status write_samples(models::AeModel& m, Arena* arena, const std::string& path, int n, int cols, uint64_t seed,
                     const SampleFiles& files) {
  const models::AeConfig& c = m.config();
  const size_t mark = arena->mark();
  float *z = nullptr, *img = nullptr;
  Status s = arena->alloc_array(size_t(n) * c.latent, &z);
  if (s.is_ok()) s = arena->alloc_array(size_t(n) * c.pixels(), &img);
  if (s.is_ok() && *files.z_in) {
    s = npy_load(files.z_in, z, size_t(n) * c.latent);
  } else if (s.is_ok()) {
    Rng rng(seed);
    rng.fill_normal(z, size_t(n) * c.latent, 0.0f, 1.0f);
  }
  if (s.is_ok()) s = m.decode(z, n, img);
  if (s.is_ok() && *files.save_z) s = save_latents(files.save_z, z, n, c.latent);
  if (s.is_ok() && *files.save_x) s = save_samples(files.save_x, img, n, c.rows, c.cols);
  if (s.is_ok() && !path.empty()) s = write_image_grid(arena, path, img, n, c.rows, c.cols, cols);
  arena->rewind(mark);
  return s;
}

Status write_reconstructions(models::AeModel& m, Arena* arena, const data::Dataset& data, const std::string& path,
                             int n, int cols) {
  const models::AeConfig& c = m.config();
  if (n > data.count) n = data.count;
  const int blocks = (n + cols - 1) / cols;
  Canvas canvas(arena);
  EMBER_TRY(canvas.open(c.cols, c.rows, 2 * blocks, cols, kLabelMargin));
  float *x = nullptr, *rec = nullptr, *lat = nullptr;
  EMBER_TRY(canvas.floats(size_t(n) * c.pixels(), &x));
  EMBER_TRY(canvas.floats(size_t(n) * c.pixels(), &rec));
  EMBER_TRY(canvas.floats(size_t(m.setup().eval_batch) * c.latent, &lat));
  for (int i = 0; i < n; ++i) grey_floats(data, i, x + size_t(i) * c.pixels());
  EMBER_TRY(m.reconstruct(x, n, rec, lat));
  for (int b = 0; b < blocks; ++b) {
    draw_row_label(canvas.img, canvas.layout, 2 * b, "IN", kHighlight, kLabelScale);
    draw_row_label(canvas.img, canvas.layout, 2 * b + 1, "OUT", kBlack, kLabelScale);
  }
  for (int i = 0; i < n; ++i) {
    const int row = 2 * (i / cols), col = i % cols;
    EMBER_TRY(canvas.cell(row, col, x + size_t(i) * c.pixels()));
    EMBER_TRY(draw_cell_frame(canvas.img, canvas.layout, row, col, kHighlight));
    EMBER_TRY(canvas.cell(row + 1, col, rec + size_t(i) * c.pixels()));
  }
  return canvas.write(path);
}

Status write_interpolations(models::AeModel& m, Arena* arena, const data::Dataset& data, const std::string& path,
                            int pairs, int steps, uint64_t seed) {
  const models::AeConfig& c = m.config();
  const int l = c.latent, d = c.pixels();
  Canvas canvas(arena);
  EMBER_TRY(canvas.open(c.cols, c.rows, pairs, steps + 2));  // input | steps | input
  float *x = nullptr, *ends = nullptr, *z = nullptr, *img = nullptr;
  EMBER_TRY(canvas.floats(size_t(2) * d, &x));
  EMBER_TRY(canvas.floats(size_t(2) * l, &ends));
  EMBER_TRY(canvas.floats(size_t(steps) * l, &z));
  EMBER_TRY(canvas.floats(size_t(steps) * d, &img));
  Rng rng(seed);
  for (int p = 0; p < pairs; ++p) {
    const int a = static_cast<int>(rng.below(uint32_t(data.count))), b = static_cast<int>(rng.below(uint32_t(data.count)));
    grey_floats(data, a, x);
    grey_floats(data, b, x + d);
    EMBER_TRY(m.encode(x, 2, ends, nullptr));
    for (int s = 0; s < steps; ++s) {
      const float t = steps > 1 ? float(s) / float(steps - 1) : 0.0f;
      for (int k = 0; k < l; ++k) z[size_t(s) * l + k] = (1.0f - t) * ends[k] + t * ends[l + k];
    }
    EMBER_TRY(m.decode(z, steps, img));
    EMBER_TRY(canvas.cell(p, 0, x));
    EMBER_TRY(draw_cell_frame(canvas.img, canvas.layout, p, 0, kHighlight));
    for (int s = 0; s < steps; ++s) EMBER_TRY(canvas.cell(p, s + 1, img + size_t(s) * d));
    EMBER_TRY(canvas.cell(p, steps + 1, x + d));
    EMBER_TRY(draw_cell_frame(canvas.img, canvas.layout, p, steps + 1, kHighlight));
  }
  return canvas.write(path);
}

Status write_prior_interpolations(models::AeModel& m, Arena* arena, const std::string& path, int pairs, int steps,
                                  uint64_t seed) {
  const models::AeConfig& c = m.config();
  const int l = c.latent, d = c.pixels();
  Canvas canvas(arena);
  EMBER_TRY(canvas.open(c.cols, c.rows, pairs, steps));
  float *ends = nullptr, *z = nullptr, *img = nullptr;
  EMBER_TRY(canvas.floats(size_t(2) * l, &ends));
  EMBER_TRY(canvas.floats(size_t(steps) * l, &z));
  EMBER_TRY(canvas.floats(size_t(steps) * d, &img));
  Rng rng(seed);
  for (int p = 0; p < pairs; ++p) {
    rng.fill_normal(ends, size_t(2) * l, 0.0f, 1.0f);
    for (int s = 0; s < steps; ++s)
      models::slerp(ends, ends + l, l, steps > 1 ? float(s) / float(steps - 1) : 0.0f, z + size_t(s) * l);
    EMBER_TRY(m.decode(z, steps, img));
    for (int s = 0; s < steps; ++s) EMBER_TRY(canvas.cell(p, s, img + size_t(s) * d));
  }
  return canvas.write(path);
}

// The latent dimensions ordered by how much the encoder uses them: the variance of the
// code (encoder mean) over the first images of data. A VAE leaves many dimensions at the
// prior (variance ~0): traversing those shows nothing, so they go last.
Status rank_dimensions(models::AeModel& m, Canvas& canvas, const data::Dataset& data, int* order) {
  const int l = m.config().latent, d = m.config().pixels(), e = m.setup().eval_batch;
  const int n = data.count < kRankImages ? data.count : kRankImages;
  float *x = nullptr, *mu = nullptr;
  EMBER_TRY(canvas.floats(size_t(e) * d, &x));
  EMBER_TRY(canvas.floats(size_t(n) * l, &mu));
  for (int at = 0; at < n; at += e) {
    const int rows = n - at < e ? n - at : e;
    for (int r = 0; r < rows; ++r) grey_floats(data, at + r, x + size_t(r) * d);
    EMBER_TRY(m.encode(x, rows, mu + size_t(at) * l, nullptr));
  }
  std::vector<double> var(l, 0.0), mean(l, 0.0);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < l; ++k) mean[k] += mu[size_t(i) * l + k] / n;
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < l; ++k) var[k] += (mu[size_t(i) * l + k] - mean[k]) * (mu[size_t(i) * l + k] - mean[k]);
  for (int k = 0; k < l; ++k) order[k] = k;
  std::stable_sort(order, order + l, [&var](int a, int b) { return var[a] > var[b]; });
  return Status::ok();
}

Status write_traversal(models::AeModel& m, Arena* arena, const data::Dataset* data, int base_index,
                       const std::string& path, int dims, int steps, float range) {
  const models::AeConfig& c = m.config();
  const int l = c.latent, d = c.pixels();
  if (dims > l) dims = l;
  Canvas canvas(arena);
  EMBER_TRY(canvas.open(c.cols, c.rows, dims, steps, kLabelMargin, kLabelMargin / 2));
  float *base = nullptr, *z = nullptr, *img = nullptr;
  EMBER_TRY(canvas.floats(size_t(l), &base));
  EMBER_TRY(canvas.floats(size_t(steps) * l, &z));
  EMBER_TRY(canvas.floats(size_t(steps) * d, &img));
  std::vector<int> order(l);
  for (int k = 0; k < l; ++k) order[k] = k, base[k] = 0.0f;
  if (data && data->count > 0) EMBER_TRY(rank_dimensions(m, canvas, *data, order.data()));
  if (data && base_index >= 0 && base_index < data->count) {
    grey_floats(*data, base_index, img);
    EMBER_TRY(m.encode(img, 1, base, nullptr));
  }
  for (int s = 0; s < steps; ++s) {
    char label[16];
    std::snprintf(label, sizeof label, "%+.1f", steps > 1 ? -range + 2 * range * s / (steps - 1) : 0.0f);
    if (s == 0 || s == steps - 1 || 2 * s == steps - 1) draw_col_label(canvas.img, canvas.layout, s, label, kBlack);
  }
  for (int row = 0; row < dims; ++row) {
    const int dim = order[row];
    for (int s = 0; s < steps; ++s) {
      float* zs = z + size_t(s) * l;
      for (int k = 0; k < l; ++k) zs[k] = base[k];
      zs[dim] += steps > 1 ? -range + 2 * range * float(s) / float(steps - 1) : 0.0f;
    }
    EMBER_TRY(m.decode(z, steps, img));
    char label[16];
    std::snprintf(label, sizeof label, "Z%d", dim + 1);
    draw_row_label(canvas.img, canvas.layout, row, label, kBlack, kLabelScale);
    for (int s = 0; s < steps; ++s) EMBER_TRY(canvas.cell(row, s, img + size_t(s) * d));
  }
  return canvas.write(path);
}

Status write_latent_map(models::AeModel& m, Arena* arena, const data::Dataset& data, const std::string& path, int n,
                        int dim_x, int dim_y, const char* title) {
  const models::AeConfig& c = m.config();
  const int l = c.latent, d = c.pixels(), e = m.setup().eval_batch;
  if (n <= 0 || n > data.count) n = data.count;
  const size_t mark = arena->mark();
  float *mu = nullptr, *x = nullptr;
  Status s = arena->alloc_array(size_t(n) * l, &mu);
  if (s.is_ok()) s = arena->alloc_array(size_t(e) * d, &x);
  for (int at = 0; s.is_ok() && at < n; at += e) {
    const int rows = n - at < e ? n - at : e;
    for (int r = 0; r < rows; ++r) grey_floats(data, at + r, x + size_t(r) * d);
    s = m.encode(x, rows, mu + size_t(at) * l, nullptr);
  }
  if (s.is_ok() && (dim_x < 0 || dim_y < 0)) {
    // The two most spread-out dimensions.
    std::vector<double> var(l, 0.0), mean(l, 0.0);
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < l; ++k) mean[k] += mu[size_t(i) * l + k] / n;
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < l; ++k) var[k] += std::pow(mu[size_t(i) * l + k] - mean[k], 2);
    dim_x = 0, dim_y = l > 1 ? 1 : 0;
    if (var[dim_y] > var[dim_x]) std::swap(dim_x, dim_y);
    for (int k = 2; k < l; ++k) {
      if (var[k] > var[dim_x]) dim_y = dim_x, dim_x = k;
      else if (var[k] > var[dim_y]) dim_y = k;
    }
  }
  if (s.is_ok() && (dim_x >= l || dim_y >= l))
    s = Status::error(Code::invalid_argument, "latent-map: dimensions %d, %d but the code has %d", dim_x, dim_y, l);
  if (s.is_ok()) {
    std::vector<float> px(n), py(n);
    for (int i = 0; i < n; ++i) px[i] = mu[size_t(i) * l + dim_x], py[i] = mu[size_t(i) * l + dim_y];
    char xl[32], yl[32];
    std::snprintf(xl, sizeof xl, "z%d", dim_x + 1);
    std::snprintf(yl, sizeof yl, "z%d", dim_y + 1);
    const char* sprite_names[data::kSpriteShapes];
    for (int k = 0; k < data::kSpriteShapes; ++k) sprite_names[k] = data::sprite_shape_name(k);
    ScatterPlot p;
    p.title = title, p.x_label = xl, p.y_label = yl;
    p.x = px.data(), p.y = py.data(), p.count = n;
    p.classes = data.labels, p.class_count = data.labels ? data.classes : 0;
    p.class_names = data.classes == data::kSpriteShapes ? sprite_names : nullptr;
    p.equal_aspect = true;
    p.point_radius = n > 3000 ? 1.5f : 2.5f;
    s = write_scatter(path.c_str(), p);
  }
  arena->rewind(mark);
  return s;
}

}  // namespace ember::tool
