// A model's parameters to and from safetensors files (io/safetensors.h), for PyTorch and the
// tools people already use.
//
// ember names and lays out its parameters as PyTorch's state_dict does, so no conversion is
// needed, only a name per tensor: Linear "x.weight" [out, in] and "x.bias" [out], Conv2d
// [out, in, kh, kw], ConvTranspose2d [in, out, kh, kw], BatchNorm "weight", "bias",
// "running_mean", "running_var" (nn/graph-build.cpp creates them so). PyTorch's BatchNorm also
// has "num_batches_tracked", an integer ember does not keep: files may hold it, it is ignored.
//
// Loading checks before it changes anything: every parameter of the model must be in the file
// once, with the model's shape, and the file may hold nothing else. Each tensor that breaks
// this is reported on its own line through `note` (missing, extra, misshaped: both shapes);
// the Status counts them and names the first. Then the values are read (F32, F16 or BF16,
// as float32) and checked finite: a NaN or infinity is refused naming the tensor, but is
// found only as the values are read, so the tensors before it are then in the model. Load
// into a model that can be dropped on an error (ember import does, and writes nothing).
#pragma once
#include <cstddef>

#include "core/status.h"
#include "io/safetensors.h"
#include "nn/params.h"

namespace ember::nn {

// The F32 tensors of every parameter (trainable or a state buffer) of params, in their
// order, into room[0..capacity) (capacity >= params.count()). The names and data point into
// params: keep it alive while the list is used (safetensors_save).
Status params_to_safetensors(const Params& params, SafetensorsInput* room, size_t capacity, size_t* count);

// How a file's tensor name maps to a parameter's: writes the parameter's name into out
// (NUL-terminated, < cap) and returns true; false keeps the file's name.
using TensorRename = bool (*)(void* user, const char* file_name, char* out, size_t cap);
// One line per problem ("missing enc.fc1.weight"), for the caller to print.
using ProblemNote = void (*)(void* user, const char* line);

struct SafetensorsLoad {
  TensorRename rename = nullptr;
  void* rename_user = nullptr;
  ProblemNote note = nullptr;
  void* note_user = nullptr;
};

// The file's tensors into params (allocated) as described above; name goes in front of errors.
// On a mismatch nothing is read; on a read error or a value that is not finite, params may
// hold part of the file (the caller drops the model).
Status load_params_safetensors(SafetensorsFile& file, const char* name, Params* params,
                               const SafetensorsLoad& how = SafetensorsLoad());

// Whether a file's tensor is one PyTorch keeps and ember has no use for (ignored by loads).
bool is_ignored_tensor(const char* name);

}  // namespace ember::nn
