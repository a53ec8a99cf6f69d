#include "nn/params.h"

#include <cmath>
#include <cstring>

namespace ember::nn {

void Params::reset(Arena* arena) {
  arena_ = arena;
  params_.clear();
  group_ = 0;
  allocated_ = false;
  int8_in_place_ = false;
  mode_ = ParamMode::inference;
}

Status Params::get_or_add(const char* name, const Shape& shape, const InitSpec& init, bool trainable,
                          int* id) {
  *id = -1;
  const int found = find(name);
  if (found >= 0) {
    const Param& p = params_[found];
    if (p.shape != shape || p.trainable != trainable) {
      char a[64], b[64];
      return Status::error(Code::shape_mismatch, "parameter '%s' exists as %s, asked again as %s", name,
                           p.shape.str(a, sizeof a), shape.str(b, sizeof b));
    }
    *id = found;
    return Status::ok();
  }
  if (allocated_)
    return Status::error(Code::invalid_argument,
                         "parameter '%s' is new but parameters were already allocated", name);
  if (!arena_)
    return Status::error(Code::invalid_argument, "parameter '%s': Params has no arena (construct it with one)", name);
  if (std::strlen(name) >= static_cast<size_t>(Param::kMaxName))
    return Status::error(Code::invalid_argument, "parameter name '%s' is longer than %d characters", name,
                         Param::kMaxName - 1);
  EMBER_TRY(shape.validate());
  Param p;
  std::strcpy(p.name, name);
  p.shape = shape;
  p.init = init;
  p.group = group_;
  p.trainable = trainable;
  const Status s = params_.push(arena_, p);
  if (!s.is_ok()) return Status::error(s.code(), "parameter '%s': the parameter table: %s", name, s.message());
  *id = params_.size() - 1;
  return Status::ok();
}

int Params::find(const char* name) const {
  for (int i = 0; i < params_.size(); ++i)
    if (std::strcmp(params_[i].name, name) == 0) return i;
  return -1;
}

size_t Params::numel(int group, bool trainable_only) const {
  size_t n = 0;
  for (int i = 0; i < params_.size(); ++i)
    if (params_[i].group == group && (!trainable_only || params_[i].trainable)) n += params_[i].numel();
  return n;
}

Status Params::set_int8(int id, int out_axis) {
  if (id < 0 || id >= params_.size()) return Status::error(Code::invalid_argument, "set_int8: no parameter %d", id);
  Param& p = params_[id];
  if (allocated_) return Status::error(Code::invalid_argument, "parameter '%s': int8 after allocate()", p.name);
  if (p.shape.rank < 2 || out_axis < 0 || out_axis >= p.shape.rank)
    return Status::error(Code::invalid_argument, "parameter '%s': int8 needs rank >= 2 and an output axis in it",
                         p.name);
  p.storage = Storage::int8;
  p.out_axis = static_cast<uint8_t>(out_axis);
  return Status::ok();
}

int Params::int8_count() const {
  int n = 0;
  for (int i = 0; i < params_.size(); ++i) n += params_[i].storage == Storage::int8;
  return n;
}

ParamBytes Params::bytes(ParamMode mode) const {
  ParamBytes b;
  b.table = params_.seal_bytes(params_.size());
  const int moments = mode == ParamMode::train_adam ? 2 : mode == ParamMode::train_sgd ? 1 : 0;
  for (int i = 0; i < params_.size(); ++i) {
    if (params_[i].storage == Storage::int8) {  // scales, and the values unless read in place
      b.values += Arena::rounded(static_cast<size_t>(params_[i].channels()) * sizeof(float));
      if (!int8_in_place_) b.values += Arena::rounded(params_[i].numel());
      continue;
    }
    const size_t one = Arena::rounded(params_[i].numel() * sizeof(float));
    b.values += one;
    if (params_[i].trainable && mode != ParamMode::inference) {
      b.grads += one;
      b.optimizer += moments * one;
    }
  }
  return b;
}

Status Params::allocate(Arena* arena, ParamMode mode) {
  if (allocated_) return Status::error(Code::invalid_argument, "parameters are already allocated");
  if (mode != ParamMode::inference)
    for (int i = 0; i < params_.size(); ++i)
      if (params_[i].storage == Storage::int8)
        return Status::error(Code::invalid_argument, "parameter '%s' is int8: int8 weights are for sampling, not training",
                             params_[i].name);
  const ParamBytes need = bytes(mode);
  if (need.total() > arena->free_bytes())
    return Status::error(Code::out_of_memory,
                         "parameters need %zu bytes (values %zu, gradients %zu, optimizer %zu), arena has "
                         "%zu free (short by %zu)",
                         need.total(), need.values, need.grads, need.optimizer, arena->free_bytes(),
                         need.total() - arena->free_bytes());
  (void)params_.seal(arena);  // cannot fail either: its bytes are in the total
  const bool train = mode != ParamMode::inference;
  for (int i = 0; i < params_.size(); ++i) {
    Param& p = params_[i];
    const size_t n = p.numel();
    // Cannot fail: the total was checked above and each piece is rounded the same way.
    if (p.storage == Storage::int8) {
      (void)arena->alloc_array(static_cast<size_t>(p.channels()), &p.scale);
      int8_t* q = nullptr;
      if (!int8_in_place_) (void)arena->alloc_array(n, &q);
      p.q = q;
      continue;
    }
    (void)arena->alloc_array(n, &p.value);
    if (train && p.trainable) {
      (void)arena->alloc_array(n, &p.grad);
      if (mode == ParamMode::train_sgd || mode == ParamMode::train_adam) (void)arena->alloc_array(n, &p.m);
      if (mode == ParamMode::train_adam) (void)arena->alloc_array(n, &p.v);
    }
  }
  allocated_ = true;
  mode_ = mode;
  return Status::ok();
}

void Params::initialise(Rng* rng) {
  for (int i = 0; i < params_.size(); ++i) {
    Param& p = params_[i];
    const size_t n = p.numel();
    if (p.storage == Storage::int8) {  // nothing to draw: int8 weights come from a file
      if (p.scale) std::memset(p.scale, 0, static_cast<size_t>(p.channels()) * sizeof(float));
      if (p.q && !int8_in_place_) std::memset(const_cast<int8_t*>(p.q), 0, n);
      continue;
    }
    const float fan_in = static_cast<float>(p.init.fan_in < 1 ? 1 : p.init.fan_in);
    const float fan_out = static_cast<float>(p.init.fan_out < 1 ? 1 : p.init.fan_out);
    switch (p.init.kind) {
      case Init::zeros: std::memset(p.value, 0, n * sizeof(float)); break;
      case Init::ones:
        for (size_t j = 0; j < n; ++j) p.value[j] = 1.0f;
        break;
      case Init::normal: rng->fill_normal(p.value, n, 0.0f, p.init.arg); break;
      case Init::uniform: rng->fill_uniform(p.value, n, -p.init.arg, p.init.arg); break;
      case Init::kaiming_uniform: {
        const float bound = 1.0f / std::sqrt(fan_in);
        rng->fill_uniform(p.value, n, -bound, bound);
        break;
      }
      case Init::xavier_uniform: {
        const float bound = std::sqrt(6.0f / (fan_in + fan_out));
        rng->fill_uniform(p.value, n, -bound, bound);
        break;
      }
      case Init::kaiming_normal: rng->fill_normal(p.value, n, 0.0f, std::sqrt(2.0f / fan_in)); break;
    }
    if (p.grad) std::memset(p.grad, 0, n * sizeof(float));
    if (p.m) std::memset(p.m, 0, n * sizeof(float));
    if (p.v) std::memset(p.v, 0, n * sizeof(float));
  }
}

}  // namespace ember::nn
