// Floating-point operations of a graph's step, counted from its nodes: what the speed figures
// of ember-bench divide by (GFLOP/s, and a share of the machine's FMA peak).
//
// Counted: the matrix products, where nearly all the work is, a multiply-add as 2 FLOPs.
//   linear     x[B, in] W^T          forward 2 B in out; backward dX 2 B in out, dW 2 B in out
//   conv2d     N O Ho Wo x (C kh kw)  forward 2 N O Ho Wo C kh kw; backward dX and dW the same
//   conv_t2d   N C H W x (O kh kw)    forward 2 N C H W O kh kw; backward dX and dW the same
// A backward term counts only when the compiled graph computes it: dX when the op's input
// needs a gradient, dW when the weight is trained. Element-wise ops, BatchNorm, losses and the
// optimizer are left out (a few FLOPs per element, bound by memory, not by the FMA units);
// PyTorch's profiler and most papers count the same way.
#pragma once
#include <cstdint>

#include "nn/graph.h"

namespace ember::nn {

struct Flops {
  uint64_t forward = 0, backward = 0;
  uint64_t total() const { return forward + backward; }
};

// The FLOPs of one forward (and, when compiled for training, one backward) of g. Before
// compile() only the forward is known (backward stays 0).
Flops graph_flops(const Graph& g, const Params& params);
// The same for node i alone (0 for the ops not counted).
Flops node_flops(const Graph& g, const Params& params, int i);

}  // namespace ember::nn
