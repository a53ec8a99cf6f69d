#include "nn/params-safetensors.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace ember::nn {

namespace {

constexpr char kIgnoredSuffix[] = ".num_batches_tracked";

// "[784, 400]" of a file's tensor into buf.
const char* dims_text(const SafetensorsTensor& t, char* buf, size_t cap) {
  size_t len = 0;
  len += size_t(std::snprintf(buf, cap, "["));
  for (int i = 0; i < t.rank && len < cap; ++i)
    len += size_t(std::snprintf(buf + len, cap - len, "%s%llu", i ? ", " : "", static_cast<unsigned long long>(t.dims[i])));
  if (len < cap) std::snprintf(buf + len, cap - len, "]");
  return buf;
}

bool same_shape(const SafetensorsTensor& t, const Shape& s) {
  if (t.rank != s.rank) return false;
  for (int i = 0; i < t.rank; ++i)
    if (t.dims[i] != static_cast<uint64_t>(s.dims[i])) return false;
  return true;
}

// Counts the problems of one kind and keeps the first for the Status.
struct Problems {
  const SafetensorsLoad* how;
  int missing = 0, extra = 0, misshaped = 0;
  char first[112] = {0};
  void add(int* counter, const char* line) {
    ++*counter;
    if (!first[0]) std::snprintf(first, sizeof first, "%.100s", line);
    if (how->note) how->note(how->note_user, line);
  }
  int total() const { return missing + extra + misshaped; }
};

}  // namespace

bool is_ignored_tensor(const char* name) {
  const size_t n = std::strlen(name), k = sizeof kIgnoredSuffix - 1;
  return n >= k && std::strcmp(name + n - k, kIgnoredSuffix) == 0;
}

Status params_to_safetensors(const Params& params, SafetensorsInput* room, size_t capacity, size_t* count) {
  *count = 0;
  if (!params.allocated()) return Status::error(Code::invalid_argument, "safetensors: the parameters hold no values yet");
  if (size_t(params.count()) > capacity)
    return Status::error(Code::invalid_argument, "safetensors: %d parameters, room for %zu", params.count(), capacity);
  for (int i = 0; i < params.count(); ++i)
    if (params[i].storage != Storage::f32)
      return Status::error(Code::invalid_argument, "safetensors: '%s' holds int8 weights; export the float model "
                           "(these files hold float32)", params[i].name);
  for (int i = 0; i < params.count(); ++i) {
    const Param& p = params[i];
    SafetensorsInput& t = room[i];
    t = SafetensorsInput();
    t.name = p.name;
    t.rank = p.shape.rank;
    for (int d = 0; d < p.shape.rank; ++d) t.dims[d] = static_cast<uint64_t>(p.shape.dims[d]);
    t.data = p.value;
  }
  *count = size_t(params.count());
  return Status::ok();
}

Status load_params_safetensors(SafetensorsFile& file, const char* name, Params* params, const SafetensorsLoad& how) {
  if (!params->allocated()) return Status::error(Code::invalid_argument, "%s: the model's parameters are not allocated", name);
  if (params->int8_count() > 0)
    return Status::error(Code::invalid_argument, "%s: the model holds int8 weights; load into a float model", name);
  const SafetensorsView& view = file.view();
  for (int i = 0; i < params->count(); ++i) (*params)[i].loaded = false;
  Problems problems{&how};
  char line[640], target[Param::kMaxName + 16], a[64], b[64];  // line: room for two 255-byte names
  auto model_name = [&](const SafetensorsTensor& st) -> const char* {  // through the rename hook
    return how.rename && how.rename(how.rename_user, st.name, target, sizeof target) ? target : st.name;
  };
  // Pass 1: match every tensor of the file to a parameter, changing nothing.
  for (size_t t = 0; t < view.count(); ++t) {
    const SafetensorsTensor& st = view.tensor(t);
    if (is_ignored_tensor(st.name)) continue;
    const char* wanted = model_name(st);
    const int id = params->find(wanted);
    if (id < 0) {
      if (wanted == st.name) std::snprintf(line, sizeof line, "extra %s %s", st.name, dims_text(st, a, sizeof a));
      else std::snprintf(line, sizeof line, "extra %s %s (renamed %s)", st.name, dims_text(st, a, sizeof a), wanted);
      problems.add(&problems.extra, line);
      continue;
    }
    Param& p = (*params)[id];
    if (p.loaded) {  // two file names renamed onto one parameter
      std::snprintf(line, sizeof line, "extra %s (%s is already given by another tensor)", st.name, wanted);
      problems.add(&problems.extra, line);
      continue;
    }
    p.loaded = true;
    if (!same_shape(st, p.shape)) {
      std::snprintf(line, sizeof line, "misshaped %s: %s in the file, %s in the model", st.name, dims_text(st, a, sizeof a),
                    p.shape.str(b, sizeof b));
      problems.add(&problems.misshaped, line);
    }
  }
  for (int i = 0; i < params->count(); ++i) {
    const Param& p = (*params)[i];
    if (p.loaded) continue;
    std::snprintf(line, sizeof line, "missing %s %s", p.name, p.shape.str(b, sizeof b));
    problems.add(&problems.missing, line);
  }
  if (problems.total() > 0)
    return Status::error(Code::shape_mismatch, "%s: %d missing, %d extra, %d misshaped tensors; %s", name,
                         problems.missing, problems.extra, problems.misshaped, problems.first);
  // Pass 2: the values.
  for (size_t t = 0; t < view.count(); ++t) {
    const SafetensorsTensor& st = view.tensor(t);
    if (is_ignored_tensor(st.name)) continue;
    Param& p = (*params)[params->find(model_name(st))];
    EMBER_TRY(file.read_f32(st, p.value, p.numel()));
    for (size_t k = 0; k < p.numel(); ++k)
      if (!std::isfinite(p.value[k]))
        return Status::error(Code::not_finite, "%s: tensor %s holds %s at element %zu", name, st.name,
                             std::isnan(p.value[k]) ? "NaN" : "an infinity", k);
  }
  return Status::ok();
}

}  // namespace ember::nn
