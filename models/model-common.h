// What the model classes (AeModel, ClassifierModel, GanModel) share: arena sizing of their
// graphs, and checkpoints that know their architecture.
//
// Sizing: parameters take params.bytes(param_mode(training)); each graph adds its planned
// activations and scratch, rounded as the arena rounds them (add_graph_bytes).
//
// Checkpoints: a model's Config (anything with
// to_text(buf, cap) and from_text(text), e.g. AeConfig, ClassifierConfig) is stored as the
// checkpoint's meta text (nn/checkpoint.h), so a file can be opened without being told what
// it holds, and loading refuses a file written by another architecture before touching a
// single weight (the comparison is of the canonical text, so key order never matters).
#pragma once
#include <cstddef>
#include <cstring>

#include "core/status.h"
#include "models/config-text.h"
#include "nn/checkpoint.h"
#include "nn/graph.h"
#include "nn/params.h"

namespace ember::models {

// Parameters with gradients and Adam moments when training, values only otherwise.
inline nn::ParamMode param_mode(bool training) {
  return training ? nn::ParamMode::train_adam : nn::ParamMode::inference;
}
// Adds what g.compile() with `options` will take for `threads` workers to *total.
Status add_graph_bytes(nn::Graph& g, const nn::CompileOptions& options, int threads, size_t* total);
// CompileOptions for an inference graph (no gradients, BatchNorm in evaluation mode).
nn::CompileOptions inference_options();
// A CheckpointState::rename hook (user: the nn::Params loaded into) for models that hold part
// of what the file does, e.g. a VAE's decoder alone: a record goes to the parameter of its
// own name if the model has one, else it is skipped.
bool load_present_only(void* params, const char* name, char* out, size_t cap);


// The config a checkpoint was written with; `what` names the kind in the error when the
// file holds something else ("an autoencoder", "a classifier").
template <class Config>
Status read_checkpoint_config(const char* path, const char* what, Config* config) {
  char text[nn::kMaxCheckpointMeta + 1];
  EMBER_TRY(nn::read_checkpoint_meta(path, text, sizeof text));
  const Status s = config->from_text(text);
  if (!s.is_ok()) return Status::error(s.code(), "checkpoint %s: not %s (%s)", path, what, s.message());
  return Status::ok();
}

// Saves params and state (optimizers, RNGs, step) with config's text as the meta.
template <class Config>
Status save_with_config(const char* path, const Config& config, const nn::Params& params,
                        nn::CheckpointState state) {
  char text[kModelConfigText];
  EMBER_TRY(config.to_text(text, sizeof text));
  state.meta = text;
  return nn::save_checkpoint(path, params, state);
}

// Loads into params and state after checking that the file's config equals `mine`.
template <class Config>
Status load_with_config(const char* path, const Config& mine, const char* what, nn::Params* params,
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
