#include "models/checkpoint-kind.h"

#include <cstring>

#include "models/ae-network.h"
#include "models/classifier-model.h"
#include "models/gan-network.h"
#include "models/model-common.h"
#include "nn/checkpoint.h"

namespace ember::models {

const char* checkpoint_kind_name(CheckpointKind k) {
  switch (k) {
    case CheckpointKind::autoencoder: return "autoencoder";
    case CheckpointKind::gan: return "gan";
    case CheckpointKind::classifier: return "classifier";
  }
  return "?";
}

Status config_kind(const char* text, CheckpointKind* out) {
  ClassifierConfig classifier;
  GanConfig gan;
  AeConfig ae;
  if (classifier.from_text(text).is_ok()) *out = CheckpointKind::classifier;
  else if (gan.from_text(text).is_ok()) *out = CheckpointKind::gan;
  else if (ae.from_text(text).is_ok()) *out = CheckpointKind::autoencoder;
  else {
    char excerpt[64];
    return Status::error(Code::invalid_argument, "no model ember knows has the config '%s'",
                         message_excerpt(text, std::strlen(text), excerpt, sizeof excerpt));
  }
  return Status::ok();
}

Status checkpoint_kind(const char* path, CheckpointKind* out) {
  char meta[nn::kMaxCheckpointMeta + 1];
  EMBER_TRY(nn::read_checkpoint_meta(path, meta, sizeof meta));
  split_meta(meta);
  if (!config_kind(meta, out).is_ok()) return Status::error(Code::corrupt_data, "%s: its config is no model ember knows", path);
  return Status::ok();
}

}  // namespace ember::models
