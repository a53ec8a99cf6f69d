// Drawing samples from a GAN the same way everywhere (the tool's sample, eval, interpolate, the
// trainer's per-epoch figures and pictures): seeded noise, the class or code of each row, and
// images brought to [0, 1].
#pragma once
#include <cstdint>

#include "core/status.h"
#include "models/gan-model.h"

namespace ember::models {

// n samples of G for z ~ N(0, I) drawn from Rng(seed) (and the classes in labels[n] for a
// conditional model, the codes for an info model, whose z then carry them; may be null, and
// is ignored for other models) into out[n, dims]; images come out in [0, 1].
// z is scratch [n, z_dim]. truncation > 0: z's noise entries truncated to [-truncation,
// truncation] (truncate_noise); 0: the training prior.
Status generate_samples(GanModel& m, uint64_t seed, const int32_t* labels, int n, float* z, float* out,
                        float truncation = 0.0f);

// The class (conditional models) or code (info models) of each of n samples into out[n], all 0
// for other models: `label`, or with label -1 one per grid row of `per_row` samples, cycling.
// Refuses a label the model does not have, and any label for a model with neither.
Status fill_labels(const GanConfig& c, int label, int n, int per_row, int32_t* out);

}  // namespace ember::models
