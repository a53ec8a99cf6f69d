// What `ember export --format safetensors`, `ember import` and `ember sample --z/--save-z/
// --save-x` agree on with python/ember_torch.py: the metadata of a safetensors file, and the
// shapes of the .npy files of latents and samples.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"

namespace ember::tool {

// safetensors __metadata__ keys (besides "format": "pt", which PyTorch tools look for).
constexpr const char* kMetaConfig = "ember.config";  // the model's config text ("kind=vae arch=mlp ...")
constexpr const char* kMetaFamily = "ember.family";  // autoencoder | gan | classifier
constexpr const char* kMetaPart = "ember.part";      // model | sampler
constexpr const char* kPartModel = "model";
constexpr const char* kPartSampler = "sampler";

// Where `ember sample` takes its latents from and what else it writes.
struct SampleFiles {
  const char* z_in = "";    // latents to decode instead of z ~ N(0, I)
  const char* save_z = "";  // the latents, [n, latent]
  const char* save_x = "";  // the samples, [n, 1, rows, cols]
};
class Cli;
// --z, --save-z and --save-x, as `ember sample` reads them for every model.
SampleFiles read_sample_files(Cli& cli);

// Rows of the latents in the .npy at path: [n, latent] (or [latent]: one row), checked
// against the model's latent size.
Status latent_rows(const char* path, int latent, int max_rows, int* n);
// Writes n rows of latent floats as [n, latent].
Status save_latents(const char* path, const float* z, int n, int latent);
// Writes n samples as [n, 1, rows, cols] (images) or, when rows is 0, [n, cols] (points).
Status save_samples(const char* path, const float* x, int n, int rows, int cols);

// A --names MAP file: one "file_name ember_name" pair per line, '#' starts a comment.
struct NameMap {
  std::vector<std::pair<std::string, std::string>> pairs;
  Status read(const char* path);
  // nn::TensorRename over this map (user: the NameMap).
  static bool rename(void* user, const char* file_name, char* out, size_t cap);
};

}  // namespace ember::tool
