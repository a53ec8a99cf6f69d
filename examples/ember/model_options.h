// Options shared by the commands that build or load an autoencoder / VAE.
#pragma once
#include <string>

#include "examples/ember/cli.h"
#include "examples/ember/session.h"
#include "models/ae_model.h"

namespace ember::tool {

// Reads --model ae|vae, --arch, --widths, --latent, --act, --lik, --sigma, --channels into c.
void read_architecture(Cli& cli, models::AeConfig* c);
// Reads --data (default $EMBER_DATA, else required) and --sprites-train/--sprites-test.
DataSpec read_data(Cli& cli, bool required);
// "runs/vae.ember" -> "runs/vae" (pictures and logs go next to the checkpoint).
std::string stem_of(const std::string& path);

// A trained model loaded for inference from its checkpoint, in a session sized for it plus
// `extra` bytes (data, pictures).
struct LoadedModel {
  Session session;
  std::unique_ptr<models::AeModel> model = std::make_unique<models::AeModel>();
  uint64_t step = 0;
};
Status load_model(const char* path, int threads, int eval_batch, size_t extra, LoadedModel* out);

}  // namespace ember::tool
