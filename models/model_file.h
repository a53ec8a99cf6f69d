// Checkpoints of the models (AeModel, GanModel): the parameters, the optimizers and noise Rng
// of training, a step counter, and the config's text as the file's meta, so a file says which
// architecture it needs (read its config first, build that model, then load into it).
//
// An inference model saves its noise Rng but no optimizers (it has none), and loads neither:
// that is how a sampler reads a training checkpoint. The caller checks that the file's config
// matches its own before load_model (the parameter shapes are checked again by the loader).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/rng.h"
#include "core/status.h"
#include "models/config_text.h"
#include "nn/checkpoint.h"
#include "nn/optimizer.h"
#include "nn/params.h"

namespace ember::models {

template <class Config>
Status save_model(const char* path, const Config& config, const nn::Params& params, bool training,
                  const nn::Optimizer* opts, int n_opts, const Rng& noise, uint64_t step) {
  char text[kModelConfigText];
  EMBER_TRY(config.to_text(text, sizeof text));
  nn::CheckpointState st;
  st.opts = training ? const_cast<nn::Optimizer*>(opts) : nullptr, st.n_opts = training ? n_opts : 0;
  st.rngs = const_cast<Rng*>(&noise), st.n_rngs = 1;
  st.step = &step;
  st.meta = text;
  return nn::save_checkpoint(path, params, st);
}

inline Status load_model(const char* path, nn::Params* params, bool training, nn::Optimizer* opts, int n_opts,
                         Rng* noise, uint64_t* step) {
  nn::CheckpointState st;
  st.opts = training ? opts : nullptr, st.n_opts = training ? n_opts : 0;
  st.rngs = training ? noise : nullptr, st.n_rngs = training ? 1 : 0;
  st.step = step;
  return nn::load_checkpoint(path, params, st);
}

// The config in a checkpoint's meta; `family` names the model in the error ("a GAN").
template <class Config>
Status read_model_config(const char* path, const char* family, Config* config) {
  char text[nn::kMaxCheckpointMeta + 1];
  EMBER_TRY(nn::read_checkpoint_meta(path, text, sizeof text));
  const Status s = config->from_text(text);
  if (!s.is_ok()) return Status::error(s.code(), "checkpoint: not %s model (%s)", family, s.message());
  return Status::ok();
}

}  // namespace ember::models
