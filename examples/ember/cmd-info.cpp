// ember info: what a model is and the arena bytes it takes, by category — from a
// checkpoint (autoencoder, VAE or GAN), or from autoencoder architecture options before
// training (to size a device's buffer) — and the memory `ember sample` (of a checkpoint) or
// `ember train` (of options, with --data) takes: the plan those commands allocate, computed by
// the same functions, so the totals agree to the byte.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include <memory>

#include "examples/ember/cli.h"
#include "examples/ember/commands.h"
#include "examples/ember/gan-commands.h"
#include "examples/ember/model-options.h"
#include "models/gan-model.h"

namespace ember::tool {

namespace {

double mib(size_t b) { return b / 1048576.0; }
void row(const char* what, size_t b) { std::printf("  %-32s %12zu %9.2f\n", what, b, mib(b)); }

// What a model set up for `threads` takes: everything (total, the Context included) and the
// context alone; also the kernels and workers. The model is set up in `session` (its graphs
// live in the arena, so their plans are read from the set-up model).
struct Sizes {
  const Kernels* kernels = nullptr;
  int workers = 1;
  size_t total = 0, context = 0;
};
template <class Model>
Status sizes_of(Model* model, const typename Model::Setup& setup, int threads, Session* session, Sizes* out) {
  Context::Options co;
  co.threads = threads;
  EMBER_TRY(model->configure(setup));
  EMBER_TRY(open_session_for(model, threads, MemoryPlan(), session));
  EMBER_TRY(Context::resolve(co, &out->kernels, &out->workers));
  EMBER_TRY(Context::bytes_needed(co, &out->context));
  return model->bytes_needed(threads, nullptr, &out->total);  // set up: what it took
}

void print_plan(const std::string& what, const MemoryPlan& plan) {
  std::printf("\n%-42s %12s %9s\n", what.c_str(), "bytes", "MiB");
  plan.print();
}

// The plan of `ember sample --model FILE` with its defaults (64 samples in 8 columns or a row
// per class; 1 thread).
constexpr int kSampleCols = 8, kSampleN = 64, kSampleThreads = 1;

// A GAN checkpoint: its config, G's and D's sizes, and the arena a training or a sampling
// (inference: G's sampler plan, the parameters without gradients) model takes.
int info_gan(const char* file, bool training, int threads) {
  models::GanModel::Setup setup;
  setup.training = training;
  Status s = models::GanModel::read_config(file, &setup.config);
  if (s.is_ok() && setup.config.weights == nn::Storage::int8)  // an int8 sampler file: G alone, sampling
    setup.generator_only = true, setup.training = training = false;
  auto model = std::make_unique<models::GanModel>();
  Session session;
  Sizes z;
  if (s.is_ok()) s = sizes_of(model.get(), setup, threads, &session, &z);
  if (!s.is_ok()) return report("info", s);
  char text[256];
  setup.config.to_text(text, sizeof text);
  std::printf("model       %s\nparameters  G %zu, D %zu trainable\n", text, model->param_count(models::kGenerator),
              model->param_count(models::kDiscriminator));
  std::printf("plan for    %s, batch %d, eval batch %d, %d thread(s), %s kernels\n\n",
              training ? "training (two Adams)" : "sampling", setup.batch, setup.eval_batch, z.workers,
              isa_name(z.kernels->isa));
  const nn::ParamBytes pb = model->params().bytes(training ? nn::ParamMode::train_adam : nn::ParamMode::inference);
  std::printf("%-34s %12s %9s\n", "arena bytes by category", "bytes", "MiB");
  row("parameter values (G, D, averages)", pb.values);
  row("parameter gradients", pb.grads);
  row("Adam moments", pb.optimizer);
  row("tables, plans and copies (rest)", z.total - z.context - pb.total());
  row("context (GEMM packing scratch)", z.context);
  row("total", z.total);
  models::GanModel sampler;
  MemoryPlan extra, plan;
  int n = 0;
  s = plan_gan_sample(file, kSampleThreads, kSampleCols, -1, &n, &sampler, &extra, &plan);
  if (!s.is_ok()) return report("info", s);
  print_plan("memory `ember sample --model " + std::string(file) + "` takes (" + std::to_string(n) + " samples)", plan);
  return 0;
}

}  // namespace

int cmd_info(int argc, char** argv) {
  models::AeModel::Setup setup;
  // --model FILE names a checkpoint, as in every command; --model ae|vae (with the options
  // below) describes a model instead.
  std::vector<char*> args;
  std::string model_file;
  for (int i = 0; i < argc; ++i) {
    const bool kind = i + 1 < argc && !std::strcmp(argv[i], "--model") && std::strcmp(argv[i + 1], "ae") &&
                      std::strcmp(argv[i + 1], "vae");
    if (kind) model_file = argv[++i];
    else args.push_back(argv[i]);
  }
  Cli cli("info", "architecture and arena bytes by category: of the checkpoint --model FILE, or of the model "
          "the options describe", static_cast<int>(args.size()), args.data());
  const char* file = model_file.c_str();
  read_architecture(cli, &setup.config);
  setup.batch = cli.integer("--batch", "B", "training batch", setup.batch, 1, 65536);
  setup.eval_batch = cli.integer("--eval-batch", "E", "rows per encode/decode call", setup.eval_batch, 1, 65536);
  setup.training = !cli.flag("--inference", "inference only: no gradients, no optimizer state");
  const int threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 0, 0, 256);
  // What `ember train` with these options takes, when the data is named.
  const DataSpec data = read_data(cli, false);
  train::TrainOptions o;
  o.epochs = cli.integer("--epochs", "N", "with --data: the training run's epochs (its log's rows)", o.epochs, 1,
                         1000000);
  const bool pictures = !cli.flag("--no-pictures", "with --data: a training run that draws no pictures");
  if (!cli.finish()) return cli.exit_code();
  const CheckpointKind kind = *file ? checkpoint_file_kind(file) : CheckpointKind::unknown;
  if (kind == CheckpointKind::gan) return info_gan(file, setup.training, threads);
  if (kind == CheckpointKind::classifier)
    return report("info", Status::error(Code::invalid_argument, "%s: a classifier; info covers autoencoders and GANs",
                                        file));
  Status s;
  if (*file) {
    s = models::AeModel::read_config(file, &setup.config);
    if (!s.is_ok()) return report("info", s);
    if (setup.config.weights == nn::Storage::int8)  // an int8 sampler file: the decoder alone, sampling
      setup.decoder_only = true, setup.training = false;
  }
  auto model = std::make_unique<models::AeModel>();
  Session session;
  Sizes z;
  s = sizes_of(model.get(), setup, threads, &session, &z);
  if (!s.is_ok()) return report("info", s);
  const int workers = z.workers;
  char text[256];
  setup.config.to_text(text, sizeof text);
  std::printf("model       %s\nparameters  %zu trainable\n", text, model->param_count());
  std::printf("plan for    %s, batch %d, eval batch %d, %d thread(s), %s kernels\n\n",
              setup.training ? "training (Adam)" : "inference", setup.batch, setup.eval_batch, workers,
              isa_name(z.kernels->isa));
  const nn::ParamBytes pb =
      model->params().bytes(setup.training ? nn::ParamMode::train_adam : nn::ParamMode::inference);
  std::printf("%-34s %12s %9s\n", "arena bytes by category", "bytes", "MiB");
  row("parameter values", pb.values);
  row("parameter gradients", pb.grads);
  row("Adam moments", pb.optimizer);
  size_t tables = model->params().table_bytes() + pb.table;
  auto plan = [&](const nn::Graph& g) {  // values + scratch; the tables are counted apart
    tables += g.node_bytes() + g.bytes().tables;
    return Arena::rounded(g.bytes().activations) + Arena::rounded(g.bytes().scratch);
  };
  if (setup.training) {
    plan(model->train_graph());  // counts its tables
    row("training graph: activations", model->train_graph().bytes().activations);
    row("training graph: op scratch", model->train_graph().bytes().scratch);
  }
  if (!setup.decoder_only) row("encoder plan (values + scratch)", plan(model->encoder_graph()));
  row("decoder plan (values + scratch)", plan(model->decoder_graph()));
  row("graph and parameter tables", tables);
  row("context (GEMM packing scratch)", z.context);
  row("total", z.total);
  MemoryPlan run;
  if (*file) {
    s = plan_sample(file, kSampleThreads, kSampleN, kSampleCols, &run);
    if (!s.is_ok()) return report("info", s);
    print_plan("memory `ember sample --model " + model_file + "` takes", run);
  } else if (!data.source.empty()) {
    train::AeTrainee::Setup ts;
    ts.model = setup;
    ts.model.training = true;
    ts.data = data.view();
    o.out = "/dev/null/ember-info.ember";  // never exists (/dev/null is no folder): nothing to resume or refuse
    s = plan_ae_training(ts, o, threads, pictures, &run);
    if (!s.is_ok()) return report("info", s);
    print_plan("memory `ember train` takes with these options", run);
  }
  return 0;
}

}  // namespace ember::tool
