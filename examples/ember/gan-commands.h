// The GAN side of the `ember` tool: `ember train --model gan|dcgan|cgan` and the GAN forms of
// `sample`, `interpolate` and `eval` (main.cpp's commands hand a GAN checkpoint here).
// Shared pieces for those commands: reading a GAN architecture from the command line,
// drawing samples with seeded noise, and the pictures of a generator.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "examples/ember/cli.h"
#include "models/gan-model.h"
#include "metrics/sample-metrics.h"

namespace ember::tool {

int train_gan(int argc, char** argv);        // ember train --model gan|dcgan|cgan
int sample_gan(int argc, char** argv);       // ember sample on a GAN checkpoint
int interpolate_gan(int argc, char** argv);  // ember interpolate on a GAN checkpoint
int eval_gan(int argc, char** argv);         // ember eval on a GAN checkpoint

// --model gan|dcgan|cgan, --arch, --z, --widths, --channels, --mbstd, --gan-loss, --d-steps,
// --unroll into c (the data-dependent fields, data/rows/cols/classes, are the caller's).
void read_gan_architecture(Cli& cli, models::GanConfig* c);

// n samples of G for z ~ N(0, I) drawn from Rng(seed) (and the classes in labels[n] for a
// conditional model, the codes for an info model, whose z then carry them; may be null, and
// is ignored for other models) into out[n, dims]; images come out in [0, 1].
// z is scratch [n, z_dim]. truncation > 0: z's noise entries truncated to [-truncation,
// truncation] (models::truncate_noise); 0: the training prior.
Status generate_samples(models::GanModel& m, uint64_t seed, const int32_t* labels, int n, float* z, float* out,
                        float truncation = 0.0f);
// --truncation T (0: off) for sample and eval.
float read_truncation(Cli& cli);

// The class (conditional models) or code (info models) of each of n samples, all 0 for other
// models: `label`, or with label -1 one per grid row of `per_row` samples, cycling. Refuses a
// label the model does not have, and any label for a model with neither.
Status fill_labels(const models::GanConfig& c, int label, int n, int per_row, std::vector<int32_t>* out);
// Row labels "0", "1", ... of a grid laid out by fill_labels (nullptr for a model with neither
// classes nor codes); valid while this object lives.
struct RowNames {
  std::vector<std::string> text;
  std::vector<const char*> ptr;
  const char* const* make(const models::GanConfig& c, int label, int rows);
};

// Rings figures of n generated points (data/rings.h): modes covered, high-quality share.
// counts[kRingsModes] (may be null) gets the high-quality points per mode.
Status rings_figures(const float* points, int n, models::ModeCoverage* out, int* counts = nullptr);
// A scatter plot of the 8 mode centres and n generated points, with `title`.
Status write_rings_scatter(const std::string& path, const float* points, int n, const char* title);

}  // namespace ember::tool
