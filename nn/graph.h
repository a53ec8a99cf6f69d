// Graph: a static computation graph, built once, compiled into a fixed memory plan, then run
// step after step with no allocation.
//
//   Params params(&arena);                       // weights shared by every graph of a model
//   Graph g(&params);
//   T x  = g.input("x", Shape(128, 784));
//   T h  = g.relu(g.linear(x, 400, "enc.fc1"));  // creates enc.fc1.weight/bias in params
//   ...
//   g.minimize(loss);                            // the scalar backward starts from
//   params.allocate(&arena, ParamMode::train_adam); params.initialise(&rng);
//   g.compile(&arena, &ctx, CompileOptions{});   // plan memory, derive backward
//   loop: copy a batch to g.data(x); g.forward(); g.backward(); adam.step(...)
//
// Building never fails loudly: a bad call (shape mismatch, unknown node) records the first
// error and returns an invalid node; status() and compile() report it, naming the op.
//
// Compile: nodes are already in topological order (an op can only use existing nodes).
// A node needs a gradient when a trainable parameter (one of the groups being trained)
// reaches it; backward runs only those ops, and passes null for inputs that need none, so
// a frozen sub-network costs nothing in backward but the gradient flowing through it.
// Memory: every activation, saved tensor, gradient and scratch buffer gets a lifetime in
// the schedule [forward ops..., backward ops...] and nn/planner places them with reuse.
//
// Where the memory goes. Everything comes from the one arena; a Graph object itself is a
// few hundred bytes. In the order it is taken from the arena's head:
//
//   [ parameter table | node table | ... ]   while building: chunks, as nodes and parameters
//                                            are made (core/arena-list.h); no capacity but
//                                            the arena's
//   [ parameter tensors ]                    Params::allocate: values (+ gradients, moments)
//                                            and the parameter table's directory
//   [ plan tables | activations | scratch ]  compile: the node directory, the planned
//                                            buffers, their sort order and zeroing steps,
//                                            then the two planned regions
//
// Nothing is freed: a model that wants to start again rewinds the arena to a mark taken
// before building. There is no dry run without memory: the plan needs the whole node table.
// plan() therefore builds its tables in the arena's tail and gives them back, and a model
// sizes itself (models/model-common.h) by building its graphs in a scratch arena, adding
// what allocate() and compile() will take (ParamBytes, GraphBytes, both exact: every piece
// is rounded as the arena rounds it), and rewinding the scratch. The tables are small (a
// few hundred bytes per node), so the scratch is any spare block: the one the model will
// live in, before it does, or a temporary one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "core/arena.h"
#include "core/arena-list.h"
#include "platform/context.h"
#include "core/rng.h"
#include "core/status.h"
#include "core/tensor.h"
#include "nn/ops.h"
#include "nn/params.h"
#include "nn/planner.h"

