// Graph building: each op checks its inputs' shapes, creates its parameters in Params and
// appends one node. The first error is kept and reported by status() / compile().
#include <cstring>
#include <initializer_list>

#include "nn/graph.h"

namespace ember::nn {

const char* op_name(Op op) {
  switch (op) {
    case Op::input: return "input";
    case Op::labels: return "labels";
    case Op::linear: return "linear";
    case Op::conv2d: return "conv2d";
    case Op::conv_t2d: return "conv_t2d";
    case Op::batchnorm: return "batchnorm";
    case Op::act: return "activation";
    case Op::reshape: return "reshape";
    case Op::concat: return "concat";
    case Op::add: return "add";
    case Op::mul: return "mul";
    case Op::scale: return "scale";
    case Op::reparam: return "reparam";
    case Op::minibatch_stddev: return "minibatch_stddev";
    case Op::bce_logits: return "bce_logits";
    case Op::mse: return "mse";
    case Op::gauss_nll: return "gauss_nll";
    case Op::kl_std_normal: return "kl_std_normal";
    case Op::softmax_ce: return "softmax_ce";
  }
  return "?";
}

T Graph::fail(Status s) {
  if (error_.is_ok()) error_ = s;
  return T();
}

bool Graph::check(T x, const char* what) {
  if (!error_.is_ok()) return false;
  if (compiled_) {
    fail(Status::error(Code::invalid_argument, "%s: the graph is already compiled", what));
    return false;
  }
  if (x.id < 0 || x.id >= nodes_.size()) {
    fail(Status::error(Code::invalid_argument, "%s: input is not a node of this graph", what));
    return false;
  }
  return true;
}

void Graph::reset() {
  nodes_.clear();
  loss_ = -1;
  error_ = Status::ok();
  compiled_ = false;
  ctx_ = nullptr;
  rng_ = nullptr;
  bufs_ = nullptr, order_ = nullptr, zero_at_ = nullptr;
  nbufs_ = first_scratch_ = 0;
  act_region_ = scratch_region_ = 0;
  bytes_ = GraphBytes();
  act_base_ = scratch_base_ = nullptr;
}

T Graph::add_node(const Node& n, const char* what) {
  if (!error_.is_ok()) return T();
  if (!params_->arena())
    return fail(Status::error(Code::invalid_argument, "%s: the graph's Params has no arena for the node table", what));
  Status s = n.shape.validate();
  if (!s.is_ok()) return fail(Status::error(s.code(), "%s: %s", what, s.message()));
  s = nodes_.push(params_->arena(), n);
  if (!s.is_ok()) return fail(Status::error(s.code(), "%s: node %d of the graph: %s", what, nodes_.size(), s.message()));
  T t;
  t.id = nodes_.size() - 1;
  return t;
}

Status Graph::param(const char* layer, const char* suffix, const Shape& shape, const InitSpec& init,
                    bool trainable, int32_t* id) {
  // "layer.suffix", cut to fit: get_or_add rejects names that do not fit Param::name.
  char name[Param::kMaxName + 16];
  size_t len = 0;
  for (const char* part : {layer ? layer : "", ".", suffix})
    for (; *part && len + 1 < sizeof name; ++part) name[len++] = *part;
  name[len] = '\0';
  int pid = -1;
  const Status s = params_->get_or_add(name, shape, init, trainable, &pid);
  *id = pid;
  return s;
}

T Graph::input(const char* name, const Shape& shape) {
  Node n;
  n.op = Op::input;
  n.shape = shape;
  n.name = name;
  n.output = true;  // the caller writes it before forward and may read it any time
  return add_node(n, "input");
}

T Graph::labels(const char* name, int batch) {
  Node n;
  n.op = Op::labels;
  n.shape = Shape(batch);
  n.name = name;
  n.output = true;
  return add_node(n, "labels");
}

T Graph::linear(T x, int out, const char* name, bool bias) {
  if (!check(x, "linear")) return T();
  const Shape xs = nodes_[x.id].shape;
  if (xs.rank != 2 || out <= 0) {
    char s[64];
    return fail(Status::error(Code::shape_mismatch, "linear '%s': needs a [batch, features] input and out > 0, got %s, out=%d",
                              name, xs.str(s, sizeof s), out));
  }
  Node n;
  n.op = Op::linear;
  n.shape = Shape(xs[0], out);
  n.in[0] = x.id;
  const int in = static_cast<int>(xs[1]);
  InitSpec w{Init::kaiming_uniform, 0.0f, in, out};
  Status s = param(name, "weight", Shape(out, in), w, true, &n.param[0]);
  if (s.is_ok() && bias) s = param(name, "bias", Shape(out), w, true, &n.param[1]);
  if (!s.is_ok()) return fail(s);
  return add_node(n, "linear");
}

namespace {
// Shared by conv2d and conv_t2d: the NCHW input check and the ConvShape.
Status conv_shape(const Shape& xs, int out_ch, int k, int stride, int pad, bool transposed, const char* name,
                  ConvShape* cs) {
  char s[64];
  if (xs.rank != 4 || out_ch <= 0 || k <= 0 || stride <= 0 || pad < 0)
    return Status::error(Code::shape_mismatch, "%s '%s': needs an NCHW input and positive sizes, got %s",
                         transposed ? "conv_t2d" : "conv2d", name, xs.str(s, sizeof s));
  cs->n = static_cast<int>(xs[0]);
  cs->c = static_cast<int>(xs[1]);
  cs->h = static_cast<int>(xs[2]);
  cs->w = static_cast<int>(xs[3]);
  cs->o = out_ch;
  cs->kh = cs->kw = k;
  cs->stride = stride;
  cs->pad = pad;
  if (cs->out_h(transposed) <= 0 || cs->out_w(transposed) <= 0)
    return Status::error(Code::shape_mismatch, "%s '%s': kernel %d, stride %d, pad %d leave no output for %s",
                         transposed ? "conv_t2d" : "conv2d", name, k, stride, pad, xs.str(s, sizeof s));
  return Status::ok();
}
}  // namespace

// conv2d and conv_t2d differ in the output size and the weight layout: [O, C, k, k] for a
// convolution, [C, O, k, k] for a transposed one (PyTorch's layouts and fan-in rules).
T Graph::conv_node(T x, int out_ch, int k, int stride, int pad, const char* name, bool bias, bool transposed) {
  const char* what = transposed ? "conv_t2d" : "conv2d";
  if (!check(x, what)) return T();
  Node n;
  n.op = transposed ? Op::conv_t2d : Op::conv2d;
  Status s = conv_shape(nodes_[x.id].shape, out_ch, k, stride, pad, transposed, name, &n.conv);
  if (!s.is_ok()) return fail(s);
  const ConvShape& c = n.conv;
  n.shape = Shape(c.n, c.o, c.out_h(transposed), c.out_w(transposed));
  n.in[0] = x.id;
  const int in_fan = c.c * k * k, out_fan = c.o * k * k;
  const InitSpec w = transposed ? InitSpec{Init::kaiming_uniform, 0.0f, out_fan, in_fan}
                                : InitSpec{Init::kaiming_uniform, 0.0f, in_fan, out_fan};
  s = param(name, "weight", transposed ? Shape(c.c, c.o, k, k) : Shape(c.o, c.c, k, k), w, true, &n.param[0]);
  if (s.is_ok() && bias) s = param(name, "bias", Shape(c.o), w, true, &n.param[1]);
  if (!s.is_ok()) return fail(s);
  return add_node(n, what);
}

T Graph::conv2d(T x, int out_ch, int k, int stride, int pad, const char* name, bool bias) {
  return conv_node(x, out_ch, k, stride, pad, name, bias, false);
}

T Graph::conv_t2d(T x, int out_ch, int k, int stride, int pad, const char* name, bool bias) {
  return conv_node(x, out_ch, k, stride, pad, name, bias, true);
}

T Graph::batchnorm(T x, const char* name, float eps, float momentum) {
  if (!check(x, "batchnorm")) return T();
  const Shape xs = nodes_[x.id].shape;
  if (xs.rank != 2 && xs.rank != 4) {
    char s[64];
    return fail(Status::error(Code::shape_mismatch, "batchnorm '%s': needs [N, C] or [N, C, H, W], got %s", name,
                              xs.str(s, sizeof s)));
  }
  Node n;
  n.op = Op::batchnorm;
  n.shape = xs;
  n.in[0] = x.id;
  n.bn.n = static_cast<int>(xs[0]);
  n.bn.c = static_cast<int>(xs[1]);
  n.bn.s = xs.rank == 4 ? static_cast<int>(xs[2] * xs[3]) : 1;
  n.bn.eps = eps;
  n.bn.momentum = momentum;
  const Shape cs(xs[1]);
  Status s = param(name, "weight", cs, InitSpec{Init::ones, 0, 1, 1}, true, &n.param[0]);
  if (s.is_ok()) s = param(name, "bias", cs, InitSpec{Init::zeros, 0, 1, 1}, true, &n.param[1]);
  if (s.is_ok()) s = param(name, "running_mean", cs, InitSpec{Init::zeros, 0, 1, 1}, false, &n.param[2]);
  if (s.is_ok()) s = param(name, "running_var", cs, InitSpec{Init::ones, 0, 1, 1}, false, &n.param[3]);
  if (!s.is_ok()) return fail(s);
  return add_node(n, "batchnorm");
}

T Graph::activation(T x, Act act, float slope) {
  if (!check(x, "activation")) return T();
  Node n;
  n.op = Op::act;
  n.shape = nodes_[x.id].shape;
  n.in[0] = x.id;
  n.act = act;
  n.slope = slope;
  return add_node(n, "activation");
}

T Graph::reshape(T x, const Shape& shape) {
  if (!check(x, "reshape")) return T();
  if (shape.numel() != nodes_[x.id].shape.numel()) {
    char a[64], b[64];
    return fail(Status::error(Code::shape_mismatch, "reshape %s -> %s: element counts differ",
                              nodes_[x.id].shape.str(a, sizeof a), shape.str(b, sizeof b)));
  }
  Node n;
  n.op = Op::reshape;
  n.shape = shape;
  n.in[0] = x.id;
  return add_node(n, "reshape");
}

T Graph::flatten(T x) {
  if (!check(x, "flatten")) return T();
  const Shape xs = nodes_[x.id].shape;
  return reshape(x, Shape(xs[0], xs.numel() / (xs[0] ? xs[0] : 1)));
}

T Graph::concat(T a, T b) {
  if (!check(a, "concat") || !check(b, "concat")) return T();
  const Shape as = nodes_[a.id].shape, bs = nodes_[b.id].shape;
  bool same = as.rank == bs.rank && as.rank >= 2 && as[0] == bs[0];
  for (int d = 2; same && d < as.rank; ++d) same = as[d] == bs[d];
  if (!same) {
    char x[64], y[64];
    return fail(Status::error(Code::shape_mismatch, "concat: %s and %s differ beyond dimension 1",
                              as.str(x, sizeof x), bs.str(y, sizeof y)));
  }
  Node n;
  n.op = Op::concat;
  n.shape = as;
  n.shape.dims[1] = as[1] + bs[1];
  n.in[0] = a.id;
  n.in[1] = b.id;
  return add_node(n, "concat");
}

namespace {
Status same_shape(const Shape& a, const Shape& b, const char* what) { return expect_same_shape(a, b, what); }
}  // namespace

T Graph::add(T a, T b) {
  if (!check(a, "add") || !check(b, "add")) return T();
  const Status s = same_shape(nodes_[a.id].shape, nodes_[b.id].shape, "add");
  if (!s.is_ok()) return fail(s);
  Node n;
  n.op = Op::add;
  n.shape = nodes_[a.id].shape;
  n.in[0] = a.id;
  n.in[1] = b.id;
  return add_node(n, "add");
}

T Graph::mul(T a, T b) {
  if (!check(a, "mul") || !check(b, "mul")) return T();
  const Status s = same_shape(nodes_[a.id].shape, nodes_[b.id].shape, "mul");
  if (!s.is_ok()) return fail(s);
  Node n;
  n.op = Op::mul;
  n.shape = nodes_[a.id].shape;
  n.in[0] = a.id;
  n.in[1] = b.id;
  return add_node(n, "mul");
}

T Graph::scale(T a, float s) {
  if (!check(a, "scale")) return T();
  Node n;
  n.op = Op::scale;
  n.shape = nodes_[a.id].shape;
  n.in[0] = a.id;
  n.factor = s;
  return add_node(n, "scale");
}

T Graph::reparam(T mu, T logvar) {
  if (!check(mu, "reparam") || !check(logvar, "reparam")) return T();
  const Status s = same_shape(nodes_[mu.id].shape, nodes_[logvar.id].shape, "reparam (mu, logvar)");
  if (!s.is_ok()) return fail(s);
  Node n;
  n.op = Op::reparam;
  n.shape = nodes_[mu.id].shape;
  n.in[0] = mu.id;
  n.in[1] = logvar.id;
  return add_node(n, "reparam");
}

T Graph::minibatch_stddev(T x) {
  if (!check(x, "minibatch_stddev")) return T();
  const Shape xs = nodes_[x.id].shape;
  if ((xs.rank != 2 && xs.rank != 4) || xs[0] < 1) {
    char s[64];
    return fail(Status::error(Code::shape_mismatch, "minibatch_stddev: needs [N, C] or [N, C, H, W] with N >= 1, got %s",
                              xs.str(s, sizeof s)));
  }
  Node n;
  n.op = Op::minibatch_stddev;
  n.shape = xs;
  n.shape.dims[1] = xs[1] + 1;
  n.in[0] = x.id;
  return add_node(n, "minibatch_stddev");
}

T Graph::loss_node(Op op, T a, T b, T c, Reduction r, const char* what) {
  if (!check(a, what) || !check(b, what) || (op == Op::gauss_nll && !check(c, what))) return T();
  const Shape as = nodes_[a.id].shape;
  if (as.rank < 1) return fail(Status::error(Code::shape_mismatch, "%s: input needs a batch dimension", what));
  Status s;
  if (op == Op::softmax_ce) {
    if (nodes_[b.id].op != Op::labels || as.rank != 2 || nodes_[b.id].shape[0] != as[0])
      s = Status::error(Code::shape_mismatch, "softmax_ce: needs [batch, classes] logits and a labels node of the same batch");
  } else {
    s = same_shape(as, nodes_[b.id].shape, what);
    if (s.is_ok() && op == Op::gauss_nll) s = same_shape(as, nodes_[c.id].shape, what);
  }
  if (!s.is_ok()) return fail(s);
  Node n;
  n.op = op;
  n.shape = Shape(1);
  n.in[0] = a.id;
  n.in[1] = b.id;
  n.in[2] = op == Op::gauss_nll ? c.id : -1;
  n.reduction = r;
  n.output = true;
  return add_node(n, what);
}

T Graph::bce_logits(T x, T t, Reduction r) { return loss_node(Op::bce_logits, x, t, T(), r, "bce_logits"); }
T Graph::mse(T x, T t, Reduction r) { return loss_node(Op::mse, x, t, T(), r, "mse"); }
T Graph::gauss_nll(T x, T mu, T lv, Reduction r) { return loss_node(Op::gauss_nll, x, mu, lv, r, "gauss_nll"); }
T Graph::kl_std_normal(T mu, T lv, Reduction r) { return loss_node(Op::kl_std_normal, mu, lv, T(), r, "kl_std_normal"); }
T Graph::softmax_ce(T x, T labels, Reduction r) { return loss_node(Op::softmax_ce, x, labels, T(), r, "softmax_ce"); }

void Graph::mark_output(T x) {
  if (check(x, "mark_output")) nodes_[x.id].output = true;
}

void Graph::minimize(T loss) {
  if (!check(loss, "minimize")) return;
  if (nodes_[loss.id].shape.numel() != 1) {
    char s[64];
    fail(Status::error(Code::shape_mismatch, "minimize: the objective must be a scalar, got %s",
                       nodes_[loss.id].shape.str(s, sizeof s)));
    return;
  }
  loss_ = loss.id;
  nodes_[loss.id].output = true;
}

}  // namespace ember::nn
