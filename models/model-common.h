// What the model classes (AeModel, ClassifierModel, GanModel) share: arena sizing of their
// graphs, and checkpoints that know their architecture.
//
// Set-up: configure() only checks the setup; the graphs and the parameter table are built
// in init(), into the arena (nn/graph.h, "Where the memory goes"). bytes_needed(threads,
// scratch, &bytes) is the same build made in `scratch` and then undone: the bytes the
// build took, plus what Params::allocate and each Graph::compile will take (ParamBytes,
// GraphBytes), plus the Context's share for `threads` (Context::bytes_needed), plus what
// the model's init takes of its own, plus Arena::kStartSlack. That sum is exactly what the
// buffer of an arena must hold for ctx.init(&arena, {threads}) followed by
// model.init(&arena, &ctx), wherever the buffer starts (core/arena.h): every piece is counted
// rounded as the arena rounds it, and the dry run runs the same code as init. On a buffer
// that starts on a 64-byte boundary the set-up takes all but the slack.
//
// Checkpoints: a model's Config (anything with
// to_text(buf, cap) and from_text(text), e.g. AeConfig, ClassifierConfig) is stored as the
// checkpoint's meta text (nn/checkpoint.h), so a file can be opened without being told what
// it holds, and loading refuses a file written by another architecture before touching a
// single weight (the comparison is of the canonical text, so key order never matters).
#pragma once
#include <cstddef>
#include <cstring>

#include "core/arena.h"
#include "core/status.h"
#include "platform/context.h"
#include "models/config-text.h"
#include "nn/checkpoint.h"
#include "nn/graph.h"
#include "nn/params.h"

namespace ember::models {

constexpr int kMaxBatch = 1 << 16;  // the largest batch a model is set up for

// Parameters with gradients and Adam moments when training, values only otherwise.
inline nn::ParamMode param_mode(bool training) {
  return training ? nn::ParamMode::train_adam : nn::ParamMode::inference;
}
// Adds what g.compile() with `options` will take for `threads` workers to *total.
Status add_graph_bytes(nn::Graph& g, const nn::CompileOptions& options, int threads, size_t* total);
// The share of a set-up that is not the model's, for `threads` (0: one per core): *workers the
// thread count Context::init will start (the graphs plan for it), *bytes what the Context
// takes from the arena plus the alignment slack of the buffer's start (Arena::kStartSlack).
Status context_share(int threads, int* workers, size_t* bytes);
// bytes_needed once the model is set up: the Context's share for `threads` plus model_bytes.
Status added_to_context(int threads, size_t model_bytes, size_t* bytes);
// Every model's bytes_needed: for a model with configured_, ready_, setup_bytes_, build(arena),
// unbuild() and compile_bytes(workers, &bytes) (what init takes after the build). Once set
// up, what init took plus the Context's share; before, a dry run: builds in scratch, adds
// the bytes the build took, and leaves scratch as it was. `who` starts the errors ("gan").
template <class Model>
Status model_bytes_needed(Model* model, const char* who, int threads, Arena* scratch, size_t* bytes) {
  *bytes = 0;
  if (!model->configured_) return Status::error(Code::invalid_argument, "%s: configure() first", who);
  if (model->ready_) return added_to_context(threads, model->setup_bytes_, bytes);
  if (!scratch) return Status::error(Code::invalid_argument, "bytes_needed: no scratch arena for the dry run");
  int workers = 1;
  size_t total = 0, later = 0;
  EMBER_TRY(context_share(threads, &workers, &total));
  const size_t mark = scratch->mark();
  Status s = model->build(scratch);
  if (s.is_ok()) s = model->compile_bytes(workers, &later);
  const size_t built = scratch->mark() - mark;
  model->unbuild();
  scratch->rewind(mark);
  if (!s.is_ok()) return Status::error(s.code(), "bytes_needed (dry run): %s", s.message());
  *bytes = total + built + later;
  return Status::ok();
}
// CompileOptions for an inference graph (no gradients, BatchNorm in evaluation mode).
nn::CompileOptions inference_options();
// A CheckpointState::rename hook (user: the nn::Params loaded into) for models that hold part
// of what the file does, e.g. a VAE's decoder alone: a record goes to the parameter of its
// own name if the model has one, else it is skipped.
bool load_present_only(void* params, const char* name, char* out, size_t cap);


// A checkpoint's meta text is the model's config text, then, in a file the trainer wrote,
// kRunSeparator and the run's text ("batch=64 train=60000 steps=937"): what resuming must
// agree on. Config parsers see the config part only.
constexpr const char* kRunSeparator = " | ";
// Cuts meta at the separator; returns the run part ("" when there is none).
const char* split_meta(char* meta);
// Appends kRunSeparator and run to the config text in buf (nothing for a null or empty run).
Status append_run(char* buf, size_t cap, const char* run);

// The config a checkpoint was written with; `what` names the kind in the error when the
// file holds something else ("an autoencoder", "a classifier").
template <class Config>
Status read_checkpoint_config(const nn::CheckpointRef& ref, const char* what, Config* config) {
  char text[nn::kMaxCheckpointMeta + 1];
  EMBER_TRY(nn::read_checkpoint_meta(ref, text, sizeof text));
  split_meta(text);
  const Status s = config->from_text(text);
  if (!s.is_ok()) return Status::error(s.code(), "checkpoint %s: not %s (%s)", ref.name(), what, s.message());
  return Status::ok();
}
template <class Config>
Status read_checkpoint_config(const char* path, const char* what, Config* config) {
  return read_checkpoint_config(nn::CheckpointRef::file(path), what, config);
}
// The run part of a checkpoint's meta text into buf ("" for a file without one).
Status read_checkpoint_run(const char* path, char* buf, size_t cap);

// Saves params and state (optimizers, RNGs, step) with config's text (and the run's, when
// not null) as the meta.
template <class Config>
Status save_with_config(const char* path, const Config& config, const nn::Params& params,
                        nn::CheckpointState state, const char* run = nullptr) {
  char text[nn::kMaxCheckpointMeta + 1];
  EMBER_TRY(config.to_text(text, sizeof text));
  EMBER_TRY(append_run(text, sizeof text, run));
  state.meta = text;
  return nn::save_checkpoint(path, params, state);
}

// Loads into params and state after checking that the file's config equals `mine`.
template <class Config>
Status load_with_config(const nn::CheckpointRef& path, const Config& mine, const char* what, nn::Params* params,
                        const nn::CheckpointState& state) {
  Config file_config;
  EMBER_TRY(read_checkpoint_config(path, what, &file_config));
  char ours[kModelConfigText], theirs[kModelConfigText];
  EMBER_TRY(mine.to_text(ours, sizeof ours));
  EMBER_TRY(file_config.to_text(theirs, sizeof theirs));
  if (std::strcmp(ours, theirs) != 0)
    return Status::error(Code::shape_mismatch, "checkpoint is '%s', model is '%s'", theirs, ours);
  return nn::load_checkpoint(path, params, state);
}

}  // namespace ember::models
