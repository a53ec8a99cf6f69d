// Arena sizing shared by the model classes; see model-common.h.
#include "models/model-common.h"

#include <cstdio>

namespace ember::models {

Status add_graph_bytes(nn::Graph& g, const nn::CompileOptions& options, int threads, size_t* total) {
  nn::GraphBytes b;
  EMBER_TRY(g.plan(options, threads, &b));
  *total += Arena::rounded(b.activations) + Arena::rounded(b.scratch);
  return Status::ok();
}

nn::CompileOptions inference_options() {
  nn::CompileOptions o;
  o.training = false;
  return o;
}

bool load_present_only(void* params, const char* name, char* out, size_t cap) {
  if (static_cast<const nn::Params*>(params)->find(name) < 0) return false;
  std::snprintf(out, cap, "%s", name);
  return true;
}

}  // namespace ember::models
