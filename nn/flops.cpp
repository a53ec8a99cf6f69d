#include "nn/flops.h"

namespace ember::nn {

Flops graph_flops(const Graph& g, const Params& params) {
  Flops f;
  for (int i = 0; i < g.count(); ++i) {
    const Flops one = node_flops(g, params, i);
    f.forward += one.forward, f.backward += one.backward;
  }
  return f;
}

Flops node_flops(const Graph& g, const Params& params, int i) {
  Flops f;
  const Node& n = g.node(T{i});
  uint64_t mac = 0;  // multiply-adds of the forward product
  if (n.op == Op::linear) {
    const Shape& x = g.node(T{n.in[0]}).shape;
    const uint64_t out = uint64_t(n.shape[n.shape.rank - 1]);
    const uint64_t in = uint64_t(x[x.rank - 1]);
    mac = uint64_t(x.numel()) / (in ? in : 1) * in * out;
  } else if (n.op == Op::conv2d || n.op == Op::conv_t2d) {
    const ConvShape& c = n.conv;
    const bool t = n.op == Op::conv_t2d;
    // Each output pixel of a conv sums C kh kw products; each input pixel of a transposed
    // conv spreads into O kh kw outputs.
    mac = t ? uint64_t(c.n) * c.c * c.h * c.w * uint64_t(c.o) * c.kh * c.kw
            : uint64_t(c.n) * c.o * c.out_h(false) * c.out_w(false) * uint64_t(c.c) * c.kh * c.kw;
  } else {
    return f;
  }
  f.forward = 2 * mac;
  const bool dx = n.in[0] >= 0 && g.node(T{n.in[0]}).needs_grad;
  const bool dw = n.param[0] >= 0 && params[n.param[0]].grad != nullptr && n.needs_grad;
  f.backward = (dx ? 2 * mac : 0) + (dw ? 2 * mac : 0);
  return f;
}

}  // namespace ember::nn
