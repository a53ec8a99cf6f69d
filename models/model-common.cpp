// Arena sizing shared by the model classes; see model-common.h.
#include "models/model-common.h"

#include <cstdio>
#include <cstring>

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

const char* split_meta(char* meta) {
  char* cut = std::strstr(meta, kRunSeparator);
  if (!cut) return meta + std::strlen(meta);
  *cut = '\0';
  return cut + std::strlen(kRunSeparator);
}

Status append_run(char* buf, size_t cap, const char* run) {
  if (!run || !*run) return Status::ok();
  const size_t have = std::strlen(buf), sep = std::strlen(kRunSeparator), n = std::strlen(run);
  if (have + sep + n + 1 > cap)
    return Status::error(Code::invalid_argument, "checkpoint: config and run text need %zu bytes, at most %zu",
                         have + sep + n + 1, cap);
  std::memcpy(buf + have, kRunSeparator, sep);
  std::memcpy(buf + have + sep, run, n + 1);
  return Status::ok();
}

Status read_checkpoint_run(const char* path, char* buf, size_t cap) {
  char meta[nn::kMaxCheckpointMeta + 1];
  EMBER_TRY(nn::read_checkpoint_meta(path, meta, sizeof meta));
  const char* run = split_meta(meta);
  const size_t n = std::strlen(run);
  if (n + 1 > cap) return Status::error(Code::invalid_argument, "checkpoint %s: run text of %zu bytes", path, n);
  std::memcpy(buf, run, n + 1);
  return Status::ok();
}

}  // namespace ember::models
