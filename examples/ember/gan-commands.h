// The GAN side of the `ember` tool: `ember train --model gan|dcgan|cgan` and the GAN forms of
// `sample`, `interpolate` and `eval` (main.cpp's commands hand a GAN checkpoint here).
// Shared pieces for those commands: reading a GAN architecture from the command line,
// drawing samples with seeded noise, and the pictures of a generator.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "examples/ember/cli.h"
#include "examples/ember/model-options.h"
#include "metrics/rings-figures.h"
#include "models/gan-model.h"
#include "models/gan-sampling.h"
#include "metrics/sample-metrics.h"

namespace ember::tool {

int train_gan(int argc, char** argv);        // ember train --model gan|dcgan|cgan
int sample_gan(int argc, char** argv);       // ember sample on a GAN checkpoint
// The memory plan of `ember sample` on the GAN at `path` (n: 0 for the default count, set to
// the count drawn), configuring `model`; its extra part in `extra`; plan may be null.
Status plan_gan_sample(const char* path, int threads, int cols, int label, int* n, models::GanModel* model,
                       MemoryPlan* extra, MemoryPlan* plan);
int interpolate_gan(int argc, char** argv);  // ember interpolate on a GAN checkpoint
int eval_gan(int argc, char** argv);         // ember eval on a GAN checkpoint

// --model gan|dcgan|cgan, --arch, --z, --widths, --channels, --mbstd, --gan-loss, --d-steps,
// --unroll into c (the data-dependent fields, data/rows/cols/classes, are the caller's).
// given (may be null): the architecture flags given, but for those a resume may change
// (--gan-loss, --g-steps, --topk, --ema).
void read_gan_architecture(Cli& cli, models::GanConfig* c, std::vector<ConfigFlag>* given = nullptr);

using models::generate_samples;  // models/gan-sampling.h
using metrics::rings_figures;     // metrics/rings-figures.h
// --truncation T (0: off) for sample and eval.
float read_truncation(Cli& cli);

// models::fill_labels into a vector of n.
Status fill_labels(const models::GanConfig& c, int label, int n, int per_row, std::vector<int32_t>* out);
// Row labels "0", "1", ... of a grid laid out by fill_labels (nullptr for a model with neither
// classes nor codes); valid while this object lives.
struct RowNames {
  std::vector<std::string> text;
  std::vector<const char*> ptr;
  const char* const* make(const models::GanConfig& c, int label, int rows);
};

// A scatter plot of the 8 mode centres and n generated points, with `title`.
Status write_rings_scatter(const std::string& path, const float* points, int n, const char* title);

}  // namespace ember::tool
