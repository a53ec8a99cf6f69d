// Options shared by the commands that build or load an autoencoder / VAE.
#pragma once
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>
#include <cstring>

#include "examples/ember/cli.h"
#include "examples/ember/session.h"
#include "models/ae-model.h"
#include "models/gan-model.h"
#include "models/model-common.h"
#include "nn/checkpoint.h"

namespace ember::tool {

// One command-line option that sets one key of a model config through Config::set.
struct ConfigFlag {
  const char* flag;     // "--widths"
  const char* key;      // "widths", as in the config text
  const char* metavar;
  const char* help;
};
// The value of `key` in a config text "k1=v1 k2=v2 ..." into buf ("" when absent).
void config_text_value(const char* text, const char* key, char* buf, size_t cap);
// Registers each flag with cli, its default shown as the config's current value of the key,
// and sets the given ones in *c; a value the config refuses is a usage error.
// given (may be null) collects the flags the user gave.
template <class Config>
void read_config_flags(Cli& cli, const ConfigFlag* flags, size_t count, Config* c,
                       std::vector<ConfigFlag>* given = nullptr) {
  for (size_t i = 0; i < count; ++i) {
    char text[512], def[64];
    if (!c->to_text(text, sizeof text).is_ok()) text[0] = 0;
    config_text_value(text, flags[i].key, def, sizeof def);
    const char* v = cli.text(flags[i].flag, flags[i].metavar, flags[i].help, def);
    if (!cli.given(flags[i].flag)) continue;
    if (given) given->push_back(flags[i]);
    const Status s = c->set(flags[i].key, v);
    if (!s.is_ok()) cli.error(s.message());
  }
}

// Reads --model ae|vae, --arch, --widths, --latent, --act, --lik, --sigma, --channels into c.
void read_architecture(Cli& cli, models::AeConfig* c, std::vector<ConfigFlag>* given = nullptr);

// Resuming `path` with architecture flags: each given flag must agree with the checkpoint's
// config (which otherwise wins silently); the error names the flag and the file's value.
// Nothing to check (ok) when there is no checkpoint to resume: the trainer reports that.
template <class Config>
Status check_resume_flags(const std::string& path, const std::vector<ConfigFlag>& given, const Config& mine) {
  if (given.empty() || !nn::is_checkpoint_file(path.c_str())) return Status::ok();
  Config file;
  if (!models::read_checkpoint_config(path.c_str(), "a model of this kind", &file).is_ok()) return Status::ok();
  char ours[512], theirs[512], a[128], b[128];
  EMBER_TRY(mine.to_text(ours, sizeof ours));
  EMBER_TRY(file.to_text(theirs, sizeof theirs));
  for (const ConfigFlag& f : given) {
    config_text_value(ours, f.key, a, sizeof a);
    config_text_value(theirs, f.key, b, sizeof b);
    if (std::strcmp(a, b) != 0)
      return Status::error(Code::invalid_argument, "%s %s: %s was trained with %s=%s (drop the flag to resume it, "
                           "or --force to start over)", f.flag, a, path.c_str(), f.key, b);
  }
  return Status::ok();
}
// Reads --data (default $EMBER_DATA, else required) and --sprites-train/--sprites-test.
DataSpec read_data(Cli& cli, bool required);
// "runs/vae.ember" -> "runs/vae" (pictures and logs go next to the checkpoint).
std::string stem_of(const std::string& path);

// What the checkpoint named by a command's `--model FILE` holds (models/checkpoint-kind.h),
// so `sample`, `interpolate` and `eval` can hand a GAN or a classifier to its own command.
// unknown: no --model, or a file that cannot be read (the command then reports why).
enum class CheckpointKind { unknown, autoencoder, gan, classifier };
CheckpointKind checkpoint_kind(int argc, char** argv);
// The same for a checkpoint path.
CheckpointKind checkpoint_file_kind(const char* path);

// Model::bytes_needed for a configured model run by `threads` workers (0: one per core):
// the Context and the model together. The dry run builds the model's graph tables in a
// scratch block, which starts at 1 MiB and grows until they fit.
template <class Model, class Bytes>
Status setup_bytes(Model* model, int threads, Bytes* bytes) {
  for (size_t cap = size_t(1) << 20;; cap *= 4) {
    std::unique_ptr<uint8_t[]> block(new (std::nothrow) uint8_t[cap]);
    if (!block) return Status::error(Code::out_of_memory, "cannot allocate a %zu-byte block for the dry run", cap);
    Arena scratch(block.get(), cap);
    const Status s = model->bytes_needed(threads, &scratch, bytes);
    if (s.code() != Code::out_of_memory || cap >= (size_t(1) << 30)) return s;
  }
}

// The memory plan of a configured model (AeModel, ClassifierModel, ...) run by `threads`
// workers (0: one per core): its parameters, plans and the Context, plus `extra` (data,
// pictures).
template <class Model>
Status plan_for(Model* model, int threads, const MemoryPlan& extra, MemoryPlan* plan) {
  size_t bytes = 0;
  EMBER_TRY(setup_bytes(model, threads, &bytes));  // the Context's share included
  plan->add("model, plans and context", bytes);
  plan->add(extra);
  return Status::ok();
}

// Opens `session` with plan_for's plan (session->limit: --memory) and initialises the model
// in it.
template <class Model>
Status open_session_for(Model* model, int threads, const MemoryPlan& extra, Session* session) {
  MemoryPlan plan;
  EMBER_TRY(plan_for(model, threads, extra, &plan));
  EMBER_TRY(session->open(plan, threads));
  return model->init(&session->arena, &session->ctx);
}

// A trained model loaded for inference from its checkpoint, in a session sized for it plus
// `extra` (data, pictures).
template <class Model>
struct Loaded {
  explicit Loaded(size_t memory = 0) { session.limit = memory; }  // --memory (0: the plan's total)
  Session session;
  std::unique_ptr<Model> model = std::make_unique<Model>();
  uint64_t step = 0;
};
using LoadedModel = Loaded<models::AeModel>;
// Configures `model` for inference as the checkpoint at `path` records it, with an eval batch
// of `eval_batch`. sampler_only: an autoencoder's decoder alone (also loads `ember export`'s
// sampler files).
template <class Model>
Status configure_for_inference(const char* path, int eval_batch, Model* model, bool sampler_only = false) {
  typename Model::Setup s;
  EMBER_TRY(Model::read_config(path, &s.config));
  s.training = false;
  s.eval_batch = eval_batch;
  // A GAN's commands only sample: G alone (also loads `ember export`'s sampler files).
  if constexpr (std::is_same_v<Model, models::GanModel>) s.generator_only = true;
  if constexpr (std::is_same_v<Model, models::AeModel>) s.decoder_only = sampler_only;
  return model->configure(s);
}
// For a model configured as above: a session for it plus `extra`, and the weights of `path`.
template <class Model>
Status open_for_inference(const char* path, int threads, const MemoryPlan& extra, Loaded<Model>* out) {
  EMBER_TRY(open_session_for(out->model.get(), threads, extra, &out->session));
  return out->model->load(path, &out->step);
}
// Both: the checkpoint at `path` opened for inference.
template <class Model>
Status load_for_inference(const char* path, int threads, int eval_batch, const MemoryPlan& extra, Loaded<Model>* out,
                          bool sampler_only = false) {
  EMBER_TRY(configure_for_inference(path, eval_batch, out->model.get(), sampler_only));
  return open_for_inference(path, threads, extra, out);
}

}  // namespace ember::tool