namespace ember::nn {

// A node handle. Invalid (id < 0) after a failed build call.
struct T {
  int32_t id = -1;
  bool ok() const { return id >= 0; }
};

enum class Op : uint8_t {
  input, labels,
  linear, conv2d, conv_t2d, batchnorm, act, reshape, concat, add, mul, scale, reparam, minibatch_stddev,
  bce_logits, mse, gauss_nll, kl_std_normal, softmax_ce,
};
const char* op_name(Op op);
inline bool is_loss(Op op) { return op >= Op::bce_logits; }
// Whether f' needs x itself. ReLU and LeakyReLU (slope >= 0) read the sign of x, which y
// has too; sigmoid and tanh read y. Only then can y overwrite x (in-place activation).
inline bool act_backward_needs_input(Act act, float slope) {
  return act == Act::softplus || ((act == Act::relu || act == Act::leaky_relu) && slope < 0.0f);
}

struct Node {
  Op op = Op::input;
  Shape shape;
  int32_t in[3] = {-1, -1, -1};
  int32_t param[4] = {-1, -1, -1, -1};  // weight, bias / gamma, beta, running mean, running var
  Act act = Act::identity;
  float slope = 0.0f, factor = 1.0f;    // leaky slope; scale factor
  Reduction reduction = Reduction::sum;
  ConvShape conv;
  BatchNormShape bn;
  const char* name = nullptr;            // inputs: the caller's string literal
  bool output = false;                   // kept alive to the end of the step
  // Set by compile.
  bool needs_grad = false;
  // A linear node that is its parameters' only user: its backward writes their gradients
  // instead of adding to zeroed ones, and the step does not zero them first.
  bool writes_param_grads = false;
  // A linear, conv, batch norm or activation node that is the only contributor to its input's
  // gradient: its backward writes that gradient, and the step does not zero it first.
  bool writes_input_grad = false;
  // A conv whose input is an activation's output, where both write their input's gradient:
  // the conv's backward does the activation's too (ops.h, InputAct), writing the gradient
  // of the activation's input; that activation's node then skips its own (act_in_consumer).
  int32_t folds_input_act = -1;
  bool act_in_consumer = false;
  bool depends = false, reaches = false;  // on a trained parameter; the objective
  int32_t value_buf = -1, grad_buf = -1, aux_buf = -1, aux2_buf = -1;
  int32_t fwd_scratch_buf = -1, bwd_scratch_buf = -1;
  float* value = nullptr;
  float* grad = nullptr;
  float* aux = nullptr;   // BatchNorm, minibatch_stddev: saved mean; reparam: eps
  float* aux2 = nullptr;  // BatchNorm, minibatch_stddev: saved 1/std
  float* fwd_scratch = nullptr;
  float* bwd_scratch = nullptr;
  float loss = 0.0f;      // loss ops: the last forward's value
};

struct CompileOptions {
  bool training = true;          // false: forward only, BatchNorm in evaluation mode
  uint32_t train_groups = ~0u;   // bit g set: parameters of group g get gradients
};

// Bytes compile() takes from the arena, by category (parameters are in Params; the node
// table, taken while building, is node_bytes()).
struct GraphBytes {
  size_t activations = 0;  // values, saved tensors and activation gradients (planned, reused)
  size_t scratch = 0;      // op workspaces such as im2col buffers (planned, reused)
  size_t tables = 0;       // the node directory and the plan's tables, rounded
  size_t total() const { return Arena::rounded(activations) + Arena::rounded(scratch) + tables; }
};

class Graph {
 public:
  // Nodes go to params->arena(), the arena of the model's parameter table.
  explicit Graph(Params* params) : params_(params) {}
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  // Empty again, to be built anew (its memory stays with the arena).
  void reset();

  // ---- building (KANN-style: one line per op, its math beside it) ------------------------
  T input(const char* name, const Shape& shape);          // data the caller fills each step
  T labels(const char* name, int batch);                  // int32 class labels, [batch]
  T linear(T x, int out, const char* name, bool bias = true);      // x W^T + b
  T conv2d(T x, int out_ch, int k, int stride, int pad, const char* name, bool bias = true);
  T conv_t2d(T x, int out_ch, int k, int stride, int pad, const char* name, bool bias = true);
  T batchnorm(T x, const char* name, float eps = 1e-5f, float momentum = 0.1f);  // 1-D or 2-D
  T activation(T x, Act act, float slope = 0.0f);        // f(x)
  T relu(T x) { return activation(x, Act::relu); }
  T leaky_relu(T x, float slope) { return activation(x, Act::leaky_relu, slope); }
  T sigmoid(T x) { return activation(x, Act::sigmoid); }
  T tanh(T x) { return activation(x, Act::tanh); }
  T softplus(T x) { return activation(x, Act::softplus); }
  T reshape(T x, const Shape& shape);                    // same data, new shape
  T flatten(T x);                                        // [N, ...] -> [N, rest]
  T concat(T a, T b);                                    // along dim 1 (features / channels)
  T add(T a, T b);                                       // a + b
  T mul(T a, T b);                                       // a * b
  T scale(T a, float s);                                 // s a
  T reparam(T mu, T logvar);                             // mu + exp(logvar / 2) eps, eps ~ N(0, I)
  // [N, C, ...] -> [N, C+1, ...]: x and one more channel holding the mean over features of
  // the standard deviation over the batch (nn/ops.h). Rank 2 (features) or 4 (images).
  T minibatch_stddev(T x);
  // Losses: a [1] scalar; `mean` divides by the batch (dim 0). Targets (and the data x of
  // gauss_nll) are treated as constants: no gradient flows into them.
  T bce_logits(T logits, T target, Reduction r);         // sum max(x,0) - x t + log(1 + e^-|x|)
  T mse(T x, T target, Reduction r);                     // sum (x - t)^2
  T gauss_nll(T x, T mu, T logvar, Reduction r);         // sum 0.5 (log 2pi + lv + (x-mu)^2 e^-lv)
  T kl_std_normal(T mu, T logvar, Reduction r);          // sum -0.5 (1 + lv - mu^2 - e^lv)
  T softmax_ce(T logits, T labels, Reduction r);         // sum -log softmax(x)[label]

