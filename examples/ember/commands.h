// The `ember` subcommands; each returns the process exit code (0 ok, 1 failed, 2 bad usage).
#pragma once
#include "examples/ember/session.h"
#include "train/ae-trainee.h"

namespace ember::tool {

int cmd_train(int argc, char** argv);
int cmd_sample(int argc, char** argv);
int cmd_reconstruct(int argc, char** argv);
int cmd_interpolate(int argc, char** argv);
int cmd_traverse(int argc, char** argv);
int cmd_latent_map(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_semisup(int argc, char** argv);
int cmd_export(int argc, char** argv);
int cmd_import(int argc, char** argv);
int cmd_dataset(int argc, char** argv);

// The memory plans `ember info` prints, from the functions the commands open their sessions
// with. `ember train` of an autoencoder or VAE (options.out: a path that does not exist):
Status plan_ae_training(const train::AeTrainee::Setup& setup, const train::TrainOptions& options, int threads,
                        bool pictures, MemoryPlan* plan);
// `ember sample --model path` of an autoencoder or VAE drawing n samples in `cols` columns:
Status plan_sample(const char* path, int threads, int n, int cols, MemoryPlan* plan);

}  // namespace ember::tool
