// Params: the named parameters and state buffers of a model, shared by all its graphs.
//
// A GAN is two networks in two graphs (the D step and the G step) that share weights, so
// weights live here, not in a graph: a graph asks for "d.conv1.weight" and gets the same
// tensor every time. Each parameter belongs to a group (e.g. 0 = generator,
// 1 = discriminator); a graph trains only the groups it is told to, an optimizer updates
// one group, and a frozen group is simply never trained.
//
// Life cycle: declare (graph building calls get_or_add), then allocate() once into the
// arena (values, and in training mode gradients and optimizer moments), then initialise().
// State buffers (BatchNorm running mean/var) are parameters with trainable = false: they
// are saved in checkpoints but get no gradient.
//
// Memory: the table of parameters itself lives in the arena given at construction (or to
// reset()), in chunks taken as parameters are declared (core/arena-list.h), so there is no
// limit on their number but the arena; allocate() adds the table's directory.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "core/arena-list.h"
#include "core/rng.h"
#include "core/status.h"
#include "core/tensor.h"

namespace ember::nn {

enum class Init : uint8_t {
  zeros,
  ones,
  normal,          // N(0, arg^2)
  uniform,         // U(-arg, arg)
  kaiming_uniform, // U(-b, b), b = 1/sqrt(fan_in) (PyTorch's default for Linear/Conv)
  xavier_uniform,  // U(-b, b), b = sqrt(6 / (fan_in + fan_out))
  kaiming_normal,  // N(0, 2 / fan_in) (He et al., for ReLU nets)
};

struct InitSpec {
  Init kind = Init::kaiming_uniform;
  float arg = 0.0f;
  int fan_in = 1, fan_out = 1;  // filled by the layer that creates the parameter
};

// How a parameter's values are held. int8 is for sampling only (nn/quantize.h): a weight of
// a linear or convolution layer as int8 values with one float scale per output channel,
// w = scale[c] * q, symmetric (q in -127..127). Training refuses it.
enum class Storage : uint8_t { f32 = 0, int8 };

struct Param {
  static constexpr int kMaxName = 48;
  char name[kMaxName] = {0};
  Shape shape;
  InitSpec init;
  uint8_t group = 0;
  bool trainable = true;    // false: a state buffer (e.g. BatchNorm running statistics)
  bool loaded = false;      // set by a checkpoint load for the records it has read
  float* value = nullptr;
  float* grad = nullptr;    // trainable params in training mode
  float* m = nullptr;       // optimizer moments (Adam: m and v; SGD momentum: m)
  float* v = nullptr;
  // Storage::int8 (value stays null): q[numel] and scale[shape.dims[out_axis]]. q points into
  // the arena, or, when the parameters are set to read int8 weights in place, into the
  // checkpoint's memory (a board's flash) once loaded.
  Storage storage = Storage::f32;
  uint8_t out_axis = 0;     // the output-channel axis: 0 ([O, I], [O, C, kh, kw]), 1 (ConvTranspose2d)
  const int8_t* q = nullptr;
  float* scale = nullptr;
  size_t numel() const { return static_cast<size_t>(shape.numel()); }
  // Scales (output channels) of an int8 parameter, and the elements that share one.
  int64_t channels() const { return shape.dims[out_axis]; }
  int64_t channel_inner() const {
    int64_t n = 1;
    for (int d = out_axis + 1; d < shape.rank; ++d) n *= shape.dims[d];
    return n;
  }
};

// What allocate() takes memory for.
enum class ParamMode : uint8_t {
  inference,     // values only
  train_sgd,     // + gradients + one moment (momentum)
  train_adam,    // + gradients + two moments
};

struct ParamBytes {
  size_t values = 0, grads = 0, optimizer = 0;  // values: int8 weights and their scales too
  size_t table = 0;  // the directory of the parameter table (O(1) lookup once allocated)
  size_t total() const { return values + grads + optimizer + table; }
};

class Params {
 public:
  // The table grows in `arena` (null: set one with reset() before declaring anything).
  explicit Params(Arena* arena = nullptr) : arena_(arena) {}
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;
  // Forgets every parameter (their memory stays with the arena: rewind it to reuse it) and
  // declares the next ones in `arena`.
  void reset(Arena* arena);
  Arena* arena() const { return arena_; }
  // Arena bytes the table of declared parameters has taken so far.
  size_t table_bytes() const { return params_.bytes(); }

  // Group new parameters go to (until changed).
  void set_group(uint8_t group) { group_ = group; }
  uint8_t group() const { return group_; }

  // The parameter called `name`, created if new. Asking again with another shape is an error
  // (two layers fighting over one name). Fails after allocate(), and with out_of_memory
  // (by how much) when the arena has no room for the table to grow.
  Status get_or_add(const char* name, const Shape& shape, const InitSpec& init, bool trainable, int* id);

  // Bytes allocate() would take (a dry run): the tensors and the table's directory.
  ParamBytes bytes(ParamMode mode) const;
  // Takes memory for every parameter from the arena; on failure the arena is unchanged.
  Status allocate(Arena* arena, ParamMode mode);
  bool allocated() const { return allocated_; }
  ParamMode mode() const { return mode_; }
  // Parameter `id` held as int8 (before allocate(); inference only): per output channel along
  // `out_axis`, which must be a dimension of a parameter of rank >= 2.
  Status set_int8(int id, int out_axis);
  // int8 values read in place: allocate() takes no memory for them, and only a load from a
  // checkpoint in memory fills them (pointing into it: that memory must outlive the model).
  void set_int8_in_place(bool in_place) { int8_in_place_ = in_place; }
  bool int8_in_place() const { return int8_in_place_; }
  int int8_count() const;
  // Fills values from each InitSpec with rng, zeroes grads and moments (int8: zeroes q and the
  // scales held in the arena).
  void initialise(Rng* rng);

  int count() const { return params_.size(); }
  Param& operator[](int i) { return params_[i]; }
  const Param& operator[](int i) const { return params_[i]; }
  int find(const char* name) const;  // -1 when absent
  // Elements over the parameters of `group` (trainable only when trainable_only).
  size_t numel(int group, bool trainable_only) const;

 private:
  static constexpr int kChunk = 16;  // parameters per chunk of the table
  Arena* arena_ = nullptr;
  ArenaList<Param, kChunk> params_;
  uint8_t group_ = 0;
  bool allocated_ = false;
  bool int8_in_place_ = false;
  ParamMode mode_ = ParamMode::inference;
};

}  // namespace ember::nn
