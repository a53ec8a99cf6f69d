// int8 weights per output channel (nn/quantize.h).
#include "nn/quantize.h"

#include <cmath>
#include <cstring>

namespace ember::nn {

Status mark_int8_weights(const Graph& g, Params* params) {
  for (int i = 0; i < g.count(); ++i) {
    const Node& n = g.node(T{i});
    if (n.op != Op::linear && n.op != Op::conv2d && n.op != Op::conv_t2d) continue;
    EMBER_TRY(params->set_int8(n.param[0], n.op == Op::conv_t2d ? 1 : 0));
  }
  return Status::ok();
}

namespace {

// round(w / scale) in -127..127 (0 for a zero scale).
int8_t quantize_one(float w, float scale) {
  const float r = scale > 0.0f ? std::round(w / scale) : 0.0f;
  return static_cast<int8_t>(r > 127.0f ? 127.0f : r < -127.0f ? -127.0f : r);
}

}  // namespace

float quantize_channel(const float* w, size_t n, int8_t* q) {
  float top = 0.0f;
  for (size_t i = 0; i < n; ++i) top = std::fabs(w[i]) > top ? std::fabs(w[i]) : top;
  const float scale = top / 127.0f;
  for (size_t i = 0; i < n; ++i) q[i] = quantize_one(w[i], scale);
  return scale;
}

namespace {

// The parameter of `other` with p's name and shape.
Status find_twin(const Params& other, const Param& p, const char* who, int* id) {
  *id = other.find(p.name);
  if (*id < 0) return Status::error(Code::shape_mismatch, "%s: parameter '%s' is missing", who, p.name);
  const Param& o = other[*id];
  if (o.shape != p.shape) {
    char a[64], b[64];
    return Status::error(Code::shape_mismatch, "%s: parameter '%s' is %s, and %s", who, p.name, o.shape.str(a, sizeof a),
                         p.shape.str(b, sizeof b));
  }
  return Status::ok();
}

}  // namespace

Status quantize_params(const Params& from, Params* to) {
  if (!to->allocated()) return Status::error(Code::invalid_argument, "quantize: the int8 model is not allocated");
  for (int i = 0; i < to->count(); ++i) {  // check every pair before writing one
    int id = -1;
    EMBER_TRY(find_twin(from, (*to)[i], "quantize", &id));
    if (from[id].storage != Storage::f32 || !from[id].value)
      return Status::error(Code::invalid_argument, "quantize: parameter '%s' of the source holds no float values",
                           from[id].name);
    if ((*to)[i].storage == Storage::int8 && (!(*to)[i].q || !(*to)[i].scale))
      return Status::error(Code::invalid_argument, "quantize: parameter '%s' has no room for int8 values", (*to)[i].name);
  }
  for (int i = 0; i < to->count(); ++i) {
    Param& p = (*to)[i];
    const Param& src = from[from.find(p.name)];
    if (p.storage == Storage::f32) {
      std::memcpy(p.value, src.value, p.numel() * sizeof(float));
      continue;
    }
    if (p.numel() == 0) continue;
    int8_t* q = const_cast<int8_t*>(p.q);  // the arena's copy (a model set to read in place has none)
    // Element i belongs to channel (i / inner) % channels; `outer` runs of `inner` per channel.
    const int64_t channels = p.channels(), inner = p.channel_inner();
    const int64_t outer = static_cast<int64_t>(p.numel()) / (channels * inner);
    if (outer == 1) {  // axis 0: each channel is one run
      for (int64_t c = 0; c < channels; ++c) p.scale[c] = quantize_channel(src.value + c * inner, inner, q + c * inner);
      continue;
    }
    // Axis 1 ([C, O, kh, kw]): a channel is `outer` runs of `inner`; its scale from all of them.
    for (int64_t c = 0; c < channels; ++c) {
      float top = 0.0f;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < inner; ++k) {
          const float a = std::fabs(src.value[(o * channels + c) * inner + k]);
          top = a > top ? a : top;
        }
      const float scale = top / 127.0f;
      p.scale[c] = scale;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < inner; ++k) {
          const int64_t at = (o * channels + c) * inner + k;
          q[at] = quantize_one(src.value[at], scale);
        }
    }
  }
  return Status::ok();
}

Status dequantize_params(const Params& from, Params* to, bool present_only) {
  for (int i = 0; i < from.count(); ++i) {  // check every pair before writing one
    if (present_only && to->find(from[i].name) < 0) continue;
    int id = -1;
    EMBER_TRY(find_twin(*to, from[i], "dequantize", &id));
    if ((*to)[id].storage != Storage::f32 || !(*to)[id].value)
      return Status::error(Code::invalid_argument, "dequantize: parameter '%s' of the target holds no float values",
                           from[i].name);
    if (from[i].storage == Storage::int8 ? !from[i].q || !from[i].scale : !from[i].value)
      return Status::error(Code::invalid_argument, "dequantize: parameter '%s' was never loaded", from[i].name);
  }
  for (int i = 0; i < from.count(); ++i) {
    const int id = to->find(from[i].name);
    if (id < 0) continue;
    const Param& p = from[i];
    float* out = (*to)[id].value;
    if (p.storage == Storage::f32) {
      std::memcpy(out, p.value, p.numel() * sizeof(float));
      continue;
    }
    const int64_t channels = p.channels(), inner = p.channel_inner();
    for (size_t k = 0; k < p.numel(); ++k)
      out[k] = p.scale[(static_cast<int64_t>(k) / inner) % channels] * static_cast<float>(p.q[k]);
  }
  return Status::ok();
}

}  // namespace ember::nn
