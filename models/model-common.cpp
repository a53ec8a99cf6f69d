// Arena sizing shared by the model classes; see model-common.h.
#include "models/model-common.h"

#include <cstdio>

namespace ember::models {

Status add_graph_bytes(nn::Graph& g, const nn::CompileOptions& options, int threads, size_t* total) {
  nn::GraphBytes b;
  EMBER_TRY(g.plan(options, threads, &b));
  *total += b.total();
  return Status::ok();
}

Status added_to_context(int threads, size_t model_bytes, size_t* bytes) {
  int workers = 1;
  EMBER_TRY(context_share(threads, &workers, bytes));
  *bytes += model_bytes;
  return Status::ok();
}

Status context_share(int threads, int* workers, size_t* bytes) {
  Context::Options o;
  o.threads = threads;
  const Kernels* k = nullptr;
  EMBER_TRY(Context::resolve(o, &k, workers));
  EMBER_TRY(Context::bytes_needed(o, bytes));
  // Counted once per arena, here, because every model's figure includes the Context's share once.
  *bytes += Arena::kStartSlack;
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
