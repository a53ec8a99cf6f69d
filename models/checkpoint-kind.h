// Which model family a checkpoint holds, decided by the families' own config parsers on the
// file's meta text (each refuses a `kind=` that is not its own), so a program can hand any
// file to the right loader without knowing how the text is spelled.
#pragma once
#include "core/status.h"

namespace ember::models {

enum class CheckpointKind { autoencoder, gan, classifier };
const char* checkpoint_kind_name(CheckpointKind k);  // "autoencoder", "gan", "classifier"

// The family whose parser takes a config text (without the run part).
Status config_kind(const char* text, CheckpointKind* out);
// Reads the meta text of the checkpoint at `path`; an unreadable file or a text no family
// takes is an error naming the file.
Status checkpoint_kind(const char* path, CheckpointKind* out);

}  // namespace ember::models