  void mark_output(T x);   // readable after backward (otherwise its memory may be reused)
  void minimize(T loss);   // the objective backward differentiates (a [1] scalar)
  Status status() const { return error_; }
  Params* params() const { return params_; }

  // ---- compiling -------------------------------------------------------------------------
  // Bytes compile() would take for these options and thread count (a dry run; its tables are
  // built in the tail of the node table's arena and given back; parameters not included:
  // see Params::bytes).
  Status plan(const CompileOptions& opt, int threads, GraphBytes* out);
  // Arena bytes the node table has taken so far (while building).
  size_t node_bytes() const { return nodes_.bytes(); }
  // Plans and takes memory; `rng` draws reparam noise (may be null if there is none).
  Status compile(Arena* arena, Context* ctx, const CompileOptions& opt, Rng* rng = nullptr);
  void print_plan(FILE* out);   // the placed buffers (after compile)
  Status check_plan() const;    // no two live buffers overlap (tests)

  // ---- running (after compile; nothing allocates) -------------------------------------------
  float* data(T x) const { return nodes_[x.id].value; }
  int32_t* label_data(T x) const { return reinterpret_cast<int32_t*>(nodes_[x.id].value); }
  float* grad(T x) const { return nodes_[x.id].grad; }
  const Node& node(T x) const { return nodes_[x.id]; }
  // An invalid handle (a failed build call) has no shape: Shape() (builders read shapes).
  Shape shape(T x) const { return x.id >= 0 && x.id < nodes_.size() ? nodes_[x.id].shape : Shape(); }
  Status forward();
  // Forward in two parts: nodes up to and including `last`, then the rest after it (a GAN
  // step uses G's output before running D on it).
  Status forward_to(T last);
  Status forward_from(T after);
  Status backward();        // zeroes then fills the gradients of the trained parameters
  float loss() const;       // value of the minimized node after forward()
  int count() const { return nodes_.size(); }
  const GraphBytes& bytes() const { return bytes_; }

  // ---- profiling -------------------------------------------------------------------------
  // Called around every op forward() and backward() run, with the node's index (ember-bench
  // --profile times them). Null: none. The graph keeps the pointer.
  struct Observer {
    void (*before)(void* user, int node, bool backward) = nullptr;
    void (*after)(void* user, int node, bool backward) = nullptr;
    void* user = nullptr;
  };
  void set_observer(const Observer* observer) { observer_ = observer; }

 private:
  T add_node(const Node& n, const char* what);
  bool check(T x, const char* what);
  T fail(Status s);
  T loss_node(Op op, T a, T b, T c, Reduction r, const char* what);
  T conv_node(T x, int out_ch, int k, int stride, int pad, const char* name, bool bias, bool transposed);
  Status param(const char* layer, const char* suffix, const Shape& shape, const InitSpec& init,
               bool trainable, int32_t* id);
  Status check_buildable(const CompileOptions& opt) const;
  void mark_gradients(const CompileOptions& opt);
  bool int8_weights(const Node& n) const;  // linear or conv whose weight is Storage::int8
  int32_t count_buffers(const CompileOptions& opt);
  static size_t table_bytes(int32_t nodes, int32_t buffers);
  Status take_tables(Arena* arena, bool tail, int32_t nbufs);
  Status build_plan(const CompileOptions& opt);
  Status forward_range(int32_t begin, int32_t end);
  Status forward_node(Node& n);
  Status backward_node(Node& n);

  static constexpr int kChunk = 8;  // nodes per chunk of the node table
  Params* params_;
  ArenaList<Node, kChunk> nodes_;
  int32_t loss_ = -1;
  Status error_;
  // Compile results.
  bool compiled_ = false;
  CompileOptions opt_;
  Context* ctx_ = nullptr;
  int workers_ = 1;
  Rng* rng_ = nullptr;
  const Observer* observer_ = nullptr;
  PlannedBuffer* bufs_ = nullptr;  // the plan's tables (compile: from the arena's head)
  int32_t* order_ = nullptr;
  int32_t* zero_at_ = nullptr;     // grad buffers: backward step before which to zero them
  int32_t nbufs_ = 0;
  int32_t first_scratch_ = 0;  // bufs_[first_scratch_..] form the scratch region
  size_t act_region_ = 0, scratch_region_ = 0;
  GraphBytes bytes_;
  uint8_t* act_base_ = nullptr;
  uint8_t* scratch_base_ = nullptr;
};

}  // namespace ember::nn
