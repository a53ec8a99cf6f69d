// int8 weights for sampling: symmetric, one scale per output channel.
//
//   scale[c] = max |w[c, ...]| / 127        (0 for an all-zero channel)
//   q        = round(w / scale[c])  in -127..127  (ties away from zero)
//   w'       = scale[c] * q                  what the int8 layer computes with
//
// The output channel is axis 0 of a Linear's [O, I] and a Conv2d's [O, C, kh, kw], axis 1 of
// a ConvTranspose2d's [C, O, kh, kw]. Only these weights become int8; biases, BatchNorm and
// every activation stay float32. int8 weights are a quarter of the bytes, read in place from
// flash on a board (Params::set_int8_in_place), and the layers widen them to float a panel
// at a time (nn/ops.h, Weights), so a model with int8 weights samples exactly what the float
// model with weights w' samples. Training refuses them.
//
// A sampler becomes int8 in three steps: build it, mark_int8_weights (before allocate), then
// quantize_params from the float model that holds its weights. dequantize_params goes back
// (e.g. an int8 decoder into a float VAE, to measure what int8 costs).
#pragma once
#include "core/status.h"
#include "nn/graph.h"
#include "nn/params.h"

namespace ember::nn {

// Sets every weight of g's linear and convolution layers to Storage::int8, per output channel.
Status mark_int8_weights(const Graph& g, Params* params);

// For every parameter of `to`: the one of the same name in `from` (same shape, float32), as
// int8 where `to` holds int8, copied where it holds float32. `to` must be allocated.
Status quantize_params(const Params& from, Params* to);

// For every parameter of `from` that `to` has (all of them unless present_only): float32
// values in `to` (allocated, float32 there), widened from int8 or copied.
Status dequantize_params(const Params& from, Params* to, bool present_only);

// One channel: n weights to q[n] with the scale it returns.
float quantize_channel(const float* w, size_t n, int8_t* q);

}  // namespace ember::nn
