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

// What the checkpoint named by a command's `--model FILE` holds, read from its meta text,
// so `sample`, `interpolate` and `eval` can hand a GAN or a classifier to its own command.
// unknown: no --model, or a file that cannot be read (the command then reports why).
enum class CheckpointKind { unknown, autoencoder, gan, classifier };
CheckpointKind checkpoint_kind(int argc, char** argv);

// Opens `session` sized for a configured model (AeModel, ClassifierModel, ...) run by
// `threads` workers (0: one per core) plus `extra` bytes, and initialises the model in it.
template <class Model>
Status open_session_for(Model* model, int threads, size_t extra, Session* session) {
  Context::Options o;
  o.threads = threads;
  const Kernels* kernels = nullptr;
  int workers = 1;
  size_t bytes = 0;
  EMBER_TRY(Context::resolve(o, &kernels, &workers));
  EMBER_TRY(model->bytes_needed(workers, &bytes));
  EMBER_TRY(session->open(bytes + extra, threads));
  return model->init(&session->arena, &session->ctx);
}

// A trained model loaded for inference from its checkpoint, in a session sized for it plus
// `extra` bytes (data, pictures).
template <class Model>
struct Loaded {
  Session session;
  std::unique_ptr<Model> model = std::make_unique<Model>();
  uint64_t step = 0;
};
using LoadedModel = Loaded<models::AeModel>;
// Opens the checkpoint at `path` for inference: reads its config, builds that model with an
// eval batch of `eval_batch`, sizes a session for it plus `extra` bytes, loads the weights.
template <class Model>
Status load_for_inference(const char* path, int threads, int eval_batch, size_t extra, Loaded<Model>* out) {
  typename Model::Setup s;
  EMBER_TRY(Model::read_config(path, &s.config));
  s.training = false;
  s.eval_batch = eval_batch;
  EMBER_TRY(out->model->configure(s));
  EMBER_TRY(open_session_for(out->model.get(), threads, extra, &out->session));
  return out->model->load(path, &out->step);
}

}  // namespace ember::tool
