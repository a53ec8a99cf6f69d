// The pictures `ember` writes for autoencoders and VAEs: PNG grids of samples,
// reconstructions next to their inputs, interpolations and latent traversals, and the SVG
// 2-D latent map. Canvases come from the session arena (taken and given back per picture).
#pragma once
#include <string>

#include "core/arena.h"
#include "examples/ember/interop.h"
#include "models/ae-model.h"
#include "data/dataset.h"

namespace ember::tool {

constexpr int kPictureScale = 2;  // 28x28 cells drawn 56x56

// A PNG grid of n images [n, rows * cols] in [0, 1], `grid_cols` per row; with row_labels
// (one text per grid row, e.g. the class of a conditional GAN) a margin on the left.
Status write_image_grid(Arena* arena, const std::string& path, const float* images, int n, int rows, int cols,
                        int grid_cols, const char* const* row_labels = nullptr);
// n images z ~ N(0, I) decoded (seeded), in a grid of `cols` columns (an empty path: no grid).
Status write_samples(models::AeModel& m, Arena* arena, const std::string& path, int n, int cols, uint64_t seed,
                     const SampleFiles& files = SampleFiles());
// Pairs of rows: inputs (framed) above their reconstructions, the first n test images.
Status write_reconstructions(models::AeModel& m, Arena* arena, const data::Dataset& data, const std::string& path,
                             int n, int cols);
// `pairs` rows: decode((1 - t) z_a + t z_b) for `steps` values of t in [0, 1] (the end
// columns framed are the reconstructions of the two inputs), z = encoder means of images
// chosen by seed.
Status write_interpolations(models::AeModel& m, Arena* arena, const data::Dataset& data, const std::string& path,
                            int pairs, int steps, uint64_t seed);
// Without images (the decoder alone, e.g. a sampler file): `pairs` rows along great-circle
// paths (slerp) between z pairs drawn from the prior N(0, I) by seed, as a GAN's interpolate.
Status write_prior_interpolations(models::AeModel& m, Arena* arena, const std::string& path, int pairs, int steps,
                                  uint64_t seed);
// One row per latent dimension: decode(base + v e_d) for `steps` values v in [-range, range].
// With data, the `dims` rows are the dimensions the encoder uses most (largest variance of
// the code over data) and base is the code of image `base_index` (-1: base = 0); without
// data, the first `dims` dimensions around 0.
Status write_traversal(models::AeModel& m, Arena* arena, const data::Dataset* data, int base_index,
                       const std::string& path, int dims, int steps, float range);
// Arena bytes each picture above takes at most (taken and given back): what a command adds
// to its memory plan. `eval_batch`: the model's; `data_count`: the images the picture may
// read (an upper bound will do).
size_t image_grid_bytes(int rows, int cols, int n, int grid_cols, bool row_labels);
size_t samples_bytes(const models::AeConfig& c, int n, int cols);
size_t reconstructions_bytes(const models::AeConfig& c, int eval_batch, int n, int cols);
size_t interpolations_bytes(const models::AeConfig& c, int pairs, int steps);
size_t traversal_bytes(const models::AeConfig& c, int eval_batch, int data_count, int dims, int steps);
size_t latent_map_bytes(const models::AeConfig& c, int eval_batch, int n);

// 2-D latent map of the first n images, coloured by label: the two latent dimensions
// with the largest variance over those codes (dims given as -1), or the two given.
Status write_latent_map(models::AeModel& m, Arena* arena, const data::Dataset& data, const std::string& path, int n,
                        int dim_x, int dim_y, const char* title);

}  // namespace ember::tool
